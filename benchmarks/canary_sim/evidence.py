"""Counters of a trace -> the ``AnalysisInput`` a judge sees at the end of interval ``k``.

Per interval and arm the input carries the ``ArmCounts`` (requests, errors, cumulative latency
buckets, good events; NaN on a missed scrape) and the per-interval ``Series`` the Kayenta and
threshold judges read:

* ``error_rate`` = errors / requests;
* ``latency_p95`` = ``histogram_quantile(0.95, ...)`` over the interval's bucket deltas (seconds);
* ``slo_burn_rate`` = error_rate / (1 - SLO), the SLO being 0.999 (0.99 at a 1 % base rate);
* ``conversions`` = good events / requests (business scenarios only).

Everything is precomputed once per trace; :meth:`Evidence.at` only slices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from canary_sim.spec import BUSINESS_METRIC
from canary_sim.traffic import ARMS, BASELINE, CANARY, FloatArray, Trace, histogram_quantile
from safeship.model.analysis import AnalysisInput, ArmCounts, MetricData, Series, StepWindow
from safeship.model.canary import CanarySpec


def metric_values(trace: Trace) -> dict[str, FloatArray]:
    """Per-interval values ``[arm, interval]`` of every metric the benchmark spec can name."""
    with np.errstate(invalid="ignore", divide="ignore"):
        requests = np.where(trace.requests_delta > 0, trace.requests_delta, np.nan)
        error_rate = trace.errors_delta / requests
        conversions = trace.good_delta / requests
    les = np.asarray(trace.config.buckets, dtype=np.float64)
    p95 = histogram_quantile(0.95, les, trace.buckets_delta)
    return {
        "error_rate": error_rate,
        "latency_p95": p95,
        "slo_burn_rate": error_rate / (1.0 - trace.scenario.slo_target),
        BUSINESS_METRIC: conversions,
    }


@dataclass(frozen=True)
class _ArmLists:
    requests: list[float]
    errors: list[float]
    buckets: dict[float, list[float]]
    good: dict[str, list[float]]


class Evidence:
    """Builds the judges' input at any interval of one trace."""

    def __init__(self, trace: Trace, spec: CanarySpec) -> None:
        self.trace = trace
        self.spec = spec
        values = metric_values(trace)
        missing = [m.name for m in spec.metrics if m.name not in values]
        if missing:
            raise ValueError(f"the simulator cannot produce metric(s): {', '.join(missing)}")
        self._stamps: list[float] = trace.ends.tolist()
        self._series: dict[str, tuple[list[float], list[float]]] = {
            m.name: (values[m.name][BASELINE].tolist(), values[m.name][CANARY].tolist())
            for m in spec.metrics
        }
        les = [*trace.config.buckets, math.inf]
        business = any(m.name == BUSINESS_METRIC for m in spec.metrics)
        self._counts = [
            _ArmLists(
                requests=trace.requests_delta[arm].tolist(),
                errors=trace.errors_delta[arm].tolist(),
                buckets={le: trace.buckets_delta[arm, :, j].tolist()
                         for j, le in enumerate(les)},
                good=({BUSINESS_METRIC: trace.good_delta[arm].tolist()} if business else {}),
            )
            for arm in range(len(ARMS))
        ]
        self._steps = tuple(
            StepWindow(float(start), float(end), float(plan.percentage))
            for start, end, plan in zip(trace.step_starts, trace.step_ends,
                                        trace.config.steps, strict=True))

    def _arm(self, arm: int, size: int) -> ArmCounts:
        lists = self._counts[arm]
        return ArmCounts(
            timestamps=tuple(self._stamps[:size]), requests=tuple(lists.requests[:size]),
            errors=tuple(lists.errors[:size]),
            latency_buckets={le: tuple(v[:size]) for le, v in lists.buckets.items()},
            good_events={name: tuple(v[:size]) for name, v in lists.good.items()},
        )

    def at(self, k: int) -> AnalysisInput:
        """What is known at the end of interval ``k`` (0-based): all data up to it."""
        size = k + 1
        now = self._stamps[k]
        stamps = tuple(self._stamps[:size])
        metrics = {
            name: MetricData(name, Series(stamps, tuple(base[:size])),
                             Series(stamps, tuple(canary[:size])))
            for name, (base, canary) in self._series.items()
        }
        steps = tuple(s for s in self._steps if s.start < now)
        return AnalysisInput(metrics=metrics, now=now, steps=steps,
                             baseline_counts=self._arm(BASELINE, size),
                             canary_counts=self._arm(CANARY, size))
