"""``rollout undo``: back to a known-good version, skipping every analysis."""

from __future__ import annotations

from safeship.strategies.interface import (
    Analyze,
    Deploy,
    HealthGate,
    MarkStable,
    Retire,
    RolloutRequest,
    SetWeights,
    SmokeTest,
    StableVersion,
)
from safeship.strategies.undo import UndoStrategy
from tests.unit.strategies.requests import OLD, World, play, request


def _undo() -> RolloutRequest:
    # Undo from v2 (serving) back to v1: the request's version is the target.
    return request(version="v1", artifact=OLD, stable=StableVersion("v2", None, 4))


def test_undo_ensures_the_target_runs_then_flips_and_retires() -> None:
    req = _undo()
    plan = UndoStrategy().plan(req)
    assert plan == (Deploy("v1", 4, OLD), HealthGate("v1", 4, req.health_timeout_s),
                    SetWeights.of({"v1": 100.0, "v2": 0.0}), Retire("v2"), MarkStable("v1"))
    assert not any(isinstance(s, Analyze | SmokeTest) for s in plan)
    world = play(plan, World({"v2": 4}, {"v2": 100.0}, "v2"))
    assert world.stable == "v1"
    assert world.weights == {"v1": 100.0}


def test_undo_without_anything_serving_just_starts_the_target() -> None:
    plan = UndoStrategy().plan(request(version="v1", stable=None))
    assert plan[2:] == (SetWeights.of({"v1": 100.0}), MarkStable("v1"))
    assert UndoStrategy().rollback_plan(request(version="v1", stable=None), 3) == ()


def test_a_failed_undo_never_makes_things_worse() -> None:
    req = _undo()
    strategy = UndoStrategy()
    assert strategy.rollback_plan(req, 0) == ()
    assert strategy.rollback_plan(req, 1) == ()
    assert strategy.rollback_plan(req, 2) == (SetWeights.of({"v2": 100.0, "v1": 0.0}),)
    assert strategy.rollback_plan(req, 3) == ()
