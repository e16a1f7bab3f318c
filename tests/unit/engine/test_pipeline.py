"""The pipeline engine: order, concurrency, fail actions, fail-closed errors, risk policy."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from safeship.engine.pipeline import (
    POLICY_STAGE,
    PipelineEngine,
    PlannedGate,
    PlannedStage,
    RunFacts,
    apply_action,
    plan_gate,
    run_status,
)
from safeship.errors import GateCannotRun
from safeship.gates.interface import GateContext
from safeship.model.enums import FailAction, Outcome, RiskLevel, RunStatus, Verdict
from safeship.model.results import Finding, GateCheck, GateResult
from safeship.testing.fake_clock import FakeClock
from safeship.testing.scripted_gate import ScriptedGate

PASS = GateCheck.passed("fine")
FAIL = GateCheck.failed("broken", (Finding("R1", "bad thing", path="a.py", line=3),))


def planned(stage: str, gate_id: str, check: GateCheck | None = None, *,
            action: FailAction = FailAction.FAIL, gate_type: str = "compile",
            behaviour: object = None, timeout_s: float = 30.0) -> PlannedGate:
    result = check or PASS
    gate = ScriptedGate(behaviour or (lambda ctx: result))  # type: ignore[arg-type]
    return PlannedGate(stage, gate_id, gate_type, gate, action, timeout_s=timeout_s)


def engine(tmp_path: Path, **kwargs: object) -> PipelineEngine:
    return PipelineEngine(GateContext(project_root=tmp_path), clock=FakeClock(),
                          new_id=lambda: "run-1", **kwargs)  # type: ignore[arg-type]


LOW = RunFacts(service="svc", commit="abc", actor="me", risk=RiskLevel.LOW)
ALL_LOW = {"compile", "coverage"}


def test_stages_run_in_order_and_pass(tmp_path: Path) -> None:
    order: list[str] = []

    def record(name: str) -> object:
        return lambda ctx: (order.append(name), PASS)[1]

    stages = [PlannedStage("a", (planned("a", "g1", behaviour=record("a")),)),
              PlannedStage("b", (planned("b", "g2", behaviour=record("b")),))]
    run = engine(tmp_path).run(stages, LOW, configured_types=ALL_LOW)
    assert order == ["a", "b"]
    assert run.status is RunStatus.PASSED
    assert [s.name for s in run.stages] == ["a", "b"]
    assert run.run_id == "run-1"


def test_gates_of_a_stage_run_concurrently(tmp_path: Path) -> None:
    barrier = threading.Barrier(2, timeout=10)

    def meet(ctx: GateContext) -> GateCheck:
        barrier.wait()  # only returns if the other gate runs at the same time
        return PASS

    stage = PlannedStage("s", (planned("s", "x", behaviour=meet),
                               planned("s", "y", behaviour=meet)))
    run = engine(tmp_path, max_workers=2).run([stage], LOW, configured_types=ALL_LOW)
    assert [g.outcome for g in run.gates] == [Outcome.PASSED, Outcome.PASSED]


def test_a_blocking_stage_stops_later_stages(tmp_path: Path) -> None:
    later = planned("b", "never")
    stages = [PlannedStage("a", (planned("a", "broken", FAIL),)), PlannedStage("b", (later,))]
    run = engine(tmp_path).run(stages, LOW, configured_types=ALL_LOW)
    assert run.status is RunStatus.BLOCKED
    assert run.stages[1].skipped
    assert run.stages[1].gates[0].outcome is Outcome.NOT_RUN
    assert "stage 'a' blocked" in run.stages[1].gates[0].summary
    assert later.gate.calls == 0  # type: ignore[attr-defined]


def test_keep_going_runs_every_stage(tmp_path: Path) -> None:
    later = planned("b", "later")
    stages = [PlannedStage("a", (planned("a", "broken", FAIL),)), PlannedStage("b", (later,))]
    run = engine(tmp_path).run(stages, LOW, keep_going=True, configured_types=ALL_LOW)
    assert run.status is RunStatus.BLOCKED
    assert run.stages[1].gates[0].outcome is Outcome.PASSED
    assert later.gate.calls == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(("action", "outcome"), [
    (FailAction.BLOCK, Outcome.BLOCKED),
    (FailAction.FAIL, Outcome.BLOCKED),
    (FailAction.FAIL_CANARY, Outcome.BLOCKED),
    (FailAction.BLOCK_DEPLOY, Outcome.BLOCKED),
    (FailAction.WARN, Outcome.WARNED),
    (FailAction.LOG, Outcome.LOGGED),
    (FailAction.REQUIRE_APPROVAL, Outcome.PENDING_APPROVAL),
])
def test_fail_actions(action: FailAction, outcome: Outcome) -> None:
    assert apply_action(FAIL, action, None)[0] is outcome


def test_errors_never_pass_whatever_the_action() -> None:
    error = GateCheck(Verdict.ERROR, "could not run")
    for action in FailAction:
        assert apply_action(error, action, None)[0] is Outcome.ERROR


def test_human_decisions() -> None:
    outcome, summary = apply_action(FAIL, FailAction.REQUIRE_APPROVAL, (True, "by ann: ok"))
    assert outcome is Outcome.APPROVED
    assert "approved by ann: ok" in summary
    outcome, _ = apply_action(FAIL, FailAction.REQUIRE_APPROVAL, (False, "by bob: no"))
    assert outcome is Outcome.BLOCKED


def test_cannot_run_is_recorded_as_error_and_stops(tmp_path: Path) -> None:
    def refuse(ctx: GateContext) -> GateCheck:
        raise GateCannotRun("tool missing", hint="install it")

    stages = [PlannedStage("a", (planned("a", "t", behaviour=refuse),)),
              PlannedStage("b", (planned("b", "u"),))]
    run = engine(tmp_path).run(stages, LOW, configured_types=ALL_LOW)
    assert run.status is RunStatus.ERROR
    assert run.gates[0].outcome is Outcome.ERROR
    assert run.gates[0].summary == "tool missing; hint: install it"
    assert run.gates[1].outcome is Outcome.NOT_RUN


def test_a_crashing_gate_is_an_error_not_a_pass(tmp_path: Path) -> None:
    def crash(ctx: GateContext) -> GateCheck:
        raise ZeroDivisionError("boom")

    run = engine(tmp_path).run([PlannedStage("a", (planned("a", "c", behaviour=crash),))],
                               LOW, configured_types=ALL_LOW)
    assert run.gates[0].outcome is Outcome.ERROR
    assert "ZeroDivisionError: boom" in run.gates[0].summary


def test_a_gate_past_its_timeout_is_an_error(tmp_path: Path) -> None:
    release = threading.Event()

    def hang(ctx: GateContext) -> GateCheck:
        release.wait(10)
        return PASS

    try:
        run = engine(tmp_path).run(
            [PlannedStage("a", (planned("a", "slow", behaviour=hang, timeout_s=0.05),))],
            LOW, configured_types=ALL_LOW)
    finally:
        release.set()
    assert run.gates[0].outcome is Outcome.ERROR
    assert "did not finish within 0.05s" in run.gates[0].summary


def test_failure_without_findings_gets_one(tmp_path: Path) -> None:
    bare = GateCheck.failed("no details")
    run = engine(tmp_path).run([PlannedStage("a", (planned("a", "g", bare),))], LOW,
                               configured_types=ALL_LOW)
    assert [f.message for f in run.gates[0].findings] == ["no details"]


def test_approval_lookup_is_used_for_require_approval(tmp_path: Path) -> None:
    asked: list[str] = []

    def lookup(gate_id: str) -> tuple[bool, str] | None:
        asked.append(gate_id)
        return (True, "by ann: reviewed")

    gate = planned("a", "migrations", FAIL, action=FailAction.REQUIRE_APPROVAL)
    run = engine(tmp_path, approvals=lookup).run([PlannedStage("a", (gate,))], LOW,
                                                  configured_types=ALL_LOW)
    assert asked == ["migrations"]
    assert run.gates[0].outcome is Outcome.APPROVED
    assert run.status is RunStatus.PASSED


def test_missing_mandatory_gates_block_with_advice(tmp_path: Path) -> None:
    run = engine(tmp_path).run([PlannedStage("a", (planned("a", "c"),))], LOW,
                               configured_types={"compile"})
    policy = run.stages[-1]
    assert policy.name == POLICY_STAGE
    [missing] = policy.gates
    assert missing.outcome is Outcome.BLOCKED
    assert "requires the unit tests (coverage) gate" in missing.summary
    assert "add `- type: coverage` to the `unit_test` stage" in missing.summary
    assert run.status is RunStatus.BLOCKED


def test_high_risk_needs_a_canary(tmp_path: Path) -> None:
    types = {"lint", "secret_scan", "compile", "sbom", "coverage", "api_contract",
             "db_migration", "cve_check", "dast", "signature", "api_call"}
    facts = RunFacts("svc", "abc", "me", RiskLevel.HIGH)
    run = engine(tmp_path).run([], facts, configured_types=types)
    assert [g.gate_id for g in run.gates] == ["mandatory:canary"]
    with_canary = RunFacts("svc", "abc", "me", RiskLevel.HIGH, canary_duration_s=3000)
    assert engine(tmp_path).run([], with_canary, configured_types=types).status is (
        RunStatus.PASSED)


def test_critical_needs_extended_canary_and_security_review(tmp_path: Path) -> None:
    types = {"lint", "secret_scan", "compile", "sbom", "coverage", "api_contract",
             "db_migration", "cve_check", "dast", "signature", "slo_check"}
    facts = RunFacts("svc", "abc", "me", RiskLevel.CRITICAL, canary_duration_s=3000)
    run = engine(tmp_path).run([], facts, configured_types=types)
    by_id = {g.gate_id: g for g in run.gates}
    assert by_id["mandatory:extended_canary"].outcome is Outcome.BLOCKED
    assert "0.8h" in by_id["mandatory:extended_canary"].summary
    assert by_id["security_review"].outcome is Outcome.PENDING_APPROVAL
    day = RunFacts("svc", "abc", "me", RiskLevel.CRITICAL, canary_duration_s=86400)
    run = engine(tmp_path).run([], day, configured_types=types)
    assert run.status is RunStatus.PENDING_APPROVAL
    reviewed = engine(tmp_path, approvals=lambda gid: (True, "by sec: ok")).run(
        [], day, configured_types=types)
    assert reviewed.status is RunStatus.PASSED


def test_partial_runs_skip_release_level_demands(tmp_path: Path) -> None:
    facts = RunFacts("svc", "abc", "me", RiskLevel.CRITICAL, full_run=False)
    run = engine(tmp_path).run([], facts, configured_types=set())
    ids = {g.gate_id for g in run.gates}
    assert "security_review" not in ids
    assert "mandatory:canary" not in ids
    assert "mandatory:compile" in ids


def test_mandatory_gate_cannot_be_weakened() -> None:
    gate = ScriptedGate(lambda ctx: PASS, default_action=FailAction.FAIL)
    weakened = plan_gate("build", "compile", "compile", gate, FailAction.WARN, RiskLevel.LOW,
                         True, None)
    assert weakened.action is FailAction.FAIL
    assert weakened.note is not None
    assert "ignored" in weakened.note
    optional = plan_gate("build", "lint", "lint", gate, FailAction.WARN, RiskLevel.LOW,
                         False, None)
    assert optional.action is FailAction.WARN


def test_schema_changes_need_approval_from_high_risk() -> None:
    gate = ScriptedGate(lambda ctx: PASS, default_action=FailAction.REQUIRE_APPROVAL)
    high = plan_gate("i", "db", "db_migration", gate, FailAction.WARN, RiskLevel.HIGH, True, None)
    assert high.action is FailAction.REQUIRE_APPROVAL


def _result(outcome: Outcome) -> GateResult:
    return GateResult("s", "g", "t", Verdict.FAILED, FailAction.FAIL, outcome, "x")


@pytest.mark.parametrize(("outcomes", "status"), [
    ([Outcome.PASSED, Outcome.WARNED, Outcome.LOGGED], RunStatus.PASSED),
    ([Outcome.PENDING_APPROVAL, Outcome.ERROR], RunStatus.ERROR),
    ([Outcome.ERROR, Outcome.BLOCKED], RunStatus.BLOCKED),
    ([Outcome.PENDING_APPROVAL, Outcome.PASSED], RunStatus.PENDING_APPROVAL),
    ([Outcome.NOT_RUN], RunStatus.ERROR),
    ([], RunStatus.PASSED),
])
def test_run_status_priorities(outcomes: list[Outcome], status: RunStatus) -> None:
    assert run_status([_result(o) for o in outcomes]) is status
