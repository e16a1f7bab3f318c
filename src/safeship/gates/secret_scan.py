"""The ``secret_scan`` gate: no passwords, keys or tokens in the code (the guide's pre-commit
"Secret scan").

It scans the project's files with safeship's secret scanner (the default rules, about 460
provider and generic rules), plus the guide's ``pattern:`` as one more rule, plus a team's
gitleaks-style TOML rules from ``config:``. Findings of the ``baseline:`` file are accepted.
Any remaining finding fails the gate, with the file, line and column of each secret and the
secret shown only redacted (first characters and a fingerprint): the secret itself never
reaches the report, the logs or the store.

Files that were not scanned (binary, larger than ``max_file_bytes``, a symlink leaving the
project) are listed as ``note`` findings, so nobody mistakes "not scanned" for "clean". It
fails closed: a rule file or baseline that does not load, a path that does not exist or lies
outside the project, or a project with no file to scan makes the gate raise, and the engine
records ERROR.
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import Annotated, ClassVar

from pydantic import Field, StrictInt, field_validator

from safeship.errors import ConfigError, GateCannotRun, NotFound, UsageError
from safeship.gates.interface import Gate, GateContext, GateOptions
from safeship.model.enums import FailAction, Severity, Verdict
from safeship.model.results import Finding, GateCheck
from safeship.scanners.secrets import (
    DEFAULT_MAX_FILE_BYTES,
    ScanOptions,
    ScanReport,
    load_baseline,
    load_ruleset,
    scan_paths,
)
from safeship.scanners.secrets.ruleset import pattern_rule

SKIPPED_RULE = "secret-scan/not-scanned"
_MAX_FINDINGS = 1000
_MAX_SKIPPED = 100


class SecretScanOptions(GateOptions):
    """Options of ``type: secret_scan``."""

    pattern: str | None = Field(
        default=None,
        description=(
            "One more rule, as a regular expression (RE2 or Python syntax), e.g. the guide's "
            "'(?i)(password|secret|key).*=.+'. The value after '=' or ':' is the candidate "
            "secret; placeholders, code and low-entropy values are ignored."
        ),
    )
    config: str | None = Field(
        default=None,
        description=(
            "A gitleaks-style TOML rule file, relative to the project root. Without "
            "`[extend] useDefault = true` it replaces the default rules, as in gitleaks."
        ),
    )
    baseline: str | None = Field(
        default=None,
        description="Accepted findings (written by `safeship secrets baseline`).",
    )
    paths: list[str] = Field(
        default_factory=lambda: ["."], min_length=1,
        description="Files or directories to scan, relative to the project root.",
    )
    exclude: list[str] = Field(
        default_factory=list,
        description="Glob patterns not to scan, e.g. ['tests/fixtures/**', '*.min.js'].",
    )
    max_file_bytes: Annotated[StrictInt, Field(ge=1)] = Field(
        default=DEFAULT_MAX_FILE_BYTES,
        description="Larger files are not scanned (and are listed as not scanned).",
    )

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.strip():
            raise ValueError("pattern must not be empty")
        pattern_rule(value)  # raises ValueError with the regex problem
        return value

    @field_validator("paths", "exclude")
    @classmethod
    def _no_blank_entries(cls, value: list[str]) -> list[str]:
        if any(not entry.strip() for entry in value):
            raise ValueError("entries must not be empty")
        return value


class SecretScanGate(Gate[SecretScanOptions]):
    """Scans the project for secrets; any finding outside the baseline fails the gate."""

    type_name: ClassVar[str] = "secret_scan"
    default_action: ClassVar[FailAction] = FailAction.BLOCK
    checks: ClassVar[str] = "no passwords, keys or tokens in the code"
    options_model: ClassVar[type[GateOptions]] = SecretScanOptions

    def evaluate(self, ctx: GateContext) -> GateCheck:
        """Scan; see the module docstring."""
        options = self.options
        root = ctx.project_root
        try:
            ruleset = load_ruleset(
                ctx.resolve(options.config) if options.config else None, options.pattern)
            accepted = load_baseline(ctx.resolve(options.baseline)) if options.baseline else (
                frozenset())
            report = scan_paths(
                root, ruleset,
                ScanOptions(max_file_bytes=options.max_file_bytes,
                            exclude=tuple(options.exclude)),
                targets=[Path(p) for p in options.paths])
        except (ConfigError, NotFound, UsageError) as exc:
            raise GateCannotRun("; ".join(exc.diagnostics()),
                                hint="fix the secret_scan gate's options in gates.yaml") from exc
        if report.files == 0 and not report.findings:
            raise GateCannotRun(
                f"no file to scan under {', '.join(options.paths)} in {root}",
                hint="point `paths:` at the project's files, or check `exclude:`")
        return _judge(report.without(accepted), report)


def _judge(report: ScanReport, unfiltered: ScanReport) -> GateCheck:
    findings = [
        Finding(
            rule=f.rule_id,
            message=f"{f.description}: {f.redacted} (fingerprint {f.fingerprint})"
            if f.redacted else f"{f.description} (fingerprint {f.fingerprint})",
            severity=Severity.ERROR,
            path=f.file,
            line=f.line or None,
            column=f.column or None,
        )
        for f in report.findings
    ]
    notes = [
        Finding(SKIPPED_RULE, f"not scanned: {entry.reason}", Severity.NOTE, entry.file)
        for entry in report.skipped[:_MAX_SKIPPED]
    ]
    count = len(findings)
    baselined = report.suppressed.get("baseline", 0)
    files = f"{report.files} file{'s' if report.files != 1 else ''}"
    extras = []
    if report.skipped:
        extras.append(f"{len(report.skipped)} not scanned")
    if baselined:
        extras.append(f"{baselined} accepted by the baseline")
    tail = f" ({'; '.join(extras)})" if extras else ""
    metrics = MappingProxyType({
        "findings": count, "files": report.files, "bytes": report.bytes,
        "skipped": len(report.skipped), "baselined": baselined,
        "allowlisted": unfiltered.suppressed.get("allowlist", 0)
        + unfiltered.suppressed.get("inline", 0),
        "rules": report.rules,
    })
    if count:
        shown = findings[:_MAX_FINDINGS]
        note = f", first {_MAX_FINDINGS} shown" if count > _MAX_FINDINGS else ""
        return GateCheck(
            Verdict.FAILED,
            f"found {count} secret{'s' if count != 1 else ''} in {files}{tail}{note}",
            tuple(shown + notes), metrics)
    return GateCheck(Verdict.PASSED, f"no secrets in {files}{tail}", tuple(notes), metrics)
