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
# The package's trust root for the public-good TUF repository, checked before it replaces ours.
member=$(python3 - "$ww_wheel" <<'PY'
import json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as zf:
    (name,) = [n for n in zf.namelist()
               if n.startswith("sigstore/_store/") and "tuf-repo-cdn.sigstore.dev" in n
               and n.endswith("/trusted_root.json")]
    root = json.loads(zf.read(name))
assert root["mediaType"].startswith("application/vnd.dev.sigstore.trustedroot+json"), root["mediaType"]
assert root["tlogs"] and root["certificateAuthorities"] and root["ctlogs"], "incomplete trust root"
print(name)
PY
) || ww_die "no complete public-good trust root in ${ww_wheel##*/}"
ww_vendor_member "$member" "$dest"
