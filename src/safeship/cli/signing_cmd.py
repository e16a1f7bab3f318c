"""``safeship keys generate``, ``safeship sign`` and ``safeship verify`` (cosign-compatible).

* ``keys generate`` writes ``PREFIX.key`` (encrypted PKCS#8 PEM, mode 0600) and ``PREFIX.pub``
  (PEM SubjectPublicKeyInfo). The passphrase comes from ``SAFESHIP_KEY_PASSPHRASE`` (or a
  hidden prompt on a terminal), never from an argument.
* ``sign ARTIFACT --key KEY`` writes ``ARTIFACT.sig`` (base64 DER ECDSA over SHA-256, what
  ``cosign verify-blob --key`` reads), and with ``--provenance FILE`` a DSSE envelope holding
  SLSA v1 provenance for the artifact.
* ``verify ARTIFACT --key PUB`` checks the signature (and provenance) against the given trusted
  keys.

Exit codes: 0 signed / verified, 1 verification failed, 2 bad input (missing file, bad key,
missing passphrase), 3 a dependency unavailable. Nothing printed contains key material or
the passphrase.
"""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from safeship.cli.output import emit, stderr_console, stdout_console
from safeship.errors import ExitCode, UsageError
from safeship.scanners.signing import (
    PASSPHRASE_ENV,
    SIGNATURE_SUFFIX,
    BuildFacts,
    Material,
    TrustPolicy,
    VerificationResult,
    attest_provenance,
    key_id,
    load_private_key_file,
    material_of,
    sign_artifact,
    subject_of,
    verify_artifact,
    write_key_pair,
)
from safeship.scanners.signing.keys import passphrase_from_env, short_id
from safeship.scanners.signing.report import render_verification_json, render_verification_sarif

keys_app = typer.Typer(help="Manage signing keys (ECDSA P-256, cosign-compatible).",
                       no_args_is_help=True)

_MATERIAL_DIGEST = re.compile(r"^(?P<uri>.+)=sha256:(?P<hex>[0-9a-fA-F]{64})$")


class VerifyFormat(StrEnum):
    """Output formats of ``verify``."""

    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"


def _new_passphrase() -> bytes | None:
    passphrase = passphrase_from_env()
    if passphrase is None and sys.stdin.isatty():
        typed = typer.prompt("passphrase for the new private key", hide_input=True,
                             confirmation_prompt=True, default="", show_default=False)
        passphrase = typed.encode("utf-8") if typed else None
    return passphrase


@keys_app.command("generate")
def generate_command(
    output_prefix: Annotated[Path, typer.Option(
        "--output-prefix", "-o", help="write PREFIX.key and PREFIX.pub", dir_okay=False)]
    = Path("safeship"),
    force: Annotated[bool, typer.Option("--force", help="overwrite existing key files")] = False,
) -> None:
    """Generate an ECDSA P-256 key pair; the private key is encrypted with the passphrase
    in SAFESHIP_KEY_PASSPHRASE."""
    generated = write_key_pair(output_prefix, _new_passphrase(), force=force)
    console = stdout_console()
    console.print(f"private key: {generated.private_path} (encrypted, mode 0600; keep it secret)",
                  markup=False)
    console.print(f"public key:  {generated.public_path} (give it to verifiers; cosign reads "
                  "it as is)", markup=False)
    console.print(f"key id:      {generated.key_id}", markup=False)


def sign_command(
    artifact: Annotated[Path, typer.Argument(help="the file to sign", dir_okay=False)],
    key: Annotated[Path, typer.Option("--key", "-k", help="encrypted private key (PEM); its "
                                      f"passphrase comes from ${PASSPHRASE_ENV}",
                                      dir_okay=False)],
    output_signature: Annotated[str | None, typer.Option(
        "--output-signature", help="where to write the signature ('-' for stdout; default: "
        "ARTIFACT.sig)")] = None,
    provenance: Annotated[Path | None, typer.Option(
        "--provenance", help="also write signed SLSA v1 provenance (a DSSE envelope) here",
        dir_okay=False)] = None,
    builder_id: Annotated[str | None, typer.Option(
        "--builder-id", help="provenance: the builder's id (e.g. your CI's URL)")] = None,
    source_repo: Annotated[str | None, typer.Option(
        "--source-repo", help="provenance: the source repository URI")] = None,
    commit: Annotated[str | None, typer.Option(
        "--commit", help="provenance: the source commit id")] = None,
    build_command: Annotated[str | None, typer.Option(
        "--build-command", help="provenance: the command that built the artifact")] = None,
    material: Annotated[list[str] | None, typer.Option(
        "--material", help="provenance: a build input, as a file PATH (hashed) or "
        "URI=sha256:HEX (repeatable)")] = None,
    invocation_id: Annotated[str | None, typer.Option(
        "--invocation-id", help="provenance: the CI run's id or URL")] = None,
) -> None:
    """Sign ARTIFACT like `cosign sign-blob --key`, and optionally write signed provenance."""
    facts = _build_facts(provenance, builder_id, source_repo, commit, build_command,
                         material or [], invocation_id)
    private_key = load_private_key_file(key)
    signature = sign_artifact(artifact, private_key)
    subject = subject_of(artifact)
    identifier = short_id(key_id(private_key.public_key()))
    console = stdout_console()
    if output_signature == "-":
        emit(signature, None)
    else:
        target = Path(output_signature) if output_signature else artifact.with_name(
            artifact.name + SIGNATURE_SUFFIX)
        emit(signature, target)
        console.print(f"signed {artifact} (sha256:{subject.sha256}) with key {identifier}; "
                      f"signature: {target}", markup=False)
    if provenance is not None and facts is not None:
        envelope = attest_provenance([subject], facts, private_key)
        emit(envelope.dumps(), provenance)
        stderr_console().print(f"provenance: {provenance} (builder {facts.builder_id})",
                               markup=False)


