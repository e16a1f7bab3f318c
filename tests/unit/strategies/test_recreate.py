"""``type: recreate``: stop old, start new, downtime marked for the engine to measure."""

from __future__ import annotations

from safeship.strategies.interface import (
    Deploy,
    HealthGate,
    MarkStable,
    Retire,
    SetWeights,
    redeploy_stable,
)
from safeship.strategies.recreate import RecreateStrategy
from tests.unit.strategies.requests import NEW, play, request


def test_recreate_stops_the_old_version_first_and_marks_the_downtime() -> None:
    req = request()
    plan = RecreateStrategy().plan(req)
    assert plan == (
        Retire("v1", starts_downtime=True),
        Deploy("v2", 4, NEW),
        HealthGate("v2", 4, req.health_timeout_s, ends_downtime=True),
        SetWeights.of({"v2": 100.0}),
        MarkStable("v2"),
    )
    world = play(plan)
    assert world.history[0][0]["v1"] == 0  # nothing runs between the two
    assert "v2" not in world.history[0][0]


def test_recreate_rolls_back_by_redeploying_the_previous_artifact() -> None:
    req = request()
    for reached in range(5):
        assert RecreateStrategy().rollback_plan(req, reached) == redeploy_stable(req)
