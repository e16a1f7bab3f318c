"""Sign provenance: wrap a SLSA v1 statement about artifacts in a DSSE envelope signed by a key.

This is what a CI builder runs after a build (``safeship sign ARTIFACT --provenance FILE ...``);
:func:`safeship.scanners.signing.verify.verify_artifact` checks the result before deploying.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from safeship.scanners.signing.blob import artifact_digest
from safeship.scanners.signing.dsse import IN_TOTO_PAYLOAD_TYPE, Envelope, sign_envelope
from safeship.scanners.signing.provenance import (
    BuildFacts,
    Material,
    Subject,
    provenance_statement,
    statement_bytes,
)


def subject_of(path: Path, name: str | None = None) -> Subject:
    """The statement subject for the file at ``path`` (named ``name`` or its file name)."""
    return Subject(name or path.name, artifact_digest(path).hex())


def material_of(path: Path, uri: str | None = None) -> Material:
    """A resolved dependency for the file at ``path``, with its SHA-256."""
    return Material(uri or path.as_posix(), {"sha256": artifact_digest(path).hex()})


def attest_provenance(
    subjects: Sequence[Subject], facts: BuildFacts, key: ec.EllipticCurvePrivateKey
) -> Envelope:
    """A DSSE envelope holding the SLSA v1 provenance of ``subjects``, signed by ``key``."""
    payload = statement_bytes(provenance_statement(subjects, facts))
    return sign_envelope(payload, IN_TOTO_PAYLOAD_TYPE, key)
