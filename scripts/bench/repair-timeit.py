#!/usr/bin/env python3
"""Side-by-side timing harness for commands that write into an output directory (stdlib only).

    python3 scripts/bench/repair-timeit.py SPEC.json   # results as JSON on stdout, progress on stderr

Used by scripts/bench-repair.sh. Unlike timeit.py (which bench-show.sh uses), every pass gets a fresh,
empty output directory, substituted for "{out}" in the command arguments, and every pass runs under
GNU time, so the peak RSS is known for each run.

SPEC:
    {
      "label": "stress wheel",            # for progress messages
      "env": {"LD_LIBRARY_PATH": "..."},  # merged over os.environ for every command
      "outroot": "/tmp/x",                # the per-pass output directories are made (and removed) here
      "prewarm": ["a.whl"],               # read once before anything, to have them in the page cache
      "tools": [
        {"name": "auditwheel", "warmup": 1, "runs": 5,       # warmup defaults to 1, runs to 1
         "expect_wheel": true,                               # the pass must leave exactly one .whl in {out}
         "commands": [["auditwheel", "repair", "-w", "{out}", "x.whl"], ...]},
        ...
      ]
    }

A pass runs all of a tool's commands one after the other in the same fresh output directory; its time
is the sum of their wall times (time.perf_counter around subprocess.run, output discarded). Each command
runs as `/usr/bin/time -f '%M %U %S' -o FILE -- argv` (the cost of that wrapper is one fork+exec); the
pass's peak RSS is the max over its commands, user/system CPU the sums. Passes alternate between the tools
(A B C A B C ...), each tool's warm-up passes first; a tool with fewer passes drops out when it is done.
After each pass, untimed: the output size is noted, the directory removed, and os.sync() called, so
that no writeback of one pass spills into the next. Every command must exit 0: otherwise the benchmark
stops, and the command, its exit code and its stderr are printed.

Result:
    {"label": ..., "tools": {NAME: {"runs": N, "times": [...], "median": s, "min": s,
                                   "rss_kb": max over timed passes, "rss_kb_runs": [...],
                                   "user_s": median, "sys_s": median, "output_bytes": n}}}
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import read_spec, run_quiet

GNU_TIME = "/usr/bin/time"


def fail(msg):
    print(f"repair-timeit: error: {msg}", file=sys.stderr)
    sys.exit(1)


def run(argv, env, time_file):
    """Run argv under GNU time with output discarded; return (wall s, rss kB, user s, sys s)."""
    elapsed = run_quiet(argv, env, fail, wrapper=[GNU_TIME, "-f", "%M %U %S", "-o", time_file, "--"])
    with open(time_file) as f:
        m, u, s = f.read().split("\n")[-2].split()
    return elapsed, int(m), float(u), float(s)


def one_pass(tool, env, outroot, scratch):
    out = tempfile.mkdtemp(prefix="out.", dir=outroot)
    try:
        wall = rss = 0
        user = system = 0.0
        for argv in tool["commands"]:
            argv = [a.replace("{out}", out) for a in argv]
            w, m, u, s = run(argv, env, os.path.join(scratch, "time"))
            wall, rss, user, system = wall + w, max(rss, m), user + u, system + s
        produced = sorted(os.listdir(out))
        size = sum(os.path.getsize(os.path.join(out, n)) for n in produced)
        if tool.get("expect_wheel"):
            wheels = [n for n in produced if n.endswith(".whl")]
            if len(wheels) != 1:
                fail(f"{tool['name']}: expected one wheel in the output directory, found {produced}")
    finally:
        shutil.rmtree(out, ignore_errors=True)
        os.sync()
    return wall, rss, user, system, size


def prewarm(paths):
    for p in paths:
        with open(p, "rb") as f:
            while f.read(1 << 24):
                pass


def main():
    spec, label = read_spec("repair-timeit.py", fail)
    if not os.access(GNU_TIME, os.X_OK):
        fail(f"{GNU_TIME} (GNU time) is needed")
    env = dict(os.environ)
    env.update(spec.get("env", {}))
    outroot = spec["outroot"]
    os.makedirs(outroot, exist_ok=True)
    tools = spec["tools"]
    for t in tools:
        t.setdefault("warmup", 1)
        t.setdefault("runs", 1)
        if t["runs"] < 1:
            fail(f"{t['name']}: runs must be at least 1")
    prewarm(spec.get("prewarm", []))

    passes = {t["name"]: [] for t in tools}
    with tempfile.TemporaryDirectory(prefix="ww-repair-timeit.") as scratch:
        for i in range(max(t["warmup"] + t["runs"] for t in tools)):
            for t in tools:
                if i >= t["warmup"] + t["runs"]:
                    continue
                timed = i >= t["warmup"]
                wall, rss, user, system, size = one_pass(t, env, outroot, scratch)
                what = f"run {i - t['warmup'] + 1}/{t['runs']}" if timed else f"warm-up {i + 1}/{t['warmup']}"
                print(f"  {label}: {t['name']} {what}: {wall:.3f} s, peak RSS {rss} kB, "
                      f"user {user:.2f} s, sys {system:.2f} s", file=sys.stderr)
                if timed:
                    passes[t["name"]].append((wall, rss, user, system, size))

    result = {"label": label, "tools": {}}
    for t in tools:
        p = passes[t["name"]]
        walls = [x[0] for x in p]
        result["tools"][t["name"]] = {
            "runs": len(p),
            "times": [round(x, 6) for x in walls],
            "median": round(statistics.median(walls), 6),
            "min": round(min(walls), 6),
            "rss_kb": max(x[1] for x in p),
            "rss_kb_runs": [x[1] for x in p],
            "user_s": round(statistics.median(x[2] for x in p), 3),
            "sys_s": round(statistics.median(x[3] for x in p), 3),
            "output_bytes": p[-1][4],
        }
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
