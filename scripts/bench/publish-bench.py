#!/usr/bin/env python3
"""Harness for scripts/bench-publish.sh: uploads to a fresh local pypiserver, twine vs wheelwright.

    $WW_VENV/bin/python scripts/bench/publish-bench.py SPEC.json   # JSON on stdout, progress on stderr

SPEC:
    {
      "venv": "...",                     # tool venv (pypi-server, twine, passlib)
      "work": "...",                     # scratch directory
      "runs": 3,                         # timed runs per tool and case
      "cases": [{"label": "20 wheels", "dir": "...", "files": [...], "bytes": N, "runs": 3}],
      "tools": [{"name": "twine", "argv": [...]}, ...]   # {url}, {files} are substituted
    }

Every run gets a fresh, empty pypiserver (started on a free 127.0.0.1 port before the clock starts,
stopped by its PID afterwards), so every run uploads every file. Tools alternate run by run. Each
run is one command under `/usr/bin/time -f '%e %M %U %S'` (wall s, peak RSS kB, user s, sys s);
after it, the server's package directory must hold exactly the case's files with the same bytes,
else the benchmark stops.
"""

import hashlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

GNU_TIME = "/usr/bin/time"


def fail(msg):
    print(f"publish-bench: error: {msg}", file=sys.stderr)
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Server:
    def __init__(self, venv, root):
        self.packages = os.path.join(root, "packages")
        os.makedirs(self.packages)
        htpasswd = os.path.join(root, "htpasswd")
        # A separate interpreter: this directory has a timeit.py that shadows passlib's import.
        subprocess.run(
            [os.path.join(venv, "bin", "python"), "-c",
             "import sys; from passlib.apache import HtpasswdFile\n"
             "h = HtpasswdFile(sys.argv[1], new=True, default_scheme='apr_md5_crypt')\n"
             "h.set_password('testuser', 'testpass'); h.save()", htpasswd],
            check=True, cwd=root)
        self.port = free_port()
        self.log = open(os.path.join(root, "server.log"), "wb")
        self.proc = subprocess.Popen(
            [os.path.join(venv, "bin", "pypi-server"), "run", "-i", "127.0.0.1", "-p", str(self.port),
             "-P", htpasswd, "-a", "update", "--disable-fallback", self.packages],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2):
                    return
            except OSError:
                if self.proc.poll() is not None:
                    fail(f"pypiserver exited with {self.proc.returncode}")
                time.sleep(0.1)
        self.stop()
        fail("pypiserver did not start within 60 s")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def one_run(venv, work, case, tool, env):
    with tempfile.TemporaryDirectory(prefix="ww-bench-publish.", dir=work) as root:
        server = Server(venv, root)
        try:
            url = f"http://127.0.0.1:{server.port}/"
            argv = []
            for arg in tool["argv"]:
                if arg == "{files}":
                    argv.extend(case["files"])
                else:
                    argv.append(arg.replace("{url}", url))
            out = os.path.join(root, "time")
            proc = subprocess.run([GNU_TIME, "-f", "%e %M %U %S", "-o", out, "--"] + argv, env=env,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
            if proc.returncode != 0:
                fail(f"{tool['name']} failed ({proc.returncode}):\n{proc.stderr.decode(errors='replace')}")
            with open(out) as f:
                wall, rss, user, system = f.read().split("\n")[-2].split()
            stored = sorted(os.listdir(server.packages))
            expected = sorted(os.path.basename(p) for p in case["files"])
            if stored != expected:
                fail(f"{tool['name']}: the server has {stored}, expected {expected}")
            for path in case["files"]:
                if sha256(path) != sha256(os.path.join(server.packages, os.path.basename(path))):
                    fail(f"{tool['name']}: {os.path.basename(path)} arrived changed")
        finally:
            server.stop()
    return {"wall": float(wall), "rss_kb": int(rss), "user_s": float(user), "sys_s": float(system)}


def main():
    if len(sys.argv) != 2:
        fail("usage: publish-bench.py SPEC.json")
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    if not os.access(GNU_TIME, os.X_OK):
        fail(f"{GNU_TIME} (GNU time) is needed")
    env = dict(os.environ)
    env.update(spec.get("env", {}))
    results = []
    for case in spec["cases"]:
        runs = int(case.get("runs", spec.get("runs", 3)))
        samples = {t["name"]: [] for t in spec["tools"]}
        for i in range(runs):
            for tool in spec["tools"]:
                r = one_run(spec["venv"], spec["work"], case, tool, env)
                mbps = case["bytes"] / r["wall"] / 1e6
                print(f"  {case['label']}: {tool['name']} run {i + 1}/{runs}: {r['wall']:.2f} s "
                      f"({mbps:.0f} MB/s), peak RSS {r['rss_kb'] / 1024:.0f} MB", file=sys.stderr)
                samples[tool["name"]].append(r)
        tools = {}
        for name, rs in samples.items():
            walls = [r["wall"] for r in rs]
            median = statistics.median(walls)
            tools[name] = {
                "walls": walls,
                "median_s": median,
                "min_s": min(walls),
                "throughput_mb_s": round(case["bytes"] / median / 1e6, 1),
                "peak_rss_kb": max(r["rss_kb"] for r in rs),
                "user_s": statistics.median(r["user_s"] for r in rs),
                "sys_s": statistics.median(r["sys_s"] for r in rs),
            }
        results.append({"label": case["label"], "files": len(case["files"]), "bytes": case["bytes"],
                        "runs": runs, "tools": tools})
    json.dump(results, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
