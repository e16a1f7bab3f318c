"""The ``signature`` gate: the artifact is signed by trusted CI, or it is not deployed.

The guide's "Artifact Signature: signed by trusted CI, block deployment". Options::

    - type: signature
      artifact: dist/shop-1.4.2.tar.gz       # the file that will be deployed
      signature: dist/shop-1.4.2.tar.gz.sig  # default: ARTIFACT.sig (cosign sign-blob format)
      trusted_keys: [keys/ci.pub]            # PEM public keys (cosign.pub works as is)
      provenance: dist/shop.intoto.json      # optional DSSE envelope with SLSA v1 provenance
      required_builder: https://ci.example.com/builders/release   # implies provenance

Relative paths are relative to the project root. The check is
:func:`safeship.scanners.signing.verify_artifact`, the same call the rollout controller makes
before it deploys.

It fails closed. An unsigned artifact (no signature file), a malformed signature, a signature
no trusted key verifies (tampered artifact, or an untrusted signer), missing or untrusted
provenance, a subject digest that is not the artifact's, or another builder: the gate FAILS with
one finding per problem. A missing artifact, an unreadable or wrong kind of key, or a signature
or provenance file named but absent: the gate cannot run, and the engine records ERROR.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator

from safeship.errors import GateCannotRun, SafeshipError
from safeship.gates.interface import Gate, GateContext, GateOptions
from safeship.model.enums import FailAction
from safeship.model.results import Finding, GateCheck
from safeship.scanners.signing import TrustPolicy, verify_artifact


class SignatureOptions(GateOptions):
    """Options of ``type: signature``."""

    artifact: str = Field(description="Path of the artifact to verify (relative to the project).")
    signature: str | None = Field(
        default=None,
        description="Path of its signature: base64 DER ECDSA, as `cosign sign-blob` writes. "
        "Default: the artifact's path plus '.sig'.",
    )
    trusted_keys: tuple[str, ...] = Field(
        min_length=1,
        description="PEM public keys (ECDSA P-256) whose signatures are trusted, e.g. the CI "
        "signer's cosign.pub.",
    )
    provenance: str | None = Field(
        default=None,
        description="A DSSE envelope with in-toto SLSA v1 provenance for the artifact, signed by "
        "a trusted key.",
    )
    required_builder: str | None = Field(
        default=None,
        description="The builder id the provenance must name (runDetails.builder.id); setting "
        "it makes provenance required.",
    )

    @field_validator("artifact", "signature", "provenance", "required_builder")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be empty")
        return value.strip() if value is not None else None

    @field_validator("trusted_keys")
    @classmethod
    def _keys_not_blank(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not entry.strip() for entry in value):
            raise ValueError("a trusted key path must not be empty")
        return tuple(entry.strip() for entry in value)


class SignatureGate(Gate[SignatureOptions]):
    """Verifies the artifact's signature and provenance against the trust policy."""

    type_name: ClassVar[str] = "signature"
    default_action: ClassVar[FailAction] = FailAction.BLOCK_DEPLOY
    checks: ClassVar[str] = "artifact signed by trusted CI (cosign-compatible), SLSA provenance"
    options_model: ClassVar[type[GateOptions]] = SignatureOptions

    def evaluate(self, ctx: GateContext) -> GateCheck:
        """Verify the artifact; see the module docstring."""
        options = self.options
        artifact = ctx.resolve(options.artifact)
        shown = ctx.relative(artifact)
        try:
            policy = TrustPolicy.from_key_files(
                [ctx.resolve(path) for path in options.trusted_keys],
                required_builder=options.required_builder,
            )
            result = verify_artifact(
                artifact,
                policy,
                signature=ctx.resolve(options.signature) if options.signature else None,
                provenance=ctx.resolve(options.provenance) if options.provenance else None,
            )
        except SafeshipError as exc:
            raise GateCannotRun(
                f"cannot verify {shown}: {exc.message}",
                hint=exc.hint or "check the paths under the signature gate in gates.yaml",
            ) from exc
        metrics: dict[str, object] = {"sha256": result.sha256}
        if result.signer_key_id is not None:
            metrics["signer_key_id"] = result.signer_key_id
        if result.provenance is not None:
            metrics["builder_id"] = result.provenance.builder_id
            if result.provenance.commit:
                metrics["source_commit"] = result.provenance.commit
        if result.ok:
            return GateCheck.passed(_relative_text(ctx, result.summary()), **metrics)
        findings = tuple(
            Finding(
                f"signature.{check.failure.value if check.failure else 'failed'}",
                _relative_text(ctx, check.message),
                path=shown,
            )
            for check in result.failures
        )
        count = len(findings)
        summary = f"{shown} must not be deployed: {findings[0].message}" + (
            f" (and {count - 1} more problem(s))" if count > 1 else ""
        )
        return GateCheck.failed(summary, findings, **metrics)


def _relative_text(ctx: GateContext, text: str) -> str:
    """``text`` with the project root taken off the paths it mentions (shorter, same meaning)."""
    for root in {str(ctx.project_root), str(ctx.project_root.resolve())}:
        text = text.replace(root.rstrip("/") + "/", "")
    return text
