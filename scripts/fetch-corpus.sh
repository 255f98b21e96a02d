#!/usr/bin/env bash
# Fetch the pinned corpora listed in tests/corpus/*.lock (wheels.lock: binary
# wheels for the auditwheel oracle; dists.lock: current wheels and sdists for
# the `check` corpus) into a cache outside the repository:
#
#     ${WHEELWRIGHT_DEV_CACHE:-$HOME/.cache/wheelwright-dev}/corpus/<file name>
#
# Idempotent: a cached file whose sha256 matches the lock is left alone; a
# missing or mismatching one is downloaded again with the machine's ordinary pip
# client, by package name: a wheel with `pip download --only-binary=:all:
# <name>==<version>` and --platform, --python-version, --implementation and
# --abi derived from the wheel filename; an sdist (`.tar.gz`) with
# `pip download --no-binary <name> <name>==<version>` (pip prepares its
# metadata, which installs the sdist's build backend into a temporary
# environment). pip verifies the pinned sha256 itself (a requirements file
# with `--hash`) before it unpacks or builds anything; each download goes into
# a temporary directory, is checked against the pin again and only then moved
# into the cache. pip's own
# configuration and environment (PIP_CERT, PIP_INDEX_URL, proxies, ...) are
# honoured as usual; nothing here overrides them.
#
# Environment:
#   WHEELWRIGHT_DEV_CACHE   cache root (default: $HOME/.cache/wheelwright-dev)
#   WHEELWRIGHT_FETCH_JOBS  parallel downloads (default: 2)
#   PYTHON                  interpreter whose pip is used (default: python3)
#
# Also src/build/uv-pins.lock: the uv wheels wheelwright provides to images without uv (the
# tests serve them from a local index).
#
# Usage: scripts/fetch-corpus.sh [LOCKFILE...]
#        (default: every tests/corpus/*.lock and src/build/uv-pins.lock)
set -euo pipefail

die() {
    echo "fetch-corpus: error: $*" >&2
    exit 1
}

human_size() {
    awk -v b="$1" 'BEGIN { if (b < 1000000) printf "%.0f kB", b / 1000; else printf "%.1f MB", b / 1000000 }'
}

