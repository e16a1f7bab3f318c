"""The strategies' shared pieces: request checks, first releases, redeploying the stable."""

from __future__ import annotations

import pytest

from safeship.strategies.blue_green import BlueGreenStrategy
from safeship.strategies.canary import CanaryStrategy
from safeship.strategies.interface import (
    Deploy,
    HealthGate,
    MarkStable,
    PlanError,
    Retire,
    SetWeights,
    StableVersion,
    Strategy,
    first_release_plan,
    index_of,
    redeploy_stable,
)
from safeship.strategies.recreate import RecreateStrategy
from safeship.strategies.rolling import RollingStrategy
from tests.unit.strategies.requests import NEW, OLD, World, play, request

ALL: list[Strategy] = [RecreateStrategy(), RollingStrategy(), BlueGreenStrategy(), CanaryStrategy()]


def test_a_request_needs_a_replica_and_a_new_version() -> None:
    with pytest.raises(PlanError, match="at least 1 replica"):
        request(replicas=0)
    with pytest.raises(PlanError, match="already the stable version"):
        request(version="v1")


def test_stable_replicas_default_to_the_request() -> None:
    assert request(stable=StableVersion("v1", OLD)).stable_replicas == 4
    assert request(stable=StableVersion("v1", OLD, 2)).stable_replicas == 2


@pytest.mark.parametrize("strategy", ALL, ids=lambda s: s.type_name)
def test_a_first_release_just_starts_the_version(strategy: Strategy) -> None:
    first = request(stable=None)
    plan = strategy.plan(first)
    assert plan == first_release_plan(first)
    assert plan == (Deploy("v2", 4, NEW), HealthGate("v2", 4, first.health_timeout_s),
                    SetWeights.of({"v2": 100.0}), MarkStable("v2"))
    assert strategy.rollback_plan(first, 2) == (Retire("v2"),)
    world = play(plan, World())
    assert world.stable == "v2"
    assert world.weights == {"v2": 100.0}


@pytest.mark.parametrize("strategy", ALL, ids=lambda s: s.type_name)
def test_every_plan_ends_with_the_new_version_alone_and_stable(strategy: Strategy) -> None:
    plan = strategy.plan(request())
    world = play(plan)
    assert world.stable == "v2"
    assert world.weights == {"v2": 100.0}
    assert world.instances["v1"] == 0
    assert world.instances["v2"] == 4


@pytest.mark.parametrize("strategy", ALL, ids=lambda s: s.type_name)
def test_every_rollback_from_every_step_ends_on_the_stable_version(strategy: Strategy) -> None:
    req = request()
    plan = strategy.plan(req)
    for reached in range(len(plan)):
        world = play(plan[:reached])
        # The step in progress may or may not have taken effect: try both.
        for partial in (world, play(plan[:reached + 1])):
            start = World(dict(partial.instances), dict(partial.weights), partial.stable)
            back = play(strategy.rollback_plan(req, reached), start)
            assert back.weights.get("v1", 0.0) == 100.0 or not back.weights, (reached, back)
            assert back.instances.get("v2", 0) == 0, (reached, back)
            assert back.instances.get("v1", 0) >= 1, (reached, back)


def test_redeploy_stable_without_a_stable_only_stops_the_new_version() -> None:
    assert redeploy_stable(request(stable=None)) == (Retire("v2"),)
    steps = redeploy_stable(request(stable=StableVersion("v1", OLD, 3)))
    assert steps[0] == Deploy("v1", 3, OLD)
    assert steps[-1] == Retire("v2")


def test_index_of_finds_steps_by_type_and_version() -> None:
    plan = CanaryStrategy().plan(request())
    assert index_of(plan, Retire, "v1") == len(plan) - 2
    assert index_of(plan, Retire, "v9") == -1
    assert index_of(plan, SetWeights) == 2


def test_set_weights_round_trips_its_mapping() -> None:
    step = SetWeights.of({"v1": 95, "v2": 5})
    assert step.as_dict() == {"v1": 95.0, "v2": 5.0}
    assert step.weights == (("v1", 95.0), ("v2", 5.0))
