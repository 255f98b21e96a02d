#!/usr/bin/env bash
# Benchmark `wheelwright publish` against `twine upload`, side by side in one run, and print the
# throughput ratio and the peak RSS. No timed assertions: this only measures and reports.
#
#   scripts/bench-publish.sh            # a short table on stdout
#   scripts/bench-publish.sh --json     # the same numbers as JSON
#
# 1. builds wheelwright (cargo build --release --locked);
# 2. makes or reuses the inputs (scripts/bench/make-publish-wheels.py, cached in $WW_CACHE/bench):
#    20 valid wheels of 10 MB (200 MB, incompressible random payloads, stored) and one wheel of
#    200 MB (to show whether peak RSS depends on the file size);
# 3. for each case, BENCH_RUNS (default 3) runs per tool, alternating, each against a fresh empty
#    pypiserver on a free loopback port (started before the clock, stopped by PID after), each
#    run under GNU time; after every run the server must hold exactly the files, byte for byte.
#    Tools: `twine upload` (the tool venv's twine 7), `wheelwright publish` (with its default
#    pre-upload check of every RECORD hash) and `wheelwright publish --no-check`.
#    Throughput = bytes of the case / median wall time; ratio = wheelwright / twine.
# Progress goes to stderr; stdout gets only the result.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ww_bench_args 1 "$@"
ww_bench_runs 3
for tool in twine pypi-server python; do
    [[ -x $WW_VENV/bin/$tool ]] || ww_die "$tool missing from $WW_VENV (run scripts/setup-dev.sh)"
done
ww_need_time_and_python

ww_release_binary

key=$(ww_hash <"$bench/make-publish-wheels.py")
inputs=$WW_CACHE/bench/publish-$key
ww_log "inputs in $inputs"
"$WW_VENV/bin/python" "$bench/make-publish-wheels.py" "$inputs/many" 20 10 wwbench >&2
"$WW_VENV/bin/python" "$bench/make-publish-wheels.py" "$inputs/one" 1 200 wwbig >&2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-publish.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

"$WW_VENV/bin/python" - "$tmp" "$runs" "$WW_VENV" "$ww" "$inputs" <<'PY'
import glob, json, os, sys
tmp, runs, venv, ww, inputs = sys.argv[1:]
cases = []
for label, sub in (("20 wheels x 10 MB", "many"), ("1 wheel x 200 MB", "one")):
    files = sorted(glob.glob(os.path.join(inputs, sub, "*.whl")))
    cases.append({"label": label, "files": files, "bytes": sum(os.path.getsize(f) for f in files)})
publish = [ww, "-q", "publish", "--repository-url", "{url}", "--username", "testuser"]
spec = {
    "venv": venv, "work": tmp, "runs": int(runs), "cases": cases,
    "env": {"WHEELWRIGHT_PASSWORD": "testpass", "HOME": tmp,
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"},
    "tools": [
        {"name": "twine", "argv": [os.path.join(venv, "bin", "twine"), "upload", "--non-interactive",
                                   "--disable-progress-bar", "--repository-url", "{url}",
                                   "-u", "testuser", "-p", "testpass", "{files}"]},
        {"name": "wheelwright", "argv": publish + ["{files}"]},
        {"name": "wheelwright --no-check", "argv": publish + ["--no-check", "{files}"]},
    ],
}
with open(os.path.join(tmp, "spec.json"), "w") as f:
    json.dump(spec, f)
PY

ww_log "uploading (BENCH_RUNS=$runs)"
env -u TWINE_USERNAME -u TWINE_PASSWORD -u TWINE_REPOSITORY_URL -u PYPI_API_TOKEN \
    "$WW_VENV/bin/python" "$bench/publish-bench.py" "$tmp/spec.json" >"$tmp/result.json"

if [[ -n $json ]]; then
    cat "$tmp/result.json"
    exit 0
fi
python3 - "$tmp/result.json" <<'PY'
import json, sys
for case in json.load(open(sys.argv[1])):
    tools = case["tools"]
    twine = tools["twine"]
    parts = [f"twine {twine['throughput_mb_s']:.0f} MB/s ({twine['median_s']:.2f} s)"]
    for name in ("wheelwright", "wheelwright --no-check"):
        t = tools[name]
        parts.append(f"{name} {t['throughput_mb_s']:.0f} MB/s ({t['median_s']:.2f} s) -> "
                     f"{t['throughput_mb_s'] / twine['throughput_mb_s']:.2f}x twine")
    rss = ", ".join(f"{n} {t['peak_rss_kb'] / 1024:.0f} MB" for n, t in tools.items())
    print(f"publish, {case['label']} ({case['bytes'] / 1e6:.0f} MB, median of {case['runs']}): "
          + "; ".join(parts) + f"; peak RSS {rss}")
PY
