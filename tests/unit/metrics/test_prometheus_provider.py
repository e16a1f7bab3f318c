"""The ``prometheus`` provider against a scripted HTTP transport (no server needed)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from safeship._internal.http import client_factory_with_transport
from safeship._internal.prometheus_api import display_url
from safeship.errors import InternalError, MetricsUnavailable
from safeship.metrics import prometheus
from safeship.metrics.interface import TimeRange
from safeship.metrics.prometheus import PrometheusOptions, PrometheusProvider
from safeship.metrics.promql_scope import PromQLScopeError
from safeship.model.analysis import Arm, ArmCounts
from safeship.model.canary import CanaryMetric, CanarySpec, CanaryStep, MetricCategory, Scope

ERROR_RATE = CanaryMetric(
    "error_rate",
    'sum(rate(http_requests_total{status=~"5.."}[2m])) / sum(rate(http_requests_total[2m]))',
)
P95 = CanaryMetric(
    "latency_p95",
    "histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket[2m])) by (le))",
    category=MetricCategory.LATENCY,
)
SPEC = CanarySpec("c.yaml", "t", (CanaryStep(10, 60),), (ERROR_RATE, P95))
WINDOW = TimeRange(1000.0, 1040.0, 10.0)

Handler = Callable[[httpx.Request], httpx.Response]


def _matrix(*series: tuple[dict[str, str], list[tuple[float, str]]]) -> dict[str, Any]:
    return {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": labels, "values": [[ts, value] for ts, value in values]}
        for labels, values in series]}}


class Scripted:
    """Answers each request with the next handler (the last one repeats) and records them."""

    def __init__(self, *handlers: Handler) -> None:
        self.handlers = list(handlers)
        self.requests: list[httpx.Request] = []
        self.pauses: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        handler = self.handlers.pop(0) if len(self.handlers) > 1 else self.handlers[0]
        return handler(request)

    def provider(self, **options: Any) -> PrometheusProvider:
        settings = {"url": "http://user:s3cret@prom.example:9090/prefix/", **options}
        return PrometheusProvider(
            PrometheusOptions.model_validate(settings),
            http=client_factory_with_transport(httpx.MockTransport(self)),
            sleep=self.pauses.append,
        )

    def params(self, index: int = -1) -> dict[str, str]:
        return dict(self.requests[index].url.params)


def _reply(body: Any, status: int = 200) -> Handler:
    return lambda request: httpx.Response(status, json=body)


def test_query_range_scopes_the_query_and_sends_the_grid() -> None:
    script = Scripted(_reply(_matrix(({}, [(1000, "0.1"), (1020, "NaN"), (1030, "+Inf")]))))
    series = script.provider(headers={"X-Team": "a"}).query_range(
        ERROR_RATE, Arm.CANARY, Scope(), WINDOW)
    request = script.requests[0]
    assert request.url.path == "/prefix/api/v1/query_range"
    assert request.headers["X-Team"] == "a"
    assert script.params() == {
        "query": 'sum(rate(http_requests_total{status=~"5..",version="canary"}[2m])) / '
                 'sum(rate(http_requests_total{version="canary"}[2m]))',
        "start": "1000.000", "end": "1040.000", "step": "10", "timeout": "10s",
    }
    assert series.timestamps == (1000.0, 1010.0, 1020.0, 1030.0, 1040.0)
    values = series.values
    assert values[0] == 0.1
    assert values[3] == math.inf
    assert all(math.isnan(v) for v in (values[1], values[2], values[4]))


def test_no_series_is_all_nan_never_zero() -> None:
    script = Scripted(_reply(_matrix()))
    series = script.provider().query_range(ERROR_RATE, Arm.BASELINE, Scope(), WINDOW)
    assert len(series) == 5
    assert all(math.isnan(v) for v in series.values)


def test_several_series_are_refused_with_advice_to_aggregate() -> None:
    script = Scripted(_reply(_matrix(({"status": "200"}, [(1000, "1")]),
                                     ({"status": "500"}, [(1000, "2")]))))
    metric = CanaryMetric("by_status", "sum by (status) (rate(http_requests_total[1m]))")
    with pytest.raises(MetricsUnavailable, match="2 series") as caught:
        script.provider().query_range(metric, Arm.CANARY, Scope(), WINDOW)
    assert "sum by (status)" in caught.value.message
    assert "sum(...)" in (caught.value.hint or "")


def test_points_are_aligned_to_the_grid() -> None:
    script = Scripted(_reply(_matrix(({}, [(1010.0004, "1"), (1039.9996, "2"), (2000, "9")]))))
    series = script.provider().query_range(ERROR_RATE, Arm.CANARY, Scope(), WINDOW)
    assert series.values[1] == 1.0
    assert series.values[4] == 2.0
    assert sum(1 for v in series.values if not math.isnan(v)) == 2


def test_5xx_and_connection_errors_are_retried_then_succeed() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    script = Scripted(_reply({"status": "error", "error": "busy"}, 503), refuse,
                      _reply(_matrix(({}, [(1000, "1")]))))
    series = script.provider(retries=2).query_range(ERROR_RATE, Arm.CANARY, Scope(), WINDOW)
    assert series.values[0] == 1.0
    assert len(script.requests) == 3
    assert script.pauses == [0.25, 0.25]


def test_retries_are_bounded_and_the_error_masks_credentials() -> None:
    def time_out(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    script = Scripted(time_out)
    with pytest.raises(MetricsUnavailable) as caught:
        script.provider(retries=1, timeout=2).query_range(ERROR_RATE, Arm.CANARY, Scope(),
                                                          WINDOW)
    message = caught.value.message
    assert len(script.requests) == 2
    assert "http://user:***@prom.example:9090/prefix" in message
    assert "s3cret" not in message
    assert "s3cret" not in str(caught.value.diagnostics())
    assert "no answer within 2 s" in message
    assert 'version="canary"' in message  # the query is named


def test_a_rejected_query_is_not_retried_and_carries_prometheus_error() -> None:
    body = {"status": "error", "errorType": "bad_data", "error": "parse error at char 5"}
    script = Scripted(_reply(body, 400))
    with pytest.raises(MetricsUnavailable, match=r"HTTP 400 \(bad_data: parse error at char 5\)"):
        script.provider().query_range(ERROR_RATE, Arm.CANARY, Scope(), WINDOW)
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"status": "error", "error": "oops"}, "did not succeed"),
        ({"status": "success", "data": {"resultType": "vector", "result": []}}, "matrix"),
        ({"status": "success", "data": {"resultType": "matrix", "result": [{"values": 3}]}},
         "malformed"),
        ({"status": "success", "data": {"resultType": "matrix", "result": {}}}, "result list"),
        ([], "no status"),
    ],
)
def test_unusable_answers_fail_closed(body: Any, needle: str) -> None:
    with pytest.raises(MetricsUnavailable, match=needle):
        Scripted(_reply(body)).provider().query_range(ERROR_RATE, Arm.CANARY, Scope(), WINDOW)


def test_a_body_that_is_not_json_fails_closed() -> None:
    script = Scripted(lambda request: httpx.Response(200, text="<html>login</html>"))
    with pytest.raises(MetricsUnavailable, match="not JSON"):
        script.provider().query_range(ERROR_RATE, Arm.CANARY, Scope(), WINDOW)


def test_unscopable_queries_and_derived_metrics_are_refused() -> None:
    script = Scripted(_reply(_matrix()))
    with pytest.raises(MetricsUnavailable, match="cannot narrow"):
        script.provider().query_range(CanaryMetric("k", "vector(1)"), Arm.CANARY, Scope(),
                                      WINDOW)
    derived = CanaryMetric("burn", "error_rate / 0.001", derived_from=("error_rate",))
    with pytest.raises(InternalError):
        script.provider().query_range(derived, Arm.CANARY, Scope(), WINDOW)
    assert script.requests == []


def test_too_many_points_are_refused_before_asking() -> None:
    script = Scripted(_reply(_matrix()))
    with pytest.raises(MetricsUnavailable, match="at most 11000"):
        script.provider().query_range(ERROR_RATE, Arm.CANARY, Scope(), TimeRange(0, 20_000, 1))
    assert script.requests == []


BOUNDS = (1000.0, 1010.0, 1020.0, 1030.0, 1040.0)
"""WINDOW's interval boundaries: the cumulative counters are read there, one point per bound."""


