"""Series windows for the judges' point-value checks: the current step, arm means, request counts.

The threshold judge, and the sequential judge's fallback for metrics without counts, compare one
"current value" per arm: the mean of the arm's finite points in the current step's window. The
window is ``(step.start, now]``: a scrape taken exactly when a step starts measures the traffic of
the step before it, and points after ``now`` cannot exist yet. Without steps the whole series up to
``now`` is the window. NaN and infinite points are missing scrapes and are left out.

Metrics derived from another metric by the guide's burn-rate formula (``(error_rate / (1 -
0.999))``) are computed here when the input carries no series of their own.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from safeship.model.analysis import AnalysisInput, ArmCounts, MetricData, Series
from safeship.model.canary import CanaryMetric, MetricCategory

__all__ = [
    "RATE_NAME_HINTS",
    "RequestCount",
    "Window",
    "arm_values",
    "canary_request_count",
    "current_window",
    "metric_data",
]

FloatArray = npt.NDArray[np.float64]

RATE_NAME_HINTS = ("rate", "rps", "qps", "per_s")
"""A request metric whose name holds one of these is read as requests per second."""

_BURN_FORMULA = re.compile(
    r"^\(*\s*([A-Za-z_][A-Za-z0-9_]*)\s*/\s*\(\s*1\s*-\s*([0-9]*\.?[0-9]+)\s*\)\s*\)*$")


@dataclass(frozen=True)
class Window:
    """The time span whose points make up the current values: ``start < t <= end``."""

    start: float
    end: float

    def describe(self) -> str:
        """A short phrase for explanations."""
        if math.isinf(self.start):
            return "the whole series"
        return "the current step"


def current_window(data: AnalysisInput) -> Window:
    """The current step's window, ``(steps[-1].start, now]``, or everything up to ``now``."""
    if data.steps:
        return Window(data.steps[-1].start, data.now)
    return Window(-math.inf, data.now)


def arm_values(series: Series, window: Window) -> FloatArray:
    """The finite points of ``series`` whose finite timestamp lies in ``window``."""
    if not series.values:
        return np.zeros(0)
    stamps = np.asarray(series.timestamps, dtype=np.float64)
    values = np.asarray(series.values, dtype=np.float64)
    keep = (np.isfinite(stamps) & np.isfinite(values) & (stamps > window.start)
            & (stamps <= window.end))
    return values[keep]


def metric_data(metric: CanaryMetric, data: AnalysisInput) -> MetricData | None:
    """The series of ``metric``; derived for a burn-rate formula over another metric.

    A metric with series of its own uses them. Otherwise an error-budget metric whose query is
    ``dep / (1 - target)`` over one other metric is computed point by point from ``dep``'s series
    (the guide's ``slo_burn_rate``). Anything else has no data (None).
    """
    own = data.metrics.get(metric.name)
    if own is not None and (own.baseline.values or own.canary.values):
        return own
    if metric.category is not MetricCategory.ERROR_BUDGET or len(metric.derived_from) != 1:
        return own
    match = _BURN_FORMULA.match(metric.query.strip())
    if match is None or match.group(1) != metric.derived_from[0]:
        return own
    target = float(match.group(2))
    source = data.metrics.get(match.group(1))
    if source is None or not 0.0 < target < 1.0:
        return own
    allowance = 1.0 - target

    def scaled(series: Series) -> Series:
        return Series(series.timestamps, tuple(v / allowance for v in series.values))

    return MetricData(metric.name, scaled(source.baseline), scaled(source.canary))


@dataclass(frozen=True)
class RequestCount:
    """The canary's request count in the current window, and where it came from."""

    count: float | None
    source: str


def _counts_requests(counts: ArmCounts | None, window: Window) -> float | None:
    if counts is None or not counts.requests:
        return None
    stamps = np.asarray(counts.timestamps, dtype=np.float64)
    values = np.asarray(counts.requests, dtype=np.float64)
    keep = (np.isfinite(stamps) & (stamps > window.start) & (stamps <= window.end)
            & np.isfinite(values) & (values >= 0))
    if not keep.any():
        return None
    return float(values[keep].sum())


def _integrated_rate(series: Series, window: Window) -> float | None:
    stamps = np.asarray(series.timestamps, dtype=np.float64)
    values = np.asarray(series.values, dtype=np.float64)
    finite_stamps = np.isfinite(stamps)
    ordered = np.sort(stamps[finite_stamps])
    steps = np.diff(ordered)
    steps = steps[steps > 0]
    if steps.size == 0:
        return None
    spacing = float(np.median(steps))
    keep = (finite_stamps & np.isfinite(values) & (values >= 0) & (stamps > window.start)
            & (stamps <= window.end))
    if not keep.any():
        return None
    return float(values[keep].sum() * spacing)


def canary_request_count(data: AnalysisInput, window: Window) -> RequestCount:
    """How many requests the canary served in ``window``, or None when nobody says.

    1. ``data.canary_counts.requests`` (per-interval deltas): their finite sum in the window.
    2. Otherwise a metric whose name contains "request" (the first such name in sorted order):
       a name with "rate", "rps", "qps" or "per_s" is read as requests per second and integrated
       over the scrape spacing (the median gap between points); any other name is read as
       per-scrape request counts and summed. A raw cumulative counter is not a valid input.
    3. Otherwise unknown (None): the caller fails closed.
    """
    from_counts = _counts_requests(data.canary_counts, window)
    if from_counts is not None:
        return RequestCount(from_counts, "canary request counters")
    for name in sorted(data.metrics):
        lowered = name.lower()
        if "request" not in lowered:
            continue
        series = data.metrics[name].canary
        if any(hint in lowered for hint in RATE_NAME_HINTS):
            value = _integrated_rate(series, window)
            source = f"metric {name!r} (requests per second x scrape spacing)"
        else:
            points = arm_values(series, window)
            value = float(points[points >= 0].sum()) if points.size else None
            source = f"metric {name!r} (requests per scrape)"
        if value is not None:
            return RequestCount(value, source)
    return RequestCount(None, "no request counters and no request metric")
