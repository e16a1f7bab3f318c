"""The ``prometheus`` provider against a real Prometheus scraping a known synthetic load.

The target (``prometheus_server.SyntheticTarget``) records 200 requests/s per version with
2 % (baseline) and 10 % (canary) 5xx, and latencies uniform up to 100 ms and 200 ms. The guide's
two queries, scoped by the provider, must see exactly that difference.
"""

from __future__ import annotations

import itertools
import math
import time

import httpx
import pytest

from safeship.errors import MetricsUnavailable
from safeship.metrics.interface import TimeRange
from safeship.metrics.prometheus import PrometheusOptions, PrometheusProvider
from safeship.metrics.promql_scope import scope_query
from safeship.model.analysis import Arm
from safeship.model.canary import CanaryMetric, CanarySpec, CanaryStep, MetricCategory, Scope
from tests.integration.prometheus_server import PrometheusStack, closed_port_url
from tests.unit.metrics.test_promql_scope import CORPUS

pytestmark = pytest.mark.prometheus

ERROR_RATE = CanaryMetric(
    "error_rate",
    'sum(rate(http_requests_total{status=~"5.."}[2m])) / sum(rate(http_requests_total[2m]))',
)
LATENCY_P95 = CanaryMetric(
    "latency_p95",
    "histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket[2m])) by (le))",
    category=MetricCategory.LATENCY,
)
SPEC = CanarySpec("canary-analysis.yaml", "it", (CanaryStep(10, 60),), (
    ERROR_RATE, LATENCY_P95,
    CanaryMetric("slo_burn_rate", "(error_rate / (1 - 0.999))",
                 derived_from=("error_rate",), category=MetricCategory.ERROR_BUDGET),
))
RATE_PER_S = 200.0


def _provider(url: str, retries: int = 2) -> PrometheusProvider:
    return PrometheusProvider(PrometheusOptions(url=url, timeout=5, retries=retries),
                              sleep=lambda _s: None)


def _window(span_s: float, step_s: float) -> TimeRange:
    # End a second in the past so the last point's scrape has certainly happened.
    end = math.floor(time.time()) - 1.0
    return TimeRange(end - span_s, end, step_s)


def _finite(values: tuple[float, ...]) -> list[float]:
    return [v for v in values if math.isfinite(v)]


def _wait_for_history(stack: PrometheusStack, seconds: int) -> None:
    # Counts read the counters at the window's start too, so every series must have a sample
    # from before it: ``seconds`` samples of each, one per second (polled, with a deadline).
    stack.server.wait_for("min(count_over_time(http_requests_total[1m]))",
                          lambda count: count >= seconds, timeout_s=30)


def test_guide_error_rate_scoped_to_each_arm(prometheus_stack: PrometheusStack) -> None:
    provider = _provider(prometheus_stack.server.url)
    window = _window(8, 2)
    baseline = provider.query_range(ERROR_RATE, Arm.BASELINE, Scope(), window)
    canary = provider.query_range(ERROR_RATE, Arm.CANARY, Scope(), window)
    assert len(baseline) == len(canary) == 5
    assert baseline.timestamps == tuple(window.start + 2 * i for i in range(5))
    base_values, canary_values = _finite(baseline.values), _finite(canary.values)
    assert len(base_values) == len(canary_values) == 5
    assert all(v == pytest.approx(0.02, abs=0.006) for v in base_values), base_values
    assert all(v == pytest.approx(0.10, abs=0.015) for v in canary_values), canary_values


def test_guide_p95_scoped_to_each_arm(prometheus_stack: PrometheusStack) -> None:
    provider = _provider(prometheus_stack.server.url)
    window = _window(6, 3)
    baseline = _finite(provider.query_range(LATENCY_P95, Arm.BASELINE, Scope(), window).values)
    canary = _finite(provider.query_range(LATENCY_P95, Arm.CANARY, Scope(), window).values)
    assert len(baseline) == len(canary) == 3
    assert all(v == pytest.approx(0.095, abs=0.005) for v in baseline), baseline
    assert all(v == pytest.approx(0.19, abs=0.01) for v in canary), canary


