"""A seeded traffic simulator for the sequential judge's tests, and checks of the simulator.

It emits what a Prometheus scrape every ``spacing`` seconds would give: per-interval request,
error, latency-histogram (cumulative ``le`` buckets) and good-event counts for both arms. Other
test modules import :func:`simulate` and :func:`make_spec`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from statistics import NormalDist
from typing import Any

import numpy as np

from safeship.model.analysis import AnalysisInput, ArmCounts, MetricData, Series, StepWindow
from safeship.model.canary import (
    CanaryMetric,
    CanarySpec,
    CanaryStep,
    Direction,
    JudgeConfig,
    MetricCategory,
    Threshold,
)

BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, math.inf)
MEDIAN_S = 0.2
SIGMA = 0.5

ERRORS = CanaryMetric("error_rate", "sum(rate(errors[1m])) / sum(rate(requests[1m]))",
                      Threshold(max_increase_ratio=2.0))
P95 = CanaryMetric("latency_p95", "histogram_quantile(0.95, sum(rate(x_bucket[1m])) by (le))",
                   Threshold(max_increase_pct=20), category=MetricCategory.LATENCY)
CHECKOUT = CanaryMetric("checkout", "sum(rate(checkouts[1m]))", Threshold(min_ratio=0.98),
                        category=MetricCategory.BUSINESS, direction=Direction.DECREASE)


def _histogram(rng: np.random.Generator, requests: int, scale: float) -> np.ndarray:
    dist = NormalDist(math.log(MEDIAN_S * scale), SIGMA)
    edges = [dist.cdf(math.log(b)) if math.isfinite(b) else 1.0 for b in BUCKETS]
    probabilities = np.diff([0.0, *edges])
    return np.cumsum(rng.multinomial(requests, probabilities))


def simulate(seed: int, *, steps: Sequence[tuple[float, float]] = ((10.0, 600.0),),
             rps: float = 100.0, spacing: float = 10.0, error_rate: float = 0.01,
             error_ratio: float = 1.0, baseline_error_rate: float | None = None,
             latency_scale: float = 1.0, good_rate: float = 0.3, good_ratio: float = 1.0,
             share: float | None = None, pre: int = 0, now: float | None = None,
             ) -> AnalysisInput:
    """Counts for ``steps`` of ``(percentage, duration_s)`` laid from t=0, scraped every
    ``spacing`` s, with ``pre`` scrapes before the rollout (canary idle then).

    ``error_ratio``, ``latency_scale`` and ``good_ratio`` make the canary worse; ``share``
    overrides the canary's true traffic share (a broken split).
    """
    rng = np.random.default_rng(seed)
    windows: list[StepWindow] = []
    begin = 0.0
    for percentage, duration in steps:
        windows.append(StepWindow(begin, begin + duration, percentage))
        begin += duration
    count = round(begin / spacing)
    stamps = [spacing * (i + 1 - pre) for i in range(count + pre)]
    starts = [w.start for w in windows]
    base_rate = error_rate if baseline_error_rate is None else baseline_error_rate
    columns: dict[str, dict[str, list[float]]] = {
        arm: {"requests": [], "errors": [], "good": [], **{str(b): [] for b in BUCKETS}}
        for arm in ("baseline", "canary")}
    for stamp in stamps:
        index = max(0, int(np.searchsorted(starts, stamp, side="left")) - 1)
        percentage = windows[index].percentage if stamp > 0 else 0.0
        target = percentage / 100.0 if share is None else share
        total = int(rng.poisson(rps * spacing))
        canary = int(rng.binomial(total, target)) if stamp > 0 else 0
        arms = (("baseline", total - canary, base_rate, 1.0, good_rate),
                ("canary", canary, error_rate * error_ratio, latency_scale,
                 good_rate * good_ratio))
        for arm, requests, errors, scale, good in arms:
            column = columns[arm]
            column["requests"].append(float(requests))
            column["errors"].append(float(rng.binomial(requests, min(1.0, errors))))
            column["good"].append(float(rng.binomial(requests, min(1.0, good))))
            for bound, value in zip(BUCKETS, _histogram(rng, requests, scale), strict=True):
                column[str(bound)].append(float(value))

    def counts(arm: str) -> ArmCounts:
        column = columns[arm]
        return ArmCounts(timestamps=tuple(stamps), requests=tuple(column["requests"]),
                         errors=tuple(column["errors"]),
                         latency_buckets={b: tuple(column[str(b)]) for b in BUCKETS},
                         good_events={"checkout": tuple(column["good"])})

    return AnalysisInput(metrics={}, now=stamps[-1] if now is None else now,
                         steps=tuple(windows), baseline_counts=counts("baseline"),
                         canary_counts=counts("canary"))


def make_spec(*metrics: CanaryMetric, alpha: float = 0.01, slo_target: float | None = None,
              **judge: Any) -> CanarySpec:
    """A spec with ``metrics`` (errors and p95 by default) and judge settings."""
    chosen = metrics or (ERRORS, P95)
    config = JudgeConfig(alpha=alpha, slo_target=slo_target, **judge)
    return CanarySpec("test.yaml", "svc", (CanaryStep(10, 600),), chosen, judge=config)


def with_series(data: AnalysisInput, name: str, baseline: Sequence[float],
                canary: Sequence[float], stamps: Sequence[float]) -> AnalysisInput:
    """``data`` with one more metric series."""
    metrics = dict(data.metrics)
    metrics[name] = MetricData(name, Series(tuple(stamps), tuple(baseline)),
                               Series(tuple(stamps), tuple(canary)))
    return AnalysisInput(metrics, data.now, data.steps, data.baseline_counts, data.canary_counts)


def test_simulator_counts_are_consistent() -> None:
    data = simulate(3, steps=((10, 120), (50, 120)), pre=3)
    for counts in (data.baseline_counts, data.canary_counts):
        assert counts is not None
        top = np.asarray(counts.latency_buckets[math.inf])
        assert np.array_equal(top, np.asarray(counts.requests))
        assert all(e <= r for e, r in zip(counts.errors, counts.requests, strict=True))
        columns = [np.asarray(counts.latency_buckets[b]) for b in BUCKETS]
        assert all((a <= b).all() for a, b in itertools.pairwise(columns))
    assert data.canary_counts is not None
    assert data.canary_counts.requests[:3] == (0.0, 0.0, 0.0)
    assert data.steps[1].percentage == 50
    assert len(data.canary_counts.timestamps) == 3 + 24


def test_simulator_is_seeded() -> None:
    assert simulate(7) == simulate(7)
    assert simulate(7) != simulate(8)
