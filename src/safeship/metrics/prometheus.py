"""The ``prometheus`` metric provider: range queries against the Prometheus HTTP API.

Each metric's PromQL is narrowed to one arm by label injection
(:mod:`safeship.metrics.promql_scope`) and sent to ``/api/v1/query_range`` with ``start``,
``end`` and ``step`` (and Prometheus' own ``timeout``). The answer must be a ``matrix`` with at
most one series: several series mean the query is not aggregated, which is refused with a hint
to wrap it in ``sum(...)``; no series means no data, returned as NaN at every requested point
(never as zeros). Values are strings in the API (``"NaN"``, ``"+Inf"`` included). The points are
placed on the requested grid ``start, start + step, ... <= end``; a grid point without a value
is NaN.

Requests go through :class:`~safeship._internal.prometheus_api.PrometheusQueryApi`: connection
errors, timeouts and 5xx answers are retried ``retries`` times after a short fixed pause; 4xx
answers are not (the query is wrong). Every error names the URL (without credentials or query
string) and the query, never the request headers.

:meth:`PrometheusProvider.counts` finds the spec's error-ratio and latency-histogram metrics
(:func:`~safeship.metrics.promql_scope.counter_queries`), reads their cumulative counters
(``sum(E)``, ``sum(T)``, ``sum by (le) (B)``) at ``start, start + step, ... <= end`` and
differences them client-side (:func:`~safeship.metrics.derived.counter_deltas`). The count at
time ``t`` covers ``(t - step, t]``, for ``t = start + step, ... <= end``, so every interval
lies inside the window. Unlike ``increase`` over each interval, this works down to a step as
short as the scrape interval, and counts are whole numbers (no extrapolation). Each boundary
value is the counter's last sample at or before it (Prometheus' lookback), so the intervals
trail the scrapes by less than one scrape interval.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import Field, field_validator

from safeship._internal.http import HttpClientFactory, default_client_factory
from safeship._internal.prometheus_api import (
    PrometheusEndpoint,
    PrometheusQueryApi,
    check_url,
    display_url,
)
from safeship.errors import InternalError, MetricsUnavailable
from safeship.metrics.derived import counter_deltas
from safeship.metrics.interface import MetricsProvider, ProviderOptions, TimeRange
from safeship.metrics.promql_scope import (
    CounterQueries,
    CounterShape,
    PromQLScopeError,
    counter_queries,
    scope_for_arm,
)
from safeship.model.analysis import Arm, ArmCounts, Series
from safeship.model.canary import CanaryMetric, CanarySpec, MetricCategory, Scope

MAX_POINTS = 11_000
"""Prometheus refuses range queries of more points than this per series."""
MAX_BODY_BYTES = 32 * 1024 * 1024
"""Answers longer than this are refused rather than decoded."""


class PrometheusOptions(ProviderOptions):
    """Options of ``type: prometheus``."""

    url: str = Field(description="Base URL of Prometheus, e.g. http://127.0.0.1:9090 "
                                 "(a path prefix such as /prometheus is kept).")
    timeout: float = Field(default=10.0, gt=0, le=300,
                           description="Seconds each attempt may take, connect to last byte.")
    retries: int = Field(default=2, ge=0, le=5,
                         description="Extra attempts after a connection error, timeout or 5xx.")
    headers: dict[str, str] = Field(default_factory=dict,
                                    description="Extra request headers (e.g. Authorization).")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return check_url(value)


@dataclass(frozen=True)
class _Matrix:
    """One answer: each series' labels and its ``(timestamp, value)`` points."""

    series: tuple[tuple[Mapping[str, str], tuple[tuple[float, float], ...]], ...]


def _grid(start: float, end: float, step: float) -> tuple[float, ...]:
    count = math.floor((end - start) / step + 1e-9) + 1
    return tuple(start + index * step for index in range(count))


