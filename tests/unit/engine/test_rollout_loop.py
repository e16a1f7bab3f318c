"""The analysis loop: the pure tick decision, evaluation, and a canary judged for real."""

from __future__ import annotations

from dataclasses import replace

import pytest

from safeship.engine.rollout_loop import (
    AnalysisPolicy,
    TickAction,
    decide_tick,
    evaluate,
    scoped_spec,
)
from safeship.engine.rollout_state import InsufficientDataPolicy, RolloutStatus
from safeship.judge.sequential import sequential_judge
from safeship.metrics.builtin import BuiltinProvider
from safeship.model.analysis import AnalysisVerdict, Decision, StepWindow
from safeship.model.canary import Scope
from tests.unit.engine.test_rollout_fakes import NoMetrics, ScriptedJudge, TrafficSource
from tests.unit.engine.test_rollout_harness import Harness, guide_spec, harness

__all__ = ["harness"]

ROLLBACK = AnalysisVerdict(Decision.ROLLBACK, "t", (), ("error rate doubled",))
PROCEED = AnalysisVerdict(Decision.PROCEED, "t", (), ("all fine",))
WAIT = AnalysisVerdict(Decision.INSUFFICIENT_DATA, "t", (), ("waiting: 12 requests",))


def tick(verdict: AnalysisVerdict, **kw: object) -> tuple[TickAction, str, int]:
    args: dict[str, object] = {"failures": 0, "threshold": 1, "rollback_on_failure": True,
                               "verification": False, "paused": False, "time_up": False,
                               "extensions": 0, "policy": AnalysisPolicy()}
    args.update(kw)
    decision = decide_tick(verdict, **args)  # type: ignore[arg-type]
    return decision.action, decision.reason, decision.failures


def test_rollback_at_the_threshold() -> None:
    assert tick(ROLLBACK)[0] is TickAction.ROLLBACK
    assert tick(ROLLBACK, threshold=2) == (TickAction.CONTINUE, "error rate doubled", 1)
    action, reason, failures = tick(ROLLBACK, threshold=2, failures=1)
    assert (action, failures) == (TickAction.ROLLBACK, 2)
    assert reason.startswith("ROLLBACK verdict 2 of 2 allowed by failure_count_threshold")


def test_rollback_while_paused_still_rolls_back() -> None:
    assert tick(ROLLBACK, paused=True)[0] is TickAction.ROLLBACK


def test_rollback_on_failure_false_holds_once() -> None:
    assert tick(ROLLBACK, rollback_on_failure=False)[0] is TickAction.HOLD
    assert tick(ROLLBACK, rollback_on_failure=False, paused=True)[0] is TickAction.CONTINUE


def test_proceed_advances_except_in_verification_or_pause() -> None:
    assert tick(PROCEED)[0] is TickAction.ADVANCE
    assert tick(PROCEED, paused=True)[0] is TickAction.CONTINUE
    assert tick(PROCEED, verification=True)[0] is TickAction.CONTINUE
    assert tick(PROCEED, verification=True, time_up=True)[0] is TickAction.ADVANCE


def test_waiting_until_time_is_up() -> None:
    assert tick(WAIT)[0] is TickAction.CONTINUE
    assert tick(WAIT, time_up=True, paused=True)[0] is TickAction.CONTINUE


@pytest.mark.parametrize(("policy", "extensions", "expected"), [
    (InsufficientDataPolicy.ROLLBACK, 0, TickAction.ROLLBACK),
    (InsufficientDataPolicy.EXTEND, 0, TickAction.EXTEND),
    (InsufficientDataPolicy.EXTEND, 1, TickAction.ROLLBACK),
    (InsufficientDataPolicy.HOLD, 0, TickAction.HOLD),
])
def test_insufficient_data_policies(policy: InsufficientDataPolicy, extensions: int,
                                    expected: TickAction) -> None:
    action, reason, _ = tick(WAIT, time_up=True, extensions=extensions,
                             policy=AnalysisPolicy(on_insufficient_data=policy))
    assert action is expected
    assert reason.startswith("step ended without PROCEED (INSUFFICIENT_DATA: waiting")


def test_a_verification_ending_on_a_tolerated_rollback_is_not_a_pass() -> None:
    action, _, _ = tick(ROLLBACK, threshold=3, verification=True, time_up=True)
    assert action is TickAction.ROLLBACK


def test_policy_bounds() -> None:
    with pytest.raises(ValueError, match="positive"):
        AnalysisPolicy(scrape_interval_s=0)
    with pytest.raises(ValueError, match="negative"):
        AnalysisPolicy(max_extensions=-1)


def test_the_default_scope_names_the_versions() -> None:
    spec = scoped_spec(guide_spec(), "v1", "v2")
    assert (spec.scope.label, spec.scope.baseline, spec.scope.canary) == ("version", "v1", "v2")
    custom = replace(guide_spec(), scope=Scope("track", "stable", "canary"))
    assert scoped_spec(custom, "v1", "v2") is custom


def test_evaluate_without_a_provider_is_insufficient() -> None:
    verdict = evaluate(None, ScriptedJudge(), "scripted", guide_spec(), start=0, now=10,
                       windows=(StepWindow(0, 60, 1),), interval_s=10)
    assert verdict.decision is Decision.INSUFFICIENT_DATA
    assert "no metrics provider" in verdict.reasons[0]


def test_a_judge_that_crashes_never_promotes() -> None:
    def broken(data: object, spec: object) -> AnalysisVerdict:
        raise ZeroDivisionError("bug")

    verdict = evaluate(NoMetrics(), broken, "broken", guide_spec(), start=0, now=10,
                       windows=(StepWindow(0, 60, 1),), interval_s=10)
    assert verdict.decision is Decision.INSUFFICIENT_DATA
    assert verdict.reasons == ("the broken judge failed: ZeroDivisionError: bug",)


def test_evaluate_passes_the_steps_so_far() -> None:
    judge = ScriptedJudge()
    windows = (StepWindow(0, 300, 1), StepWindow(300, 600, 5))
    verdict = evaluate(NoMetrics(), judge, "scripted", guide_spec(), start=0, now=310,
                       windows=windows, interval_s=10)
    assert verdict.evaluated_at == 310
    assert judge.calls == [(5, 10)]


@pytest.mark.parametrize(("canary_errors", "status", "max_percent"), [
    (0.0005, RolloutStatus.SUCCEEDED, 100.0),  # as good as the baseline
    (0.2, RolloutStatus.ROLLED_BACK, 1.0),  # 400x the baseline's errors
])
def test_a_canary_judged_by_the_sequential_judge_on_router_counters(
        harness: Harness, canary_errors: float, status: RolloutStatus,
        max_percent: float) -> None:
    harness.run_v1()
    source = TrafficSource(harness.router, harness.clock, rps=100_000,
                           error_rate={"v1": 0.0005, "v2": canary_errors})
    harness.metrics = BuiltinProvider(source, scope=Scope(baseline="v1", canary="v2"))
    harness.real_judge = sequential_judge
    outcome = harness.start()
    assert outcome.status is status
    assert outcome.release.max_canary_percent == max_percent
    last = harness.store.last_transition(outcome.release.release_id, "verdict")
    assert last is not None
    metrics = {m["name"]: m for m in last.details["verdict"]["metrics"]}
    assert set(metrics) >= {"error_rate", "latency_p95"}
    assert all(m["detail"] for m in metrics.values())  # every verdict explains itself
