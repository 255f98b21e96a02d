#!/usr/bin/env bash
# Refresh src/build/uv-pins.lock: the musllinux wheels of `uv` VERSION for x86_64 and i686, with
# their sha256, downloaded with the machine's ordinary pip client (its configuration, PIP_CERT,
# PIP_INDEX_URL, proxies apply as usual) and hashed here.
#
# Usage: scripts/update-uv-pins.sh VERSION        (e.g. 0.13.8)
# Environment: PYTHON  interpreter whose pip is used (default: python3)
set -euo pipefail

die() {
    echo "update-uv-pins: error: $*" >&2
    exit 1
}

[[ $# -eq 1 ]] || die "usage: scripts/update-uv-pins.sh VERSION"
version="$1"
[[ "$version" =~ ^[0-9]+(\.[0-9]+)*$ ]] || die "\`$version\` is not a release version (e.g. 0.13.8)"
PYTHON="${PYTHON:-python3}"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pins="$repo_root/src/build/uv-pins.lock"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
lines=()
for arch in x86_64 i686; do
    # musllinux_1_1 is the oldest tag uv publishes; pip accepts the wheel for either tag asked.
    "$PYTHON" -m pip download "uv==$version" --no-deps --only-binary=:all: --no-input \
        --progress-bar off --implementation py --python-version 3.12 --ignore-requires-python \
        --platform "musllinux_1_1_$arch" --platform "musllinux_1_2_$arch" \
        -d "$tmp/$arch" -q < /dev/null || die "pip could not download uv $version for $arch"
    set -- "$tmp/$arch"/uv-"$version"-*musllinux*"$arch".whl
    [[ -f "$1" ]] || die "pip fetched no musllinux $arch wheel of uv $version"
    lines+=("$(basename "$1") $(sha256sum "$1" | cut -d' ' -f1)")
done

{
    sed -n '/^#/p' "$pins"
    printf '%s\n' "${lines[@]}"
} > "$tmp/pins"
mv "$tmp/pins" "$pins"
echo "update-uv-pins: $pins now pins uv $version:"
printf '  %s\n' "${lines[@]}"
