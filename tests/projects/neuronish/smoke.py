"""Smoke test for an installed neuronish wheel: `python smoke.py`, run outside the source tree.

Modes (environment variable NEURONISH_SMOKE):

  full (default)     LD_LIBRARY_PATH must name a directory holding libexcludeme.so.1 (and not
                     libdemo): `neuronish._core` imports, libdemo is loaded from inside the installed
                     package and libexcludeme from outside it (it was --exclude'd, not grafted).
  excluded-missing   no LD_LIBRARY_PATH: importing `neuronish._core` fails because of
                     libexcludeme.so.1, and only because of it (libdemo was grafted).

Both modes then run the `nrnivish` executable, found through the installed distribution's RECORD
(so any install scheme works: venv, --user, --prefix); it only needs libdemo.
Prints `neuronish ok` and exits 0 when everything passes.
"""

import os
import subprocess
import sys

MODE = os.environ.get("NEURONISH_SMOKE", "full")

CHILD = r"""
import os, sys
import neuronish
SITE = os.path.realpath(os.path.dirname(os.path.dirname(neuronish.__file__)))
import neuronish._core as core
assert core.add(2, 3) == 5
assert core.libdemo_version() == "libdemo 1.0", core.libdemo_version()
assert core.excluded_answer() == 7
with open("/proc/self/maps") as maps:
    paths = {l.split(None, 5)[5].strip() for l in maps if len(l.split(None, 5)) == 6}
def loaded(stem):
    return sorted(p for p in paths if os.path.basename(p).startswith(stem))
demo, excl = loaded("libdemo"), loaded("libexcludeme")
print("libdemo from", demo)
print("libexcludeme from", excl)
ldpath = [d for d in os.environ.get("LD_LIBRARY_PATH", "").split(":") if d]
demo_on_ldpath = any(f.startswith("libdemo") for d in ldpath if os.path.isdir(d) for f in os.listdir(d))
if not demo or (not demo_on_ldpath and not all(p.startswith(SITE + os.sep) for p in demo)):
    raise SystemExit("libdemo must be loaded from inside the installed wheel: %s" % demo)
if not excl or any(p.startswith(SITE + os.sep) for p in excl):
    raise SystemExit("libexcludeme must be loaded from outside the installed wheel: %s" % excl)
"""


def demo_on_ld_library_path():
    dirs = [d for d in os.environ.get("LD_LIBRARY_PATH", "").split(":") if d and os.path.isdir(d)]
    return any(f.startswith("libdemo") for d in dirs for f in os.listdir(d))


def run(argv):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, cwd=os.path.dirname(os.path.abspath(__file__)))


def check_import(failures):
    proc = run([sys.executable, "-c", CHILD])
    print("[import neuronish._core] exit %d" % proc.returncode)
    for line in proc.stdout.splitlines():
        print("    " + line)
    if MODE == "full":
        if proc.returncode != 0:
            failures.append("import neuronish._core failed")
    elif MODE == "excluded-missing":
        if proc.returncode == 0:
            failures.append("import neuronish._core worked without libexcludeme.so.1 on LD_LIBRARY_PATH")
        elif "libexcludeme.so.1: cannot open shared object file" not in proc.stdout:
            failures.append("import neuronish._core failed, but not (only) for libexcludeme.so.1")
    else:
        failures.append("unknown NEURONISH_SMOKE=%s" % MODE)


def find_executable():
    """Where pip installed the `nrnivish` script, whatever the scheme (venv, --user, --prefix)."""
    try:
        from importlib.metadata import distribution
    except ImportError:  # Python < 3.8
        distribution = None
    if distribution is not None:
        for f in distribution("neuronish").files or []:
            if f.name == "nrnivish" and "neuronish.scripts" not in f.parts:
                path = os.path.normpath(str(f.locate()))
                if os.path.basename(os.path.dirname(path)) == "bin":
                    return path
    return os.path.join(os.path.dirname(sys.executable), "nrnivish")


def check_executable(failures):
    exe = find_executable()
    if not os.path.exists(exe):
        failures.append("%s does not exist" % exe)
        return
    with open(exe, "rb") as f:
        kind = "ELF" if f.read(4) == b"\x7fELF" else "launcher script"
    proc = run([exe])
    print("[%s (%s)] exit %d" % (exe, kind, proc.returncode))
    for line in proc.stdout.splitlines():
        print("    " + line)
    if proc.returncode != 0 or "nrnivish: libdemo 1.0, 2+3=5" not in proc.stdout:
        failures.append("nrnivish failed")
        return
    # libdemo has to come from the installed wheel: from the directory that holds the package.
    site = os.path.realpath(os.path.dirname(os.path.dirname(__import__("neuronish").__file__)))
    demo_line = [l for l in proc.stdout.splitlines() if l.startswith("nrnivish: libdemo from ")]
    if not demo_on_ld_library_path() and not (
        demo_line and demo_line[0].split(" from ", 1)[1].startswith(site + os.sep)
    ):
        failures.append("nrnivish loaded libdemo from outside %s: %s" % (site, demo_line))


def main():
    failures = []
    check_import(failures)
    check_executable(failures)
    if failures:
        print("neuronish FAILED: %s" % "; ".join(failures))
        return 1
    print("neuronish ok" + (" (libexcludeme.so.1 missing, as expected)" if MODE == "excluded-missing" else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
