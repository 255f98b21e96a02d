#!/usr/bin/env bash
# Refresh the vendored manylinux/musllinux policy files from the auditwheel package on PyPI.
#
#   scripts/update-policies.sh [AUDITWHEEL_VERSION]
#
# The files are copied byte for byte from the wheel (MIT licence, see src/audit/policy/NOTICE).
set -euo pipefail
version="${1:-6.8.2}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$here/src/audit/policy"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" "auditwheel==$version"
python3 - "$tmp" "$dest" <<'PY'
import glob, pathlib, sys, zipfile
tmp, dest = sys.argv[1], pathlib.Path(sys.argv[2])
(wheel,) = glob.glob(f"{tmp}/auditwheel-*.whl")
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
