"""The ``threshold`` judge: the guide's section 4.4 decision logic, per metric and per limit.

The guide compares the canary with the baseline once: error rate above 2x baseline ("Error rate
doubled"), p95 above 1.2x baseline ("p95 latency increased >20%"), burn rate above 3 ("Canary
burning budget at >3x"), and too few canary requests (INSUFFICIENT_DATA, checked before anything
is returned). This module applies the same logic to whatever limits each metric configures:

=====================  =====================================================================
limit                  violated when (``c`` canary, ``b`` baseline current value)
=====================  =====================================================================
max_increase_ratio r   ``c > r * b``: with ``b == 0`` any ``c > 0`` violates, ``0`` vs ``0`` passes
max_increase_pct p     ``c > (1 + p/100) * b`` (same zero-baseline behaviour)
max_absolute_ms m      canary in milliseconds ``> m`` (see the unit rule below)
max_absolute a         ``c > a`` (canary only, the metric's own unit)
min_ratio r            ``c < r * b``: with ``b == 0`` only a negative canary violates
=====================  =====================================================================

Comparisons are strict, so equal values pass. A **current value** is the mean of an arm's finite
points in the current step's window ``(steps[-1].start, now]`` (the whole series up to ``now``
without steps); NaN points are missing scrapes and are dropped (``nan_strategy`` is a Kayenta
setting and is not used here). An arm without a finite point is **Nodata**.

**Unit rule for max_absolute_ms.** Latency values below :data:`SECONDS_BELOW` (100) are taken as
seconds (Prometheus' convention) and multiplied by 1000; values of 100 and more as milliseconds.
The rule looks at the *baseline's* finite points (the healthy reference; the canary's when the
baseline has none), never at the canary's current value alone, so a canary that hangs for 150 s
is still read in seconds. A metric recorded in milliseconds whose baseline stays below 100 ms is
misread as seconds; that errs towards ROLLBACK, never towards PROCEED. Record latency in seconds.

**Canary request count** (see :func:`~safeship.judge.series_window.canary_request_count`): the
sum of ``canary_counts.requests`` in the window, else a metric named like "request...", else
unknown, which is INSUFFICIENT_DATA (fail closed).

Decision order: no metric configured -> INSUFFICIENT_DATA; request count unknown or below
``min_sample_size`` -> INSUFFICIENT_DATA (the guide checks it before returning, so it wins even
over violations); any violation -> ROLLBACK; any Nodata metric -> INSUFFICIENT_DATA; else PROCEED.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from safeship.judge.latency_thresholds import metric_quantile, quantile_label
from safeship.judge.series_window import (
    Window,
    arm_values,
    canary_request_count,
    current_window,
    metric_data,
)
from safeship.model.analysis import (
    AnalysisInput,
    AnalysisVerdict,
    Classification,
    Decision,
    MetricData,
    MetricOutcome,
    MetricVerdict,
)
from safeship.model.canary import CanaryMetric, CanarySpec, MetricCategory

__all__ = [
    "ABSOLUTE_LIMITS",
    "ALL_LIMITS",
    "JUDGE_NAME",
    "SECONDS_BELOW",
    "SeriesCheck",
    "check_series",
    "threshold_judge",
    "values_in_seconds",
]

JUDGE_NAME = "threshold"
SECONDS_BELOW = 100.0
"""Latency values below this are seconds, from this on milliseconds (for ``max_absolute_ms``)."""

ALL_LIMITS = frozenset({"max_increase_ratio", "max_increase_pct", "max_absolute_ms",
                        "max_absolute", "min_ratio"})
ABSOLUTE_LIMITS = frozenset({"max_absolute_ms", "max_absolute"})


@dataclass(frozen=True)
class SeriesCheck:
    """One metric's current values and the limits they break.

    ``nodata`` is True when an arm the checked limits need has no finite point in the window.
    """

    baseline: float | None
    canary: float | None
    violations: tuple[str, ...]
    passed: tuple[str, ...]
    nodata: bool
    classification: Classification
    statistics: Mapping[str, float | None]


def values_in_seconds(data: MetricData) -> bool:
    """The unit rule: True when the baseline's (else the canary's) finite points are all < 100."""
    for series in (data.baseline, data.canary):
        finite = series.finite_values()
        if finite:
            return max(finite) < SECONDS_BELOW
    return True


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _subject(metric: CanaryMetric) -> str:
    if metric.category is MetricCategory.LATENCY:
        return f"{quantile_label(metric_quantile(metric))} latency"
    if metric.category in (MetricCategory.AVAILABILITY, MetricCategory.ERROR_BUDGET):
        return "Error rate"
    return metric.name


def _ratio_headline(metric: CanaryMetric, ratio: float) -> str:
    subject = _subject(metric)
    if math.isclose(ratio, 2.0):
        return f"{subject} doubled"
    return f"{subject} increased more than {ratio:g}x"


def _mean(values: npt.NDArray[np.float64]) -> float | None:
    return float(values.mean()) if values.size else None


def _describe_ratio(canary: float, baseline: float) -> str:
    if baseline == 0:
        return "baseline 0, ratio undefined"
    return f"{canary / baseline:.3g}x baseline"


def check_series(metric: CanaryMetric, data: MetricData | None, window: Window, *,
                 limits: Collection[str] = ALL_LIMITS) -> SeriesCheck:
    """Compare ``metric``'s current values with its configured ``limits``."""
    threshold = metric.threshold
    relative = any(kind in limits and getattr(threshold, kind) is not None
                   for kind in ("max_increase_ratio", "max_increase_pct", "min_ratio"))
    if data is None:
        return SeriesCheck(None, None, (), ("no series for this metric",), True,
                           Classification.NODATA, {})
    canary_points = arm_values(data.canary, window)
    baseline_points = arm_values(data.baseline, window)
    canary, baseline = _mean(canary_points), _mean(baseline_points)
    stats: dict[str, float | None] = {"canary_points": float(canary_points.size),
                                      "baseline_points": float(baseline_points.size)}
    if canary is None or (relative and baseline is None):
        missing = "canary" if canary is None else "baseline"
        return SeriesCheck(baseline, canary, (), (f"no {missing} data in {window.describe()}",),
                           True, Classification.NODATA, stats)
    violations: list[str] = []
    passed: list[str] = []
    high = low = False
    if baseline is not None:
        stats["ratio"] = canary / baseline if baseline != 0 else None

    def judge(broken: bool, headline: str, numbers: str) -> None:
        (violations if broken else passed).append(f"{headline}: {numbers}" if broken
                                                  else f"within limit: {numbers}")

    ratio = threshold.max_increase_ratio
    if ratio is not None and "max_increase_ratio" in limits and baseline is not None:
        stats["max_increase_ratio"] = ratio
        broken = canary > ratio * baseline
        high |= broken
        judge(broken, _ratio_headline(metric, ratio),
              f"canary {_fmt(canary)} vs baseline {_fmt(baseline)} "
              f"({_describe_ratio(canary, baseline)}), allowed {ratio:g}x")
    pct = threshold.max_increase_pct
    if pct is not None and "max_increase_pct" in limits and baseline is not None:
        stats["max_increase_pct"] = pct
        broken = canary > (1.0 + pct / 100.0) * baseline
        high |= broken
        judge(broken, f"{_subject(metric)} increased >{pct:g}%",
              f"canary {_fmt(canary)} vs baseline {_fmt(baseline)} "
              f"({_describe_ratio(canary, baseline)}), allowed +{pct:g}%")
    limit_ms = threshold.max_absolute_ms
    if limit_ms is not None and "max_absolute_ms" in limits:
        seconds = values_in_seconds(data)
        canary_ms = canary * 1000.0 if seconds else canary
        stats["max_absolute_ms"] = limit_ms
        stats["canary_ms"] = canary_ms
        broken = canary_ms > limit_ms
        high |= broken
        unit = "read as seconds" if seconds else "read as milliseconds"
        judge(broken, f"{_subject(metric)} above {limit_ms:g} ms",
              f"canary {_fmt(canary_ms)} ms ({unit}), limit {limit_ms:g} ms")
    absolute = threshold.max_absolute
    if absolute is not None and "max_absolute" in limits:
        stats["max_absolute"] = absolute
        broken = canary > absolute
        high |= broken
        headline = (f"Canary burning budget at >{absolute:g}x"
                    if metric.category is MetricCategory.ERROR_BUDGET
                    else f"{metric.name} above {absolute:g}")
        judge(broken, headline, f"canary {_fmt(canary)}, limit {absolute:g}")
    floor = threshold.min_ratio
    if floor is not None and "min_ratio" in limits and baseline is not None:
        stats["min_ratio"] = floor
        broken = canary < floor * baseline
        low |= broken
        judge(broken, f"{metric.name} fell below {floor:g}x baseline",
              f"canary {_fmt(canary)} vs baseline {_fmt(baseline)} "
              f"({_describe_ratio(canary, baseline)}), allowed down to {floor:g}x")
    classification = (Classification.HIGH if high else
                      Classification.LOW if low else Classification.PASS)
    return SeriesCheck(baseline, canary, tuple(violations), tuple(passed), False,
                       classification, stats)


