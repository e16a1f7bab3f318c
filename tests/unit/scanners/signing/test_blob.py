"""cosign sign-blob signatures: base64 of DER ECDSA over SHA-256 of the artifact."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from safeship.errors import NotFound
from safeship.scanners.signing import SigningInputError, sign_artifact
from safeship.scanners.signing.blob import (
    MalformedInput,
    MalformedSignature,
    artifact_digest,
    decode_base64,
    decode_signature,
    read_signature_file,
    verify_digest,
)

from .conftest import KeyPair


def test_digest_is_streamed_sha256(artifact: Path) -> None:
    assert artifact_digest(artifact) == hashlib.sha256(artifact.read_bytes()).digest()


def test_digest_of_missing_or_directory(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        artifact_digest(tmp_path / "nope")
    with pytest.raises(SigningInputError, match="directory"):
        artifact_digest(tmp_path)


def test_signature_is_single_line_standard_base64_of_der(artifact: Path, ci_key: KeyPair) -> None:
    signature = sign_artifact(artifact, ci_key.key)
    assert "\n" not in signature
    der = base64.b64decode(signature, validate=True)
    r, s = decode_dss_signature(der)
    assert r > 0
    assert s > 0
    # The same check cosign verify-blob makes: ECDSA-SHA256 over the raw artifact bytes.
    ci_key.key.public_key().verify(der, artifact.read_bytes(), ec.ECDSA(hashes.SHA256()))


def test_verify_digest(artifact: Path, ci_key: KeyPair, rogue_key: KeyPair) -> None:
    der = base64.b64decode(sign_artifact(artifact, ci_key.key))
    digest = artifact_digest(artifact)
    assert verify_digest(digest, der, ci_key.key.public_key())
    assert not verify_digest(digest, der, rogue_key.key.public_key())
    assert not verify_digest(hashlib.sha256(b"other").digest(), der, ci_key.key.public_key())


def test_decode_accepts_whitespace_urlsafe_and_missing_padding(ci_key: KeyPair) -> None:
    der = ci_key.key.sign(b"x", ec.ECDSA(hashes.SHA256()))
    standard = base64.b64encode(der).decode()
    assert decode_signature(standard + "\n") == der
    assert decode_signature("  " + standard[:20] + "\n" + standard[20:]) == der
    assert decode_signature(base64.urlsafe_b64encode(der).decode().rstrip("=")) == der


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("not base64 at all!", "not base64"),
        (base64.b64encode(b"hello world").decode(), "not an ASN.1 DER ECDSA"),
        ("QQ", "not an ASN.1 DER"),
    ],
)
def test_malformed_signatures(text: str, problem: str) -> None:
    with pytest.raises(MalformedSignature, match=problem):
        decode_signature(text)


def test_binary_is_not_base64() -> None:
    with pytest.raises(MalformedInput, match="binary"):
        decode_base64(b"\xff\xfe", what="signature")


def test_read_signature_file_limits(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        read_signature_file(tmp_path / "missing.sig")
    big = tmp_path / "big.sig"
    big.write_text("A" * 20_000)
    with pytest.raises(MalformedSignature, match="too large"):
        read_signature_file(big)
    binary = tmp_path / "binary.sig"
    binary.write_bytes(b"\x30\x45\xff")
    with pytest.raises(MalformedSignature, match="binary"):
        read_signature_file(binary)
