"""Artifact signing and verification, cosign-compatible (ECDSA P-256 over SHA-256).

What lives here:

* :mod:`.keys`: generate P-256 key pairs; encrypted PKCS#8 PEM private keys (passphrase from
  ``SAFESHIP_KEY_PASSPHRASE``), PEM SubjectPublicKeyInfo public keys; key ids.
* :mod:`.blob`: ``cosign sign-blob`` signatures (base64 of DER ECDSA over SHA-256 of the file).
* :mod:`.dsse`: DSSE envelopes (PAE, in-toto payload type).
* :mod:`.provenance`: in-toto Statement v1 with a SLSA Provenance v1 predicate.
* :mod:`.attest`: sign provenance for built artifacts.
* :mod:`.policy`: the trust policy (trusted keys, required builder).
* :mod:`.verify`: :func:`verify_artifact`, the one call that decides whether to deploy.
* :mod:`.report`: JSON and SARIF renderings of a verification.

Example, the check the rollout controller makes before it deploys::

    policy = TrustPolicy.from_key_files([Path("ci.pub")], required_builder="https://ci/builder")
    result = verify_artifact(Path("dist/app.whl"), policy, provenance=Path("app.intoto.json"))
    if not result.ok:
        refuse(result.reasons())
"""

from __future__ import annotations

from safeship.scanners.signing.attest import attest_provenance, material_of, subject_of
from safeship.scanners.signing.blob import SIGNATURE_SUFFIX, sign_artifact
from safeship.scanners.signing.errors import KeyFileInvalid, PassphraseMissing, SigningInputError
from safeship.scanners.signing.keys import (
    PASSPHRASE_ENV,
    GeneratedKeys,
    key_id,
    load_private_key_file,
    load_public_key_file,
    write_key_pair,
)
from safeship.scanners.signing.policy import TrustedKey, TrustPolicy
from safeship.scanners.signing.provenance import BuildFacts, Material, Provenance, Subject
from safeship.scanners.signing.verify import (
    Check,
    CheckName,
    Failure,
    VerificationResult,
    verify_artifact,
)

__all__ = [
    "PASSPHRASE_ENV",
    "SIGNATURE_SUFFIX",
    "BuildFacts",
    "Check",
    "CheckName",
    "Failure",
    "GeneratedKeys",
    "KeyFileInvalid",
    "Material",
    "PassphraseMissing",
    "Provenance",
    "SigningInputError",
    "Subject",
    "TrustPolicy",
    "TrustedKey",
    "VerificationResult",
    "attest_provenance",
    "key_id",
    "load_private_key_file",
    "load_public_key_file",
    "material_of",
    "sign_artifact",
    "subject_of",
    "verify_artifact",
    "write_key_pair",
]
