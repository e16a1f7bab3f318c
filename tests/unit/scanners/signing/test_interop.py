"""Interoperability with cosign's key-based blob format, checked structurally and with OpenSSL.

cosign cannot be installed here, so the facts it relies on are checked directly:

* the public key is PEM SubjectPublicKeyInfo of an id-ecPublicKey on prime256v1 (what
  ``cosign generate-key-pair`` writes as ``cosign.pub`` and ``verify-blob --key`` reads);
* the signature file is one line of standard base64 of a DER ECDSA signature over SHA-256 of
  the artifact bytes (what ``cosign sign-blob`` prints), so plain ``cryptography`` and OpenSSL,
  a second implementation, verify it;
* a signature made by OpenSSL in that format, with a key OpenSSL made, verifies here, which is
  the other direction (cosign's signatures and keys have the same shape).
"""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from safeship.scanners.signing import PASSPHRASE_ENV, TrustPolicy, sign_artifact, verify_artifact
from tests.requirements import require_binary

from .conftest import PASSPHRASE, KeyPair

ID_EC_PUBLIC_KEY = bytes.fromhex("06072a8648ce3d0201")  # OID 1.2.840.10045.2.1
PRIME256V1 = bytes.fromhex("06082a8648ce3d030107")  # OID 1.2.840.10045.3.1.7


def test_public_key_is_spki_for_p256(ci_key: KeyPair) -> None:
    pem = ci_key.public_path.read_text()
    lines = pem.strip().splitlines()
    assert lines[0] == "-----BEGIN PUBLIC KEY-----"
    assert lines[-1] == "-----END PUBLIC KEY-----"
    der = base64.b64decode("".join(lines[1:-1]))
    assert der[:2] == b"\x30\x59"  # SEQUENCE, 89 bytes: the fixed size of a P-256 SPKI
    assert ID_EC_PUBLIC_KEY in der
    assert PRIME256V1 in der
    assert len(der) == 91


def test_plain_cryptography_verifies_the_signature_file(artifact: Path, ci_key: KeyPair) -> None:
    signature_file = artifact.with_name(artifact.name + ".sig")
    signature_file.write_text(sign_artifact(artifact, ci_key.key) + "\n")
    # Exactly what a cosign verifier does, written with nothing from safeship.
    public = serialization.load_pem_public_key(ci_key.public_path.read_bytes())
    assert isinstance(public, ec.EllipticCurvePublicKey)
    der = base64.b64decode(signature_file.read_text().strip(), validate=True)
    public.verify(der, artifact.read_bytes(), ec.ECDSA(hashes.SHA256()))


def test_openssl_verifies_our_signature(artifact: Path, ci_key: KeyPair, tmp_path: Path) -> None:
    openssl = require_binary("openssl", "a second ECDSA implementation checks the format")
    der = tmp_path / "sig.der"
    der.write_bytes(base64.b64decode(sign_artifact(artifact, ci_key.key)))
    done = subprocess.run(
        [openssl, "dgst", "-sha256", "-verify", str(ci_key.public_path), "-signature", str(der),
         str(artifact)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "Verified OK" in done.stdout


def test_openssl_reads_our_encrypted_private_key(ci_key: KeyPair) -> None:
    openssl = require_binary("openssl", "checks the private key is standard encrypted PKCS#8")
    env = {**os.environ, PASSPHRASE_ENV: PASSPHRASE}
    done = subprocess.run(
        [openssl, "pkey", "-in", str(ci_key.private_path), "-passin", f"env:{PASSPHRASE_ENV}",
         "-pubout"], capture_output=True, text=True, check=False, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ci_key.public_path.read_text()


def test_signature_made_elsewhere_verifies_here(artifact: Path, tmp_path: Path) -> None:
    openssl = require_binary("openssl", "makes a key and a signature outside safeship")
    key = tmp_path / "other.pem"
    pub = tmp_path / "other.pub"
    der = tmp_path / "sig.der"
    for command in (
        [openssl, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(key)],
        [openssl, "pkey", "-in", str(key), "-pubout", "-out", str(pub)],
        [openssl, "dgst", "-sha256", "-sign", str(key), "-out", str(der), str(artifact)],
    ):
        subprocess.run(command, check=True, capture_output=True)
    # cosign sign-blob prints base64 of the DER signature; a newline at the end is common.
    artifact.with_name(artifact.name + ".sig").write_text(
        base64.b64encode(der.read_bytes()).decode() + "\n")
    result = verify_artifact(artifact, TrustPolicy.from_key_files([pub]))
    assert result.ok, result.reasons()
    artifact.write_bytes(b"tampered")
    assert not verify_artifact(artifact, TrustPolicy.from_key_files([pub])).ok


def test_signatures_are_randomised_but_all_verify(artifact: Path, ci_key: KeyPair) -> None:
    first, second = sign_artifact(artifact, ci_key.key), sign_artifact(artifact, ci_key.key)
    assert first != second  # ECDSA signatures carry a fresh nonce
    for text in (first, second):
        ci_key.key.public_key().verify(base64.b64decode(text), artifact.read_bytes(),
                                       ec.ECDSA(hashes.SHA256()))


@pytest.fixture(autouse=True)
def _no_passphrase_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
