# Sourced by make-big-wheel.sh and make-stress-wheel.sh (not run): the argument handling and the
# cache they share. The sourcing script sets `name` (the wheel's distribution name, also the stamp's)
# and `what` (for messages) first. This parses `OUTDIR [PYTHON]`, sources lib.sh, and sets `python`,
# `libdemo_src`, `outdir` (absolute), `stamp` and `key` (the hash of the generator, this file, the
# module template incbin_ext.py and libdemo's sources); `find_wheel` prints the one
# OUTDIR/NAME-1.0-*.whl. When the stamp holds the key and the wheel and libdemo are there, it prints
# the wheel's path and exits: nothing is rebuilt.
# shellcheck shell=bash

if [[ $# -lt 1 || $# -gt 2 ]]; then
    echo "usage: $0 OUTDIR [PYTHON]" >&2
    exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
source "$here/../lib.sh"
python=${2:-$WW_VENV/bin/python}
libdemo_src=$WW_REPO_ROOT/tests/projects/democext/libdemo

mkdir -p "$1"
outdir=$(cd "$1" && pwd)
stamp=$outdir/$name.stamp
key=$(cat "${BASH_SOURCE[1]}" "${BASH_SOURCE[0]}" "$here/incbin_ext.py" "$libdemo_src/build-libdemo.sh" \
    "$libdemo_src/demo.c" "$libdemo_src/demo.h" | ww_hash) || ww_die "cannot hash the generator script"

shopt -s nullglob
find_wheel() {
    local wheels=("$outdir/$name"-1.0-*.whl)
    [[ ${#wheels[@]} -eq 1 ]] && printf '%s\n' "${wheels[0]}"
}

if [[ -f $stamp && $(<"$stamp") == "$key" && -e $outdir/deps/lib/libdemo.so.1 ]] && wheel=$(find_wheel); then
    ww_log "$what is up to date (stamp $key): $wheel"
    printf '%s\n' "$wheel"
    exit 0
fi
