"""The ``builtin`` provider over a fake counter source: snapshots, deltas, ratios, quantiles."""

from __future__ import annotations

import math
from collections.abc import Mapping

import pytest

from safeship.errors import InternalError, MetricsUnavailable
from safeship.metrics.builtin import (
    BuiltinOptions,
    BuiltinProvider,
    histogram_quantile,
    quantile_of,
)
from safeship.metrics.interface import CounterSnapshot, TimeRange
from safeship.model.analysis import Arm, ArmCounts
from safeship.model.canary import CanaryMetric, CanarySpec, CanaryStep, MetricCategory, Scope

INF = math.inf
BOUNDS = (0.05, 0.1, 0.2, 0.5)


class FakeCounterSource:
    """Cumulative per-version counters the test drives by hand; ``at`` is its own clock."""

    def __init__(self) -> None:
        self.requests: dict[str, float] = {}
        self.errors: dict[str, float] = {}
        self.buckets: dict[str, dict[float, float]] = {}
        self.fail = False

    def serve(self, version: str, latencies: list[float], errors: int = 0) -> None:
        self.requests[version] = self.requests.get(version, 0) + len(latencies)
        self.errors[version] = self.errors.get(version, 0) + errors
        counts = self.buckets.setdefault(version, dict.fromkeys(BOUNDS, 0.0))
        for latency in latencies:
            for bound in BOUNDS:
                if latency <= bound:
                    counts[bound] += 1

    def restart(self, version: str) -> None:
        self.requests[version] = 0
        self.errors[version] = 0
        self.buckets[version] = dict.fromkeys(BOUNDS, 0.0)

    def snapshot(self, version: str) -> CounterSnapshot:
        if self.fail:
            raise ConnectionError("router gone")
        buckets: Mapping[float, float] = dict(self.buckets.get(version, {}))
        return CounterSnapshot(at=-1.0, requests=self.requests.get(version, 0),
                               errors=self.errors.get(version, 0), latency_buckets=buckets)


SPEC = CanarySpec("c.yaml", "t", (CanaryStep(10, 60),), (CanaryMetric("error_rate", "x"),))
ERROR_RATE = CanaryMetric("error_rate", "ignored")
P95 = CanaryMetric("latency_p95", "ignored", category=MetricCategory.LATENCY)
WINDOW = TimeRange(100.0, 200.0, 10.0)


def _uniform(n: int, top: float) -> list[float]:
    return [(i + 0.5) * top / n for i in range(n)]


def _run(source: FakeCounterSource, provider: BuiltinProvider, ticks: int,
         errors: Mapping[str, int]) -> None:
    for tick in range(ticks):
        source.serve("baseline", _uniform(100, 0.1), errors.get("baseline", 0))
        source.serve("canary", _uniform(100, 0.2), errors.get("canary", 0))
        provider.sample(110.0 + 10 * tick)


def test_counts_are_deltas_between_successive_snapshots() -> None:
    source = FakeCounterSource()
    provider = BuiltinProvider(source)
    provider.sample(100.0)
    _run(source, provider, 3, {"baseline": 2, "canary": 10})
    counts = provider.counts(SPEC, Arm.CANARY, WINDOW)
    assert counts is not None
    assert counts.timestamps == (110.0, 120.0, 130.0)
    assert counts.requests == (100.0, 100.0, 100.0)
    assert counts.errors == (10.0, 10.0, 10.0)
    assert counts.latency_buckets[0.05] == (25.0, 25.0, 25.0)
    assert counts.latency_buckets[INF] == counts.requests  # +Inf added from requests
    baseline = provider.counts(SPEC, Arm.BASELINE, WINDOW)
    assert baseline is not None
    assert baseline.errors == (2.0, 2.0, 2.0)


def test_snapshots_are_stamped_with_the_callers_clock() -> None:
    source = FakeCounterSource()
    provider = BuiltinProvider(source)
    provider.sample(123.0)
    assert [s.at for s in provider.snapshots("canary", TimeRange(0, 1000, 1))] == [123.0]


def test_a_router_restart_is_a_counter_reset() -> None:
    source = FakeCounterSource()
    provider = BuiltinProvider(source)
    source.serve("canary", [0.01] * 50, 5)
    provider.sample(100.0)
    source.restart("canary")
    source.serve("canary", [0.01] * 30, 1)
    provider.sample(110.0)
    counts = provider.counts(SPEC, Arm.CANARY, WINDOW)
    assert counts is not None
    assert (counts.requests, counts.errors) == ((30.0,), (1.0,))


def test_window_filters_snapshots_and_needs_two() -> None:
    source = FakeCounterSource()
    provider = BuiltinProvider(source)
    for at in (50.0, 100.0, 150.0, 250.0):
        source.serve("canary", [0.01] * 10)
        provider.sample(at)
    counts = provider.counts(SPEC, Arm.CANARY, WINDOW)
    assert counts is not None
    assert counts.timestamps == (150.0,)
    assert provider.counts(SPEC, Arm.CANARY, TimeRange(240, 260, 10)) == ArmCounts()


def test_history_is_bounded() -> None:
    source = FakeCounterSource()
    provider = BuiltinProvider(source, BuiltinOptions(history=3))
    for at in range(10):
        provider.sample(float(at))
    assert [s.at for s in provider.snapshots("canary", TimeRange(0, 100, 1))] == [7.0, 8.0, 9.0]
    with pytest.raises(ValueError, match="greater than or equal to 2"):
        BuiltinOptions(history=1)


def test_sampling_twice_at_one_instant_keeps_the_later_reading() -> None:
    source = FakeCounterSource()
    provider = BuiltinProvider(source)
    provider.sample(100.0)
    source.serve("canary", [0.01] * 7)
    provider.sample(100.0)
    snaps = provider.snapshots("canary", WINDOW)
    assert [(s.at, s.requests) for s in snaps] == [(100.0, 7)]
    with pytest.raises(InternalError, match="forward"):
        provider.sample(99.0)


