"""Encrypted PKCS#8 (PBES2) with a KDF strong enough for a signing key at rest.

``cryptography``'s ``BestAvailableEncryption`` writes PBES2 with only 2048 PBKDF2 iterations
and offers no way to raise them for PKCS#8. This module writes the same standard structure
(RFC 8018 PBES2: PBKDF2-HMAC-SHA256 + AES-256-CBC, RFC 5958 EncryptedPrivateKeyInfo) with
:data:`KDF_ITERATIONS` iterations. OpenSSL, ``cryptography`` and every PKCS#8 reader decrypt it.
"""

from __future__ import annotations

import base64
import os
import textwrap

from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

KDF_ITERATIONS = 600_000
"""PBKDF2-HMAC-SHA256 iterations for new keys (a current recommendation for SHA-256)."""

_PBES2 = "1.2.840.113549.1.5.13"
_PBKDF2 = "1.2.840.113549.1.5.12"
_HMAC_SHA256 = "1.2.840.113549.2.9"
_AES256_CBC = "2.16.840.1.101.3.4.1.42"


def _length(size: int) -> bytes:
    if size < 0x80:
        return bytes([size])
    raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _length(len(content)) + content


def _sequence(*parts: bytes) -> bytes:
    return _tlv(0x30, b"".join(parts))


def _integer(value: int) -> bytes:
    raw = value.to_bytes(value.bit_length() // 8 + 1, "big")  # leading 0 keeps it positive
    return _tlv(0x02, raw)


def _octets(value: bytes) -> bytes:
    return _tlv(0x04, value)


def _oid(dotted: str) -> bytes:
    numbers = [int(part) for part in dotted.split(".")]
    body = bytes([numbers[0] * 40 + numbers[1]])
    for number in numbers[2:]:
        chunk = [number & 0x7F]
        number >>= 7
        while number:
            chunk.append(0x80 | (number & 0x7F))
            number >>= 7
        body += bytes(reversed(chunk))
    return _tlv(0x06, body)


_NULL = b"\x05\x00"


def encrypt_pkcs8(key: ec.EllipticCurvePrivateKey, passphrase: bytes,
                  iterations: int = KDF_ITERATIONS) -> bytes:
    """``key`` as PEM ``ENCRYPTED PRIVATE KEY`` (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC)."""
    if iterations < 1:
        raise ValueError("iterations must be positive")
    plain = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
    salt = os.urandom(16)
    iv = os.urandom(16)
    secret = PBKDF2HMAC(hashes.SHA256(), 32, salt, iterations).derive(passphrase)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(secret), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    algorithm = _sequence(
        _oid(_PBES2),
        _sequence(
            _sequence(_oid(_PBKDF2), _sequence(_octets(salt), _integer(iterations),
                                               _sequence(_oid(_HMAC_SHA256), _NULL))),
            _sequence(_oid(_AES256_CBC), _octets(iv)),
        ),
    )
    der = _sequence(algorithm, _octets(ciphertext))
    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode("ascii"), 64))
    return (f"-----BEGIN ENCRYPTED PRIVATE KEY-----\n{body}\n"
            "-----END ENCRYPTED PRIVATE KEY-----\n").encode("ascii")
