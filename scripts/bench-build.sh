#!/usr/bin/env bash
# Benchmark `wheelwright build`: serial (--jobs 1) against parallel (default --jobs = CPUs), side by side
# in one run, and the per-container overhead. No timed assertions: this only measures and reports.
#
#   scripts/bench-build.sh
#
# 1. builds wheelwright (cargo build --release --locked), the binary that is also mounted into the
#    containers (with its loader and libraries) for the repair step;
# 2. project: tests/projects/heavyext, a generated C extension of HEAVYEXT_FUNCTIONS (default 600)
#    loop-heavy functions, so that each build is compile-bound (a few CPU seconds at -O2);
# 3. images: the test bed's build images for x86_64 and i686 (podman), 2 interpreters each (CPython 3.9,
#    PyPy 3.7): 4 builds per run, pip frontend (see tests/real/build.rs for why not `build` here);
# 4. one untimed warm-up run, then BENCH_RUNS (default 3) pairs of runs, alternating `--jobs 1` and the
#    default; wall time per run, median per mode, and the ratio parallel/serial (target: <= 0.6 on
#    2 cores);
# 5. per-container overhead: wheelwright's own `ready_seconds` (from `run -d` to the first command's
#    answer, `--json`), median over all runs and containers; and for comparison a bare
#    `podman run -d … sleep infinity` + `podman exec … true`;
# 6. the machine's own scaling, as a yardstick for the ratio: two identical `gcc -O2` compiles of a
#    generated file on the host, one after the other vs at the same time (BENCH_RUNS times each,
#    interleaved with the builds). On a shared machine this is what parallel builds can hope for.
#
# Progress goes to stderr; stdout gets the result lines. Needs the test bed (scripts/setup-dev.sh) and
# network access for pip inside the containers (the host CA bundle is mounted, PIP_CERT set).
set -euo pipefail

case "${1:-}" in
    "") ;;
    -h | --help)
        sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "usage: $0" >&2
        exit 2
        ;;
esac

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
runs=${BENCH_RUNS:-3}
functions=${HEAVYEXT_FUNCTIONS:-600}
[[ $runs =~ ^[1-9][0-9]*$ ]] || ww_die "BENCH_RUNS must be a positive integer, not '$runs'"
[[ $functions =~ ^[1-9][0-9]*$ ]] || ww_die "HEAVYEXT_FUNCTIONS must be a positive integer, not '$functions'"
bash "$WW_SCRIPTS/setup-dev.sh" --check >/dev/null || ww_die "the test bed is incomplete (run scripts/setup-dev.sh)"
ww_podman_config

cd "$WW_REPO_ROOT"
ww_log "building wheelwright (cargo build --release --locked)"
cargo build --release --locked --quiet --bin wheelwright
ww=${CARGO_TARGET_DIR:-$WW_REPO_ROOT/target}/release/wheelwright

ca=${PIP_CERT:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/wheelwright-bench-build.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# run_build LABEL [ARGS...]: one build of heavyext; prints "<wall seconds> <ready seconds...>".
run_build() {
    local label=$1 start end out
    shift
    out=$scratch/$label
    rm -rf "$out"
    start=${EPOCHREALTIME/[^0-9]/}
    if ! "$ww" -q build tests/projects/heavyext -o "$out/wheelhouse" --json \
        --engine podman --pull never --archs x86_64,i686 \
        --build 'cp39-* pp37-*' --skip '*-musllinux_*' --enable pypy-eol \
        --image-x86_64 "$WW_IMAGE_BUILD_AMD64_REF" --image-i686 "$WW_IMAGE_BUILD_I386_REF" \
        --build-frontend pip --environment "HEAVYEXT_FUNCTIONS=$functions" \
        --container-arg=--network=host --container-arg=-v \
        "--container-arg=$ca:/etc/ssl/certs/wheelwright-ca.crt:ro" \
        --environment PIP_CERT=/etc/ssl/certs/wheelwright-ca.crt \
        --cache-dir "$scratch/cache" "$@" >"$out.json" 2>"$out.log"; then
        cat "$out.log" >&2
        ww_die "wheelwright build ($label) failed; see above"
    fi
    end=${EPOCHREALTIME/[^0-9]/}
    python3 - "$out.json" "$start" "$end" <<'PY'
import json, sys
result = json.load(open(sys.argv[1]))
built = [b for b in result["builds"] if b["status"] == "built"]
assert len(built) == 4, [(b["identifier"], b["status"], b["error"]) for b in result["builds"]]
ready = [c["ready_seconds"] for c in result["containers"]]
print("%.3f %s" % ((int(sys.argv[3]) - int(sys.argv[2])) / 1e6, " ".join("%.3f" % r for r in ready)))
PY
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

ww_log "warm-up run (untimed)"
run_build warmup >/dev/null

serial=() parallel=() ready=() gcc_serial=() gcc_parallel=()
for ((i = 1; i <= runs; i++)); do
    read -r gs gp < <(yardstick)
    gcc_serial+=("$gs") gcc_parallel+=("$gp")
    read -r wall r1 r2 < <(run_build "serial-$i" --jobs 1)
    serial+=("$wall") ready+=("$r1" "$r2")
    ww_log "run $i/$runs: --jobs 1: ${wall}s"
    read -r wall r1 r2 < <(run_build "parallel-$i")
    parallel+=("$wall") ready+=("$r1" "$r2")
    ww_log "run $i/$runs: default jobs: ${wall}s"
done

# Bare engine overhead for comparison: run -d, then the first exec.
bare=()
for ((i = 1; i <= runs; i++)); do
    name=wheelwright-bench-$$-$i
    start=${EPOCHREALTIME/[^0-9]/}
    podman run -d --name "$name" --stop-signal SIGKILL --pull=never "$WW_IMAGE_BUILD_AMD64_REF" sleep infinity >/dev/null
    podman exec "$name" true
    end=${EPOCHREALTIME/[^0-9]/}
    podman rm -f "$name" >/dev/null
    bare+=("$(python3 -c "print('%.3f' % (($end - $start) / 1e6))")")
done

python3 - "${serial[*]}" "${parallel[*]}" "${ready[*]}" "${bare[*]}" "${gcc_serial[*]}" "${gcc_parallel[*]}" \
    "$(nproc)" "$functions" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import statistics, sys
serial, parallel, ready, bare, gs, gp = (list(map(float, a.split())) for a in sys.argv[1:7])
cpus, functions, load = sys.argv[7], sys.argv[8], sys.argv[9]
s, p = statistics.median(serial), statistics.median(parallel)
print("wheelwright build, heavyext (%s functions), x86_64 + i686 x (cp39, pp37) = 4 builds, %s CPUs, %d runs each"
      % (functions, cpus, len(serial)))
print("  --jobs 1:      median %6.1f s  (runs: %s)" % (s, ", ".join("%.1f" % x for x in serial)))
print("  default jobs:  median %6.1f s  (runs: %s)" % (p, ", ".join("%.1f" % x for x in parallel)))
print("  parallel / serial = %.2f" % (p / s))
print("  container start -> first command (wheelwright, %d containers): median %.2f s, max %.2f s"
      % (len(ready), statistics.median(ready), max(ready)))
print("  bare podman run -d + exec true: median %.2f s" % statistics.median(bare))
print("  yardstick, 2 gcc -O2 compiles on the host: serial median %.2f s, concurrent %.2f s -> %.2f (load average at the end: %s)"
      % (statistics.median(gs), statistics.median(gp), statistics.median(gp) / statistics.median(gs), load))
PY
