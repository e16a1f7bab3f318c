"""How a secret is shown: at most its first four characters, and a fingerprint.

No finding ever holds the secret itself. The scanner turns each secret into these two values at
the moment it is found, so nothing downstream (terminal, JSON, SARIF, logs, the store, a
baseline) can print what it never received.

The fingerprint identifies a finding across runs for baselines and SARIF: a PBKDF2-SHA256 of the
secret salted with the rule id and file path, cut to 64 bits. The iterations make guessing weak
passwords from a published report slower; the salt keeps two files' identical secrets apart.
"""

from __future__ import annotations

import hashlib

_SHOWN = 4
_MASK = "****"
_ITERATIONS = 2000
_FINGERPRINT_BYTES = 8


def redact(secret: str) -> str:
    """The first characters of ``secret`` (at most 4, and at most a quarter of it) and a mask.

    A short secret shows fewer characters, so a redacted 8-character password gives away two.
    """
    shown = min(_SHOWN, len(secret) // 4)
    return secret[:shown] + _MASK


def fingerprint(rule_id: str, path: str, secret: str) -> str:
    """A stable 16-hex-digit identity of ``secret`` found by ``rule_id`` in ``path``."""
    salt = f"safeship-secret/v1\x00{rule_id}\x00{path}".encode("utf-8", "surrogatepass")
    digest = hashlib.pbkdf2_hmac(
        "sha256", secret.encode("utf-8", "surrogatepass"), salt, _ITERATIONS
    )
    return digest[:_FINGERPRINT_BYTES].hex()
