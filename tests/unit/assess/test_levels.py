"""Levels are cumulative; the next level's missing pieces; the goal from the risk level."""

from __future__ import annotations

import pytest

from safeship.assess.evidence import HistoryFacts
from safeship.assess.goal import goal_for
from safeship.assess.levels import LEVELS, evaluate, level_name
from safeship.model.enums import RiskLevel
from tests.unit.assess.samples import evidence, service


def test_everything_met_is_level_4_and_meets_the_mission_critical_goal() -> None:
    result = evaluate(evidence())
    assert (result.level, result.name) == (4, "Safe & Autonomous")
    assert result.goal.level == 4
    assert result.meets_goal
    assert result.next_level is None
    assert result.next_level_missing == ()
    assert result.goal_missing == ()
    assert len(result.criteria) == sum(len(level.checks) for level in LEVELS)


def test_levels_are_cumulative_a_missing_level_1_caps_everything() -> None:
    result = evaluate(evidence(service=service(target=None)))
    assert result.level == 0
    assert result.name == "Manual"
    # Higher criteria are still judged and shown as met.
    assert all(c.met for c in result.criteria if c.level >= 3 and c.id != "one_command_deploy")
    assert [c.id for c in result.next_level_missing] == ["deploy_definition"]
    assert {c.id for c in result.goal_missing} == {"deploy_definition", "one_command_deploy"}
    assert not result.meets_goal


def test_a_missing_level_3_piece_stops_at_level_2() -> None:
    result = evaluate(evidence(service=service(metrics=None, slos=())))
    assert result.level == 2
    assert result.next_level == 3
    assert [c.id for c in result.next_level_missing] == ["metrics_provider"]
    assert [c.id for c in result.goal_missing] == ["metrics_provider", "slos"]


def test_the_goal_follows_the_risk_level() -> None:
    no_history = HistoryFacts(False, "sqlite:///x", "no state store", "shop")
    critical = evaluate(evidence(history=no_history))
    assert critical.level == 3
    assert not critical.meets_goal
    assert [c.id for c in critical.next_level_missing] == ["zero_touch"]
    high = evaluate(evidence(history=no_history, service=service(risk=RiskLevel.HIGH)))
    assert high.level == 3
    assert high.goal.level == 3
    assert high.meets_goal
    assert high.goal_missing == ()


@pytest.mark.parametrize(("risk", "goal", "words"), [
    (RiskLevel.LOW, 1, "scripted"), (RiskLevel.MEDIUM, 2, "pipeline"),
    (RiskLevel.HIGH, 3, "critical service"), (RiskLevel.CRITICAL, 4, "mission-critical")])
def test_goal_mapping(risk: RiskLevel, goal: int, words: str) -> None:
    target = goal_for(risk)
    assert (target.risk, target.level) == (risk, goal)
    assert words in target.reason


def test_level_names_follow_the_guide() -> None:
    assert [level_name(n) for n in range(5)] == [
        "Manual", "Scripted", "CI/CD Pipeline", "Progressive", "Safe & Autonomous"]
    assert [level.number for level in LEVELS] == [0, 1, 2, 3, 4]
    assert LEVELS[0].checks == ()
