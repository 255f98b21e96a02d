#!/usr/bin/env bash
# Install everything the tests need (idempotent) and run every test: formatting, the action and
# workflow linters (zizmor, actionlint), clippy, the fast suite and the real-component suite
# (podman images, auditwheel oracle, real PyPI wheels, act).
#
#   scripts/test.sh            # what CI runs (.ci/run)
#
# Set WHEELWRIGHT_DEV_CACHE to keep the cache (tool venv, images, corpus) somewhere else.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

start=$SECONDS
step() { printf '\n==> %s (%ss)\n' "$*" "$((SECONDS - start))" >&2; }

# The test bed first: whatever is missing is installed, then its self-check lists every tool the
# suite runs with its version and path, and stops here naming anything still missing.
step "test bed and self-check (scripts/setup-dev.sh)"
bash scripts/setup-dev.sh
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
ww_podman_config

# The corpus downloads (pip, mostly network; cold, several minutes) run while cargo compiles; the
# tests wait for them.
step "oracle corpus (scripts/fetch-corpus.sh, in the background)"
corpus_log=$(mktemp "${TMPDIR:-/tmp}/wheelwright-fetch-corpus.XXXXXX")
bash scripts/fetch-corpus.sh >"$corpus_log" 2>&1 &
corpus_pid=$!
trap 'kill "$corpus_pid" 2>/dev/null || true; rm -f "$corpus_log"' EXIT

export CARGO_TERM_COLOR=never
step "cargo fmt --check"
cargo fmt --all -- --check

step "lint the action and the workflows (zizmor, actionlint)"
bash scripts/lint-actions.sh

step "cargo clippy"
cargo clippy --locked --workspace --all-targets -- -D warnings

step "cargo doc (intra-doc links)"
RUSTDOCFLAGS="-D warnings" cargo doc --locked --workspace --no-deps --quiet

step "oracle corpus: waiting for the download"
corpus_rc=0
wait "$corpus_pid" || corpus_rc=$?
cat "$corpus_log" >&2
if ((corpus_rc != 0)); then
    echo "error: scripts/fetch-corpus.sh failed (exit $corpus_rc); its output is above" >&2
    exit 1
fi

step "tests (fast and real suites)"
cargo test --locked --workspace --all-targets -- --test-threads=2

step "done"
