"""``type: feature_flag``: the flag's percentage ramped under analysis, off on any rollback."""

from __future__ import annotations

import pytest

from safeship.model.canary import CanaryStep, JudgeName
from safeship.model.enums import RiskLevel
from safeship.strategies.feature_flag import (
    DEFAULT_FLAG_STEPS,
    FEATURE_FLAG,
    FEATURE_FLAG_UNDO,
    FeatureFlagStrategy,
    FeatureFlagUndoStrategy,
    flag_reference,
    flag_steps,
    is_flag_release,
    parse_flag_reference,
)
from safeship.strategies.interface import (
    EXTENDED_CANARY_S,
    Analyze,
    MarkStable,
    PlanError,
    RolloutRequest,
    SetWeights,
    StableVersion,
)
from tests.unit.strategies.requests import GUIDE_STEPS


def flag_request(**changes: object) -> RolloutRequest:
    """The 'on' variant of shop's flag ramped from its off variant, the guide's steps."""
    base: dict[str, object] = {"service": "shop", "version": "on", "replicas": 1,
                               "stable": StableVersion("off"), "canary_steps": GUIDE_STEPS}
    base.update(changes)
    return RolloutRequest(**base)  # type: ignore[arg-type]


def test_the_guides_steps_become_flag_percentages_and_analyses() -> None:
    plan = FeatureFlagStrategy().plan(flag_request())
    pairs = list(zip(plan[0:8:2], plan[1:8:2], strict=True))
    assert [(w.as_dict(), a.percentage, a.duration_s, a.verification) for w, a in pairs] == [
        ({"off": 99.0, "on": 1.0}, 1.0, 300, False),
        ({"off": 95.0, "on": 5.0}, 5.0, 300, False),
        ({"off": 75.0, "on": 25.0}, 25.0, 600, False),
        ({"off": 0.0, "on": 100.0}, 100.0, 1800, True)]
    assert plan[8:] == (MarkStable("on"),)


def test_a_flag_rollout_deploys_nothing_and_stops_nothing() -> None:
    kinds = {step.kind.value for step in FeatureFlagStrategy().plan(flag_request())}
    assert kinds == {"set_weights", "analyze", "mark_stable"}


def test_without_steps_the_guides_ramp_is_used() -> None:
    plan = FeatureFlagStrategy().plan(flag_request(canary_steps=()))
    shares = [s.percentage for s in plan if isinstance(s, Analyze)]
    assert shares == [step.percentage for step in DEFAULT_FLAG_STEPS] == [1, 5, 25, 100]


def test_steps_ending_below_100_end_with_the_flag_at_100() -> None:
    plan = FeatureFlagStrategy().plan(flag_request(canary_steps=(CanaryStep(10, 60),)))
    assert plan[-2:] == (SetWeights.of({"off": 0.0, "on": 100.0}), MarkStable("on"))
    assert not any(isinstance(s, Analyze) and s.verification for s in plan)


def test_the_judge_comes_from_the_request() -> None:
    plan = FeatureFlagStrategy().plan(flag_request(judge=JudgeName.KAYENTA))
    assert {s.judge for s in plan if isinstance(s, Analyze)} == {JudgeName.KAYENTA}


@pytest.mark.parametrize("share", [0.0, -5.0, 150.0])
def test_a_step_outside_0_to_100_is_refused(share: float) -> None:
    with pytest.raises(PlanError, match="above 0 %"):
        FeatureFlagStrategy().plan(flag_request(canary_steps=(CanaryStep(share, 60),)))


def test_a_request_without_the_off_variant_is_refused() -> None:
    with pytest.raises(PlanError, match="off variant"):
        FeatureFlagStrategy().plan(flag_request(stable=None))
    with pytest.raises(PlanError, match="off variant"):
        FeatureFlagStrategy().rollback_plan(flag_request(stable=None), 0)


def test_critical_risk_gets_24_hours_at_100() -> None:
    steps = flag_steps(flag_request(risk=RiskLevel.CRITICAL))
    assert sum(s.duration_s for s in steps) == EXTENDED_CANARY_S
    assert steps[:3] == GUIDE_STEPS[:3]
    assert steps[-1].percentage == 100
    below = flag_steps(flag_request(risk=RiskLevel.CRITICAL,
                                    canary_steps=(CanaryStep(10, 600),)))
    assert below[-1] == CanaryStep(100.0, EXTENDED_CANARY_S - 600)
    long_enough = (CanaryStep(50, EXTENDED_CANARY_S),)
    assert flag_steps(flag_request(risk=RiskLevel.CRITICAL,
                                   canary_steps=long_enough)) == long_enough


@pytest.mark.parametrize("reached", [0, 1, 3, 7, 8])
def test_the_rollback_is_the_flag_off_from_every_step(reached: int) -> None:
    assert FeatureFlagStrategy().rollback_plan(flag_request(), reached) == (
        SetWeights.of({"off": 100.0, "on": 0.0}),)


def test_the_undo_switches_the_flag_off_and_never_back_on() -> None:
    undo = flag_request(version="off", stable=StableVersion("on"), canary_steps=())
    strategy = FeatureFlagUndoStrategy()
    assert strategy.plan(undo) == (SetWeights.of({"on": 0.0, "off": 100.0}),
                                   MarkStable("off"))
    assert strategy.rollback_plan(undo, 0) == ()
    with pytest.raises(PlanError, match="variant to switch off"):
        strategy.plan(flag_request(version="off", stable=None))


def test_flag_releases_are_told_apart_from_version_releases() -> None:
    assert FeatureFlagStrategy.type_name == FEATURE_FLAG
    assert FeatureFlagUndoStrategy.type_name == FEATURE_FLAG_UNDO
    assert is_flag_release("feature_flag")
    assert is_flag_release("feature_flag_undo")
    assert not any(is_flag_release(name) for name in ("canary", "undo", "blue_green"))


def test_a_flag_reference_names_the_flag_and_its_environment() -> None:
    reference = flag_reference("new-checkout", "production")
    assert reference == "flag:new-checkout@production"
    assert parse_flag_reference(reference) == ("new-checkout", "production")
    for other in (None, "", "dist/shop.tar.gz", "flag:", "flag:@prod", "flag:f@", "flag:f"):
        assert parse_flag_reference(other) is None
