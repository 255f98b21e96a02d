#!/usr/bin/env bash
# Benchmark what PEP 740 attestations add to `wheelwright publish`: 20 wheels published with
# trusted publishing against the real suite's loopback stand-ins of GitHub's OIDC issuer, Fulcio,
# Rekor and a PyPI-shaped index (tests/real/sigstore_standins.rs), with attestations and with
# `--no-attestations`, alternating in one run. No timed assertions: this only measures and
# reports (the target: attesting adds at most 1 s for the 20 wheels).
#
#   scripts/bench-attest.sh            # one JSON line on stdout
#
# 1. builds wheelwright (cargo build --release --locked): the binary measured;
# 2. runs the bench target `attest` (benches/attest.rs, built with the dev profile like the real
#    suite's stand-ins), which makes the wheels, starts the stand-ins and runs BENCH_RUNS
#    (default 3) publishes of each kind, printing the median wall times and the difference.
# Progress goes to stderr; stdout gets only the result.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ww_release_binary

ww_log "publishing 20 wheels with and without attestations (BENCH_RUNS=${BENCH_RUNS:-3})"
out=$(cd "$WW_REPO_ROOT" && WHEELWRIGHT_BENCH_BINARY=$ww cargo bench --locked --profile dev \
    --bench attest 2>/dev/null)
result=$(grep -m1 -o '{"added_s".*}' <<<"$out") ||
    ww_die "the benchmark printed no result:"$'\n'"$out"
printf '%s\n' "$result"
