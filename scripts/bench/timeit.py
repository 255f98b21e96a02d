#!/usr/bin/env python3
"""Side-by-side timing harness for scripts/bench-show.sh (stdlib only).

    python3 scripts/bench/timeit.py SPEC.json      # results as JSON on stdout, progress on stderr

SPEC:
    {
      "label": "stress wheel",            # for progress messages
      "env": {"LD_LIBRARY_PATH": "..."},  # merged over os.environ for every command
      "warmup": 1,                        # untimed passes per tool (default 1)
      "runs": 5,                          # timed passes per tool (default 1)
      "rss": true,                        # one extra pass per tool under GNU time (default false)
      "tools": [
        {"name": "auditwheel",  "commands": [["auditwheel", "show", "x.whl"], ...]},
        {"name": "wheelwright", "commands": [["target/release/wheelwright", "show", "x.whl"], ...]}
      ]
    }

A pass runs all of a tool's commands one after the other; its time is the sum of their wall times
(time.perf_counter around subprocess.run, output discarded). Passes alternate between the tools
(A B A B ...), warm-up passes first. Every command must exit 0: otherwise the benchmark stops, and
the command, its exit code and its stderr are printed.

With "rss", each tool gets one more pass with every command under `/usr/bin/time -f '%M %U %S'`,
giving the peak RSS (kB, max over the commands) and the user/system CPU seconds (summed).

Result:
    {"label": ..., "runs": N, "tools": {NAME: {"times": [...], "median": s, "min": s,
                                              "per_command_median": [...],
                                              "rss_kb": k, "user_s": s, "sys_s": s}}}
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import read_spec, run_quiet

GNU_TIME = "/usr/bin/time"


def fail(msg):
    print(f"timeit: error: {msg}", file=sys.stderr)
    sys.exit(1)


def run(argv, env):
    """Run argv with output discarded; return its wall time. Abort on failure."""
    return run_quiet(argv, env, fail)


def one_pass(commands, env):
    return [run(argv, env) for argv in commands]


def rss_pass(commands, env):
    rss, user, system = 0, 0.0, 0.0
    with tempfile.TemporaryDirectory(prefix="ww-timeit.") as tmp:
        out = os.path.join(tmp, "time")
        for argv in commands:
            run([GNU_TIME, "-f", "%M %U %S", "-o", out, "--"] + argv, env)
            with open(out) as f:
                # GNU time writes "Command exited with non-zero status" first on failure, but
                # run() has already aborted then: the last line is ours.
                m, u, s = f.read().split("\n")[-2].split()
            rss, user, system = max(rss, int(m)), user + float(u), system + float(s)
    return {"rss_kb": rss, "user_s": round(user, 3), "sys_s": round(system, 3)}


def main():
    spec, label = read_spec("timeit.py", fail)
    warmup = int(spec.get("warmup", 1))
    runs = int(spec.get("runs", 1))
    if runs < 1:
        fail("runs must be at least 1")
    env = dict(os.environ)
    env.update(spec.get("env", {}))
    tools = spec["tools"]
    if spec.get("rss") and not os.access(GNU_TIME, os.X_OK):
        fail(f"{GNU_TIME} (GNU time) is needed for the peak RSS")

    passes = {t["name"]: [] for t in tools}
    for i in range(warmup + runs):
        timed = i >= warmup
        for t in tools:
            times = one_pass(t["commands"], env)
            what = f"run {i - warmup + 1}/{runs}" if timed else f"warm-up {i + 1}/{warmup}"
            print(f"  {label}: {t['name']} {what}: {sum(times):.3f} s", file=sys.stderr)
            if timed:
                passes[t["name"]].append(times)

    result = {"label": label, "runs": runs, "tools": {}}
    for t in tools:
        name = t["name"]
        totals = [sum(p) for p in passes[name]]
        r = {
            "times": [round(x, 6) for x in totals],
            "median": round(statistics.median(totals), 6),
            "min": round(min(totals), 6),
            "per_command_median": [round(statistics.median(c), 6) for c in zip(*passes[name])],
        }
        if spec.get("rss"):
            r.update(rss_pass(t["commands"], env))
            print(f"  {label}: {name} peak RSS {r['rss_kb']} kB, user {r['user_s']} s, "
                  f"sys {r['sys_s']} s", file=sys.stderr)
        result["tools"][name] = r
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