def _verdict(metric: CanaryMetric, check: SeriesCheck) -> MetricVerdict:
    if check.nodata:
        classification = (Classification.NODATA_FAIL if metric.must_have_data
                          else Classification.NODATA)
        return MetricVerdict(metric.name, MetricOutcome.NODATA, classification, metric.critical,
                             check.baseline, check.canary, "; ".join(check.passed),
                             check.statistics)
    if check.violations:
        return MetricVerdict(metric.name, MetricOutcome.FAIL, check.classification,
                             metric.critical, check.baseline, check.canary,
                             "; ".join(check.violations), check.statistics)
    detail = "; ".join(check.passed) if check.passed else "no limit configured"
    return MetricVerdict(metric.name, MetricOutcome.PASS, Classification.PASS, metric.critical,
                         check.baseline, check.canary, detail, check.statistics)


def threshold_judge(data: AnalysisInput, spec: CanarySpec) -> AnalysisVerdict:
    """Judge ``data`` with the guide's fixed thresholds (see the module docstring)."""
    window = current_window(data)
    verdicts = tuple(_verdict(metric, check_series(metric, metric_data(metric, data), window))
                     for metric in spec.metrics)

    def verdict(decision: Decision, reasons: list[str]) -> AnalysisVerdict:
        return AnalysisVerdict(decision, JUDGE_NAME, verdicts, tuple(reasons),
                               evaluated_at=data.now)

    if not spec.metrics:
        return verdict(Decision.INSUFFICIENT_DATA, ["no metrics configured"])
    requests = canary_request_count(data, window)
    minimum = spec.judge.min_sample_size
    if requests.count is None:
        return verdict(Decision.INSUFFICIENT_DATA,
                       [f"canary request count unknown ({requests.source})"])
    if requests.count < minimum:
        return verdict(Decision.INSUFFICIENT_DATA, [
            f"canary served {requests.count:g} requests in {window.describe()}, "
            f"fewer than min_sample_size {minimum} (from {requests.source})"])
    failed = [f"{v.name}: {v.detail}" for v in verdicts if v.outcome is MetricOutcome.FAIL]
    if failed:
        return verdict(Decision.ROLLBACK, failed)
    nodata = [f"{v.name}: {v.detail}" for v in verdicts if v.outcome is MetricOutcome.NODATA]
    if nodata:
        return verdict(Decision.INSUFFICIENT_DATA, nodata)
    return verdict(Decision.PROCEED, [
        f"all {len(verdicts)} metrics within their limits; canary served "
        f"{requests.count:g} requests (minimum {minimum})"])
