"""Smoke test for an installed klayoutish wheel: `python smoke.py`, run outside the source tree.

Every load path runs in its own fresh interpreter, so that one ELF's search path cannot hide
another's (once lib_tl.so and libdemo are loaded, later lookups by soname succeed regardless):

  dbcore         import klayoutish.dbcore (DT_RPATH $ORIGIN -> lib_tl.so -> libdemo)
  tlcore         import klayoutish.sub.tlcore (nested, DT_RUNPATH $ORIGIN/.. -> lib_tl.so -> libdemo)
  lib_tl         ctypes-load klayoutish/lib_tl.so alone (its own search path must find libdemo)
  plugin         ctypes-load db_plugins/libplugin.so alone (RPATH $ORIGIN/.. -> lib_tl.so -> libdemo)
  dlopen-plugin  import dbcore, then dbcore.load_plugin() dlopens the plugin by a path built from __file__

Unless LD_LIBRARY_PATH names a directory holding libdemo, libdemo must also be loaded from inside
the installed package (a grafted copy), not from anywhere else. Prints `klayoutish ok` and exits 0 when everything passes.
"""

import os
import subprocess
import sys

PRELUDE = r"""
import ctypes, os, sys
import klayoutish
PKG = os.path.dirname(klayoutish.__file__)
SITE = os.path.realpath(os.path.dirname(PKG))

def libdemo_paths():
    with open("/proc/self/maps") as maps:
        return sorted({l.split(None, 5)[5].strip() for l in maps
                       if len(l.split(None, 5)) == 6 and "libdemo" in os.path.basename(l.split(None, 5)[5])})

def report(what):
    paths = libdemo_paths()
    print(what, "| libdemo from", paths)
    if not paths:
        raise SystemExit("libdemo is not loaded")
    ldpath = [d for d in os.environ.get("LD_LIBRARY_PATH", "").split(":") if d and os.path.isdir(d)]
    if not any(f.startswith("libdemo") for d in ldpath for f in os.listdir(d)):
        outside = [p for p in paths if not p.startswith(SITE + os.sep)]
        if outside:
            raise SystemExit("libdemo loaded from outside the installed wheel: %s" % outside)
"""

CHECKS = [
    ("dbcore", r"""
import klayoutish.dbcore as m
assert m.add(2, 3) == 5, m.add(2, 3)
assert m.version() == "tl on libdemo 1.0", m.version()
report("dbcore: %s" % m.version())
"""),
    ("tlcore", r"""
import klayoutish.sub.tlcore as m
assert m.add(20, 3) == 23, m.add(20, 3)
assert m.version() == "tl on libdemo 1.0", m.version()
report("sub.tlcore: %s" % m.version())
"""),
    ("lib_tl", r"""
lib = ctypes.CDLL(os.path.join(PKG, "lib_tl.so"))
assert lib.tl_add(1, 2) == 3
report("lib_tl.so alone: tl_add(1, 2) = 3")
"""),
    ("plugin", r"""
lib = ctypes.CDLL(klayoutish.plugin_path())
assert lib.plugin_answer() == 42
report("db_plugins/libplugin.so alone: plugin_answer() = 42")
"""),
    ("dlopen-plugin", r"""
import klayoutish.dbcore as m
answer = m.load_plugin(klayoutish.plugin_path())
assert answer == 42, answer
report("dbcore.load_plugin(%s) = 42" % klayoutish.plugin_path())
"""),
]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    failed = []
    for name, body in CHECKS:
        # Same interpreter and environment (user site-packages included), from a neutral cwd.
        proc = subprocess.run([sys.executable, "-c", PRELUDE + body], cwd=here,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
        status = "ok" if proc.returncode == 0 else "FAILED (exit %d)" % proc.returncode
        print("[%s] %s" % (name, status))
        for line in proc.stdout.splitlines():
            print("    " + line)
        if proc.returncode != 0:
            failed.append(name)
    if failed:
        print("klayoutish FAILED: %s" % ", ".join(failed))
        return 1
    print("klayoutish ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
