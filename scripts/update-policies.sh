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
python3 - "$ww_wheel" "$dest" <<'PY'
import pathlib, sys, zipfile
wheel, dest = sys.argv[1], pathlib.Path(sys.argv[2])
with zipfile.ZipFile(wheel) as zf:
    for name in ("manylinux-policy.json", "musllinux-policy.json"):
        data = zf.read(f"auditwheel/policy/{name}")
        out = dest / name
        tmp_out = out.with_suffix(".json.tmp")
        tmp_out.write_bytes(data)
        tmp_out.replace(out)
        print(f"updated {out.relative_to(dest.parent.parent.parent)} ({len(data)} bytes)")
PY
sed -i -E "s/^(auditwheel version: ).*/\1$version/" "$dest/NOTICE"
