"""``type: canary``: the canary-analysis steps, the extended verification, critical 24 h."""

from __future__ import annotations

import pytest

from safeship.model.canary import CanaryStep, JudgeName
from safeship.model.enums import RiskLevel
from safeship.strategies.canary import CanaryStrategy, effective_steps
from safeship.strategies.interface import (
    EXTENDED_CANARY_S,
    Analyze,
    Deploy,
    HealthGate,
    MarkStable,
    PlanError,
    Retire,
    SetWeights,
    redeploy_stable,
)
from tests.unit.strategies.requests import GUIDE_STEPS, NEW, request


def test_the_guides_steps_become_weights_and_analyses() -> None:
    req = request()
    plan = CanaryStrategy().plan(req)
    assert plan[:2] == (Deploy("v2", 4, NEW), HealthGate("v2", 4, req.health_timeout_s))
    pairs = list(zip(plan[2:10:2], plan[3:10:2], strict=True))
    assert [(w.as_dict()["v2"], a.percentage, a.duration_s, a.verification)
            for w, a in pairs] == [(1.0, 1.0, 300, False), (5.0, 5.0, 300, False),
                                   (25.0, 25.0, 600, False), (100.0, 100.0, 1800, True)]
    assert all(isinstance(a, Analyze) and a.judge is JudgeName.SEQUENTIAL for _, a in pairs)
    assert plan[10:] == (Retire("v1"), MarkStable("v2"))


def test_steps_ending_below_100_get_a_final_cutover() -> None:
    plan = CanaryStrategy().plan(request(canary_steps=(CanaryStep(10, 60),
                                                       CanaryStep(50, 60))))
    assert plan[-3] == SetWeights.of({"v1": 0.0, "v2": 100.0})
    assert not any(isinstance(s, Analyze) and s.verification for s in plan)


def test_the_judge_comes_from_the_request() -> None:
    plan = CanaryStrategy().plan(request(judge=JudgeName.THRESHOLD))
    assert {s.judge for s in plan if isinstance(s, Analyze)} == {JudgeName.THRESHOLD}


def test_a_canary_without_steps_is_refused() -> None:
    with pytest.raises(PlanError, match="traffic steps"):
        CanaryStrategy().plan(request(canary_steps=()))


def test_critical_risk_lengthens_the_final_verification_to_24_hours() -> None:
    steps = effective_steps(request(risk=RiskLevel.CRITICAL))
    assert sum(s.duration_s for s in steps) == EXTENDED_CANARY_S
    assert steps[:3] == GUIDE_STEPS[:3]
    assert steps[-1].percentage == 100


def test_critical_risk_adds_a_verification_step_when_steps_stop_below_100() -> None:
    steps = effective_steps(request(risk=RiskLevel.CRITICAL,
                                    canary_steps=(CanaryStep(10, 3600),)))
    assert steps == (CanaryStep(10, 3600), CanaryStep(100.0, EXTENDED_CANARY_S - 3600))
    plan = CanaryStrategy().plan(request(risk=RiskLevel.CRITICAL,
                                         canary_steps=(CanaryStep(10, 3600),)))
    assert isinstance(plan[-3], Analyze)
    assert plan[-3].verification


def test_long_enough_critical_canaries_are_kept() -> None:
    long = (CanaryStep(5, EXTENDED_CANARY_S),)
    assert effective_steps(request(risk=RiskLevel.CRITICAL, canary_steps=long)) == long


@pytest.mark.parametrize("risk", [RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH])
def test_other_risks_keep_the_configured_steps(risk: RiskLevel) -> None:
    assert effective_steps(request(risk=risk)) == GUIDE_STEPS


def test_rollback_is_a_router_change_until_the_stable_is_retired() -> None:
    req = request()
    plan = CanaryStrategy().plan(req)
    for reached in range(len(plan) - 2):
        assert CanaryStrategy().rollback_plan(req, reached) == (
            SetWeights.of({"v1": 100.0, "v2": 0.0}), Retire("v2"))
    assert CanaryStrategy().rollback_plan(req, len(plan) - 2) == redeploy_stable(req)