def _totals(values: list[str | None]) -> list[tuple[float, str]]:
    """Points on BOUNDS; None leaves the bound without a sample."""
    return [(t, v) for t, v in zip(BOUNDS, values, strict=True) if v is not None]


def _counts_server(request: httpx.Request) -> httpx.Response:
    query = request.url.params["query"]
    if "le" in query:
        return httpx.Response(200, json=_matrix(
            ({"le": "0.1"}, _totals(["1000", "1080", "1160", "1240", "1320"])),
            ({"le": "+Inf"}, _totals(["2000", "2100", "2200", "2300", "2400"])),
        ))
    if "status" in query:  # errors: the 5xx series appears between 1010 and 1020
        return httpx.Response(200, json=_matrix(({}, _totals([None, None, "3", "6", None]))))
    return httpx.Response(200, json=_matrix(({}, _totals(["2000", "2100", "2200", "2300", None]))))


def test_counts_difference_the_cumulative_counters() -> None:
    script = Scripted(_counts_server)
    counts = script.provider().counts(SPEC, Arm.CANARY, WINDOW)
    queries = [r.url.params["query"] for r in script.requests]
    assert queries == [
        'sum(http_requests_total{version="canary"})',
        'sum(http_requests_total{status=~"5..",version="canary"})',
        'sum by (le)(http_request_duration_seconds_bucket{version="canary"})',
    ]
    # One point more than intervals: the window's start is the first interval's left edge.
    assert {(r.url.params["start"], r.url.params["end"], r.url.params["step"])
            for r in script.requests} == {("1000.000", "1040.000", "10")}
    assert counts is not None
    assert counts.timestamps == (1010.0, 1020.0, 1030.0, 1040.0)
    assert counts.requests[:3] == (100.0, 100.0, 100.0)
    assert math.isnan(counts.requests[3])
    # A missing error total where the request total exists is zero; without requests, NaN.
    assert counts.errors[:3] == (0.0, 3.0, 3.0)
    assert math.isnan(counts.errors[3])
    assert counts.latency_buckets == {0.1: (80.0,) * 4, math.inf: (100.0,) * 4}


