"""The embedded router's routing table: exact weighted picks, stickiness, pins, checks."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from safeship.model.endpoints import Endpoint
from safeship.routers.embedded_table import (
    Route,
    RoutingTable,
    SmoothWeightedRoundRobin,
    Unroutable,
    rendezvous_choice,
)
from safeship.routers.interface import RouterRejected

V1 = (Endpoint("127.0.0.1", 8001), Endpoint("127.0.0.1", 8002))
V2 = (Endpoint("127.0.0.1", 9001),)
V3 = (Endpoint("127.0.0.1", 9101),)


def _picks(weights: dict[str, float], n: int) -> list[str | None]:
    picker = SmoothWeightedRoundRobin(weights)
    return [picker.pick() for _ in range(n)]


def _table(weights: dict[str, float]) -> RoutingTable:
    return RoutingTable.build({"v1": V1, "v2": V2, "v3": V3}, weights)


def _routed(route: Route | Unroutable) -> Route:
    assert isinstance(route, Route), route
    return route


@pytest.mark.parametrize(("weights", "cycle"), [
    ({"a": 90, "b": 10}, 10),
    ({"a": 50, "b": 50}, 2),
    ({"a": 70, "b": 20, "c": 10}, 10),
    ({"a": 12.5, "b": 87.5}, 8),
])
def test_every_cycle_holds_the_exact_split(weights: dict[str, float], cycle: int) -> None:
    for repeat in (1, 7):
        counts = Counter(_picks(weights, cycle * repeat))
        assert {k: v * 100 / (cycle * repeat) for k, v in counts.items()} == pytest.approx(
            {k: w for k, w in weights.items() if w > 0})


def test_a_long_cycle_stays_within_one_pick_of_its_share() -> None:
    weights = {"a": 33.333, "b": 66.667}  # 100 000 picks per cycle
    picker = SmoothWeightedRoundRobin(weights)
    seen: Counter[str | None] = Counter()
    for n in range(1, 1001):
        seen[picker.pick()] += 1
        for version, weight in weights.items():
            assert abs(seen[version] - weight * n / 100) <= 1


def test_the_minority_is_spread_out_not_bunched() -> None:
    picks = _picks({"a": 80, "b": 20}, 20)
    positions = [i for i, p in enumerate(picks) if p == "b"]
    assert len(positions) == 4
    gaps = [b - a for a, b in itertools.pairwise(positions)]
    assert all(gap == 5 for gap in gaps)


def test_prefixes_never_drift_more_than_one_pick() -> None:
    picker = SmoothWeightedRoundRobin({"a": 90, "b": 10})
    b = 0
    for i in range(1, 2001):
        b += picker.pick() == "b"
        assert abs(b - i * 0.1) <= 1


def test_zero_weights_are_never_picked_and_no_weights_pick_nothing() -> None:
    assert set(_picks({"a": 100, "b": 0}, 50)) == {"a"}
    assert _picks({}, 3) == [None, None, None]


def test_pin_wins_whatever_the_weight() -> None:
    table = _table({"v1": 100, "v2": 0})
    route = _routed(table.route(pin="v2"))
    assert (route.version, route.via) == ("v2", "pin")
    assert isinstance(table.route(pin="v9"), Unroutable)


def test_cookie_is_honoured_only_for_a_version_with_weight() -> None:
    table = _table({"v1": 50, "v2": 50, "v3": 0})
    assert _routed(table.route(cookie="v2")).via == "cookie"
    assert _routed(table.route(cookie="v3")).via == "weights"
    assert _routed(table.route(cookie="nope")).via == "weights"


def test_header_stickiness_is_stable_and_weighted() -> None:
    table = _table({"v1": 80, "v2": 20})
    chosen = {key: _routed(table.route(sticky_key=key)).version
              for key in (f"user-{i}" for i in range(2000))}
    again = {key: _routed(table.route(sticky_key=key)).version for key in chosen}
    assert chosen == again
    share = Counter(chosen.values())["v2"] / len(chosen)
    assert 0.16 <= share <= 0.24  # 2000 keys: within about 4.5 standard deviations of 0.2


def test_raising_a_canary_only_moves_keys_to_the_canary() -> None:
    keys = [f"k{i}" for i in range(3000)]
    before = {k: rendezvous_choice(k, {"stable": 90, "canary": 10}) for k in keys}
    after = {k: rendezvous_choice(k, {"stable": 50, "canary": 50}) for k in keys}
    assert all(after[k] == "canary" for k in keys if before[k] == "canary")
    moved = sum(before[k] != after[k] for k in keys)
    assert moved > 0


def test_rendezvous_ignores_order_and_zero_weights() -> None:
    for key in ("a", "b", "c", "d"):
        forward = rendezvous_choice(key, {"x": 30, "y": 70, "z": 0})
        backward = rendezvous_choice(key, {"z": 0, "y": 70, "x": 30})
        assert forward == backward
        assert forward != "z"
    assert rendezvous_choice("a", {"x": 0}) is None


def test_endpoints_of_a_version_take_turns() -> None:
    table = _table({"v1": 100})
    endpoints = [_routed(table.route()).endpoint for _ in range(6)]
    assert endpoints == [V1[0], V1[1]] * 3


def test_without_weights_a_request_is_unroutable() -> None:
    assert isinstance(RoutingTable.empty().route(), Unroutable)
    assert isinstance(_table({}).route(), Unroutable)


@pytest.mark.parametrize("bad", [
    {"v1": 50}, {"v1": 50, "v9": 50}, {"v1": -1, "v2": 101}, {}, {"": 100},
])
def test_bad_weights_are_rejected(bad: dict[str, float]) -> None:
    with pytest.raises(RouterRejected):
        _table({"v1": 100}).with_weights(bad)


@pytest.mark.parametrize("backends", [
    {"v1": ()}, {"": V1}, {"v1": (Endpoint("", 80),)}, {"v1": (Endpoint("h", 0),)},
])
def test_bad_backends_are_rejected(backends: dict[str, tuple[Endpoint, ...]]) -> None:
    with pytest.raises(RouterRejected):
        RoutingTable.build(backends, {})


def test_backends_go_only_when_they_carry_no_traffic() -> None:
    table = _table({"v1": 90, "v2": 10, "v3": 0})
    with pytest.raises(RouterRejected, match="v2"):
        table.with_backends({"v1": V1, "v3": V3})
    smaller = table.with_weights({"v1": 100, "v2": 0}).with_backends({"v1": V1})
    assert dict(smaller.weights) == {"v1": 100}
    assert set(smaller.backends) == {"v1"}


def test_a_table_never_changes_once_built() -> None:
    table = _table({"v1": 100})
    changed = table.with_weights({"v1": 0, "v2": 100})
    assert dict(table.weights) == {"v1": 100}
    assert dict(changed.weights) == {"v1": 0, "v2": 100}
    with pytest.raises(TypeError):
        table.weights["v1"] = 0  # type: ignore[index]
