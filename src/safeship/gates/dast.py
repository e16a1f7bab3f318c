"""The ``dast`` gate: an OWASP-Top-10 baseline scan of the running canary.

The guide's "Security (DAST): runtime vulns, OWASP Top 10, fail canary". Options::

    - type: dast
      target: http://127.0.0.1:8080/        # the router's (or the canary's) URL
      headers:                              # sent with every request: reach only the canary
        X-Safeship-Version: canary
      openapi: api/openapi.yaml             # optional: also scan the spec's GET paths
      rules: .pipeline/dast-rules.tsv       # optional: ZAP-style "<id>\tFAIL|WARN|INFO|IGNORE"
      max_pages: 50
      max_seconds: 60
      active: true                          # the safe GET probes (XSS, SQL error, redirect)

The scan runs before traffic shifts, through the router's header route, so only the canary
sees it. The engine is :func:`safeship.scanners.dast.run_scan`; see there for every rule.

It fails closed. A FAIL-level rule that alerts FAILS the gate (WARN and INFO alerts are
reported as warnings and notes on a passing gate), and so does a scan whose probes could not
all run within ``max_seconds``. An unreachable target, a bad rules file or OpenAPI document:
the gate cannot run, and the engine records ERROR. Header values are never reported.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, ClassVar

from pydantic import Field, field_validator

from safeship.errors import GateCannotRun, SafeshipError
from safeship.gates.interface import Gate, GateContext, GateOptions
from safeship.model.enums import FailAction, Verdict
from safeship.model.results import GateCheck
from safeship.scanners.dast import (
    Level,
    ScanConfig,
    check_target,
    load_rules_file,
    run_scan,
    scan_findings,
)
from safeship.scanners.dast.urls import display_url


class DastOptions(GateOptions):
    """Options of ``type: dast``."""

    target: str = Field(description="The http:// or https:// URL the scan starts from.")
    openapi: str | None = Field(
        default=None, description="An OpenAPI document (JSON/YAML) whose GET paths are scanned "
        "too (relative to the project)."
    )
    rules: str | None = Field(
        default=None, description="A rules file: ZAP-style '<id>\\t<FAIL|WARN|INFO|IGNORE>' "
        "lines, or YAML 'rules: {id: LEVEL}'."
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="Headers sent with every request, e.g. "
        "'X-Safeship-Version: canary' to reach only the canary."
    )
    max_pages: int = Field(default=50, ge=1, le=1000, description="Most pages to crawl.")
    max_seconds: float = Field(default=60.0, gt=0, le=3600,
                               description="Most seconds the whole scan may take.")
    active: bool = Field(default=True, description="Send the safe active probes (GET only).")
    request_timeout: float = Field(default=10.0, gt=0, le=120,
                                   description="Seconds each request may take.")
    assume_https: bool = Field(
        default=False, description="Judge HSTS and Secure cookies as on HTTPS (for a plain "
        "HTTP target behind a TLS-terminating proxy)."
    )

    @field_validator("target")
    @classmethod
    def _scannable(cls, value: str) -> str:
        try:
            return check_target(value)
        except SafeshipError as exc:
            raise ValueError(exc.message) from None

    @field_validator("headers")
    @classmethod
    def _header_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not name.strip() or any(c in name for c in " :\r\n") or any(
                    c in text for c in "\r\n"):
                raise ValueError(f"invalid header {name!r}")
        return value


class DastGate(Gate[DastOptions]):
    """Crawls the target, applies the passive rules and the safe probes, judges by level."""

    type_name: ClassVar[str] = "dast"
    default_action: ClassVar[FailAction] = FailAction.FAIL_CANARY
    checks: ClassVar[str] = "OWASP Top 10 baseline scan of the running canary (ZAP-style rules)"
    options_model: ClassVar[type[GateOptions]] = DastOptions

    def evaluate(self, ctx: GateContext) -> GateCheck:
        """Scan and judge; see the module docstring."""
        options = self.options
        try:
            rules = load_rules_file(ctx.resolve(options.rules)) if options.rules else None
            config = ScanConfig(
                target=options.target,
                headers=options.headers,
                openapi=ctx.resolve(options.openapi) if options.openapi else None,
                levels=rules.levels if rules else {},
                max_pages=options.max_pages,
                max_seconds=options.max_seconds,
                request_timeout_s=options.request_timeout,
                active=options.active,
                assume_https=options.assume_https,
            )
            report = run_scan(config, ctx.http)
        except SafeshipError as exc:
            raise GateCannotRun(
                f"the DAST scan of {display_url(options.target)} could not run: {exc.message}",
                hint=exc.hint,
            ) from exc
        counts = report.counts()
        metrics: dict[str, Any] = {
            "pages_scanned": len(report.pages),
            "requests": report.requests,
            "fail_rules": counts["FAIL"],
            "warn_rules": counts["WARN"],
            "info_rules": counts["INFO"],
        }
        findings = scan_findings(report)
        scanned = f"{len(report.pages)} page(s) of {report.target}"
        if report.failed:
            failing = [r.rule.id for r in report.at_level(Level.FAIL)]
            reason = (f"{len(failing)} FAIL rule(s) alerted ({', '.join(failing)})" if failing
                      else "the scan did not finish")
            return GateCheck(Verdict.FAILED, f"{reason} on {scanned}", findings,
                             MappingProxyType(metrics))
        warned = f"; {counts['WARN']} WARN rule(s) alerted" if counts["WARN"] else ""
        return GateCheck(Verdict.PASSED, f"no FAIL rule alerted on {scanned}{warned}", findings,
                         MappingProxyType(metrics))
