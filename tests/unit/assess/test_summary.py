"""The assessment as JSON data and as plain lines."""

from __future__ import annotations

import json

from safeship.assess.evidence import HistoryFacts
from safeship.assess.levels import evaluate
from safeship.assess.summary import assessment_json, history_line, text_lines, verdict_line
from safeship.model.enums import RiskLevel
from tests.unit.assess.samples import evidence, history, service

CRITERION_KEYS = {"level", "id", "title", "met", "evidence", "action"}


def test_json_shape_of_a_partial_assessment() -> None:
    result = evaluate(evidence(service=service(metrics=None, risk=RiskLevel.HIGH)))
    data = assessment_json(result)
    json.dumps(data)  # plain JSON types only
    assert {"level", "name", "goal", "meets_goal", "risk", "criteria", "next_level_missing",
            "history"} <= set(data)
    assert (data["level"], data["name"], data["goal"], data["meets_goal"], data["risk"]) == (
        2, "CI/CD Pipeline", 3, False, "high")
    assert data["goal_name"] == "Progressive"
    assert data["risk_source"] == ".pipeline/service.yaml"
    assert all(set(c) == CRITERION_KEYS for c in data["criteria"])
    assert [c["id"] for c in data["next_level_missing"]] == ["metrics_provider"]
    assert data["next_level_missing"][0]["action"].startswith("add `metrics:")
    assert data["next_level"] == 3
    assert [c["id"] for c in data["goal_missing"]] == ["metrics_provider"]
    assert [lvl["criteria_met"] for lvl in data["levels"]] == [True, True, True, False, True]


def test_history_json_rounds_and_counts() -> None:
    data = assessment_json(evaluate(evidence(history=history(rollback_seconds=(0.1234, 0.3)))))
    assert data["history"]["median_rollback_seconds"] == 0.212
    assert data["history"]["rollbacks_measured"] == 2
    assert data["history"]["zero_touch_share"] == 1.0
    empty = HistoryFacts(False, "sqlite:///x", "no state store at x", "shop")
    none = assessment_json(evaluate(evidence(history=empty)))["history"]
    assert none["available"] is False
    assert none["median_rollback_seconds"] is None
    assert none["zero_touch_share"] is None


def test_text_lines_show_every_criterion_and_the_next_steps() -> None:
    result = evaluate(evidence(service=service(router=None)))
    lines = text_lines(result)
    assert lines[0] == "shop: service 'shop', risk critical"
    assert lines[1] == verdict_line(result)
    assert "level 1 (Scripted) BELOW the goal of level 4 (Safe & Autonomous)" in lines[1]
    assert sum(line.startswith("  [") for line in lines) == len(result.criteria)
    assert "  [missing] Single-command deploy: .pipeline/service.yaml has no `router:`" in lines
    assert lines[-2] == "to reach level 2 (CI/CD Pipeline):"
    assert lines[-1] == "  - add `router: {type: embedded}` to .pipeline/service.yaml"


def test_the_top_level_has_no_next_step() -> None:
    lines = text_lines(evaluate(evidence()))
    assert "meets the goal" in lines[1]
    assert not any(line.startswith("to reach") for line in lines)


def test_history_line() -> None:
    assert history_line(history()) == (
        "history: 5 release(s) of 'shop' (5 finished): 4 promoted, 1 rolled back "
        "automatically (1 by the analysis), 0 refused by the SLO check, 0 aborted, 0 manual "
        "undo(s); 5 zero-touch, "
        "median rollback 400ms over 1")
    assert history_line(HistoryFacts(False, "x", "not read", "shop")) == "history: none (not read)"
