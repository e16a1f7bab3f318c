"""Errors of the signing engine: bad keys, missing passphrases and unreadable inputs.

They derive from :class:`safeship.errors.UsageError` (exit code 2): each one means the input a
person gave (a key file, a passphrase, a signature file) cannot be used as it is. A signature
that does not verify is *not* an error: it is a failed :class:`VerificationResult`.

Messages name files and key fingerprints, never key material or the passphrase.
"""

from __future__ import annotations

from safeship.errors import UsageError


class SigningInputError(UsageError):
    """A key, passphrase or file given to the signing engine cannot be used."""


class PassphraseMissing(SigningInputError):
    """An encrypted private key must be opened, and no passphrase is in the environment."""


class KeyFileInvalid(SigningInputError):
    """A key file is not a PEM key of the supported kind (ECDSA P-256), or cannot be decrypted."""
