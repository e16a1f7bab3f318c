"""The trust policy: which public keys may sign artifacts, and which builder must have built them.

In ``gates.yaml`` (``type: signature``) the policy is ``trusted_keys:`` (PEM public key files) and
``required_builder:``. A builder requirement means provenance is required too.

Builder ids are compared exactly, with one convenience: a required id without ``@`` also
matches an id that adds ``@<ref>`` to it, so ``.../generator_generic_slsa3.yml`` accepts
``.../generator_generic_slsa3.yml@refs/tags/v2.1.0``. Pin the ref by writing it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from safeship.scanners.signing.errors import SigningInputError
from safeship.scanners.signing.keys import key_id, load_public_key_file, short_id


@dataclass(frozen=True)
class TrustedKey:
    """A public key the policy trusts, with where it came from (for explanations)."""

    label: str
    public_key: ec.EllipticCurvePublicKey

    @property
    def key_id(self) -> str:
        """The key's id (hex SHA-256 of its DER SubjectPublicKeyInfo)."""
        return key_id(self.public_key)

    def describe(self) -> str:
        """``label (key 0123456789abcdef)``."""
        return f"{self.label} (key {short_id(self.key_id)})"


@dataclass(frozen=True)
class TrustPolicy:
    """Trusted signing keys, and the builder whose provenance is required (if any)."""

    trusted_keys: tuple[TrustedKey, ...]
    required_builder: str | None = None
    require_provenance: bool = False

    @property
    def needs_provenance(self) -> bool:
        """True when verification must see signed provenance."""
        return self.require_provenance or self.required_builder is not None

    def find(self, identifier: str) -> TrustedKey | None:
        """The trusted key with this key id, if any."""
        return next((k for k in self.trusted_keys if k.key_id == identifier), None)

    @classmethod
    def from_key_files(
        cls,
        paths: Iterable[Path],
        *,
        required_builder: str | None = None,
        require_provenance: bool = False,
    ) -> TrustPolicy:
        """A policy trusting the PEM public keys in ``paths`` (at least one)."""
        keys = tuple(TrustedKey(path.name, load_public_key_file(path)) for path in paths)
        if not keys:
            raise SigningInputError(
                "the trust policy names no trusted key",
                hint="give the public key of your CI signer (`--key ci.pub`, or "
                "`trusted_keys: [ci.pub]` in gates.yaml)",
            )
        builder = required_builder.strip() if required_builder else None
        return cls(keys, builder or None, require_provenance)


def builder_matches(required: str, actual: str) -> bool:
    """True when ``actual`` is the required builder id (see the module docstring)."""
    if actual == required:
        return True
    return "@" not in required and actual.partition("@")[0] == required


def describe_keys(keys: Sequence[TrustedKey]) -> str:
    """The trusted keys for a sentence: ``a.pub (key ...), b.pub (key ...)``."""
    return ", ".join(key.describe() for key in keys)
