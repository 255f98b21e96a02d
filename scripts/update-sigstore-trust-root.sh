#!/usr/bin/env bash
# Refresh the embedded Sigstore public-good trust root (src/publish/sigstore_trusted_root.json:
# Fulcio's CA certificates, the Rekor and CT log keys) that `wheelwright publish` verifies its
# attestations against.
#
#   scripts/update-sigstore-trust-root.sh [SIGSTORE_VERSION]
#
# The file is taken byte for byte from the `sigstore` package (sigstore-python) of the given
# version on PyPI: the trust root it ships for the public-good TUF repository, which that
# project refreshes through TUF for each release. Nothing is fetched from an unpinned source,
# and wheelwright never fetches a trust root at run time. Review the diff before committing.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
version="${1:-4.5.1}"
dest="$WW_REPO_ROOT/src/publish/sigstore_trusted_root.json"
ww_fetch_wheel sigstore "$version"
python3 - "$ww_wheel" "$dest" <<'PY'
import json, pathlib, sys, zipfile
wheel, dest = sys.argv[1], pathlib.Path(sys.argv[2])
with zipfile.ZipFile(wheel) as zf:
    (name,) = [n for n in zf.namelist()
               if n.startswith("sigstore/_store/") and "tuf-repo-cdn.sigstore.dev" in n
               and n.endswith("/trusted_root.json")]
    data = zf.read(name)
root = json.loads(data)
assert root["mediaType"].startswith("application/vnd.dev.sigstore.trustedroot+json"), root["mediaType"]
assert root["tlogs"] and root["certificateAuthorities"] and root["ctlogs"], "incomplete trust root"
tmp_out = dest.with_suffix(".json.tmp")
tmp_out.write_bytes(data)
tmp_out.replace(dest)
print(f"updated {dest.name} from {name} ({len(data)} bytes)")
PY