def _ratio_server(requests: list[str | None], errors: list[str | None] | None) -> Handler:
    def server(request: httpx.Request) -> httpx.Response:
        if "status" in request.url.params["query"]:
            return httpx.Response(200, json=_matrix() if errors is None else
                                  _matrix(({}, _totals(errors))))
        return httpx.Response(200, json=_matrix(({}, _totals(requests))))
    return server


RATIO_SPEC = CanarySpec("c.yaml", "t", (CanaryStep(10, 60),), (ERROR_RATE,))


def test_a_counter_reset_counts_the_new_value() -> None:
    server = _ratio_server(["500", "600", "50", "150", "250"], ["10", "20", "5", "5", "7"])
    counts = Scripted(server).provider().counts(RATIO_SPEC, Arm.CANARY, WINDOW)
    assert counts is not None
    assert counts.requests == (100.0, 50.0, 100.0, 100.0)
    assert counts.errors == (10.0, 5.0, 0.0, 2.0)


def test_a_missing_error_series_of_the_same_metric_is_zero_errors() -> None:
    server = _ratio_server(["0", "100", "200", "300", "400"], None)
    counts = Scripted(server).provider().counts(RATIO_SPEC, Arm.CANARY, WINDOW)
    assert counts is not None
    assert counts.requests == (100.0,) * 4
    assert counts.errors == (0.0,) * 4


def test_gaps_make_both_neighbouring_intervals_nan() -> None:
    server = _ratio_server(["0", "100", None, "300", "400"], ["0", "5", None, None, "9"])
    counts = Scripted(server).provider().counts(RATIO_SPEC, Arm.CANARY, WINDOW)
    assert counts is not None
    assert counts.requests[0] == counts.requests[3] == 100.0
    assert math.isnan(counts.requests[1])
    assert math.isnan(counts.requests[2])
    # At 1030 the requests are there and the errors are not: zero errors so far, as at 1000.
    assert counts.errors[0] == 5.0
    assert counts.errors[3] == 9.0
    assert math.isnan(counts.errors[1])
    assert math.isnan(counts.errors[2])


def test_an_explicit_nan_total_stays_nan_without_requests() -> None:
    server = _ratio_server(["0", "NaN", "200", "300", "400"], ["0", "NaN", "2", "3", "4"])
    counts = Scripted(server).provider().counts(RATIO_SPEC, Arm.CANARY, WINDOW)
    assert counts is not None
    assert all(math.isnan(v) for v in (*counts.requests[:2], *counts.errors[:2]))
    assert counts.requests[2:] == (100.0, 100.0)
    assert counts.errors[2:] == (1.0, 1.0)


