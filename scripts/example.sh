#!/usr/bin/env bash
# The main job on the bundled example project (tests/projects/democext, a C extension that links
# the non-whitelisted libdemo and zlib): build its wheel, audit it with `wheelwright show`, repair
# it with `wheelwright repair`, and run the project's tests against the repaired wheel in a fresh venv.
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

ww_log "wheelwright repair -> $out/wheelhouse"
repaired=$(LD_LIBRARY_PATH="$DEPS_PREFIX/lib" "$here/target/release/wheelwright" repair -w "$out/wheelhouse" "$WHEEL")

ww_log "installing $(basename "$repaired") into a fresh venv (no LD_LIBRARY_PATH) and running the example's tests"
rm -rf "$out/venv"
"$WW_VENV/bin/python" -m venv "$out/venv"
"$out/venv/bin/python" -m pip install --quiet --no-index --no-deps "$repaired"
(cd "$here/tests/projects/democext/tests" && "$out/venv/bin/python" -m unittest -q test_democext)
ww_log "done: $repaired"