def test_a_failing_source_is_unavailable_metrics() -> None:
    source = FakeCounterSource()
    source.fail = True
    with pytest.raises(MetricsUnavailable, match="router gone"):
        BuiltinProvider(source).sample(1.0)


def test_versions_come_from_the_scope_or_are_given() -> None:
    source = FakeCounterSource()
    assert BuiltinProvider(source, scope=Scope("v", "v1", "v2")).versions == ("v1", "v2")
    assert BuiltinProvider(source, versions=["a", "a", "b"]).versions == ("a", "b")


def test_availability_is_errors_over_requests_per_interval() -> None:
    source = FakeCounterSource()
    provider = BuiltinProvider(source)
    provider.sample(100.0)
    _run(source, provider, 2, {"baseline": 2, "canary": 10})
    provider.sample(130.0)  # an interval without requests: no data, not a zero error rate
    canary = provider.query_range(ERROR_RATE, Arm.CANARY, Scope(), WINDOW)
    assert canary.timestamps == (110.0, 120.0, 130.0)
    assert canary.values[:2] == (0.1, 0.1)
    assert math.isnan(canary.values[2])
    baseline = provider.query_range(ERROR_RATE, Arm.BASELINE, Scope(), WINDOW)
    assert baseline.values[:2] == (0.02, 0.02)


def test_latency_quantile_from_bucket_deltas() -> None:
    source = FakeCounterSource()
    provider = BuiltinProvider(source)
    provider.sample(100.0)
    _run(source, provider, 2, {})
    baseline = provider.query_range(P95, Arm.BASELINE, Scope(), WINDOW)
    canary = provider.query_range(P95, Arm.CANARY, Scope(), WINDOW)
    # Uniform 0-100 ms: p95 lies in (0.05, 0.1]; uniform 0-200 ms: p95 lies in (0.1, 0.2].
    assert baseline.values == pytest.approx((0.095, 0.095))
    assert canary.values == pytest.approx((0.19, 0.19))
    p50 = CanaryMetric("latency_p50", "x", category=MetricCategory.LATENCY)
    assert provider.query_range(p50, Arm.CANARY, Scope(), WINDOW).values == pytest.approx(
        (0.1, 0.1))


def test_unknown_metrics_are_nan_and_derived_ones_refused() -> None:
    source = FakeCounterSource()
    provider = BuiltinProvider(source)
    provider.sample(100.0)
    _run(source, provider, 1, {})
    business = CanaryMetric("checkout", "x", category=MetricCategory.BUSINESS)
    series = provider.query_range(business, Arm.CANARY, Scope(), WINDOW)
    assert len(series) == 1
    assert math.isnan(series.values[0])
    other = provider.query_range(ERROR_RATE, Arm.CANARY, Scope("version", "x", "y"), WINDOW)
    assert len(other) == 0  # a version that was never sampled
    derived = CanaryMetric("burn", "error_rate / 0.001", derived_from=("error_rate",),
                           category=MetricCategory.ERROR_BUDGET)
    with pytest.raises(InternalError):
        provider.query_range(derived, Arm.CANARY, Scope(), WINDOW)


@pytest.mark.parametrize(
    ("name", "query", "expected"),
    [
        ("latency_p95", "", 0.95),
        ("p99_latency", "", 0.99),
        ("latency_p50", "histogram_quantile(0.9, sum by (le) (rate(x_bucket[1m])))", 0.5),
        ("latency_p999", "", 0.999),
        ("latency_p5", "", 0.05),
        ("latency", "histogram_quantile(0.9, sum by (le) (rate(x_bucket[1m])))", 0.9),
        ("latency", "max(x)", 0.95),
        ("latency_p100", "", 0.95),
        ("http_duration", "", 0.95),
    ],
)
def test_quantile_implied_by_the_metric(name: str, query: str, expected: float) -> None:
    assert quantile_of(CanaryMetric(name, query)) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("q", "buckets", "expected"),
    [
        (0.5, {0.1: 50.0, 0.2: 100.0, INF: 100.0}, 0.1),
        (0.75, {0.1: 50.0, 0.2: 100.0, INF: 100.0}, 0.15),
        (0.25, {0.1: 50.0, 0.2: 100.0, INF: 100.0}, 0.05),  # lowest bucket starts at 0
        (0.99, {0.1: 50.0, 0.2: 90.0, INF: 100.0}, 0.2),  # rank in +Inf: highest finite bound
        (0.5, {-1.0: 60.0, 0.2: 90.0, INF: 100.0}, -1.0),  # non-positive lowest bound
        (0.5, {0.1: 0.0, INF: 0.0}, math.nan),  # no observations
        (0.5, {0.1: 5.0, 0.2: 10.0}, math.nan),  # no +Inf bucket
        (0.5, {INF: 10.0}, math.nan),  # a single bucket
        (0.5, {0.1: math.nan, INF: 10.0}, math.nan),
        (-0.1, {0.1: 1.0, INF: 1.0}, -INF),
        (1.5, {0.1: 1.0, INF: 1.0}, INF),
        (math.nan, {0.1: 1.0, INF: 1.0}, math.nan),
        (0.5, {0.1: 60.0, 0.2: 40.0, INF: 100.0}, 0.1 * 50 / 60),  # made monotonic
    ],
)
def test_histogram_quantile_like_prometheus(q: float, buckets: dict[float, float],
                                            expected: float) -> None:
    value = histogram_quantile(q, buckets)
    assert (math.isnan(value) and math.isnan(expected)) or value == pytest.approx(expected)