def _build_facts(provenance: Path | None, builder_id: str | None, source_repo: str | None,
                 commit: str | None, build_command: str | None, materials: list[str],
                 invocation_id: str | None) -> BuildFacts | None:
    given = {"--builder-id": builder_id, "--source-repo": source_repo, "--commit": commit,
             "--build-command": build_command}
    if provenance is None:
        extra = [name for name, value in given.items() if value] + (
            ["--material"] if materials else [])
        if extra:
            raise UsageError(f"{', '.join(extra)} describe provenance; add --provenance FILE")
        return None
    values = {name: (value or "").strip() for name, value in given.items()}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise UsageError(f"--provenance needs {', '.join(missing)}")
    return BuildFacts(
        builder_id=values["--builder-id"],
        source_repo=values["--source-repo"],
        commit=values["--commit"],
        build_command=values["--build-command"],
        materials=tuple(_material(entry) for entry in materials),
        invocation_id=invocation_id,
        finished_on=datetime.now(UTC),
    )


def _material(entry: str) -> Material:
    match = _MATERIAL_DIGEST.match(entry)
    if match:
        return Material(match["uri"], {"sha256": match["hex"].lower()})
    path = Path(entry)
    if not path.is_file():
        raise UsageError(f"--material {entry}: not a file, and not URI=sha256:HEX")
    return material_of(path)


def verify_command(
    artifact: Annotated[Path, typer.Argument(help="the file to verify", dir_okay=False)],
    key: Annotated[list[Path], typer.Option(
        "--key", "-k", help="a trusted PEM public key (repeatable); cosign.pub works as is",
        dir_okay=False)],
    signature: Annotated[Path | None, typer.Option(
        "--signature", help="the signature file (default: ARTIFACT.sig)", dir_okay=False)]
    = None,
    provenance: Annotated[Path | None, typer.Option(
        "--provenance", help="a DSSE envelope with SLSA v1 provenance to check too",
        dir_okay=False)] = None,
    required_builder: Annotated[str | None, typer.Option(
        "--required-builder", help="the builder id the provenance must name (makes provenance "
        "required)")] = None,
    fmt: Annotated[VerifyFormat, typer.Option("--format", "-f", help="output format",
                                              case_sensitive=False)] = VerifyFormat.TEXT,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="write the report here instead of stdout", dir_okay=False)]
    = None,
) -> None:
    """Verify ARTIFACT's signature (and provenance) against trusted keys.

    Exit codes: 0 verified, 1 not verified (unsigned, tampered, untrusted, wrong builder),
    2 bad input.
    """
    policy = TrustPolicy.from_key_files(key, required_builder=required_builder)
    result = verify_artifact(artifact, policy, signature=signature, provenance=provenance)
    if fmt is VerifyFormat.JSON:
        emit(render_verification_json(result), output)
    elif fmt is VerifyFormat.SARIF:
        emit(render_verification_sarif(result), output)
    else:
        emit(_text(result), output)
    raise typer.Exit(ExitCode.OK if result.ok else ExitCode.BLOCKED)


def _text(result: VerificationResult) -> str:
    head = "VERIFIED" if result.ok else "NOT VERIFIED"
    lines = [f"{head}: {result.artifact} (sha256:{result.sha256})"]
    for check in result.checks:
        mark = "ok  " if check.ok else "FAIL"
        lines.append(f"  {mark} {check.name.value}: {check.message}")
    facts = result.provenance
    if facts is not None:
        lines.append(f"  builder: {facts.builder_id}")
        if facts.source_repo or facts.commit:
            lines.append(f"  source:  {facts.source_repo or '?'} @ {facts.commit or '?'}")
        if facts.build_command:
            lines.append(f"  command: {facts.build_command}")
    return "\n".join(lines) + "\n"

