"""Per-variant counters: evaluations counted by the provider, outcomes recorded by the app,
the ``CounterSource`` shape, and the Prometheus exposition."""

from __future__ import annotations

import math
import threading

from openfeature.evaluation_context import EvaluationContext
from openfeature.track import TrackingEventDetails
from prometheus_client import CollectorRegistry, generate_latest

from safeship.metrics.builtin import histogram_quantile
from safeship.model.counters import CounterSnapshot
from safeship.openfeature.counters import ERROR_VARIANT, LATENCY_BUCKETS, VariantCounters
from tests.unit.flags.flag_samples import boolean_flag
from tests.unit.openfeature.conftest import ConnectFn
from tests.unit.openfeature.fake_service import FakeFlagService


def test_evaluations_are_counted_per_flag_and_variant(connect: ConnectFn) -> None:
    connected = connect(FakeFlagService(boolean_flag("split", percent=0.5)))
    client = connected.client
    served = {"on": 0, "off": 0}
    for n in range(200):
        variant = client.get_boolean_details("split", False, EvaluationContext(f"u{n}")).variant
        assert variant is not None
        served[variant] += 1
    client.get_boolean_details("split", False, EvaluationContext())  # no key: an error
    client.get_boolean_details("missing", False, EvaluationContext("u"))
    counts = connected.provider.counters.evaluations()
    assert counts[("split", "on")] == served["on"]
    assert counts[("split", "off")] == served["off"]
    assert counts[("split", ERROR_VARIANT)] == 1
    assert counts[("missing", ERROR_VARIANT)] == 1


def test_outcomes_take_the_counter_source_shape() -> None:
    counters = VariantCounters(lambda: 1_700_000_000.0)
    for n in range(10):
        counters.record("checkout", "on", ok=n % 5 != 0, latency_s=0.02 * (n + 1))
    counters.record("checkout", "off", ok=True, latency_s=0.001)
    counters.record("checkout", "off", ok=False, latency_s=math.nan)  # not timed
    source = counters.counter_source("checkout")
    on = source.snapshot("on")
    assert isinstance(on, CounterSnapshot)
    assert (on.at, on.requests, on.errors) == (1_700_000_000.0, 10.0, 2.0)
    assert list(on.latency_buckets) == [*LATENCY_BUCKETS, math.inf]
    assert on.latency_buckets[math.inf] == 10.0
    assert on.latency_buckets[0.1] == 5.0  # 0.02 .. 0.10 s
    assert 0.1 < histogram_quantile(0.95, on.latency_buckets) <= 0.25
    off = source.snapshot("off")
    assert (off.requests, off.errors, off.latency_buckets[math.inf]) == (2.0, 1.0, 1.0)
    never = source.snapshot("nobody")
    assert (never.requests, never.errors, never.latency_buckets[math.inf]) == (0.0, 0.0, 0.0)
    assert counters.outcomes("checkout")["on"].seconds == sum(0.02 * (n + 1)
                                                              for n in range(10))


def test_concurrent_updates_lose_nothing() -> None:
    counters = VariantCounters(lambda: 0.0)

    def work() -> None:
        for _ in range(2000):
            counters.count_evaluation("f", "on")
            counters.record("f", "on", ok=True)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert counters.evaluations()[("f", "on")] == 8000
    assert counters.outcomes("f")["on"].total == 8000


def test_record_and_track_feed_the_prometheus_metrics(connect: ConnectFn) -> None:
    connected = connect(FakeFlagService(boolean_flag("checkout")))
    provider, client = connected.provider, connected.client
    client.get_boolean_value("checkout", False, EvaluationContext("u1"))
    provider.record("checkout", "on", ok=True, latency_s=0.03)
    client.track("request", EvaluationContext("u1"), TrackingEventDetails(
        value=0.2, attributes={"flag": "checkout", "variant": "on", "ok": False}))
    client.track("unrelated", EvaluationContext("u1"), TrackingEventDetails(value=1.0))
    provider.track("no details")
    registry = CollectorRegistry()
    provider.register_metrics(registry)
    text = generate_latest(registry).decode()
    assert 'safeship_flag_evaluations_total{flag="checkout",variant="on"} 1.0' in text
    assert ('safeship_flag_outcomes_total{flag="checkout",outcome="ok",variant="on"} 1.0'
            in text)
    assert ('safeship_flag_outcomes_total{flag="checkout",outcome="failed",variant="on"} 1.0'
            in text)
    assert ('safeship_flag_outcome_duration_seconds_bucket{flag="checkout",le="0.05",'
            'variant="on"} 1.0') in text
    assert ('safeship_flag_outcome_duration_seconds_count{flag="checkout",variant="on"} 2.0'
            in text)
