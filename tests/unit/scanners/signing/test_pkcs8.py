"""The PBES2 PKCS#8 writer: standard DER that other readers decrypt."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from safeship.scanners.signing.pkcs8 import _integer, _length, _oid, encrypt_pkcs8


def test_der_primitives() -> None:
    assert _length(5) == b"\x05"
    assert _length(0x80) == b"\x81\x80"
    assert _length(300) == b"\x82\x01\x2c"
    assert _integer(0) == b"\x02\x01\x00"
    assert _integer(128) == b"\x02\x02\x00\x80"  # a leading zero keeps it positive
    assert _integer(600_000) == bytes.fromhex("02030927c0")
    assert _oid("1.2.840.113549.1.5.13") == bytes.fromhex("06092a864886f70d01050d")
    assert _oid("2.16.840.1.101.3.4.1.42") == bytes.fromhex("060960864801650304012a")


@pytest.mark.parametrize("iterations", [1, 1000, 70_000])
def test_round_trip_through_cryptography(iterations: int) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = encrypt_pkcs8(key, b"a passphrase", iterations)
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    assert pem.endswith(b"-----END ENCRYPTED PRIVATE KEY-----\n")
    assert all(len(line) <= 64 for line in pem.splitlines())
    loaded = serialization.load_pem_private_key(pem, b"a passphrase")
    assert isinstance(loaded, ec.EllipticCurvePrivateKey)
    assert loaded.private_numbers() == key.private_numbers()
    with pytest.raises(ValueError, match=r"(?i)password|decrypt"):
        serialization.load_pem_private_key(pem, b"another passphrase")


def test_salt_and_iv_are_fresh() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    assert encrypt_pkcs8(key, b"pw", 10) != encrypt_pkcs8(key, b"pw", 10)


def test_iterations_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        encrypt_pkcs8(ec.generate_private_key(ec.SECP256R1()), b"pw", 0)
