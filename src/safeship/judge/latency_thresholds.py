"""Latency as events: which quantile a metric watches, and the frozen "slow request" threshold.

The sequential judge turns a latency quantile (p95, p99...) into a count of slow requests: those
above a threshold ``tau``. Under "the canary is no slower", the canary's share of slow requests
equals its share of requests for *any* fixed ``tau``, so ``tau`` only has to be fixed before the
requests it classifies are seen, and must never look at canary data (research note, 6.4.3).

Rules:

* The quantile ``q`` comes from ``histogram_quantile(q, ...)`` in the query, else from the name
  (``p95`` -> 0.95, ``p999`` -> 0.999, ``median`` -> 0.5), else 0.95.
* ``tau`` for a step is frozen from the **baseline's** histogram of the reference window: the
  baseline intervals in the :data:`LOOKBACK_S` seconds before the step started, when they hold at
  least :func:`min_calibration_requests` baseline requests (about 20 expected exceedances).
* Otherwise (the first step of a rollout usually has no history) the step calibrates itself,
  interval by interval. Each interval is classified with the threshold snapped from the baseline
  data of the reference window and of the step's *earlier* intervals, never its own: a
  provisional threshold as soon as that holds :func:`min_provisional_requests` requests, frozen
  for the rest of the step once it holds :func:`min_calibration_requests`. Intervals before the
  first provisional threshold are left out of the slow-request test. Because every interval's
  threshold depends only on baseline data that came before it, the test stays valid; and the
  step loses only the first interval or two instead of the whole calibration window.
* ``tau`` is snapped to a finite bucket bound (Prometheus histograms only count per bucket): the
  smallest bound whose baseline exceedance share is at most ``1 - q`` (the upper edge of the
  bucket holding the baseline's q-quantile, as ``histogram_quantile`` sees it), else the largest
  finite bound. Erring above the quantile keeps the test on the tail, where p95/p99 regressions
  live.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from safeship.model.canary import CanaryMetric

__all__ = [
    "DEFAULT_QUANTILE",
    "LOOKBACK_S",
    "FrozenThreshold",
    "freeze_threshold",
    "metric_quantile",
    "min_calibration_requests",
    "min_provisional_requests",
    "quantile_label",
    "snap_threshold",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

DEFAULT_QUANTILE = 0.95
LOOKBACK_S = 600.0
"""How far before a step the baseline's latency is taken from."""

_QUERY_QUANTILE = re.compile(r"histogram_quantile\s*\(\s*([0-9]*\.?[0-9]+)")
_NAME_QUANTILE = re.compile(r"(?:^|[^a-z0-9])p(\d{2,4})(?![0-9])", re.IGNORECASE)


def metric_quantile(metric: CanaryMetric) -> float:
    """The latency quantile a metric watches (see the module docstring)."""
    found = _QUERY_QUANTILE.search(metric.query)
    if found is not None:
        value = float(found.group(1))
        if 0.0 < value < 1.0:
            return value
    named = _NAME_QUANTILE.search(metric.name.replace("_", " "))
    if named is not None:
        digits = named.group(1)
        value = float("0." + digits)
        if 0.0 < value < 1.0:
            return value
    if "median" in metric.name.lower():
        return 0.5
    return DEFAULT_QUANTILE


def quantile_label(quantile: float) -> str:
    """``0.95`` -> ``"p95"``, ``0.999`` -> ``"p99.9"``."""
    percent = round(quantile * 100, 4)
    return f"p{percent:g}"


def min_calibration_requests(quantile: float) -> float:
    """Baseline requests needed to freeze ``tau``: about 20 expected exceedances, at least 200."""
    return max(200.0, 20.0 / max(1.0 - quantile, 1e-6))


def min_provisional_requests(quantile: float) -> float:
    """Baseline requests needed for a provisional ``tau``: 5 expected exceedances, at least 100."""
    return max(100.0, 5.0 / max(1.0 - quantile, 1e-6))


def snap_threshold(bounds: FloatArray, below: FloatArray, total: float, quantile: float) -> float:
    """The bucket bound to use as ``tau`` given the baseline's cumulative counts ``below``."""
    exceed = 1.0 - below / total
    fitting = np.flatnonzero(exceed <= 1.0 - quantile + 1e-12)
    return float(bounds[fitting[0]]) if fitting.size else float(bounds[-1])


@dataclass(frozen=True)
class FrozenThreshold:
    """A step's slow-request thresholds and how they were obtained.

    ``rows`` gives, per interval, the index into ``bounds`` of the threshold that classifies it
    (-1: not tested, outside the step or still calibrating). ``tau`` is the threshold in force at
    the step's last interval (None when the baseline never had enough requests) and
    ``baseline_exceedance`` the baseline's share above it in the data that set it.
    """

    tau: float | None
    baseline_exceedance: float | None
    calibration_requests: float
    calibration_intervals: int
    provisional_intervals: int
    frozen: bool
    rows: IntArray


def freeze_threshold(*, bounds: FloatArray, baseline_below: FloatArray,
                     baseline_total: FloatArray, stamps: FloatArray, in_step: BoolArray,
                     step_start: float, quantile: float) -> FrozenThreshold:
    """The thresholds of one step, from baseline data only (see the module docstring).

    ``bounds`` are the finite bucket bounds (ascending); ``baseline_below`` has one row per bound
    with the baseline's per-interval counts at or below it, ``baseline_total`` the per-interval
    request totals (NaN = missing). ``in_step`` marks the step's intervals, in time order.
    """
    valid = np.isfinite(baseline_total) & np.isfinite(baseline_below).all(axis=0)
    reference = valid & (stamps <= step_start) & (stamps > step_start - LOOKBACK_S)
    needed = min_calibration_requests(quantile)
    provisional_needed = min_provisional_requests(quantile)
    below = baseline_below[:, reference].sum(axis=1)
    total = float(baseline_total[reference].sum())
    rows = np.full(stamps.size, -1, dtype=np.int64)

    def snapped() -> int:
        tau = snap_threshold(bounds, below, total, quantile)
        return int(np.flatnonzero(bounds == tau)[0])

    frozen_row = snapped() if total >= needed else None
    row: int | None = frozen_row
    calibration = provisional = 0
    for index in np.flatnonzero(in_step).tolist():
        if frozen_row is not None:
            rows[index] = frozen_row
            continue
        if total >= provisional_needed:
            row = snapped()
            rows[index] = row
            provisional += 1
        else:
            calibration += 1
        if valid[index]:
            below = below + baseline_below[:, index]
            total += float(baseline_total[index])
        if total >= needed:
            frozen_row = snapped()
    if frozen_row is not None:
        row = frozen_row
    if row is None:
        return FrozenThreshold(None, None, total, calibration, provisional, False, rows)
    exceedance = float(1.0 - below[row] / total) if total > 0 else None
    return FrozenThreshold(float(bounds[row]), exceedance, total, calibration, provisional,
                           frozen_row is not None, rows)