class PrometheusProvider(MetricsProvider):
    """Reads canary metrics from a Prometheus server over its HTTP API."""

    type_name: ClassVar[str] = "prometheus"
    options_model: ClassVar[type[ProviderOptions]] = PrometheusOptions

    def __init__(self, options: PrometheusOptions, *,
                 http: HttpClientFactory = default_client_factory,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.options = options
        self._api = PrometheusQueryApi(
            PrometheusEndpoint(options.url, options.timeout, options.retries, options.headers),
            http=http, sleep=sleep)
        self._where = display_url(options.url)

    # --- MetricsProvider ------------------------------------------------------------------

    def query_range(self, metric: CanaryMetric, arm: Arm, scope: Scope,
                    window: TimeRange) -> Series:
        """``metric`` narrowed to ``arm``, on the grid ``window.start + k * window.step_s``."""
        if metric.is_derived:
            raise InternalError(
                f"metric '{metric.name}' is derived; compute it with safeship.metrics.derived"
            )
        query = self._scoped(metric.name, metric.query, scope, arm)
        grid = _grid(window.start, window.end, window.step_s)
        matrix = self._query_range(query, grid, window.step_s)
        if len(matrix.series) > 1:
            raise MetricsUnavailable(
                f"{self._where}: metric '{metric.name}' returned {len(matrix.series)} series "
                f"for {arm} but one is needed: {query}",
                hint="aggregate the query to a single series, e.g. wrap it in sum(...)",
            )
        if not matrix.series:
            return Series(grid, tuple(math.nan for _ in grid))
        return Series(grid, self._align(matrix.series[0][1], grid, window))

    def counts(self, spec: CanarySpec, arm: Arm, window: TimeRange) -> ArmCounts | None:
        """Per-interval requests, errors and latency buckets of ``arm``, or None if unknown.

        The cumulative counters are read on ``window.start, window.start + step, ... <=
        window.end`` (one point more than intervals) and differenced; the interval ending at
        ``t`` is ``(t - step, t]``. A counter lower than at the previous boundary is a reset,
        as in Prometheus' ``increase``; a missing value makes both intervals around it NaN.

        Counters are summed across series *before* they are differenced, so a reset of one
        series among several shows as a drop of the sum and is handled as a reset of the sum:
        the interval then counts the sum's new value. That is an approximation (it undercounts
        the series that did not restart), fine for rollouts whose processes start fresh.
        """
        ratio, histogram = self._counter_metrics(spec)
        if ratio is None and histogram is None:
            return None
        bounds = _grid(window.start, window.end, window.step_s)
        if len(bounds) < 2:
            return ArmCounts()
        grid = bounds[1:]
        nan_row = tuple(math.nan for _ in grid)
        requests: tuple[float, ...] = ()
        errors: tuple[float, ...] = ()
        buckets: dict[float, tuple[float, ...]] = {}
        if ratio is not None and ratio.requests is not None and ratio.errors is not None:
            request_totals = self._single(ratio.requests, spec.scope, arm, bounds, window)
            error_totals = self._single(ratio.errors, spec.scope, arm, bounds, window)
            requests = nan_row if request_totals is None else _deltas(request_totals)
            if request_totals is not None and ratio.same_metric:
                # The error series of a metric only exists once it counted an error: where the
                # same metric shows a request total, a missing error total is a true zero. After
                # this, an interval with a finite request count has error totals at both ends,
                # so no error count needs zeroing after differencing.
                found = (math.nan,) * len(bounds) if error_totals is None else error_totals
                error_totals = tuple(
                    0.0 if math.isnan(e) and not math.isnan(r) else e
                    for e, r in zip(found, request_totals, strict=True)
                )
            errors = nan_row if error_totals is None else _deltas(error_totals)
        if histogram is not None and histogram.buckets is not None:
            buckets = {bound: _deltas(totals) for bound, totals in
                       self._buckets(histogram.buckets, spec.scope, arm, bounds, window).items()}
            if not requests and math.inf in buckets:
                requests = buckets[math.inf]
        return ArmCounts(timestamps=grid, requests=requests, errors=errors,
                         latency_buckets=buckets)

    # --- helpers ----------------------------------------------------------------------------

    def _scoped(self, name: str, query: str, scope: Scope, arm: Arm) -> str:
        try:
            return scope_for_arm(query, scope, arm)
        except PromQLScopeError as exc:
            raise MetricsUnavailable(
                f"metric '{name}': cannot narrow the query to {arm}: {exc}",
                hint="the query must select series (e.g. http_requests_total{...}) so that "
                     f"'{scope.label}' can be set on each of them",
            ) from exc

    @staticmethod
    def _counter_metrics(spec: CanarySpec) -> tuple[CounterQueries | None, CounterQueries | None]:
        ratio: CounterQueries | None = None
        histogram: CounterQueries | None = None
        candidates = []
        for metric in spec.metrics:
            if metric.is_derived:
                continue
            try:
                candidates.append((metric, counter_queries(metric.query)))
            except PromQLScopeError:  # cannot be written faithfully: no counts from this one
                continue
        # Prefer metrics whose category says what they are; then any recognised shape.
        for prefer in (True, False):
            for metric, found in candidates:
                if found is None:
                    continue
                if found.shape is CounterShape.ERROR_RATIO and ratio is None and (
                        not prefer or metric.category is MetricCategory.AVAILABILITY):
                    ratio = found
                if found.shape is CounterShape.LATENCY_HISTOGRAM and histogram is None and (
                        not prefer or metric.category is MetricCategory.LATENCY):
                    histogram = found
        return ratio, histogram

    def _single(self, query: str, scope: Scope, arm: Arm, grid: tuple[float, ...],
                window: TimeRange) -> tuple[float, ...] | None:
        scoped = self._scoped("counts", query, scope, arm)
        matrix = self._query_range(scoped, grid, window.step_s)
        if len(matrix.series) > 1:  # pragma: no cover - sum(...) gives one series
            raise MetricsUnavailable(f"{self._where}: {len(matrix.series)} series for {scoped}")
        if not matrix.series:
            return None
        return self._align(matrix.series[0][1], grid, window)

    def _buckets(self, query: str, scope: Scope, arm: Arm, grid: tuple[float, ...],
                 window: TimeRange) -> dict[float, tuple[float, ...]]:
        scoped = self._scoped("counts", query, scope, arm)
        matrix = self._query_range(scoped, grid, window.step_s)
        buckets: dict[float, tuple[float, ...]] = {}
        for labels, points in matrix.series:
            raw = labels.get("le")
            try:
                bound = float(raw) if raw is not None else math.nan
            except ValueError:
                bound = math.nan
            if math.isnan(bound):
                raise MetricsUnavailable(
                    f"{self._where}: a bucket series without a numeric 'le' label ({raw!r}) "
                    f"in {scoped}"
                )
            buckets[bound] = self._align(points, grid, window)
        return dict(sorted(buckets.items()))

    @staticmethod
    def _align(points: tuple[tuple[float, float], ...], grid: tuple[float, ...],
               window: TimeRange) -> tuple[float, ...]:
        values = [math.nan] * len(grid)
        for timestamp, value in points:
            index = round((timestamp - window.start) / window.step_s)
            if 0 <= index < len(grid):
                values[index] = value
        return tuple(values)

    def _query_range(self, query: str, grid: tuple[float, ...], step_s: float) -> _Matrix:
        if len(grid) > MAX_POINTS:
            raise MetricsUnavailable(
                f"{self._where}: {len(grid)} points requested for {query}; Prometheus answers "
                f"at most {MAX_POINTS}",
                hint="use a longer step or a shorter window",
            )
        params = {
            "query": query,
            "start": f"{grid[0]:.3f}",
            "end": f"{grid[-1]:.3f}",
            "step": f"{step_s:g}",
            "timeout": f"{self.options.timeout:g}s",
        }
        body = self._api.get_json("/api/v1/query_range", params, query)
        return self._parse_matrix(body, query)

    def _parse_matrix(self, body: Any, query: str) -> _Matrix:
        data = body.get("data")
        if not isinstance(data, dict) or data.get("resultType") != "matrix":
            kind = data.get("resultType") if isinstance(data, dict) else None
            raise MetricsUnavailable(
                f"{self._where}: expected a matrix, got {kind!r} for query {query}"
            )
        result = data.get("result")
        if not isinstance(result, list):
            raise MetricsUnavailable(f"{self._where}: no result list for query {query}")
        series = []
        for item in result:
            try:
                labels = {str(k): str(v) for k, v in (item.get("metric") or {}).items()}
                points = tuple((float(ts), float(value)) for ts, value in item["values"])
            except (AttributeError, KeyError, TypeError, ValueError) as exc:
                raise MetricsUnavailable(
                    f"{self._where}: a malformed series ({exc}) for query {query}"
                ) from exc
            series.append((labels, points))
        return _Matrix(tuple(series))


def _deltas(totals: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(counter_deltas(totals))

