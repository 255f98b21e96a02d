#!/usr/bin/env bash
# Benchmark `wheelwright build` on the pypa-like images: serial (--jobs 1) against parallel
# (default --jobs = CPUs), a cold against a warm compiler cache, each side by side in one run, and
# the start-up overhead per identifier. No timed assertions: this only measures and reports.
#
#   scripts/bench-build.sh
#
# 1. builds wheelwright (cargo build --release --locked), the binary that is also mounted into the
#    containers (with its loader and libraries) for the repair step;
# 2. project: tests/projects/heavyext, a generated C extension of HEAVYEXT_FUNCTIONS (default 2000)
#    loop-heavy functions, so that each build is compile-bound (several CPU seconds at -O2);
# 3. images: the test bed's pypa-like build images for x86_64 and i686 (scripts/setup-dev.sh, region
#    ww-pypa-recipe), every interpreter they offer: CPython 3.13, 3.14, 3.15, the free-threaded 3.13t
#    and PyPy 3.11 — the last two installed by the image's `manylinux-interpreters ensure` in every
#    run, as on pypa's images: 10 builds per run; frontend `build[uv]` (uv is on PATH, as in pypa's
#    images);
# 4. jobs: one untimed warm-up run (fills the uv cache; the extension cut to one function, since
#    only the build requirements matter there), then BENCH_RUNS (default 2) pairs of runs
#    without the compiler cache, alternating `--jobs 1` and the default; wall time per run, median
#    per mode, the ratio parallel/serial (target: <= 0.6 on 2 cores);
# 5. compiler cache: BENCH_RUNS pairs of a run with an empty ccache directory (cold) and a second
#    run with the same directory (warm), default jobs, `--compiler-cache on`; median wall times,
#    the ratio warm/cold (target: <= 0.3) and ccache's hits and misses as wheelwright reports them;
# 6. start-up overhead per identifier, from the runs above and one run that also tests each wheel
#    (an import in the pypa-like runtime images): container start -> first command (`ready_seconds`),
#    the on-demand install (`install_seconds`, per interpreter installed), and the test stage's
#    own time per identifier (fresh venv, wheel installed, one import: `test.seconds`); for
#    comparison a bare `podman run -d … sleep infinity` + `podman exec … true`;
# 7. the machine's own scaling, as a yardstick for the ratio: two identical `gcc -O2` compiles of a
#    generated file on the host, one after the other vs at the same time (BENCH_RUNS times each).
#
# BENCH_PARTS (default "jobs cache") picks the comparisons: "cache" alone skips the --jobs pairs,
# "jobs" alone the compiler-cache pairs (steps 6 and 7 always run).
#
# Progress goes to stderr; stdout gets the result lines. Needs the test bed (scripts/setup-dev.sh) and
# network access for the frontend inside the containers (the host CA bundle is mounted, SSL_CERT_FILE
# and PIP_CERT set).
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ww_bench_args '' "$@"
ww_bench_runs 2
functions=${HEAVYEXT_FUNCTIONS:-2000}
ww_positive_int HEAVYEXT_FUNCTIONS "$functions"
parts=" ${BENCH_PARTS:-jobs cache} "
for part in $parts; do
    [[ $part == jobs || $part == cache ]] || ww_die "BENCH_PARTS takes \"jobs\" and \"cache\", not '$part'"
done
want() { [[ $parts == *" $1 "* ]]; }
bash "$WW_SCRIPTS/setup-dev.sh" --check >/dev/null || ww_die "the test bed is incomplete (run scripts/setup-dev.sh)"
ww_podman_config

cd "$WW_REPO_ROOT"
ww_log "building wheelwright (cargo build --release --locked)"
cargo build --release --locked --quiet --bin wheelwright
ww=${CARGO_TARGET_DIR:-$WW_REPO_ROOT/target}/release/wheelwright

