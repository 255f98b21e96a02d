#!/usr/bin/env bash
# build-example-wheel.sh OUTDIR [PYTHON]
#
# Builds libdemo into OUTDIR/deps and the democext wheel (tests/projects/democext)
# into OUTDIR with PYTHON (default python3), which must have setuptools, wheel
# and build installed (a venv's python is fine). Safe to re-run: the previous
# democext wheel in OUTDIR is replaced.
#
# Build logs go to stderr; stdout gets two shell-friendly lines:
#   WHEEL=<absolute path of the wheel>
#   DEPS_PREFIX=<absolute path of the libdemo prefix>
# Keep DEPS_PREFIX: auditing the wheel needs LD_LIBRARY_PATH=$DEPS_PREFIX/lib.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 OUTDIR [PYTHON]" >&2
    exit 2
fi
outdir=$1
python=${2:-python3}
repo=$(cd "$(dirname "$0")/.." && pwd)
project=$repo/tests/projects/democext

if ! "$python" -c 'import setuptools, wheel, build' 2>/dev/null; then
    echo "error: $python lacks setuptools, wheel or build (pip install setuptools wheel build)" >&2
    exit 1
fi

mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
prefix=$outdir/deps

sh "$project/libdemo/build-libdemo.sh" "$prefix" >&2

# Build from a scratch copy so the source tree gets no build/ or egg-info.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -R "$project/." "$work/src-copy"
rm -rf "$work/src-copy/build" "$work/src-copy/dist" "$work"/src-copy/src/*.egg-info

rm -f "$outdir"/democext-*.whl
DEMO_PREFIX=$prefix "$python" -m build --wheel --no-isolation --outdir "$outdir" "$work/src-copy" >&2

shopt -s nullglob
wheels=("$outdir"/democext-*.whl)
if [ ${#wheels[@]} -ne 1 ]; then
    echo "error: expected one democext wheel in $outdir, found ${#wheels[@]}" >&2
    exit 1
fi
echo "WHEEL=${wheels[0]}"
echo "DEPS_PREFIX=$prefix"
