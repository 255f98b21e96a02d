#!/usr/bin/env bash
# build-fixture-wheels.sh OUTDIR [--arch amd64|i386] [--where host|image|here]
#
# Builds the repair fixtures: libdemo (tests/projects/democext/libdemo) and libexcludeme
# (tests/projects/neuronish/libexcludeme) into OUTDIR/deps, then the wheels of
# tests/projects/klayoutish, tests/projects/neuronish and, where the C library is glibc >= 2.34,
# tests/projects/newglibc into OUTDIR. See each project's README.md for what it exercises.
#
#   --arch   amd64 (default) or i386.
#   --where  host (default): on this machine with the tool venv's Python ($WW_VENV/bin/python,
#                 scripts/lib.sh); amd64 only. newglibc is built (the host has glibc >= 2.34).
#            image: inside the build image of the arch ($WW_IMAGE_BUILD_{AMD64,I386}_REF, i386 with
#                 --arch 386 under linux32), with /opt/python/cp39-cp39/bin/python, no network. The
#                 images are bullseye (glibc 2.31), so newglibc is skipped.
#            here: in the current environment, with $WW_FIXTURE_PYTHON (default
#                 /opt/python/cp39-cp39/bin/python); this is what --where image runs in the container.
#
# OUTDIR belongs to this script: earlier fixture wheels in it are replaced. Build logs go to stderr;
# stdout gets shell-friendly KEY=absolute-path lines:
#   DEPS_PREFIX=...        libdemo + libexcludeme prefix (audit/repair with LD_LIBRARY_PATH=$DEPS_PREFIX/lib)
#   EXCLUDED_LIB_DIR=...   a directory holding only libexcludeme.so.1 (LD_LIBRARY_PATH after --exclude)
#   KLAYOUTISH_WHEEL=...
#   NEURONISH_WHEEL=...
#   NEWGLIBC_WHEEL=...     only when newglibc was built
set -euo pipefail

usage() {
    echo "usage: $0 OUTDIR [--arch amd64|i386] [--where host|image|here]" >&2
    exit 2
}

[ $# -ge 1 ] || usage
outdir=$1
shift
arch=amd64
where=host
while [ $# -gt 0 ]; do
    case $1 in
    --arch)
        [ $# -ge 2 ] || usage
        arch=$2
        shift 2
        ;;
    --where)
        [ $# -ge 2 ] || usage
        where=$2
        shift 2
        ;;
    *) usage ;;
    esac
done
case $arch in amd64 | i386) ;; *) usage ;; esac
case $where in host | image | here) ;; *) usage ;; esac

repo=$(cd "$(dirname "$0")/.." && pwd)
log() { printf '==> %s\n' "$*" >&2; }
die() {
    printf '==> ERROR: %s\n' "$*" >&2
    exit 1
}

[ "$where/$arch" != host/i386 ] || die "--where host builds amd64 only; use --where image for i386"
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)

# glibc >= 2.34 in the current environment?
glibc_at_least_2_34() {
    local version
    version=$(getconf GNU_LIBC_VERSION 2>/dev/null) || return 1
    version=${version#glibc }
    [ "$(printf '%s\n%s\n' 2.34 "$version" | sort -V | head -n1)" = 2.34 ]
}

# Builds everything with $1 (a Python with setuptools, wheel and build) in this environment.
build_here() {
    local python=$1 machine prefix excluded work project key
    machine=$(uname -m)
    case $arch/$machine in
    amd64/x86_64 | i386/i686 | i386/i386) ;;
    *) die "--arch $arch, but uname -m says $machine (run i386 builds under linux32)" ;;
    esac
    "$python" -c 'import setuptools, wheel, build' 2>/dev/null ||
        die "$python lacks setuptools, wheel or build"

    prefix=$outdir/deps
    log "libdemo and libexcludeme -> $prefix"
    sh "$repo/tests/projects/democext/libdemo/build-libdemo.sh" "$prefix" >&2
    sh "$repo/tests/projects/neuronish/libexcludeme/build-libexcludeme.sh" "$prefix" >&2
    excluded=$prefix/excluded
    rm -rf "$excluded"
    mkdir -p "$excluded"
    cp "$prefix/lib/libexcludeme.so.1.0" "$excluded/"
    ln -s libexcludeme.so.1.0 "$excluded/libexcludeme.so.1"

    work=$(mktemp -d)
    # shellcheck disable=SC2064 # expand $work now
    trap "rm -rf '$work'" EXIT

    local projects=(klayoutish neuronish)
    if glibc_at_least_2_34; then
        projects+=(newglibc)
    else
        log "newglibc skipped: $(getconf GNU_LIBC_VERSION 2>/dev/null || echo 'unknown libc') < glibc 2.34"
    fi

    local results=()
    for project in "${projects[@]}"; do
        log "$project wheel ($arch, $python)"
        # Build from a scratch copy so the source tree gets no build/ or egg-info.
        cp -R "$repo/tests/projects/$project" "$work/$project"
        rm -rf "$work/$project/build" "$work/$project/dist" "$work/$project"/src/*.egg-info
        rm -f "$outdir/$project"-*.whl
        DEMO_PREFIX=$prefix "$python" -m build --wheel --no-isolation --outdir "$outdir" "$work/$project" >&2 ||
            die "building the $project wheel failed"
        shopt -s nullglob
        local wheels=("$outdir/$project"-*.whl)
        shopt -u nullglob
        [ ${#wheels[@]} -eq 1 ] || die "expected one $project wheel in $outdir, found ${#wheels[@]}"
        key=$(printf '%s' "$project" | tr '[:lower:]' '[:upper:]')
        results+=("${key}_WHEEL=${wheels[0]}")
    done

    echo "DEPS_PREFIX=$prefix"
    echo "EXCLUDED_LIB_DIR=$excluded"
    printf '%s\n' "${results[@]}"
}

case $where in
here)
    build_here "${WW_FIXTURE_PYTHON:-/opt/python/cp39-cp39/bin/python}"
    ;;
host)
    # shellcheck source=lib.sh
    source "$repo/scripts/lib.sh"
    [ -x "$WW_VENV/bin/python" ] || die "the tool venv $WW_VENV is missing: run scripts/setup-dev.sh"
    build_here "$WW_VENV/bin/python"
    ;;
image)
    # shellcheck source=lib.sh
    source "$repo/scripts/lib.sh"
    ww_podman_config
    if [ "$arch" = amd64 ]; then
        image=$WW_IMAGE_BUILD_AMD64_REF
        podman_arch=(--arch amd64)
    else
        image=$WW_IMAGE_BUILD_I386_REF
        podman_arch=(--arch 386)
    fi
    podman image exists "$image" || die "image $image is missing: run scripts/setup-dev.sh"
    log "building in $image"
    inner=$(podman run --rm --network=none "${podman_arch[@]}" \
        -v "$repo:/src:ro" -v "$outdir:/out" "$image" \
        bash /src/scripts/build-fixture-wheels.sh /out --arch "$arch" --where here) ||
        die "the build in $image failed"
    # The container printed paths under /out: translate them to OUTDIR.
    printf '%s\n' "$inner" | sed "s|=/out/|=$outdir/|; s|=/out\$|=$outdir|"
    ;;
esac
