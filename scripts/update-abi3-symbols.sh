#!/usr/bin/env bash
# Refresh the vendored Limited API / stable ABI symbol list from the abi3info package on PyPI.
#
#   scripts/update-abi3-symbols.sh [ABI3INFO_VERSION]
#
# abi3info (MIT licence, see src/audit/abi3/NOTICE) carries CPython's Misc/stable_abi.toml as
# Python data; this writes its functions and data objects as src/audit/abi3/stable_abi.tsv:
#   name <TAB> function|data <TAB> added (major.minor) <TAB> abi_only (0|1) <TAB> ifdef or -
# sorted by name, with a header line naming the abi3info version.
set -euo pipefail
version="${1:-2026.9.25}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$here/src/audit/abi3"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" "abi3info==$version"
python3 - "$tmp" "$dest" "$version" <<'PY'
import glob, pathlib, sys
tmp, dest, version = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]
(wheel,) = glob.glob(f"{tmp}/abi3info-*.whl")
sys.path.insert(0, wheel)  # a pure wheel imports straight from the zip
import abi3info

rows = []
for kind, table in (("function", abi3info.FUNCTIONS), ("data", abi3info.DATAS)):
    for symbol, item in table.items():
        ifdef = item.ifdef.name if item.ifdef is not None else "-"
        abi_only = "1" if getattr(item, "abi_only", False) else "0"
        rows.append((symbol.name, kind, str(item.added), abi_only, ifdef))
rows.sort()
out = dest / "stable_abi.tsv"
tmp_out = out.with_suffix(".tsv.tmp")
with tmp_out.open("w", encoding="utf-8", newline="\n") as f:
    f.write(f"# abi3info {version}: name, kind, added, abi_only, ifdef\n")
    for row in rows:
        f.write("\t".join(row) + "\n")
tmp_out.replace(out)
print(f"updated {out.relative_to(dest.parent.parent.parent)} ({len(rows)} symbols)")
PY
sed -i -E "s/^(abi3info version: ).*/\1$version/" "$dest/NOTICE"
