"""Verifies PEP 740 publish attestations with pypi-attestations and sigstore (sigstore-python):
the verifier PyPI itself uses, not wheelwright's code.

    python verify_pep740.py TRUSTED_ROOT REPOSITORY WORKFLOW DIST ATTESTATION [DIST ATTESTATION ...]

Each ATTESTATION (a PEP 740 attestation object, JSON) is checked against DIST (the file) and the
GitHub trusted publisher REPOSITORY + WORKFLOW (file name), exactly as `Attestation.verify` does
for PyPI, with one change for the test bed: the verifier's trust root is TRUSTED_ROOT (the local
Sigstore stand-ins' CA, CT log and Rekor keys) instead of the public-good one, which
`Verifier.production` would fetch. Prints one line per file, `ok <file> <predicate type>` or
`FAIL <file>: <reason>`; exits 1 if any fails.
"""

import sys
from pathlib import Path

import sigstore.verify.verifier as sigstore_verifier
from pypi_attestations import Attestation, Distribution, GitHubPublisher
from sigstore.models import TrustedRoot


def main() -> int:
    root_path, repository, workflow, *pairs = sys.argv[1:]
    trusted_root = TrustedRoot.from_file(root_path)

    def local_verifier(*_args, **_kwargs):
        return sigstore_verifier.Verifier(trusted_root=trusted_root)

    # Attestation.verify builds its verifier with Verifier.production(); point it at the
    # stand-ins' trust root.
    sigstore_verifier.Verifier.production = staticmethod(local_verifier)
    publisher = GitHubPublisher(repository=repository, workflow=workflow)
    failed = 0
    for dist_path, attestation_path in zip(pairs[0::2], pairs[1::2]):
        name = Path(dist_path).name
        try:
            attestation = Attestation.model_validate_json(Path(attestation_path).read_bytes())
            dist = Distribution.from_file(Path(dist_path))
            predicate_type, _ = attestation.verify(publisher, dist)
            print(f"ok {name} {predicate_type}")
        except Exception as err:  # noqa: BLE001 - every failure is a verification failure here
            failed += 1
            print(f"FAIL {name}: {type(err).__name__}: {err}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
