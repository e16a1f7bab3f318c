"""`recommend --change-type`: every row of the guide's table 3.2, and how signals combine."""

from __future__ import annotations

import json

import pytest

from safeship.recommend import (
    CAUTION,
    GUIDANCE,
    ChangeType,
    Signal,
    Strategy,
    recommend_for_change_type,
    recommend_from_signals,
    recommendation_document,
)
from safeship.recommend.guide_table import caution_rank

# The guide's 3.2 table, row by row: change type, strategy, why, strategies in order of use,
# and the 5.1 rollback the plan has at hand.
TABLE = [
    (ChangeType.CONFIG, "Feature flags + canary", "Easy toggle, low risk",
     (Strategy.FEATURE_FLAG, Strategy.CANARY), "Feature flag toggle"),
    (ChangeType.DEPENDENCY, "Canary (10% → 50% → 100%)", "Unknown behavioral changes",
     (Strategy.CANARY,), "Traffic routing shift"),
    (ChangeType.DB_MIGRATION, "Blue/green (with dual-write)", "Rollback requires schema revert",
     (Strategy.BLUE_GREEN,), "Traffic routing shift"),
    (ChangeType.NEW_ENDPOINT, "Feature flag (off) → canary → on", "Safe to test in prod",
     (Strategy.FEATURE_FLAG, Strategy.CANARY), "Feature flag toggle"),
    (ChangeType.SECURITY_PATCH, "Rolling (fast)", "Urgent, but still gradual",
     (Strategy.ROLLING,), "Image tag reversion"),
    (ChangeType.MAJOR_VERSION, "Blue/green (with extended verification)", "Isolate blast radius",
     (Strategy.BLUE_GREEN,), "Traffic routing shift"),
]


def test_the_table_covers_every_change_type() -> None:
    assert {row[0] for row in TABLE} == set(ChangeType) == set(GUIDANCE) == set(CAUTION)


@pytest.mark.parametrize(("change_type", "strategy", "why", "strategies", "rollback"), TABLE)
def test_every_change_type_gets_the_guides_row(change_type: ChangeType, strategy: str, why: str,
                                               strategies: tuple[Strategy, ...],
                                               rollback: str) -> None:
    recommendation = recommend_for_change_type(change_type)
    assert recommendation.change_type is change_type
    assert recommendation.strategy == strategy
    assert recommendation.why == why
    assert recommendation.strategies == strategies
    assert recommendation.rollback.kind == rollback
    assert [p.strategy for p in recommendation.profiles] == list(strategies)
    assert recommendation.signals == ()
    assert recommendation.diff is None


def test_strategy_profiles_follow_the_guides_comparison() -> None:
    [canary] = recommend_for_change_type(ChangeType.DEPENDENCY).profiles
    assert (canary.risk, canary.speed, canary.rollback) == ("Lowest", "Slow", "Instant")
    [rolling] = recommend_for_change_type(ChangeType.SECURITY_PATCH).profiles
    assert (rolling.risk, rolling.traffic_shedding) == ("Medium", "Smooth")


def test_blue_green_rows_carry_their_warnings() -> None:
    migration = " ".join(recommend_for_change_type(ChangeType.DB_MIGRATION).notes)
    assert "dual-write" in migration
    assert "30" in migration
    assert "30" in " ".join(recommend_for_change_type(ChangeType.MAJOR_VERSION).notes)
    assert recommend_for_change_type(ChangeType.CONFIG).notes == ()


def test_caution_order() -> None:
    assert CAUTION[0] is ChangeType.DB_MIGRATION
    assert CAUTION[-1] is ChangeType.SECURITY_PATCH
    assert caution_rank(ChangeType.DEPENDENCY) < caution_rank(ChangeType.CONFIG)


@pytest.mark.parametrize("change_type", list(ChangeType))
def test_a_single_signal_gives_its_own_row(change_type: ChangeType) -> None:
    signal = Signal(change_type, "because", ("file",))
    recommendation = recommend_from_signals([signal])
    assert recommendation.guidance == GUIDANCE[change_type]
    assert recommendation.signals == (signal,)


def test_several_signals_pick_the_most_cautious_and_keep_all() -> None:
    signals = [Signal(ChangeType.SECURITY_PATCH, "cve", ("abc fix",)),
               Signal(ChangeType.CONFIG, "config", ("config/a.yaml",)),
               Signal(ChangeType.DEPENDENCY, "locks", ("uv.lock",))]
    recommendation = recommend_from_signals(signals)
    assert recommendation.change_type is ChangeType.DEPENDENCY
    assert recommendation.change_types == (ChangeType.DEPENDENCY, ChangeType.CONFIG,
                                           ChangeType.SECURITY_PATCH)
    assert "security fix" in " ".join(recommendation.notes)


def test_a_security_patch_decided_by_commit_messages_asks_to_confirm() -> None:
    recommendation = recommend_from_signals(
        [Signal(ChangeType.SECURITY_PATCH, "commit messages", ("abc Fix CVE-2024-1",))])
    assert recommendation.strategy == "Rolling (fast)"
    assert "Make sure" in " ".join(recommendation.notes)


def test_no_signal_falls_back_to_canary_never_to_speed() -> None:
    recommendation = recommend_from_signals([])
    assert recommendation.change_type is None
    assert recommendation.strategies == (Strategy.CANARY,)
    assert recommendation.notes


def test_the_json_document_is_complete_and_serialisable() -> None:
    recommendation = recommend_from_signals(
        [Signal(ChangeType.DB_MIGRATION, "migrations", ("migrations/1.sql",))])
    document = json.loads(json.dumps(recommendation_document(recommendation)))
    assert document["schema"] == "safeship.recommendation/v1"
    assert document["change_type"] == "db_migration"
    assert document["strategy"] == "Blue/green (with dual-write)"
    assert document["strategies"] == ["blue_green"]
    assert document["why"] == "Rollback requires schema revert"
    assert document["rollback"]["speed"] == "Seconds"
    assert document["signals"] == [{"change_type": "db_migration", "reason": "migrations",
                                    "evidence": ["migrations/1.sql"]}]
    assert document["diff"] is None
    assert document["profiles"][0]["best_for"] == "Critical apps"
