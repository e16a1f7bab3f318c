"""``type: rolling``: batches bounded by max_surge and max_unavailable, a health gate each."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safeship.strategies.interface import (
    Deploy,
    HealthGate,
    PlanError,
    Retire,
    RollingOptions,
    Scale,
    SetWeights,
    StableVersion,
    redeploy_stable,
)
from safeship.strategies.rolling import RollingStrategy
from tests.unit.strategies.requests import OLD, World, play, request


def test_one_surge_batch_at_a_time_with_a_health_gate_each() -> None:
    plan = RollingStrategy().plan(request())
    deploys = [s for s in plan if isinstance(s, Deploy)]
    assert [d.replicas for d in deploys] == [1, 2, 3, 4]
    gates = [s for s in plan if isinstance(s, HealthGate)]
    assert [g.min_healthy for g in gates] == [1, 2, 3, 4]
    for deploy in deploys:  # every batch is followed by its gate
        assert isinstance(plan[plan.index(deploy) + 1], HealthGate)
    splits = [s.as_dict()["v2"] for s in plan if isinstance(s, SetWeights)]
    assert splits == [25.0, 50.0, 75.0, 100.0]
    assert [s.replicas for s in plan if isinstance(s, Scale)] == [3, 2, 1, 0]
    assert plan[-2] == Retire("v1")


def test_max_unavailable_scales_down_before_scaling_up() -> None:
    plan = RollingStrategy().plan(request(rolling=RollingOptions(max_surge=0,
                                                                max_unavailable=1)))
    assert plan[0] == SetWeights.of({"v1": 100.0, "v2": 0.0})
    assert plan[1] == Scale("v1", 3)
    world = play(plan)
    assert all(sum(inst.values()) <= 4 for inst, _ in world.history)


def test_a_bigger_batch_with_surge_and_unavailability() -> None:
    plan = RollingStrategy().plan(request(rolling=RollingOptions(max_surge=2,
                                                                max_unavailable=1)))
    assert [s.replicas for s in plan if isinstance(s, Deploy)] == [2, 4]


@pytest.mark.parametrize(("surge", "unavailable"), [(0, 0), (-1, 1), (1, -1)])
def test_impossible_batches_are_refused(surge: int, unavailable: int) -> None:
    with pytest.raises(PlanError):
        RollingStrategy().plan(request(rolling=RollingOptions(surge, unavailable)))


def test_a_failed_batch_redeploys_the_previous_artifact() -> None:
    req = request()
    assert RollingStrategy().rollback_plan(req, 3) == redeploy_stable(req)
    assert redeploy_stable(req)[0] == Deploy("v1", 4, OLD)


@given(replicas=st.integers(1, 12), old=st.integers(1, 12), surge=st.integers(0, 4),
       unavailable=st.integers(0, 4))
def test_rolling_never_exceeds_its_bounds(replicas: int, old: int, surge: int,
                                          unavailable: int) -> None:
    if surge == 0 and unavailable == 0:
        return
    req = request(replicas=replicas, stable=StableVersion("v1", OLD, old),
                  rolling=RollingOptions(surge, unavailable))
    plan = RollingStrategy().plan(req)
    world = play(plan, World({"v1": old}, {"v1": 100.0}, "v1"))
    limit = max(replicas, old) + surge
    for instances, weights in world.history:
        assert sum(instances.values()) <= limit
        assert abs(sum(weights.values()) - 100.0) < 1e-6
    assert world.instances["v2"] == replicas
    assert world.weights == {"v2": 100.0}
