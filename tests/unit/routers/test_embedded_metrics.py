"""The embedded router's counters: snapshots, buckets, error classes, thread safety."""

from __future__ import annotations

import math
import threading

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from safeship.routers.embedded_metrics import (
    LATENCY_BUCKETS,
    RouterCounters,
    code_class,
    exposition,
    private_registry,
)


def test_a_version_never_seen_is_all_zeros() -> None:
    snapshot = RouterCounters(wall_clock=lambda: 42.0).snapshot("v1")
    assert (snapshot.at, snapshot.requests, snapshot.errors) == (42.0, 0, 0)
    assert set(snapshot.latency_buckets.values()) == {0}
    assert list(snapshot.latency_buckets) == [*LATENCY_BUCKETS, math.inf]


@pytest.mark.parametrize(("status", "klass"), [(200, "2xx"), (302, "3xx"), (404, "4xx"),
                                                (502, "5xx"), (101, "1xx")])
def test_code_classes(status: int, klass: str) -> None:
    assert code_class(status) == klass


def test_buckets_are_cumulative_and_bounds_inclusive() -> None:
    counters = RouterCounters()
    for seconds in (0.0, 0.005, 0.0051, 0.3, 10.0, 11.0):
        counters.record("v1", 200, seconds)
    buckets = counters.snapshot("v1").latency_buckets
    assert buckets[0.005] == 2  # "le" includes the bound
    assert buckets[0.01] == 3
    assert buckets[0.25] == 3
    assert buckets[0.5] == 4
    assert buckets[10.0] == 5
    assert buckets[math.inf] == 6


def test_errors_are_5xx_and_broken_answers() -> None:
    counters = RouterCounters()
    for status in (200, 404, 500, 503):
        counters.record("v1", status, 0.01)
    counters.record("v1", 200, 0.01, broken=True)
    snapshot = counters.snapshot("v1")
    assert (snapshot.requests, snapshot.errors) == (5, 3)


def test_counting_from_many_threads_loses_nothing() -> None:
    counters = RouterCounters()

    def hammer() -> None:
        for i in range(2000):
            counters.record("v1", 500 if i % 10 == 0 else 200, 0.001)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    snapshot = counters.snapshot("v1")
    assert (snapshot.requests, snapshot.errors) == (8000, 800)


def test_the_registry_is_private_and_the_text_parses() -> None:
    counters = RouterCounters()
    counters.record("v2", 200, 0.02)
    counters.record("v2", 500, 0.2)
    counters.record_unrouted()
    registry = private_registry(counters, lambda: {"v1": 90.0, "v2": 10.0})
    assert registry is not REGISTRY
    assert REGISTRY.get_sample_value("safeship_router_unrouted_total") is None
    text = exposition(registry).decode()
    names = {family.name for family in text_string_to_metric_families(text)}
    assert names == {"safeship_router_requests", "safeship_router_request_duration_seconds",
                     "safeship_router_weight_percent", "safeship_router_unrouted"}
    assert registry.get_sample_value("safeship_router_requests_total",
                                     {"version": "v2", "code_class": "5xx"}) == 1
    assert registry.get_sample_value("safeship_router_request_duration_seconds_bucket",
                                     {"version": "v2", "le": "0.025"}) == 1
    assert registry.get_sample_value("safeship_router_request_duration_seconds_sum",
                                     {"version": "v2"}) == pytest.approx(0.22)
    assert registry.get_sample_value("safeship_router_weight_percent",
                                     {"version": "v1"}) == 90
    assert registry.get_sample_value("safeship_router_unrouted_total") == 1
