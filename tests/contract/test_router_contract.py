"""The routers family's contract, run on every router kind and on the fake.

API-level tests run on every kind. Tests marked ``router_traffic`` send real HTTP requests
through the router to the backends of :class:`~tests.contract.router_factories.VersionBackends`
(each answers with its version's name) and run only on kinds that carry traffic. Every loop is
bounded in count and in time; nothing asserts a duration.
"""

from __future__ import annotations

import math
from collections import Counter

import pytest

from safeship.routers.interface import PIN_HEADER, Router, RouterRejected, RouterUnavailable
from tests.contract.router_factories import TrafficClient, VersionBackends

router_traffic = pytest.mark.router_traffic

SPLIT_REQUESTS = 1000
SPLIT_TOLERANCE_PP = 2.0
"""Allowed distance, in percentage points, between a version's share and its weight."""


def _share(counts: Counter[str], version: str) -> float:
    return 100.0 * counts[version] / sum(counts.values())


def _only_versions(counts: Counter[str], *versions: str) -> None:
    unexpected = {outcome: n for outcome, n in counts.items() if outcome not in versions}
    assert not unexpected, f"failed or stray answers: {unexpected} (all: {dict(counts)})"


# --- API level: every router, the fake included ---------------------------------------------


def test_no_split_before_the_first_set_weights(router: Router) -> None:
    assert router.weights() == {}


@pytest.mark.parametrize("split", [
    {"v1": 100, "v2": 0}, {"v1": 90, "v2": 10}, {"v1": 50, "v2": 50}, {"v1": 0, "v2": 100},
    {"v1": 12.5, "v2": 87.5}, {"v1": 100},
], ids=lambda split: "/".join(f"{w:g}" for w in split.values()))
def test_weights_read_back_equal_what_was_set(router: Router, split: dict[str, float]) -> None:
    router.set_weights(split)
    assert router.weights() == pytest.approx(split)
    assert set(router.weights()) == set(split)


def test_setting_the_same_split_twice_is_harmless(router: Router) -> None:
    router.set_weights({"v1": 80, "v2": 20})
    router.set_weights({"v1": 80, "v2": 20})
    assert router.weights() == pytest.approx({"v1": 80, "v2": 20})


@pytest.mark.parametrize("bad", [
    {"v1": 60, "v2": 30},
    {"v1": 100.5, "v2": -0.5},
    {"v1": 110, "v2": -10},
    {"v1": 50, "v3": 50},
    {"v1": 50, "nope": 50},
    {"v1": math.nan, "v2": 100},
    {},
], ids=["sum-90", "slightly-negative", "negative", "declared-elsewhere", "unknown", "nan", "empty"])
def test_invalid_weights_are_rejected_and_the_split_stays(router: Router,
                                                          bad: dict[str, float]) -> None:
    router.set_weights({"v1": 70, "v2": 30})
    with pytest.raises(RouterRejected):
        router.set_weights(bad)
    assert router.weights() == pytest.approx({"v1": 70, "v2": 30})


def test_pin_headers_name_the_version(router: Router) -> None:
    assert router.pin_headers("v2") == {PIN_HEADER: "v2"}


def test_set_backends_replaces_the_versions(router: Router,
                                            router_backends: VersionBackends) -> None:
    router.set_backends(router_backends.endpoints("v1", "v3"))
    router.set_weights({"v1": 40, "v3": 60})
    assert router.weights() == pytest.approx({"v1": 40, "v3": 60})
    with pytest.raises(RouterRejected):
        router.set_weights({"v1": 50, "v2": 50})
    assert router.weights() == pytest.approx({"v1": 40, "v3": 60})


def test_a_version_carrying_traffic_cannot_lose_its_backends(
        router: Router, router_backends: VersionBackends) -> None:
    router.set_weights({"v1": 90, "v2": 10})
    with pytest.raises(RouterRejected):
        router.set_backends(router_backends.endpoints("v1"))
    assert router.weights() == pytest.approx({"v1": 90, "v2": 10})


def test_a_version_at_zero_can_be_removed(router: Router,
                                          router_backends: VersionBackends) -> None:
    router.set_weights({"v1": 100, "v2": 0})
    router.set_backends(router_backends.endpoints("v1"))
    assert router.weights() == pytest.approx({"v1": 100})


def test_reset_forgets_versions_and_weights(router: Router,
                                            router_backends: VersionBackends) -> None:
    router.set_weights({"v1": 50, "v2": 50})
    router.reset()
    assert router.weights() == {}
    with pytest.raises(RouterRejected):
        router.set_weights({"v1": 100})
    router.set_backends(router_backends.endpoints("v2"))
    router.set_weights({"v2": 100})
    assert router.weights() == pytest.approx({"v2": 100})


