"""What the benchmark harnesses (timeit.py, repair-timeit.py) and reports (report.py,
repair-report.py) share. Imported from their own directory; not run."""

import json
import subprocess
import sys
import time


def run_quiet(argv, env, fail, wrapper=()):
    """Run `wrapper + argv` with its output discarded; return the wall time in seconds. A command
    that cannot start or fails calls `fail` with its stderr."""
    command = list(wrapper) + list(argv)
    start = time.perf_counter()
    try:
        proc = subprocess.run(command, env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except OSError as e:
        fail(f"cannot run {command[0]}: {e}")
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        stderr = proc.stderr.decode(errors="replace").rstrip()
        fail(f"command failed with exit code {proc.returncode}: {' '.join(argv)}\n{stderr}")
    return elapsed


def report_args(count, doc):
    """A report's command line: `[--json] FILE...` with `count` JSON files. Returns (as_json, the
    parsed files); otherwise prints `doc` and exits 2."""
    args = sys.argv[1:]
    as_json = "--json" in args
    args = [a for a in args if a != "--json"]
    if len(args) != count:
        print(doc.strip(), file=sys.stderr)
        sys.exit(2)
    docs = []
    for path in args:
        with open(path) as f:
            docs.append(json.load(f))
    return as_json, docs


def read_spec(program, fail):
    """A harness's command line, `PROGRAM SPEC.json`: the parsed spec and its label."""
    if len(sys.argv) != 2:
        fail(f"usage: {program} SPEC.json")
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    return spec, spec.get("label", "benchmark")
