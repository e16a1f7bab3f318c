"""Evidence of a repository that meets every criterion, to knock single facts out of in tests."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from safeship.assess.evidence import (
    CanaryFacts,
    CiFile,
    ConfiguredGate,
    Evidence,
    FileFact,
    FileState,
    GatesFacts,
    HistoryFacts,
    ServiceFacts,
    VersionControl,
)
from safeship.model.enums import FailAction, RiskLevel

SERVICE = ".pipeline/service.yaml"
GATES = ".pipeline/gates.yaml"
CANARY = ".pipeline/canary-analysis.yaml"
CI = ".github/workflows/ci.yml"

#: Every gate the critical risk level makes mandatory, with its default action.
ALL_GATES = (
    ConfiguredGate("pre_commit", "lint", "lint", FailAction.BLOCK),
    ConfiguredGate("pre_commit", "secret_scan", "secret_scan", FailAction.BLOCK),
    ConfiguredGate("build", "compile", "compile", FailAction.FAIL),
    ConfiguredGate("build", "sbom", "sbom", FailAction.LOG),
    ConfiguredGate("unit_test", "coverage", "coverage", FailAction.FAIL),
    ConfiguredGate("integration", "api_contract", "api_contract", FailAction.FAIL),
    ConfiguredGate("integration", "db_migration", "db_migration", FailAction.REQUIRE_APPROVAL),
    ConfiguredGate("security_sast", "cve_check", "cve_check", FailAction.FAIL),
    ConfiguredGate("security_dast", "dast", "dast", FailAction.FAIL_CANARY),
    ConfiguredGate("artifact", "signature", "signature", FailAction.BLOCK_DEPLOY),
    ConfiguredGate("pre_deploy_slo", "pre_deploy_slo", "slo_check", FailAction.BLOCK_DEPLOY),
)


def service(**changes: Any) -> ServiceFacts:
    """A level-4 service file at critical risk."""
    base = ServiceFacts(SERVICE, True, "shop", RiskLevel.CRITICAL, True, target="local",
                        router="embedded", metrics="prometheus", strategy="canary",
                        strategy_explicit=True, slos=("availability",))
    return replace(base, **changes)


def history(**changes: Any) -> HistoryFacts:
    """Five finished releases, all zero-touch: four promoted, one rolled back by the judge."""
    base = HistoryFacts(True, "sqlite:///state.db", "5 release(s) of 'shop' in the store",
                        "shop", window=50, releases=5, finished=5, promotions=4,
                        zero_touch_promotions=4, automatic_rollbacks=1, analysis_rollbacks=1,
                        zero_touch=5, rollback_seconds=(0.4,))
    return replace(base, **changes)


def evidence(**changes: Any) -> Evidence:
    """Evidence meeting every criterion of every level; keyword arguments replace parts."""
    base = Evidence(
        root="shop",
        service=service(),
        gates=GatesFacts(GATES, True, ALL_GATES),
        canary=CanaryFacts(CANARY, True, "shop-canary", steps=4, total_duration_s=25 * 3600,
                           metrics_with_threshold=("error_rate", "latency_p95"),
                           judge="sequential", rollback_on_failure=True),
        vcs=VersionControl("/src/shop", tuple(
            FileFact(path, FileState.COMMITTED) for path in (SERVICE, GATES, CANARY, CI))),
        ci=(CiFile(CI, True, f"{CI}:12 runs `safeship gates run`"),),
        deploy_scripts=(),
        history=history(),
    )
    return replace(base, **changes)


def gates_without(*types: str) -> GatesFacts:
    """The full gate set minus every gate of ``types``."""
    return GatesFacts(GATES, True, tuple(g for g in ALL_GATES if g.type not in types))


def with_states(**states: FileState) -> VersionControl:
    """The sample's files committed, except those named (by key: service, gates, canary, ci)."""
    paths = {"service": SERVICE, "gates": GATES, "canary": CANARY, "ci": CI}
    return VersionControl("/src/shop", tuple(
        FileFact(path, states.get(key, FileState.COMMITTED)) for key, path in paths.items()))
