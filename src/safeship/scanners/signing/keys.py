"""ECDSA P-256 key pairs: generate them, store them, load them, and name them.

Formats (the ones cosign reads and writes for managed keys):

* private key: PKCS#8 PEM, **always encrypted** (``-----BEGIN ENCRYPTED PRIVATE KEY-----``,
  PBES2 with 600,000 rounds of PBKDF2-HMAC-SHA256 and AES-256-CBC; see :mod:`.pkcs8`). The
  passphrase comes from the environment variable :data:`PASSPHRASE_ENV`, never from the
  command line;
* public key: PEM SubjectPublicKeyInfo (``-----BEGIN PUBLIC KEY-----``), exactly what
  ``cosign verify-blob --key`` reads, and what ``cosign generate-key-pair`` writes as
  ``cosign.pub``.

A key is named by its *key id*: the lowercase hex SHA-256 of its DER SubjectPublicKeyInfo. The id
is public; it is safe to print, log and store.

Nothing here ever returns a private key as text except :func:`encrypted_private_pem`, whose output
is ciphertext meant for a file with mode 0600.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from safeship.errors import NotFound
from safeship.scanners.signing.errors import KeyFileInvalid, PassphraseMissing, SigningInputError
from safeship.scanners.signing.pkcs8 import KDF_ITERATIONS, encrypt_pkcs8

PASSPHRASE_ENV = "SAFESHIP_KEY_PASSPHRASE"  # noqa: S105  (a variable name, not a secret)
"""The environment variable that holds the passphrase of encrypted private keys."""

MIN_PASSPHRASE_CHARS = 8
"""New keys need a passphrase at least this long."""

PRIVATE_KEY_SUFFIX = ".key"
PUBLIC_KEY_SUFFIX = ".pub"
MAX_KEY_FILE_BYTES = 64 * 1024
"""Key files are a few hundred bytes; anything this large is not a key."""

_COSIGN_PRIVATE_MARKER = b"ENCRYPTED SIGSTORE PRIVATE KEY"
_ENCRYPTED_PKCS8_MARKER = b"-----BEGIN ENCRYPTED PRIVATE KEY-----"
_PLAIN_PRIVATE_MARKERS = (b"-----BEGIN PRIVATE KEY-----", b"-----BEGIN EC PRIVATE KEY-----")


def key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    """The key's public name: lowercase hex SHA-256 of its DER SubjectPublicKeyInfo."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def short_id(identifier: str) -> str:
    """The first 16 hex digits of a key id, as people read it."""
    return identifier[:16]


def passphrase_from_env(env: Mapping[str, str] | None = None) -> bytes | None:
    """The passphrase in :data:`PASSPHRASE_ENV`, or None when it is unset or empty."""
    source = os.environ if env is None else env
    value = source.get(PASSPHRASE_ENV, "")
    return value.encode("utf-8") if value else None


def generate_private_key() -> ec.EllipticCurvePrivateKey:
    """A fresh ECDSA P-256 private key."""
    return ec.generate_private_key(ec.SECP256R1())


def encrypted_private_pem(key: ec.EllipticCurvePrivateKey, passphrase: bytes,
                          iterations: int = KDF_ITERATIONS) -> bytes:
    """``key`` as encrypted PKCS#8 PEM (PBES2, :data:`KDF_ITERATIONS` PBKDF2 rounds);
    refuses an empty or short passphrase."""
    _check_new_passphrase(passphrase)
    return encrypt_pkcs8(key, passphrase, iterations)


def public_pem(key: ec.EllipticCurvePublicKey) -> bytes:
    """``key`` as PEM SubjectPublicKeyInfo, the format of ``cosign.pub``."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public_key(pem: bytes, source: str) -> ec.EllipticCurvePublicKey:
    """An ECDSA P-256 public key from PEM SubjectPublicKeyInfo; ``source`` names it in errors."""
    if b"PRIVATE KEY" in pem:
        raise KeyFileInvalid(
            f"{source} holds a private key where a public key was expected",
            hint="give the .pub file; private keys stay with the signer",
        )
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise KeyFileInvalid(
            f"{source} is not a PEM public key (-----BEGIN PUBLIC KEY-----)",
            hint="use the .pub file written by `safeship keys generate` or "
            "`cosign generate-key-pair`",
        ) from exc
    return _require_p256_public(key, source)


def load_private_key(
    pem: bytes, passphrase: bytes | None, source: str
) -> ec.EllipticCurvePrivateKey:
    """An ECDSA P-256 private key from encrypted PKCS#8 PEM.

    Raises :class:`PassphraseMissing` when ``passphrase`` is None, and :class:`KeyFileInvalid`
    for an unencrypted key (keys are encrypted at rest), a cosign-format key, a wrong passphrase
    or a key of another kind.
    """
    if _COSIGN_PRIVATE_MARKER in pem:
        raise KeyFileInvalid(
            f"{source} is a cosign private key (scrypt + secretbox), which safeship cannot open",
            hint="sign with cosign itself (its signatures verify here), or make a safeship key "
            "with `safeship keys generate`",
        )
    if any(marker in pem for marker in _PLAIN_PRIVATE_MARKERS):
        raise KeyFileInvalid(
            f"{source} is an unencrypted private key; safeship keeps private keys encrypted "
            "at rest",
            hint="encrypt it, e.g. `openssl pkcs8 -topk8 -v2 aes-256-cbc -in KEY -out KEY.enc`",
        )
    if _ENCRYPTED_PKCS8_MARKER not in pem:
        raise KeyFileInvalid(
            f"{source} is not an encrypted PKCS#8 PEM private key "
            "(-----BEGIN ENCRYPTED PRIVATE KEY-----)",
            hint="use the .key file written by `safeship keys generate`",
        )
    if passphrase is None:
        raise PassphraseMissing(
            f"{source} is encrypted and {PASSPHRASE_ENV} is not set",
            hint=f"export {PASSPHRASE_ENV} with the key's passphrase (never pass it as an "
            "argument: it would show in the process list and shell history)",
        )
    try:
        key = serialization.load_pem_private_key(pem, password=passphrase)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # The library's own message adds nothing a person can act on; ours names the fix.
        raise KeyFileInvalid(
            f"cannot decrypt {source}: wrong passphrase in {PASSPHRASE_ENV}, or a damaged file",
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(
        key.curve, ec.SECP256R1
    ):
        raise KeyFileInvalid(
            f"{source} is not an ECDSA P-256 key; safeship signs with P-256 only (as cosign "
            "does by default)"
        )
    return key


def read_key_file(path: Path) -> bytes:
    """The bytes of a key file, refusing missing, oversized and unreadable files."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise NotFound(f"key file {path} does not exist") from None
    except OSError as exc:
        raise SigningInputError(f"cannot read key file {path}: {exc.strerror or exc}") from exc
    if not path.is_file():
        raise SigningInputError(f"key file {path} is not a regular file")
    if size > MAX_KEY_FILE_BYTES:
        raise KeyFileInvalid(f"{path} is {size} bytes long: too large to be a key file")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SigningInputError(f"cannot read key file {path}: {exc.strerror or exc}") from exc