@pytest.mark.parametrize("step_s", [4.0, 1.0])
def test_counts_are_per_interval_deltas_of_the_generated_load(
    prometheus_stack: PrometheusStack, step_s: float,
) -> None:
    # A 1 s step equals the scrape interval: each interval holds a single scrape, where
    # increase() over the interval would return nothing; the counter deltas still count it.
    _wait_for_history(prometheus_stack, 16)
    provider = _provider(prometheus_stack.server.url)
    window = _window(12, step_s)
    intervals = round(12 / step_s)
    expected_per_interval = RATE_PER_S * window.step_s
    for arm, error_share in ((Arm.BASELINE, 0.02), (Arm.CANARY, 0.10)):
        counts = provider.counts(SPEC, arm, window)
        assert counts is not None
        assert counts.timestamps == tuple(window.start + step_s * (i + 1)
                                          for i in range(intervals))
        requests = _finite(counts.requests)
        errors = _finite(counts.errors)
        assert len(requests) == len(errors) == intervals
        assert all(total == int(total) for total in requests)  # no extrapolation
        # Each interval is exactly the counter's growth between its two boundaries, as
        # Prometheus itself reports the counter there (the @ modifier pins the time). How many
        # requests the generator managed in each second depends on the machine's load, so only
        # the whole window is compared with the nominal rate.
        name = "canary" if arm is Arm.CANARY else "baseline"
        totals = [prometheus_stack.server.scalar(
            f'sum(http_requests_total{{version="{name}"}} @ {window.start + step_s * i:.3f})')
            for i in range(intervals + 1)]
        assert requests == [after - before for before, after in itertools.pairwise(totals)]
        assert sum(requests) == pytest.approx(expected_per_interval * intervals, rel=0.4)
        assert sum(errors) / sum(requests) == pytest.approx(error_share, rel=0.3)
        inf_bucket = counts.latency_buckets[math.inf]
        assert inf_bucket == pytest.approx(counts.requests, rel=1e-6)
        # Cumulative buckets: baseline latencies are all <= 0.1 s, half of the canary's are.
        tenth = sum(counts.latency_buckets[0.1]) / sum(inf_bucket)
        assert tenth == pytest.approx(1.0 if arm is Arm.BASELINE else 0.5, abs=0.03)
    # Prometheus' totals trail what the generator produced by at most a few scrapes.
    scraped = prometheus_stack.server.scalar('sum(http_requests_total{version="canary"})')
    lag = prometheus_stack.target.generated["canary"] - scraped
    assert 0 <= lag <= 3 * RATE_PER_S


def test_an_unreachable_server_is_metrics_unavailable() -> None:
    url = closed_port_url()
    with pytest.raises(MetricsUnavailable, match="cannot connect") as caught:
        _provider(url, retries=1).query_range(ERROR_RATE, Arm.CANARY, Scope(), _window(4, 2))
    assert url in caught.value.message
    assert "2 attempts" in caught.value.message


def test_a_query_with_several_series_is_refused(prometheus_stack: PrometheusStack) -> None:
    metric = CanaryMetric("by_status", "sum by (status) (rate(http_requests_total[10s]))")
    with pytest.raises(MetricsUnavailable, match=r"returned 2 series") as caught:
        _provider(prometheus_stack.server.url).query_range(metric, Arm.CANARY, Scope(),
                                                           _window(4, 2))
    assert "sum(...)" in (caught.value.hint or "")
    assert 'version="canary"' in caught.value.message


def test_a_query_prometheus_rejects_is_reported(prometheus_stack: PrometheusStack) -> None:
    # promql_parser knows limitk (Prometheus 2.54+); this Prometheus (2.42) answers 400.
    metric = CanaryMetric("top", "sum(limitk(1, http_requests_total))")
    with pytest.raises(MetricsUnavailable, match=r"HTTP 400 \(bad_data"):
        _provider(prometheus_stack.server.url).query_range(metric, Arm.CANARY, Scope(),
                                                           _window(4, 2))


def test_a_metric_without_data_is_nan_not_zero(prometheus_stack: PrometheusStack) -> None:
    metric = CanaryMetric("absent", "sum(rate(no_such_metric_total[1m]))")
    series = _provider(prometheus_stack.server.url).query_range(
        metric, Arm.CANARY, Scope(), _window(4, 2))
    assert len(series) == 3
    assert all(math.isnan(v) for v in series.values)


def test_every_scoped_corpus_query_is_valid_promql_for_prometheus(
    prometheus_stack: PrometheusStack,
) -> None:
    # What promql_parser prints must also parse in the real Prometheus (2.42 here), which
    # answers 400 bad_data to anything it cannot parse.
    rejected = {}
    for query in CORPUS:
        scoped = scope_query(query, "version", "canary")
        try:
            prometheus_stack.server.query(scoped)
        except httpx.HTTPStatusError as exc:
            rejected[scoped] = exc.response.text
    assert rejected == {}
