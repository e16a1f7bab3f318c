"""The ``builtin`` metric provider: per-version counters of the embedded router.

The provider is handed a :class:`~safeship.metrics.interface.CounterSource` (the embedded
router implements one) and never imports it. The engine calls :meth:`BuiltinProvider.sample`
at every scrape; each call records one :class:`CounterSnapshot` per version (the baseline and
canary values of the scope), stamped with the engine's ``now`` rather than the source's clock,
so that windows and snapshots share one time base.

History is bounded: each version keeps its most recent ``history`` snapshots (default 4096,
over an hour at one scrape per second, more than the guide's 50-minute canary); older ones are
dropped first. Sampling twice at the same instant keeps only the later reading.

Per-interval numbers come from successive snapshots inside the window (each labelled with the
later snapshot's time), with counter resets handled as in Prometheus' ``increase``
(:func:`safeship.metrics.derived.counter_deltas`). :meth:`BuiltinProvider.query_range` answers:

* ``availability`` metrics: errors / requests per interval (NaN when no request arrived);
* ``latency`` metrics: a quantile of the interval's latency histogram, computed like
  Prometheus' ``histogram_quantile``. The quantile comes from the metric's name (``p50``,
  ``p95``, ``p99``, ``p999``), else from a ``histogram_quantile(q, ...)`` query, else 0.95;
* anything else (business, resource, error budget): NaN at every interval, since the router's
  counters cannot tell; derived metrics are computed by :mod:`safeship.metrics.derived`.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import ClassVar

from pydantic import Field

from safeship.errors import InternalError, MetricsUnavailable
from safeship.metrics.derived import counter_deltas
from safeship.metrics.interface import (
    CounterSnapshot,
    CounterSource,
    MetricsProvider,
    ProviderOptions,
    TimeRange,
)
from safeship.metrics.promql_scope import histogram_quantile_of, scope_value
from safeship.model.analysis import Arm, ArmCounts, Series
from safeship.model.canary import CanaryMetric, CanarySpec, MetricCategory, Scope

DEFAULT_QUANTILE = 0.95
_PERCENTILE = re.compile(r"(?:^|[^a-z0-9])p(\d{1,4})(?![0-9])", re.IGNORECASE)


class BuiltinOptions(ProviderOptions):
    """Options of ``type: builtin``."""

    history: int = Field(default=4096, ge=2, le=1_000_000,
                         description="Snapshots kept per version (oldest dropped first).")


def quantile_of(metric: CanaryMetric) -> float:
    """The quantile a latency metric asks for: from its name, its query, or 0.95."""
    match = _PERCENTILE.search(metric.name)
    if match is not None:
        digits = match.group(1)
        # p5 and p50 are percents; p999 means 99.9 % and p9999 99.99 % (p100 is no quantile).
        if len(digits) <= 2 and int(digits) > 0:
            return int(digits) / 100
        if len(digits) > 2 and digits.startswith("9"):
            return int(digits) / float(10 ** len(digits))
    from_query = histogram_quantile_of(metric.query)
    if from_query is not None and 0 <= from_query <= 1:
        return from_query
    return DEFAULT_QUANTILE


def histogram_quantile(q: float, buckets: Mapping[float, float]) -> float:
    """The ``q`` quantile of cumulative ``buckets`` (upper bound -> count), like Prometheus.

    Linear interpolation inside the bucket holding the rank; the lowest bucket starts at 0
    (when its bound is positive); a rank in the ``+Inf`` bucket gives the highest finite
    bound. NaN without a ``+Inf`` bucket, with fewer than two buckets, with no observations,
    or when a count is NaN. Counts that decrease with the bound (possible after a reset) are
    raised to the running maximum, as Prometheus does.
    """
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    ordered = sorted(buckets.items())
    if len(ordered) < 2 or not math.isinf(ordered[-1][0]):
        return math.nan
    if any(math.isnan(count) for _, count in ordered):
        return math.nan
    bounds = [bound for bound, _ in ordered]
    counts: list[float] = []
    for _, count in ordered:
        counts.append(max(count, counts[-1]) if counts else count)
    total = counts[-1]
    if total <= 0:
        return math.nan
    rank = q * total
    index = next(i for i, count in enumerate(counts) if count >= rank)
    if index == len(bounds) - 1:
        return bounds[-2]
    if index == 0 and bounds[0] <= 0:
        return bounds[0]
    start = 0.0 if index == 0 else bounds[index - 1]
    below = 0.0 if index == 0 else counts[index - 1]
    in_bucket = counts[index] - below
    if in_bucket <= 0:  # pragma: no cover - the rank lies in a bucket that gained counts
        return bounds[index]
    return start + (bounds[index] - start) * (rank - below) / in_bucket


class BuiltinProvider(MetricsProvider):
    """Reads the embedded router's per-version counters (see the module docstring)."""

    type_name: ClassVar[str] = "builtin"
    options_model: ClassVar[type[ProviderOptions]] = BuiltinOptions

    def __init__(self, source: CounterSource, options: BuiltinOptions | None = None, *,
                 scope: Scope | None = None, versions: Sequence[str] | None = None) -> None:
        self.options = options if options is not None else BuiltinOptions()
        self._source = source
        scope = scope if scope is not None else Scope()
        self._versions = tuple(dict.fromkeys(
            versions if versions is not None else (scope.baseline, scope.canary)))
        self._history: dict[str, deque[CounterSnapshot]] = {}

    @property
    def versions(self) -> tuple[str, ...]:
        """The versions :meth:`sample` records."""
        return self._versions

    def sample(self, now: float) -> None:
        """Record one snapshot per version at ``now`` (unix seconds, the engine's clock)."""
        for version in self._versions:
            try:
                snapshot = self._source.snapshot(version)
            except Exception as exc:  # a broken source must surface as unavailable metrics
                raise MetricsUnavailable(
                    f"the embedded router's counters for '{version}' could not be read: {exc}"
                ) from exc
            history = self._history.setdefault(version, deque(maxlen=self.options.history))
            if history and now < history[-1].at:
                raise InternalError(
                    f"counter snapshots must move forward in time ({now} < {history[-1].at})"
                )
            if history and now == history[-1].at:
                history.pop()  # sampling twice at one instant keeps the later reading
            history.append(replace(snapshot, at=now))

    def snapshots(self, version: str, window: TimeRange) -> list[CounterSnapshot]:
        """The recorded snapshots of ``version`` inside ``window``, oldest first."""
        return [s for s in self._history.get(version, ()) if window.start <= s.at <= window.end]

    def counts(self, spec: CanarySpec, arm: Arm, window: TimeRange) -> ArmCounts | None:
        """Per-interval deltas between successive snapshots of ``arm`` in ``window``."""
        return self._counts(scope_value(spec.scope, arm), window)

    def _counts(self, version: str, window: TimeRange) -> ArmCounts:
        snaps = self.snapshots(version, window)
        if len(snaps) < 2:
            return ArmCounts()
        bounds = sorted({bound for s in snaps for bound in s.latency_buckets} | {math.inf})

        def bucket(snapshot: CounterSnapshot, bound: float) -> float:
            if bound in snapshot.latency_buckets:
                return snapshot.latency_buckets[bound]
            if math.isinf(bound) or snapshot.requests == 0:
                # +Inf counts every request; before the first request no bucket has counted.
                return snapshot.requests
            return math.nan

        return ArmCounts(
            timestamps=tuple(s.at for s in snaps[1:]),
            requests=_deltas(s.requests for s in snaps),
            errors=_deltas(s.errors for s in snaps),
            latency_buckets={b: _deltas(bucket(s, b) for s in snaps) for b in bounds},
        )

    def query_range(self, metric: CanaryMetric, arm: Arm, scope: Scope,
                    window: TimeRange) -> Series:
        """``metric`` for ``arm`` per interval, from counters (see the module docstring)."""
        if metric.is_derived:
            raise InternalError(
                f"metric '{metric.name}' is derived; compute it with safeship.metrics.derived"
            )
        counts = self._counts(scope_value(scope, arm), window)
        stamps = counts.timestamps
        if metric.category is MetricCategory.AVAILABILITY:
            values = tuple(e / r if r > 0 else math.nan
                           for e, r in zip(counts.errors, counts.requests, strict=True))
            return Series(stamps, values)
        if metric.category is MetricCategory.LATENCY:
            q = quantile_of(metric)
            values = tuple(
                histogram_quantile(q, {b: c[i] for b, c in counts.latency_buckets.items()})
                for i in range(len(stamps)))
            return Series(stamps, values)
        return Series(stamps, tuple(math.nan for _ in stamps))


def _deltas(values: Iterable[float]) -> tuple[float, ...]:
    return tuple(counter_deltas(values))
