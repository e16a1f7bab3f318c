"""Structural checks some built-in rules add after the regex matched.

A regex can only say a string has the right shape; these look inside it. A JWT whose header
does not decode to JSON with an ``alg`` is not a JWT; a "private key" whose body is ``...`` is
documentation. Each validator takes the extracted secret and the whole match, and says whether
the secret is plausible. Rules name them by key (``validator = "jwt"``), so rule sets stay
plain data.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable

from safeship.scanners.secrets.placeholders import is_placeholder

_B64_BODY = re.compile(r"[A-Za-z0-9+/=\s]+")
_WEAK_WORDS = frozenset({"password", "pass", "secret", "pwd", "passwd", "token"})
_DEFAULT_PASSWORDS = frozenset({
    "password", "pass", "passwd", "pwd", "secret", "postgres", "root", "admin", "guest", "test",
    "user", "mysql", "redis", "mongo", "example", "default",
})
_URL_USER = re.compile(r"://([^:/@\s]*):")
_PEM_BODY = re.compile(r"-----BEGIN[^-]*-----(.*?)-----END", re.DOTALL)


def _b64url_json(part: str) -> object:
    padded = part + "=" * (-len(part) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))


def valid_jwt(secret: str, match: str = "") -> bool:
    """A JWT (or JWS/JWE compact form) whose header is JSON naming an algorithm."""
    parts = secret.split(".")
    if len(parts) < 3:
        return False
    try:
        header = _b64url_json(parts[0])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    return isinstance(header, dict) and ("alg" in header or "enc" in header)


def valid_private_key(secret: str, match: str = "") -> bool:
    """A PEM/OpenSSH/PGP private key block with a real base64 body (not ``...`` or a stub)."""
    block = _PEM_BODY.search(secret)
    body = block.group(1) if block else secret
    # Encrypted PEM keys carry "Proc-Type:"/"DEK-Info:" headers; PGP armour has "Version:".
    lines = [line.strip() for line in body.splitlines()
             if line.strip() and ":" not in line]
    payload = "".join(lines)
    if len(payload) < 64 or not _B64_BODY.fullmatch(payload):
        return False
    return len(set(payload)) >= 16


def valid_base64_key(secret: str, match: str = "") -> bool:
    """A base64 value that decodes (Azure storage and similar account keys)."""
    try:
        return len(base64.b64decode(secret, validate=True)) >= 16
    except (ValueError, binascii.Error):
        return False


def valid_basic_auth(secret: str, match: str = "") -> bool:
    """A base64 ``user:password`` pair, as in ``Authorization: Basic ...``."""
    try:
        decoded = base64.b64decode(secret + "=" * (-len(secret) % 4), validate=True)
        text = decoded.decode("utf-8")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    user, sep, password = text.partition(":")
    if not (sep and user and len(password) >= 4):
        return False
    return not is_placeholder(password) and password.lower() not in _WEAK_WORDS


def valid_url_password(secret: str, match: str = "") -> bool:
    """A URL password that is neither the user name again nor a well-known default.

    ``postgres://postgres:postgres@localhost`` and ``amqp://guest:guest@...`` are the documented
    defaults of local containers, not secrets.
    """
    user = _URL_USER.search(match)
    if user is not None and user.group(1) == secret:
        return False
    return secret.lower() not in _DEFAULT_PASSWORDS and not is_placeholder(secret)


VALIDATORS: dict[str, Callable[[str, str], bool]] = {
    "jwt": valid_jwt,
    "private_key": valid_private_key,
    "base64_key": valid_base64_key,
    "basic_auth": valid_basic_auth,
    "url_password": valid_url_password,
}