def test_close_is_idempotent_and_a_closed_router_is_unavailable(router: Router) -> None:
    router.set_weights({"v1": 100, "v2": 0})
    router.close()
    router.close()
    with pytest.raises(RouterUnavailable):
        router.weights()
    with pytest.raises(RouterUnavailable):
        router.set_weights({"v1": 0, "v2": 100})


# --- traffic level: routers that carry HTTP ---------------------------------------------------


@router_traffic
@pytest.mark.parametrize(("v1", "v2"), [(100, 0), (90, 10), (50, 50), (0, 100)])
def test_split_follows_the_weights(router: Router, traffic: TrafficClient,
                                   v1: float, v2: float) -> None:
    router.set_weights({"v1": v1, "v2": v2})
    counts = traffic.split(SPLIT_REQUESTS, concurrency=20)
    _only_versions(counts, "v1", "v2")
    assert sum(counts.values()) == SPLIT_REQUESTS
    assert abs(_share(counts, "v1") - v1) <= SPLIT_TOLERANCE_PP, counts
    assert abs(_share(counts, "v2") - v2) <= SPLIT_TOLERANCE_PP, counts
    if v2 == 0:
        assert counts["v2"] == 0
    if v1 == 0:
        assert counts["v1"] == 0


@router_traffic
def test_split_over_three_versions(router: Router, traffic: TrafficClient,
                                   router_backends: VersionBackends) -> None:
    router.set_backends(router_backends.endpoints("v1", "v2", "v3"))
    router.set_weights({"v1": 70, "v2": 20, "v3": 10})
    counts = traffic.split(SPLIT_REQUESTS, concurrency=20)
    _only_versions(counts, "v1", "v2", "v3")
    for version, weight in (("v1", 70), ("v2", 20), ("v3", 10)):
        assert abs(_share(counts, version) - weight) <= SPLIT_TOLERANCE_PP, counts


@router_traffic
def test_pin_header_reaches_a_version_at_zero_weight(router: Router,
                                                     traffic: TrafficClient) -> None:
    router.set_weights({"v1": 100, "v2": 0})
    pinned = traffic.split(50, concurrency=5, headers=router.pin_headers("v2"))
    assert pinned == Counter({"v2": 50})
    unpinned = traffic.split(50, concurrency=5)
    assert unpinned == Counter({"v1": 50})


@router_traffic
def test_a_flip_applies_to_the_very_next_request(router: Router,
                                                 traffic: TrafficClient) -> None:
    for _ in range(10):
        router.set_weights({"v1": 100, "v2": 0})
        assert traffic.get().version == "v1"
        router.set_weights({"v1": 0, "v2": 100})
        assert traffic.get().version == "v2"  # the first answer after set_weights returned


@router_traffic
def test_no_request_fails_while_weights_flip_under_load(router: Router,
                                                        traffic: TrafficClient) -> None:
    router.set_weights({"v1": 100, "v2": 0})
    with traffic.load(concurrency=10, max_requests=20_000, max_seconds=60) as run:
        assert run.wait_for_more(50), "the load never got going"
        for flip in range(20):
            split = {"v1": 0, "v2": 100} if flip % 2 == 0 else {"v1": 100, "v2": 0}
            router.set_weights(split)
            assert run.wait_for_more(50), f"traffic stalled after flip {flip}"
    assert run.failures == []
    _only_versions(run.counts, "v1", "v2")
    assert run.counts["v1"] > 0
    assert run.counts["v2"] > 0
    assert run.completed >= 50 + 20 * 50


@router_traffic
def test_a_rejected_split_leaves_traffic_where_it_was(router: Router,
                                                      traffic: TrafficClient) -> None:
    router.set_weights({"v1": 100, "v2": 0})
    for bad in ({"v1": 0, "v2": 90}, {"v1": 0, "v3": 100}, {"v1": -1, "v2": 101}):
        with pytest.raises(RouterRejected):
            router.set_weights(bad)
    assert traffic.split(200, concurrency=10) == Counter({"v1": 200})


@router_traffic
def test_after_reset_traffic_follows_the_new_configuration(
        router: Router, traffic: TrafficClient, router_backends: VersionBackends) -> None:
    router.set_weights({"v1": 50, "v2": 50})
    router.reset()
    router.set_backends(router_backends.endpoints("v3"))
    router.set_weights({"v3": 100})
    assert traffic.split(100, concurrency=10) == Counter({"v3": 100})
