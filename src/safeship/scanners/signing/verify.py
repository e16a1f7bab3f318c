"""``verify_artifact``: may this artifact be deployed? Signature, provenance and trust policy.

The rollout controller calls :func:`verify_artifact` before it deploys; the ``signature`` gate
and ``safeship verify`` call it too. It returns a :class:`VerificationResult` whose ``ok`` is
true only when every check passed, and there is at least the signature check:

1. **signature**: the cosign-style blob signature (``ARTIFACT.sig`` by default) verifies
   against one of the policy's trusted keys. A missing file means *unsigned*; text that is not
   base64 DER ECDSA is *malformed*; a signature no trusted key verifies means the artifact was
   changed after signing, or was signed by a key that is not trusted.
2. **provenance** (when given, and required when the policy names a builder): a DSSE envelope
   with an in-toto payload, signed by a trusted key, holding a SLSA v1 provenance statement
   whose subject digest equals the artifact's SHA-256, and whose builder is the required one.

Every failed check carries a :class:`Failure` code and a sentence a person can act on. Inputs
that cannot be used at all (a missing artifact, an unreadable key, a provenance file named but
absent) raise a :class:`safeship.errors.SafeshipError` instead; callers treat that as an error,
which never deploys either.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from safeship.errors import NotFound
from safeship.scanners.signing.blob import (
    SIGNATURE_SUFFIX,
    MalformedInput,
    artifact_digest,
    decode_signature,
    read_signature_file,
    verify_digest,
)
from safeship.scanners.signing.dsse import (
    IN_TOTO_PAYLOAD_TYPE,
    MalformedEnvelope,
    parse_envelope_text,
    verify_envelope,
)
from safeship.scanners.signing.errors import SigningInputError
from safeship.scanners.signing.keys import short_id
from safeship.scanners.signing.policy import TrustedKey, TrustPolicy, builder_matches, describe_keys
from safeship.scanners.signing.provenance import MalformedStatement, Provenance, parse_statement

MAX_PROVENANCE_BYTES = 16 * 1024 * 1024
"""Provenance larger than this is refused (a statement is a few kilobytes)."""


class Failure(StrEnum):
    """Why a verification check failed; stable codes for reports and finding rule ids."""

    UNSIGNED = "unsigned"
    MALFORMED_SIGNATURE = "malformed_signature"
    BAD_SIGNATURE = "bad_signature"
    NO_TRUSTED_KEYS = "no_trusted_keys"
    PROVENANCE_MISSING = "provenance_missing"
    PROVENANCE_MALFORMED = "provenance_malformed"
    PROVENANCE_UNTRUSTED = "provenance_untrusted"
    SUBJECT_MISMATCH = "subject_mismatch"
    BUILDER_MISMATCH = "builder_mismatch"


class CheckName(StrEnum):
    """The checks :func:`verify_artifact` makes, in order."""

    SIGNATURE = "signature"
    PROVENANCE_SIGNATURE = "provenance_signature"
    PROVENANCE_SUBJECT = "provenance_subject"
    BUILDER = "builder"


@dataclass(frozen=True)
class Check:
    """One check: passed or not, why, and the failure code when it failed."""

    name: CheckName
    ok: bool
    message: str
    failure: Failure | None = None


@dataclass(frozen=True)
class VerificationResult:
    """The answer of :func:`verify_artifact`."""

    artifact: str
    sha256: str
    checks: tuple[Check, ...]
    signer: str | None = None
    """The trusted key that verified the signature, as ``label (key <id>)``."""
    signer_key_id: str | None = None
    provenance: Provenance | None = None
    """The provenance facts, only when the envelope verified against a trusted key."""

    @property
    def ok(self) -> bool:
        """True when the artifact may be deployed: a good signature and no failed check."""
        signed = any(c.name is CheckName.SIGNATURE and c.ok for c in self.checks)
        return signed and all(check.ok for check in self.checks)

    @property
    def failures(self) -> tuple[Check, ...]:
        """The checks that failed, in order."""
        return tuple(check for check in self.checks if not check.ok)

    def reasons(self) -> tuple[str, ...]:
        """The failure sentences, in order (empty when the artifact verified)."""
        return tuple(check.message for check in self.failures)

    def summary(self) -> str:
        """One line: verified by whom, or the first reason it did not verify."""
        if self.ok:
            built = (
                f", built by {self.provenance.builder_id}" if self.provenance is not None else ""
            )
            return f"{self.artifact} is signed by trusted {self.signer}{built}"
        failures = self.failures
        first = failures[0].message if failures else "no signature was checked"
        more = f" (and {len(failures) - 1} more problem(s))" if len(failures) > 1 else ""
        return f"{self.artifact} did not verify: {first}{more}"


def verify_artifact(
    artifact: Path,
    policy: TrustPolicy,
    *,
    signature: Path | None = None,
    provenance: Path | None = None,
) -> VerificationResult:
    """Verify ``artifact`` against ``policy``; see the module docstring for the checks.

    ``signature`` defaults to ``ARTIFACT.sig``; when that default file does not exist the
    artifact is *unsigned* (a failed check). A signature or provenance path given explicitly
    that does not exist raises :class:`safeship.errors.NotFound`.
    """
    digest = artifact_digest(artifact)
    sha256 = digest.hex()
    checks: list[Check] = []
    if not policy.trusted_keys:
        checks.append(Check(CheckName.SIGNATURE, False, "the trust policy names no trusted key; "
                            "nothing can be verified", Failure.NO_TRUSTED_KEYS))
        return VerificationResult(str(artifact), sha256, tuple(checks))

    signature_path = signature or artifact.with_name(artifact.name + SIGNATURE_SUFFIX)
    signature_check, signer = _check_signature(
        digest, signature_path, explicit=signature is not None, policy=policy
    )
    checks.append(signature_check)

    facts: Provenance | None = None
    if provenance is not None:
        provenance_checks, facts = _check_provenance(provenance, sha256, policy)
        checks += provenance_checks
    elif policy.needs_provenance:
        why = (
            f"the policy requires builder {policy.required_builder!r}"
            if policy.required_builder else "the policy requires provenance"
        )
        checks.append(Check(CheckName.PROVENANCE_SIGNATURE, False,
                            f"no provenance was given, but {why}", Failure.PROVENANCE_MISSING))
    return VerificationResult(
        artifact=str(artifact),
        sha256=sha256,
        checks=tuple(checks),
        signer=signer.describe() if signer is not None else None,
        signer_key_id=signer.key_id if signer is not None else None,
        provenance=facts,
    )


def _check_signature(
    digest: bytes, path: Path, *, explicit: bool, policy: TrustPolicy
) -> tuple[Check, TrustedKey | None]:
    try:
        text = read_signature_file(path)
    except NotFound:
        if explicit:
            raise
        return Check(CheckName.SIGNATURE, False,
                     f"the artifact is unsigned: no signature file {path}",
                     Failure.UNSIGNED), None
    except MalformedInput as exc:
        return Check(CheckName.SIGNATURE, False, f"malformed signature: {exc}",
                     Failure.MALFORMED_SIGNATURE), None
    try:
        der = decode_signature(text)
    except MalformedInput as exc:
        return Check(CheckName.SIGNATURE, False,
                     f"malformed signature in {path}: {exc} (cosign writes base64 of a DER "
                     "ECDSA signature)", Failure.MALFORMED_SIGNATURE), None
    for trusted in policy.trusted_keys:
        if verify_digest(digest, der, trusted.public_key):
            return Check(CheckName.SIGNATURE, True,
                         f"signature verifies with trusted {trusted.describe()}"), trusted
    return Check(
        CheckName.SIGNATURE, False,
        f"the signature in {path} does not verify against any trusted key "
        f"({describe_keys(policy.trusted_keys)}): the artifact changed after it was signed, "
        "or it was signed with a key that is not trusted",
        Failure.BAD_SIGNATURE,
    ), None


def _check_provenance(
    path: Path, sha256: str, policy: TrustPolicy
) -> tuple[list[Check], Provenance | None]:
    malformed = CheckName.PROVENANCE_SIGNATURE
    try:
        text = _read_provenance(path).decode("utf-8")
    except UnicodeDecodeError:
        return [Check(malformed, False, f"provenance {path} is not UTF-8 JSON",
                      Failure.PROVENANCE_MALFORMED)], None
    try:
        envelope = parse_envelope_text(text)
    except MalformedEnvelope as exc:
        return [Check(malformed, False, f"provenance {path} is not a DSSE envelope: {exc}",
                      Failure.PROVENANCE_MALFORMED)], None
    if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE:
        return [Check(malformed, False,
                      f"provenance {path} has payloadType {envelope.payload_type!r}, expected "
                      f"{IN_TOTO_PAYLOAD_TYPE!r}", Failure.PROVENANCE_MALFORMED)], None
    verdict = verify_envelope(envelope, (k.public_key for k in policy.trusted_keys))
    if verdict.verified_key_id is None:
        untrusted = [h for h in verdict.hinted_key_ids if policy.find(h) is None]
        if untrusted:
            who = f"it names key {short_id(untrusted[0])}, which is not trusted"
        else:
            who = "no signature on it verifies against a trusted key"
        return [Check(CheckName.PROVENANCE_SIGNATURE, False,
                      f"provenance {path} is not signed by a trusted key: {who} (trusted: "
                      f"{describe_keys(policy.trusted_keys)})", Failure.PROVENANCE_UNTRUSTED)], None
    signer = policy.find(verdict.verified_key_id)
    signer_text = signer.describe() if signer is not None else short_id(verdict.verified_key_id)
    checks = [Check(CheckName.PROVENANCE_SIGNATURE, True,
                    f"provenance is signed by trusted {signer_text}")]
    try:
        facts = parse_statement(envelope.payload)
    except MalformedStatement as exc:
        checks.append(Check(CheckName.PROVENANCE_SUBJECT, False,
                            f"provenance {path} is not SLSA v1 provenance: {exc}",
                            Failure.PROVENANCE_MALFORMED))
        return checks, None

    if sha256 in facts.digests():
        checks.append(Check(CheckName.PROVENANCE_SUBJECT, True,
                            f"the provenance names this artifact (sha256:{sha256[:12]}...)"))
    else:
        named = ", ".join(
            f"{s.name or '(unnamed)'} sha256:{s.sha256[:12]}..." for s in facts.subjects[:3]
        )
        checks.append(Check(
            CheckName.PROVENANCE_SUBJECT, False,
            f"the artifact's digest sha256:{sha256[:12]}... is not a subject of the signed "
            f"provenance ({named}): the artifact changed after it was built, or the provenance "
            "is for another artifact", Failure.SUBJECT_MISMATCH))

    required = policy.required_builder
    if required is not None:
        if builder_matches(required, facts.builder_id):
            checks.append(Check(CheckName.BUILDER, True,
                                f"built by the required builder {facts.builder_id}"))
        else:
            checks.append(Check(CheckName.BUILDER, False,
                                f"built by {facts.builder_id!r}, but the policy requires "
                                f"{required!r}", Failure.BUILDER_MISMATCH))
    return checks, facts


def _read_provenance(path: Path) -> bytes:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise NotFound(f"provenance file {path} does not exist") from None
    except OSError as exc:
        raise SigningInputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if size > MAX_PROVENANCE_BYTES:
        raise SigningInputError(f"provenance file {path} is {size} bytes: larger than "
                                f"{MAX_PROVENANCE_BYTES} bytes")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SigningInputError(f"cannot read {path}: {exc.strerror or exc}") from exc
