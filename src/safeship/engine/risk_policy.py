"""The guide's section 2.3: which gates a risk level makes mandatory, and what else it demands.

=========  ==================================================================================
low        compile + unit tests (coverage)
medium     all tests (unit, API contract, DB migration) + security scan (secrets, known CVEs)
high       every gate of the guide + a canary analysis + approval for schema changes
critical   as high + an extended canary (at least 24 h) + a security review (an approval)
=========  ==================================================================================

A mandatory gate missing from ``gates.yaml`` is itself a blocking failure whose message says what
to add. On a mandatory gate, ``on_fail:`` may make the action stricter, never weaker.
"""

from __future__ import annotations

from dataclasses import dataclass

from safeship.model.enums import FailAction, RiskLevel

EXTENDED_CANARY_S = 24 * 3600.0


@dataclass(frozen=True)
class Requirement:
    """A mandatory gate: satisfied by any of ``any_of`` types; ``stage`` hints where to add it."""

    name: str
    any_of: tuple[str, ...]
    stage: str

    def advice(self) -> str:
        """What to add to gates.yaml."""
        return f"add `- type: {self.any_of[0]}` to the `{self.stage}` stage of gates.yaml"


_COMPILE = Requirement("compile", ("compile",), "build")
_UNIT = Requirement("unit tests (coverage)", ("coverage",), "unit_test")
_CONTRACT = Requirement("API contract", ("api_contract",), "integration")
_MIGRATION = Requirement("DB migration rollback", ("db_migration",), "integration")
_SECRETS = Requirement("secret scan", ("secret_scan",), "pre_commit")
_CVES = Requirement("known CVEs", ("cve_check",), "security_sast")
_LINT = Requirement("lint", ("lint",), "pre_commit")
_SBOM = Requirement("SBOM", ("sbom",), "build")
_DAST = Requirement("DAST", ("dast",), "security_dast")
_SIGNATURE = Requirement("artifact signature", ("signature",), "artifact")
_SLO = Requirement("pre-deploy SLO check", ("slo_check", "api_call"), "pre_deploy_slo")

_BY_RISK: dict[RiskLevel, tuple[Requirement, ...]] = {
    RiskLevel.LOW: (_COMPILE, _UNIT),
    RiskLevel.MEDIUM: (_COMPILE, _UNIT, _CONTRACT, _MIGRATION, _SECRETS, _CVES),
    RiskLevel.HIGH: (_LINT, _SECRETS, _COMPILE, _SBOM, _UNIT, _CONTRACT, _MIGRATION, _CVES,
                     _DAST, _SIGNATURE, _SLO),
}
_BY_RISK[RiskLevel.CRITICAL] = _BY_RISK[RiskLevel.HIGH]

# Strictness of fail actions, weakest first: used so on_fail can only tighten a mandatory gate.
_STRICTNESS = (
    FailAction.LOG, FailAction.WARN, FailAction.REQUIRE_APPROVAL, FailAction.FAIL_CANARY,
    FailAction.FAIL, FailAction.BLOCK_DEPLOY, FailAction.BLOCK,
)


def requirements_for(risk: RiskLevel) -> tuple[Requirement, ...]:
    """The mandatory gates at ``risk``."""
    return _BY_RISK[risk]


def mandatory_types(risk: RiskLevel) -> set[str]:
    """Every gate type that counts towards a requirement at ``risk``."""
    return {t for req in requirements_for(risk) for t in req.any_of}


def missing_requirements(risk: RiskLevel, configured: set[str]) -> list[Requirement]:
    """Requirements at ``risk`` that no configured gate type satisfies."""
    return [r for r in requirements_for(risk) if not set(r.any_of) & configured]


def effective_action(gate_type: str, default: FailAction, override: FailAction | None,
                     risk: RiskLevel) -> FailAction:
    """The fail action a gate runs with at ``risk``.

    Schema changes need an approval from high risk up, whatever the file says. A mandatory gate
    keeps at least its default strictness.
    """
    if gate_type == "db_migration" and risk.rank >= RiskLevel.HIGH.rank:
        return FailAction.REQUIRE_APPROVAL
    if override is None:
        return default
    if gate_type in mandatory_types(risk) and _STRICTNESS.index(override) < _STRICTNESS.index(
        default
    ):
        return default
    return override


def needs_canary(risk: RiskLevel) -> bool:
    """High and critical changes must go through canary analysis."""
    return risk.rank >= RiskLevel.HIGH.rank


def needs_extended_canary(risk: RiskLevel) -> bool:
    """Critical changes need a canary of at least 24 hours."""
    return risk is RiskLevel.CRITICAL


def needs_security_review(risk: RiskLevel) -> bool:
    """Critical changes need a human security review, recorded as an approval."""
    return risk is RiskLevel.CRITICAL