ca=${PIP_CERT:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/wheelwright-bench-build.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
builds=10

# run_build LABEL [ARGS...]: one build of heavyext (of $HEAVYEXT_FUNCTIONS functions, default
# $functions); prints "<wall seconds>" and writes LABEL.json.
run_build() {
    local label=$1 start end out n=${HEAVYEXT_RUN_FUNCTIONS:-$functions}
    shift
    out=$scratch/$label
    rm -rf "$out"
    start=${EPOCHREALTIME/[^0-9]/}
    if ! "$ww" -q build tests/projects/heavyext -o "$out/wheelhouse" --json \
        --engine podman --pull never --archs x86_64,i686 \
        --build 'cp313-* cp313t-* cp314-* cp315-* pp311-*' --skip '*-musllinux_*' \
        --enable 'pypy cpython-freethreading' \
        --image-x86_64 "$WW_IMAGE_PYPA_BUILD_AMD64_REF" --image-i686 "$WW_IMAGE_PYPA_BUILD_I386_REF" \
        --build-frontend 'build[uv]' --environment "HEAVYEXT_FUNCTIONS=$n" \
        --container-arg=--network=host --container-arg=-v \
        "--container-arg=$ca:/etc/ssl/certs/wheelwright-ca.crt:ro" \
        --environment PIP_CERT=/etc/ssl/certs/wheelwright-ca.crt \
        --environment SSL_CERT_FILE=/etc/ssl/certs/wheelwright-ca.crt \
        --cache-dir "$scratch/cache" "$@" >"$out.json" 2>"$out.log"; then
        cat "$out.log" >&2
        ww_die "wheelwright build ($label) failed; see above"
    fi
    end=${EPOCHREALTIME/[^0-9]/}
    python3 - "$out.json" "$builds" <<'PY'
import json, sys
result = json.load(open(sys.argv[1]))
built = [b for b in result["builds"] if b["status"] == "built"]
assert len(built) == int(sys.argv[2]), [(b["identifier"], b["status"], b["error"]) for b in result["builds"]]
tested = [b["test"] for b in built if b.get("test")]
assert all(t["status"] == "passed" for t in tested), tested
PY
    python3 -c "print('%.3f' % (($end - $start) / 1e6))"
}

# The yardstick: two gcc compiles serially vs concurrently; prints "<serial> <parallel>" seconds.
python3 - "$scratch/yardstick.c" <<'PY'
import sys
with open(sys.argv[1], "w") as out:
    for i in range(300):
        out.write(
            f"double h{i}(const double *x, unsigned long n) {{ double s = {i}.0, t = 1; "
            f"for (unsigned long k = 0; k < n; k++) {{ s += x[k] * (double)((k * {i + 3}) % 11) / (1.0 + x[(k * {i + 7}) % n]); "
            f"t = t * 0.999 + s * 1e-9; if ((k & {i % 5 + 1}) == 0) s -= t; }} return s + t; }}\n"
        )
PY
yardstick() {
    local t0 t1 t2
    t0=${EPOCHREALTIME/[^0-9]/}
    gcc -O2 -c "$scratch/yardstick.c" -o "$scratch/y1.o"
    gcc -O2 -c "$scratch/yardstick.c" -o "$scratch/y2.o"
    t1=${EPOCHREALTIME/[^0-9]/}
    gcc -O2 -c "$scratch/yardstick.c" -o "$scratch/y1.o" &
    gcc -O2 -c "$scratch/yardstick.c" -o "$scratch/y2.o"
    wait
    t2=${EPOCHREALTIME/[^0-9]/}
    python3 -c "print('%.3f %.3f' % (($t1 - $t0) / 1e6, ($t2 - $t1) / 1e6))"
}

ww_log "warm-up run (untimed; one function: it only fills the uv cache)"
HEAVYEXT_RUN_FUNCTIONS=1 run_build warmup --compiler-cache off >/dev/null

serial=() parallel=() cold=() warm=() gcc_serial=() gcc_parallel=() jsons=()
for ((i = 1; i <= runs; i++)); do
    read -r gs gp < <(yardstick)
    gcc_serial+=("$gs") gcc_parallel+=("$gp")
    want jobs || continue
    wall=$(run_build "serial-$i" --jobs 1 --compiler-cache off)
    serial+=("$wall") jsons+=("$scratch/serial-$i.json")
    ww_log "jobs run $i/$runs: --jobs 1: ${wall}s"
    wall=$(run_build "parallel-$i" --compiler-cache off)
    parallel+=("$wall") jsons+=("$scratch/parallel-$i.json")
    ww_log "jobs run $i/$runs: default jobs: ${wall}s"
done
for ((i = 1; i <= runs; i++)); do
    want cache || break
    wall=$(run_build "cold-$i" --compiler-cache on --ccache-dir "$scratch/ccache-$i")
    cold+=("$wall") jsons+=("$scratch/cold-$i.json")
    ww_log "cache run $i/$runs: cold: ${wall}s"
    wall=$(run_build "warm-$i" --compiler-cache on --ccache-dir "$scratch/ccache-$i")
    warm+=("$wall") jsons+=("$scratch/warm-$i.json")
    ww_log "cache run $i/$runs: warm: ${wall}s"
done
ww_log "a run that also tests every wheel in the runtime images"
run_build tested --compiler-cache on --ccache-dir "$scratch/ccache-1" \
    --test-command "python -c 'import heavyext._heavy'" \
    --test-image "x86_64=$WW_IMAGE_PYPA_RUNTIME_AMD64_REF" --test-image "i686=$WW_IMAGE_PYPA_RUNTIME_I386_REF" >/dev/null
jsons+=("$scratch/tested.json")

# Bare engine overhead for comparison: run -d, then the first exec.
bare=()
for ((i = 1; i <= runs; i++)); do
    name=wheelwright-bench-$$-$i
    start=${EPOCHREALTIME/[^0-9]/}
    podman run -d --name "$name" --stop-signal SIGKILL --pull=never "$WW_IMAGE_PYPA_BUILD_AMD64_REF" sleep infinity >/dev/null
    podman exec "$name" true
    end=${EPOCHREALTIME/[^0-9]/}
    podman rm -f "$name" >/dev/null
    bare+=("$(python3 -c "print('%.3f' % (($end - $start) / 1e6))")")
done

python3 - "${serial[*]}" "${parallel[*]}" "${cold[*]}" "${warm[*]}" "${bare[*]}" "${gcc_serial[*]}" \
    "${gcc_parallel[*]}" "$(nproc)" "$functions" "$(cut -d' ' -f1-3 /proc/loadavg)" "$scratch" "$runs" \
    "${jsons[@]}" <<'PY'
import json, statistics, sys
serial, parallel, cold, warm, bare, gs, gp = (list(map(float, a.split())) for a in sys.argv[1:8])
cpus, functions, load, scratch, runs = sys.argv[8:13]
results = {path: json.load(open(path)) for path in sys.argv[13:]}
med = statistics.median
print("wheelwright build on the pypa-like images, heavyext (%s functions), x86_64 + i686 x (cp313, cp313t, cp314, cp315, pp311) = 10 builds, %s CPUs, %s runs each"
      % (functions, cpus, runs))
if serial:
    s, p = med(serial), med(parallel)
    print("  --jobs 1:      median %6.1f s  (runs: %s)" % (s, ", ".join("%.1f" % x for x in serial)))
    print("  default jobs:  median %6.1f s  (runs: %s)" % (p, ", ".join("%.1f" % x for x in parallel)))
    print("  parallel / serial = %.2f" % (p / s))
if cold:
    c, w = med(cold), med(warm)
    stats = lambda label: [(c["platform"], c["compiler_cache"]["hits"], c["compiler_cache"]["misses"])
                           for i in range(1, int(runs) + 1) for c in results["%s/%s-%d.json" % (scratch, label, i)]["containers"]]
    hm = lambda rows: "%d hits, %d misses" % (sum(r[1] for r in rows), sum(r[2] for r in rows))
    print("  compiler cache, default jobs: cold median %.1f s (runs: %s; ccache %s), warm median %.1f s (runs: %s; ccache %s)"
          % (c, ", ".join("%.1f" % x for x in cold), hm(stats("cold")), w, ", ".join("%.1f" % x for x in warm), hm(stats("warm"))))
    print("  warm / cold = %.2f (target <= 0.3)" % (w / c))
containers = [c for r in results.values() for c in r["containers"]]
ready = [c["ready_seconds"] for c in containers]
installs = [c["install_seconds"] / len(c["installed"]) for c in containers if c.get("installed")]
tests = [b["test"]["seconds"] for b in results[scratch + "/tested.json"]["builds"] if b.get("test")]
print("  start-up per identifier: container start -> first command median %.2f s (max %.2f s, %d containers, 5 identifiers each);"
      % (med(ready), max(ready), len(ready)))
print("    on-demand install (manylinux-interpreters ensure) median %.2f s per interpreter (%d installs);"
      % (med(installs), len(installs)))
print("    test stage (fresh venv in the runtime image, wheel installed, one import) median %.2f s (max %.2f s, %d identifiers)"
      % (med(tests), max(tests), len(tests)))
print("  bare podman run -d + exec true: median %.2f s" % med(bare))
print("  yardstick, 2 gcc -O2 compiles on the host: serial median %.2f s, concurrent %.2f s -> %.2f (load average at the end: %s)"
      % (med(gs), med(gp), med(gp) / med(gs), load))
PY