# ---------------------------------------------------------------------------
# Worker: fetch one file.  Invoked (via xargs) as
#     fetch-corpus.sh --worker <index> <filename> <sha256>
# with CORPUS_DIR, CORPUS_TOTAL, CORPUS_STATUS_DIR and PYTHON in the environment.
# Prints exactly one progress line; records its outcome in CORPUS_STATUS_DIR.
# ---------------------------------------------------------------------------
worker() {
    local idx="$1" file="$2" want="$3"
    local dest="$CORPUS_DIR/$file"
    local tag
    tag="$(printf '[%2d/%d]' "$idx" "$CORPUS_TOTAL")"

    fail() {
        echo "$tag FAILED   $file: $*"
        echo "$file: $*" > "$CORPUS_STATUS_DIR/$idx.failed"
        exit 1
    }

    local note="fetched "
    if [[ -f "$dest" ]]; then
        local have
        have="$(sha256sum "$dest" | cut -d' ' -f1)"
        if [[ "$have" == "$want" ]]; then
            echo "$tag cached   $file"
            : > "$CORPUS_STATUS_DIR/$idx.cached"
            return 0
        fi
        note="refetched"   # cached copy is stale or corrupt: replace it
    fi

    local -a args
    if [[ "$file" == *.tar.gz ]]; then
        # Sdist filename: {name}-{version}.tar.gz (the version has no '-').
        local stem="${file%.tar.gz}"
        local name="${stem%-*}" version="${stem##*-}"
        [[ -n "$name" && "$name" != "$stem" ]] || fail "not an sdist filename of the form name-version.tar.gz"
        args=(--no-deps --no-binary "$name" --no-input --progress-bar off)
    else
        # Wheel filename: {name}-{version}(-{build})?-{python}-{abi}-{platform}.whl
        local stem="${file%.whl}"
        local -a parts
        IFS='-' read -r -a parts <<< "$stem"
        local n="${#parts[@]}"
        if [[ "$n" -ne 5 && "$n" -ne 6 ]]; then
            fail "not a wheel filename of the form name-version-python-abi-platform.whl"
        fi
        local name="${parts[0]}" version="${parts[1]}"
        local pytag="${parts[n - 3]}" abitag="${parts[n - 2]}" plattag="${parts[n - 1]}"

        # Python tag (the last of a compressed set, e.g. py3 of py2.py3): cp311 -> cp + 3.11,
        # pp310 -> pp + 3.10, py3 -> py + 3.
        pytag="${pytag##*.}"
        if [[ ! "$pytag" =~ ^(cp|pp|py)([0-9])([0-9]*)$ ]]; then
            fail "cannot derive interpreter and version from python tag '$pytag'"
        fi
        local impl="${BASH_REMATCH[1]}" pyver="${BASH_REMATCH[2]}"
        [[ -n "${BASH_REMATCH[3]}" ]] && pyver="$pyver.${BASH_REMATCH[3]}"

        # The exact file is pinned: its Requires-Python does not matter here (and "py3"
        # gives pip no minor version to compare with).
        args=(--no-deps --only-binary=:all: --no-input --progress-bar off --ignore-requires-python
              --implementation "$impl" --python-version "$pyver")
        local t
        local -a tags
        IFS='.' read -r -a tags <<< "$abitag"
        for t in "${tags[@]}"; do args+=(--abi "$t"); done
        IFS='.' read -r -a tags <<< "$plattag"
        for t in "${tags[@]}"; do args+=(--platform "$t"); done
    fi

    local tmp
    tmp="$(mktemp -d "$CORPUS_DIR/.tmp-fetch.XXXXXX")" || fail "cannot create a temporary directory in $CORPUS_DIR"
    # shellcheck disable=SC2064  # expand $tmp now: it is local to this function
    trap "rm -rf '$tmp'" EXIT

    # pip checks the pinned sha256 itself (hash-checking mode) before it unpacks anything: an
    # sdist's build backend runs only for the file the lock names.
    printf '%s==%s --hash=sha256:%s\n' "$name" "$version" "$want" > "$tmp/requirements.txt"
    if ! "$PYTHON" -m pip download "${args[@]}" -d "$tmp/dl" -r "$tmp/requirements.txt" \
            < /dev/null > "$tmp/pip.log" 2>&1; then
        local why
        why="$(grep -E '^ERROR:' "$tmp/pip.log" | tail -n 1 || true)"
        [[ -n "$why" ]] || why="$(grep -v '^[[:space:]]*$' "$tmp/pip.log" | tail -n 1 || true)"
        fail "pip download $name==$version failed: ${why:-no output}"
    fi
    if [[ ! -f "$tmp/dl/$file" ]]; then
        local got
        got="$(find "$tmp/dl" -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | paste -sd ' ' - || true)"
        fail "pip did not fetch this file (got: ${got:-nothing})"
    fi
    local have
    have="$(sha256sum "$tmp/dl/$file" | cut -d' ' -f1)"
    if [[ "$have" != "$want" ]]; then
        fail "sha256 mismatch: lock says $want, download is $have"
    fi

    # Same filesystem as the cache, so this rename is atomic: never a partial file.
    mv -f "$tmp/dl/$file" "$dest"
    local size
    size="$(stat -c %s "$dest")"
    echo "$tag $note $file ($(human_size "$size"))"
    : > "$CORPUS_STATUS_DIR/$idx.fetched"
}

