"""Key generation, storage and loading: encrypted at rest, passphrase from the environment."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from safeship.errors import NotFound, UsageError
from safeship.scanners.signing import (
    PASSPHRASE_ENV,
    KeyFileInvalid,
    PassphraseMissing,
    SigningInputError,
    key_id,
    load_private_key_file,
    load_public_key_file,
    write_key_pair,
)
from safeship.scanners.signing.keys import (
    load_private_key,
    load_public_key,
    passphrase_from_env,
    short_id,
)

from .conftest import FAST_KDF, PASSPHRASE, KeyPair

ENV = {PASSPHRASE_ENV: PASSPHRASE}


def test_generate_writes_encrypted_pkcs8_and_spki_pem(tmp_path: Path) -> None:
    generated = write_key_pair(tmp_path / "ci", PASSPHRASE.encode())
    assert generated.private_path == tmp_path / "ci.key"
    assert generated.public_path == tmp_path / "ci.pub"
    private = generated.private_path.read_bytes()
    public = generated.public_path.read_bytes()
    assert private.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    assert public.startswith(b"-----BEGIN PUBLIC KEY-----\n")
    assert PASSPHRASE.encode() not in private
    # Without the passphrase the key cannot be read at all.
    with pytest.raises(TypeError):
        serialization.load_pem_private_key(private, password=None)
    key = serialization.load_pem_private_key(private, password=PASSPHRASE.encode())
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert isinstance(key.curve, ec.SECP256R1)
    assert generated.key_id == key_id(key.public_key())
    # PBES2 with PBKDF2-HMAC-SHA256 at 600,000 rounds (INTEGER 0x0927C0) and AES-256-CBC.
    der = base64.b64decode("".join(private.decode().strip().splitlines()[1:-1]))
    assert bytes.fromhex("02030927c0") in der
    assert bytes.fromhex("06092a864886f70d01050d") in der  # PBES2
    assert bytes.fromhex("060960864801650304012a") in der  # aes256-CBC


def test_private_key_file_is_owner_only(tmp_path: Path) -> None:
    generated = write_key_pair(tmp_path / "ci", PASSPHRASE.encode(), kdf_iterations=FAST_KDF)
    assert stat.S_IMODE(generated.private_path.stat().st_mode) == 0o600


def test_force_rewrites_and_keeps_owner_only_mode(tmp_path: Path) -> None:
    first = write_key_pair(tmp_path / "ci", PASSPHRASE.encode(), kdf_iterations=FAST_KDF)
    first.private_path.chmod(0o644)
    second = write_key_pair(tmp_path / "ci", PASSPHRASE.encode(), force=True,
                            kdf_iterations=FAST_KDF)
    assert second.key_id != first.key_id
    assert stat.S_IMODE(second.private_path.stat().st_mode) == 0o600


def test_existing_files_are_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "ci.pub").write_text("keep me")
    with pytest.raises(SigningInputError, match="already exists"):
        write_key_pair(tmp_path / "ci", PASSPHRASE.encode(), kdf_iterations=FAST_KDF)
    assert (tmp_path / "ci.pub").read_text() == "keep me"
    assert not (tmp_path / "ci.key").exists()


def test_generate_needs_a_passphrase(tmp_path: Path) -> None:
    with pytest.raises(PassphraseMissing, match=PASSPHRASE_ENV) as caught:
        write_key_pair(tmp_path / "ci", None)
    assert caught.value.exit_code == 2
    with pytest.raises(SigningInputError, match="shorter than"):
        write_key_pair(tmp_path / "ci", b"short")
    assert not list(tmp_path.iterdir())


def test_passphrase_comes_from_the_environment() -> None:
    assert passphrase_from_env({PASSPHRASE_ENV: "abc"}) == b"abc"
    assert passphrase_from_env({PASSPHRASE_ENV: ""}) is None
    assert passphrase_from_env({}) is None


def test_load_private_key_round_trip(ci_key: KeyPair) -> None:
    key = load_private_key_file(ci_key.private_path, ENV)
    assert key_id(key.public_key()) == ci_key.key_id


def test_encrypted_key_without_passphrase_is_a_clear_error(ci_key: KeyPair) -> None:
    with pytest.raises(PassphraseMissing) as caught:
        load_private_key_file(ci_key.private_path, {})
    message = "\n".join(caught.value.diagnostics())
    assert "is encrypted" in message
    assert PASSPHRASE_ENV in message
    assert isinstance(caught.value, UsageError)


def test_wrong_passphrase_is_a_clear_error_without_the_passphrase(ci_key: KeyPair) -> None:
    with pytest.raises(KeyFileInvalid, match="wrong passphrase") as caught:
        load_private_key_file(ci_key.private_path, {PASSPHRASE_ENV: "not the passphrase"})
    assert "not the passphrase" not in "\n".join(caught.value.diagnostics())
    assert caught.value.__cause__ is None


def test_unencrypted_private_keys_are_refused() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    with pytest.raises(KeyFileInvalid, match="unencrypted"):
        load_private_key(pem, b"whatever", "plain.key")


def test_cosign_format_private_keys_are_explained() -> None:
    pem = b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nabc\n-----END ENCRYPTED SIGSTORE..."
    with pytest.raises(KeyFileInvalid, match="cosign private key"):
        load_private_key(pem, b"whatever", "cosign.key")


def test_other_curves_and_key_types_are_refused() -> None:
    p384 = ec.generate_private_key(ec.SECP384R1())
    encrypted = p384.private_bytes(serialization.Encoding.PEM,
                                   serialization.PrivateFormat.PKCS8,
                                   serialization.BestAvailableEncryption(b"passphrase!"))
    with pytest.raises(KeyFileInvalid, match="P-256"):
        load_private_key(encrypted, b"passphrase!", "p384.key")
    edwards = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(KeyFileInvalid, match="not an ECDSA P-256 public key"):
        load_public_key(edwards, "ed.pub")


def test_public_key_loading(ci_key: KeyPair, tmp_path: Path) -> None:
    public = load_public_key_file(ci_key.public_path)
    assert key_id(public) == ci_key.key_id
    with pytest.raises(KeyFileInvalid, match="private key where a public key"):
        load_public_key_file(ci_key.private_path)
    garbage = tmp_path / "garbage.pub"
    garbage.write_text("not a key")
    with pytest.raises(KeyFileInvalid, match="not a PEM public key"):
        load_public_key_file(garbage)
    with pytest.raises(NotFound):
        load_public_key_file(tmp_path / "missing.pub")
    huge = tmp_path / "huge.pub"
    huge.write_bytes(b"x" * 100_000)
    with pytest.raises(KeyFileInvalid, match="too large"):
        load_public_key_file(huge)


def test_key_id_is_sha256_of_der_spki(ci_key: KeyPair) -> None:
    import hashlib

    der = ci_key.key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert ci_key.key_id == hashlib.sha256(der).hexdigest()
    assert short_id(ci_key.key_id) == ci_key.key_id[:16]
