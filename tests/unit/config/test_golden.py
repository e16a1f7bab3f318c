"""The guide's two templates load exactly as they stand, and our copies match the originals."""

from __future__ import annotations

from pathlib import Path

import pytest

from safeship.api import load_gates, validate_file
from safeship.config.canary_file import load_canary_file
from safeship.config.kinds import FileKind
from safeship.model.enums import FailAction

SHARED = Path(__file__).resolve().parents[4] / "shared" / "examples"


@pytest.mark.parametrize("name", ["gates.yaml", "canary-analysis.yaml"])
def test_golden_copies_are_byte_identical(name: str) -> None:
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is not present on this machine")
    ours = Path(__file__).resolve().parents[2] / "data" / "guide" / name
    assert ours.read_bytes() == (SHARED / name).read_bytes()


def test_guide_gates_file_loads_with_its_quirks(guide_gates: Path) -> None:
    spec = load_gates(guide_gates)
    assert spec.stage_names() == ["pre_commit", "build", "unit_test", "security_sast",
                                  "pre_deploy_slo"]
    by_stage = {s.name: s for s in spec.stages}
    # The stage pre_deploy_slo is itself a gate.
    slo = by_stage["pre_deploy_slo"]
    assert slo.inline
    assert [g.type for g in slo.gates] == ["api_call"]
    assert slo.gates[0].gate_id == "pre_deploy_slo"
    options = slo.gates[0].options
    assert options.condition == "budget_remaining > 0.05"  # type: ignore[attr-defined]
    assert options.endpoint == "http://monitoring.internal/slo/serviceX/budget"  # type: ignore[attr-defined]
    # minimum: 80% is a string meaning 0.8.
    coverage = by_stage["unit_test"].gates[0]
    assert coverage.options.minimum == pytest.approx(0.8)  # type: ignore[attr-defined]
    # tool: (any linter) means the project's linter.
    lint = by_stage["pre_commit"].gates[0]
    assert lint.type == "lint"
    assert lint.on_fail is None
    assert spec.gate_types() == {"lint", "secret_scan", "compile", "sbom", "coverage",
                                 "cve_check", "api_call"}


def test_guide_canary_file_loads_with_its_quirks(guide_canary: Path) -> None:
    spec = load_canary_file(guide_canary)
    assert spec.name == "service-x-canary"
    assert [(s.percentage, s.duration_s) for s in spec.steps] == [
        (1, 300), (5, 300), (25, 600), (100, 1800)]
    metrics = {m.name: m for m in spec.metrics}
    assert not metrics["error_rate"].is_derived
    assert not metrics["latency_p95"].is_derived
    # The burn rate is an expression over error_rate, not PromQL.
    assert metrics["slo_burn_rate"].derived_from == ("error_rate",)
    assert metrics["error_rate"].threshold.max_increase_ratio == 2.0
    assert metrics["latency_p95"].threshold.max_absolute_ms == 500
    assert metrics["slo_burn_rate"].threshold.max_absolute == 3
    assert spec.rollback_on_failure is True
    assert spec.failure_count_threshold == 1
    assert spec.total_duration_s == 3000


def test_kinds_are_detected(guide_gates: Path, guide_canary: Path) -> None:
    assert validate_file(guide_gates).kind is FileKind.GATES
    assert validate_file(guide_canary).kind is FileKind.CANARY


# The guide's section 2.1 "Fail Action" column, by gate type.
GUIDE_ACTIONS = {
    "lint": FailAction.BLOCK, "secret_scan": FailAction.BLOCK, "compile": FailAction.FAIL,
    "sbom": FailAction.LOG, "coverage": FailAction.FAIL, "api_contract": FailAction.FAIL,
    "db_migration": FailAction.REQUIRE_APPROVAL, "cve_check": FailAction.FAIL,
    "dast": FailAction.FAIL_CANARY, "signature": FailAction.BLOCK_DEPLOY,
    "api_call": FailAction.BLOCK_DEPLOY,
}


def test_every_gate_type_keeps_the_guides_fail_action() -> None:
    from safeship.registry import gate_catalogue

    actions = {name: action for name, action, _, _ in gate_catalogue()}
    for gate_type, action in GUIDE_ACTIONS.items():
        assert actions[gate_type] is action, gate_type