if [[ "${1:-}" == "--worker" ]]; then
    shift
    [[ $# -eq 3 ]] || die "--worker takes <index> <filename> <sha256>"
    worker "$@"
    exit 0
fi

# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
case "${1:-}" in
    -h | --help)
        sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
        exit 0
        ;;
esac
script_path="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
repo_root="$(cd "$(dirname "$script_path")/.." && pwd)"
declare -a locks=("$@")
if [[ ${#locks[@]} -eq 0 ]]; then
    locks=("$repo_root"/tests/corpus/*.lock "$repo_root/src/build/uv-pins.lock")
fi
cache_root="${WHEELWRIGHT_DEV_CACHE:-${HOME:?HOME is not set}/.cache/wheelwright-dev}"
corpus_dir="$cache_root/corpus"
jobs="${WHEELWRIGHT_FETCH_JOBS:-2}"
PYTHON="${PYTHON:-python3}"

[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die "WHEELWRIGHT_FETCH_JOBS must be a positive integer, not '$jobs'"
command -v sha256sum > /dev/null || die "sha256sum not found (coreutils)"
command -v "$PYTHON" > /dev/null || die "$PYTHON not found (set PYTHON to an interpreter with pip)"
"$PYTHON" -m pip --version > /dev/null 2>&1 || die "'$PYTHON -m pip' does not work; install pip for $PYTHON"

# Parse and validate every lock before touching the network.
declare -a files=() shas=()
declare -A seen=()
for lock in "${locks[@]}"; do
    [[ -f "$lock" ]] || die "lock file not found: $lock"
    lineno=0
    while IFS= read -r line || [[ -n "$line" ]]; do
        lineno=$((lineno + 1))
        line="${line%%#*}"
        read -r -a fields <<< "$line" || true
        [[ ${#fields[@]} -eq 0 ]] && continue
        [[ ${#fields[@]} -eq 2 ]] || die "$lock:$lineno: expected '<file name> <sha256>'"
        f="${fields[0]}" s="${fields[1],,}"
        [[ "$f" =~ ^[A-Za-z0-9_.+!-]+\.(whl|tar\.gz)$ ]] || die "$lock:$lineno: bad wheel or sdist filename '$f'"
        [[ "$s" =~ ^[0-9a-f]{64}$ ]] || die "$lock:$lineno: bad sha256 '$s'"
        # A file two corpora share is fetched once; the same name with another digest is an error.
        if [[ -n "${seen[$f]:-}" ]]; then
            [[ "${seen[$f]}" == "$s" ]] || die "$lock:$lineno: $f is listed again with another sha256 ($s, before: ${seen[$f]})"
            continue
        fi
        seen[$f]=$s
        files+=("$f")
        shas+=("$s")
    done < "$lock"
done
total="${#files[@]}"
[[ "$total" -gt 0 ]] || die "${locks[*]} list no files"

mkdir -p "$corpus_dir" || die "cannot create cache directory $corpus_dir"
# Leftovers of an interrupted run (never under a wheel's final name); the age
# limit keeps a concurrent run's live temporary directories alone.
find "$corpus_dir" -maxdepth 1 -name '.tmp-fetch.*' -mmin +60 -exec rm -rf {} + 2>/dev/null || true
status_dir="$(mktemp -d "${TMPDIR:-/tmp}/fetch-corpus-status.XXXXXX")" || die "cannot create a temporary directory"
trap 'rm -rf "$status_dir"' EXIT

shown_locks=()
for lock in "${locks[@]}"; do shown_locks+=("${lock#"$repo_root"/}"); done
echo "fetch-corpus: $total files from ${shown_locks[*]} into $corpus_dir (jobs: $jobs)"
start="$(date +%s)"

export CORPUS_DIR="$corpus_dir" CORPUS_TOTAL="$total" CORPUS_STATUS_DIR="$status_dir" PYTHON
for i in "${!files[@]}"; do
    printf '%d %s %s\n' "$((i + 1))" "${files[$i]}" "${shas[$i]}"
done | xargs -P "$jobs" -n 3 bash "$script_path" --worker || true

count() { find "$status_dir" -name "*.$1" | wc -l; }
n_cached="$(count cached)"
n_fetched="$(count fetched)"
n_failed="$(count failed)"
n_missing=$((total - n_cached - n_fetched - n_failed))

bytes=0
for f in "${files[@]}"; do
    if [[ -f "$corpus_dir/$f" ]]; then
        bytes=$((bytes + $(stat -c %s "$corpus_dir/$f")))
    fi
done
elapsed=$(($(date +%s) - start))

echo "fetch-corpus: $total files: $n_cached cached, $n_fetched fetched, $n_failed failed;" \
     "$(human_size "$bytes") in $corpus_dir (${elapsed}s)"

if [[ "$n_failed" -gt 0 ]]; then
    first="$(cat "$(find "$status_dir" -name '*.failed' | sort -V | head -n 1)")"
    die "$n_failed of $total files could not be fetched (first: $first)"
fi
if [[ "$n_missing" -gt 0 ]]; then
    die "$n_missing of $total files were not processed (a download worker died)"
fi
