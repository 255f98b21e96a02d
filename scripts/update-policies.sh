#!/usr/bin/env bash
# Refresh the vendored manylinux/musllinux policy files from the auditwheel package on PyPI.
#
#   scripts/update-policies.sh [AUDITWHEEL_VERSION]
#
# The files are copied byte for byte from the wheel (MIT licence, see src/audit/policy/NOTICE).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
version="${1:-6.8.2}"
dest="$WW_REPO_ROOT/src/audit/policy"
ww_fetch_wheel auditwheel "$version"
for name in manylinux-policy.json musllinux-policy.json; do
    ww_vendor_member "auditwheel/policy/$name" "$dest/$name"
done
sed -i -E "s/^(auditwheel version: ).*/\1$version/" "$dest/NOTICE"
