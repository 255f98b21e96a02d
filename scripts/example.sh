#!/usr/bin/env bash
# The main job on the bundled example project (tests/projects/democext, a C extension that links
# the non-whitelisted libdemo and zlib): build its wheel, then audit it with `wheelwright show`.
#
#   scripts/example.sh
#
# Until `wheelwright build` exists, the wheel is built on the host with the tool venv's Python.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

bash scripts/setup-dev.sh --venv
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

ww_log "building wheelwright (cargo build --release)"
cargo build --release --locked --quiet

out="$here/target/example"
ww_log "building the example wheel into $out"
mkdir -p "$out"
if ! build_vars="$(bash scripts/build-example-wheel.sh "$out" "$WW_VENV/bin/python" 2>"$out/build.log")"; then
    cat "$out/build.log" >&2
    ww_die "building the example wheel failed (log above: $out/build.log)"
fi
eval "$build_vars"

ww_log "wheelwright show $(basename "$WHEEL")  (libdemo is found through LD_LIBRARY_PATH=$DEPS_PREFIX/lib)"
LD_LIBRARY_PATH="$DEPS_PREFIX/lib" "$here/target/release/wheelwright" show "$WHEEL"
