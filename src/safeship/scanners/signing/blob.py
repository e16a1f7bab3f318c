"""Blob signatures in cosign's ``sign-blob`` format.

A signature is the **base64 (standard alphabet, padded) of the ASN.1 DER ECDSA P-256 signature
over SHA-256 of the artifact's bytes**: what ``cosign sign-blob --key`` prints and what
``cosign verify-blob --key KEY.pub --signature FILE ARTIFACT`` reads. Signature files may end in
a newline; whitespace is ignored when reading.

The artifact is hashed in chunks, then signed as a pre-hashed SHA-256 digest; that is the same
signature as signing the whole message, without holding the artifact in memory.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature

from safeship.errors import NotFound
from safeship.scanners.signing.errors import SigningInputError

SIGNATURE_SUFFIX = ".sig"
"""``ARTIFACT.sig`` is where a signature is written, and looked for, by default."""

MAX_SIGNATURE_FILE_BYTES = 16 * 1024
"""A base64 P-256 signature is under 100 characters; larger files are not signatures."""

_CHUNK = 1024 * 1024
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_URLSAFE_B64 = re.compile(r"[A-Za-z0-9_-]*={0,2}")


class MalformedInput(ValueError):
    """Text that should be base64 (of a signature, or of a DSSE payload) and is not."""


class MalformedSignature(MalformedInput):
    """Signature text that is not base64 of a DER ECDSA signature."""


def artifact_digest(path: Path) -> bytes:
    """SHA-256 of the file at ``path``, read in chunks."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
    except FileNotFoundError:
        raise NotFound(f"artifact {path} does not exist") from None
    except IsADirectoryError:
        raise SigningInputError(f"artifact {path} is a directory; sign a file") from None
    except OSError as exc:
        raise SigningInputError(f"cannot read artifact {path}: {exc.strerror or exc}") from exc
    return digest.digest()


def is_sha256_hex(text: str) -> bool:
    """True for 64 lowercase hex digits."""
    return _SHA256_HEX.fullmatch(text) is not None


def sign_digest(digest: bytes, key: ec.EllipticCurvePrivateKey) -> bytes:
    """The DER ECDSA signature of a SHA-256 ``digest``."""
    return key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))


def verify_digest(digest: bytes, signature_der: bytes, key: ec.EllipticCurvePublicKey) -> bool:
    """True when ``signature_der`` is ``key``'s signature of the SHA-256 ``digest``."""
    try:
        key.verify(signature_der, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    except InvalidSignature:
        return False
    return True


def encode_signature(signature_der: bytes) -> str:
    """The cosign text form of a DER signature: standard base64, no newline."""
    return base64.b64encode(signature_der).decode("ascii")


def decode_signature(text: str | bytes) -> bytes:
    """The DER bytes of cosign-style signature text; :class:`MalformedSignature` if it is not.

    Accepts standard or URL-safe base64, with or without padding and surrounding whitespace.
    The result is checked to be an ASN.1 DER ECDSA signature (SEQUENCE of two INTEGERs).
    """
    try:
        raw = decode_base64(text, what="signature")
    except MalformedInput as exc:
        raise MalformedSignature(str(exc)) from None
    try:
        decode_dss_signature(raw)
    except ValueError:
        raise MalformedSignature(
            "the signature decodes from base64 but is not an ASN.1 DER ECDSA signature"
        ) from None
    return raw


def decode_base64(text: str | bytes, *, what: str) -> bytes:
    """Bytes of base64 text (standard or URL-safe alphabet, padding optional).

    Raises :class:`MalformedInput` (a ``ValueError``) for empty or non-base64 text.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError:
            raise MalformedInput(f"the {what} is not base64 text (it holds binary data)") from None
    compact = "".join(text.split())
    if not compact:
        raise MalformedInput(f"the {what} is empty")
    if not _URLSAFE_B64.fullmatch(compact.replace("+", "-").replace("/", "_")):
        raise MalformedInput(f"the {what} is not base64 text")
    standard = compact.replace("-", "+").replace("_", "/").rstrip("=")
    standard += "=" * (-len(standard) % 4)
    try:
        decoded = base64.b64decode(standard, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedInput(f"the {what} is not valid base64") from None
    if not decoded:
        raise MalformedInput(f"the {what} is empty")
    return decoded


def read_signature_file(path: Path) -> str:
    """The text of a signature file; :class:`NotFound` when it does not exist."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise NotFound(f"signature file {path} does not exist") from None
    except OSError as exc:
        raise SigningInputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if size > MAX_SIGNATURE_FILE_BYTES:
        raise MalformedSignature(
            f"{path} is {size} bytes long: too large to be a base64 ECDSA signature"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningInputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        raise MalformedSignature(
            f"{path} is not base64 text (it holds binary data; cosign writes base64)"
        ) from None


def sign_artifact(path: Path, key: ec.EllipticCurvePrivateKey) -> str:
    """The cosign ``sign-blob`` signature of the file at ``path``, as base64 text."""
    return encode_signature(sign_digest(artifact_digest(path), key))