def load_public_key_file(path: Path) -> ec.EllipticCurvePublicKey:
    """The P-256 public key in the PEM file at ``path``."""
    return load_public_key(read_key_file(path), str(path))


def load_private_key_file(
    path: Path, env: Mapping[str, str] | None = None
) -> ec.EllipticCurvePrivateKey:
    """The P-256 private key in the encrypted PEM file at ``path``; passphrase from the env."""
    return load_private_key(read_key_file(path), passphrase_from_env(env), str(path))


@dataclass(frozen=True)
class GeneratedKeys:
    """Where a new key pair was written, and its public key id."""

    private_path: Path
    public_path: Path
    key_id: str


def write_key_pair(prefix: Path, passphrase: bytes | None, *, force: bool = False,
                   kdf_iterations: int = KDF_ITERATIONS) -> GeneratedKeys:
    """Generate a P-256 key pair into ``PREFIX.key`` (mode 0600) and ``PREFIX.pub``.

    Existing files are kept unless ``force`` is true; both paths are checked before either file
    is written, so a refusal leaves nothing half-written.
    """
    if passphrase is None:
        raise PassphraseMissing(
            f"{PASSPHRASE_ENV} is not set; the new private key must be encrypted",
            hint=f"export {PASSPHRASE_ENV}=... (at least {MIN_PASSPHRASE_CHARS} characters) "
            "and run again",
        )
    _check_new_passphrase(passphrase)
    private_path = prefix.with_name(prefix.name + PRIVATE_KEY_SUFFIX)
    public_path = prefix.with_name(prefix.name + PUBLIC_KEY_SUFFIX)
    if not force:
        for path in (private_path, public_path):
            if path.exists():
                raise SigningInputError(
                    f"{path} already exists", hint="choose another --output-prefix, or --force"
                )
    key = generate_private_key()
    private_bytes = encrypted_private_pem(key, passphrase, kdf_iterations)
    public_bytes = public_pem(key.public_key())
    try:
        private_path.parent.mkdir(parents=True, exist_ok=True)
        _write_private(private_path, private_bytes, exclusive=not force)
        public_path.write_bytes(public_bytes)
    except OSError as exc:
        raise SigningInputError(
            f"cannot write the key pair next to {prefix}: {exc.strerror or exc}"
        ) from exc
    return GeneratedKeys(private_path, public_path, key_id(key.public_key()))


def _write_private(path: Path, data: bytes, *, exclusive: bool) -> None:
    # Create with 0600 from the start: a later chmod would leave a window with looser rights.
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    if exclusive:
        flags |= os.O_EXCL
    descriptor = os.open(path, flags, 0o600)
    try:
        os.fchmod(descriptor, 0o600)  # an existing file (--force) keeps its old mode otherwise
        os.write(descriptor, data)
    finally:
        os.close(descriptor)


def _check_new_passphrase(passphrase: bytes) -> None:
    if len(passphrase.decode("utf-8", errors="replace")) < MIN_PASSPHRASE_CHARS:
        raise SigningInputError(
            f"the passphrase in {PASSPHRASE_ENV} is shorter than {MIN_PASSPHRASE_CHARS} "
            "characters",
            hint="choose a longer passphrase; it protects the private key at rest",
        )


def _require_p256_public(key: object, source: str) -> ec.EllipticCurvePublicKey:
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        kind = type(key).__name__.lstrip("_")
        raise KeyFileInvalid(
            f"{source} is not an ECDSA P-256 public key ({kind}); safeship verifies P-256 "
            "signatures only (cosign's default key type)"
        )
    return key