def test_no_request_series_gives_nan_counts_never_zeros() -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=_matrix())

    counts = Scripted(server).provider().counts(RATIO_SPEC, Arm.CANARY, WINDOW)
    assert counts is not None
    assert len(counts.requests) == len(counts.errors) == 4
    assert all(math.isnan(v) for v in (*counts.requests, *counts.errors))


def test_counts_work_with_a_fractional_step() -> None:
    def server(request: httpx.Request) -> httpx.Response:
        errors = "status" in request.url.params["query"]
        values = ("0", "1", "3") if errors else ("0", "10", "30")
        return httpx.Response(200, json=_matrix(({}, list(zip((1000, 1002.5, 1005), values,
                                                               strict=True)))))

    script = Scripted(server)
    counts = script.provider().counts(RATIO_SPEC, Arm.CANARY, TimeRange(1000.0, 1005.0, 2.5))
    assert script.params()["step"] == "2.5"
    assert counts is not None
    assert counts.timestamps == (1002.5, 1005.0)
    assert counts.requests == (10.0, 20.0)
    assert counts.errors == (1.0, 2.0)


def test_counts_without_recognisable_metrics_is_none() -> None:
    spec = CanarySpec("c.yaml", "t", (CanaryStep(10, 60),), (CanaryMetric("cpu", "max(x)"),))
    assert Scripted(_reply(_matrix())).provider().counts(spec, Arm.CANARY, WINDOW) is None


def test_a_counter_query_that_cannot_be_written_gives_no_counts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(query: str) -> None:
        raise PromQLScopeError(f"cannot write {query}")

    monkeypatch.setattr(prometheus, "counter_queries", refuse)
    script = Scripted(_reply(_matrix()))
    assert script.provider().counts(SPEC, Arm.CANARY, WINDOW) is None
    assert script.requests == []


def test_counts_of_a_window_shorter_than_a_step_are_empty() -> None:
    script = Scripted(_reply(_matrix()))
    assert script.provider().counts(SPEC, Arm.CANARY, TimeRange(0, 5, 10)) == ArmCounts()
    assert script.requests == []


def test_histogram_only_spec_takes_requests_from_the_inf_bucket() -> None:
    spec = CanarySpec("c.yaml", "t", (CanaryStep(10, 60),), (P95,))
    counts = Scripted(_counts_server).provider().counts(spec, Arm.BASELINE, WINDOW)
    assert counts is not None
    assert counts.requests == (100.0,) * 4
    assert counts.errors == ()


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        ({"url": "ftp://x"}, "http"),
        ({"url": "http://x", "retries": 6}, "less than or equal"),
        ({"url": "http://x", "timeout": 0}, "greater than"),
        ({"url": "http://x?a=1"}, "query string"),
        ({"url": "http://x", "other": 1}, "Extra"),
    ],
)
def test_options_are_validated(options: dict[str, Any], needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        PrometheusOptions.model_validate(options)


def test_display_url_masks_secrets() -> None:
    assert display_url("https://a:b@h:1/p?token=x") == "https://a:***@h:1/p?..."
    assert display_url("http://tok@h") == "http://***@h"
    assert display_url("http://[::1]:9090") == "http://[::1]:9090"
    assert json.dumps(display_url("http://h:99999")) == '"<invalid URL>"'


def test_missing_errors_of_another_metric_stay_nan() -> None:
    # errors_total may simply not be exported: only the same metric proves "zero errors".
    ratio = CanaryMetric("error_rate",
                         "sum(rate(errors_total[1m])) / sum(rate(requests_total[1m]))")
    spec = CanarySpec("c.yaml", "t", (CanaryStep(10, 60),), (ratio,))

    def server(request: httpx.Request) -> httpx.Response:
        if "errors_total" in request.url.params["query"]:
            return httpx.Response(200, json=_matrix())
        return httpx.Response(200, json=_matrix(({}, _totals(["0", "100", "200", "300", "400"]))))

    counts = Scripted(server).provider().counts(spec, Arm.CANARY, WINDOW)
    assert counts is not None
    assert counts.requests == (100.0,) * 4
    assert all(math.isnan(e) for e in counts.errors)


def test_a_bucket_without_numeric_le_fails_closed() -> None:
    spec = CanarySpec("c.yaml", "t", (CanaryStep(10, 60),), (P95,))
    script = Scripted(_reply(_matrix(({"le": "fast"}, [(1010.0, "1")]))))
    with pytest.raises(MetricsUnavailable, match="numeric 'le'"):
        script.provider().counts(spec, Arm.CANARY, WINDOW)
