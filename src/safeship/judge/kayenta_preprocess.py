"""Kayenta's per-arm preprocessing: missing values, IQR outliers, percentiles and summary stats.

Kayenta's judge transforms each arm separately before it compares them: NaNs are removed or
replaced with 0, then (if the metric asks for it) points outside widened IQR fences are dropped.
Percentiles are the R-7 kind (linear interpolation between order statistics, as in Apache
Commons Math's ``EstimationType.R_7``, NumPy's default and Excel's PERCENTILE.INC).

One deliberate difference: Kayenta only treats NaN as missing. Here every non-finite value
(NaN, +inf, -inf) is missing, because an infinite point (a Prometheus ``x / 0``) would otherwise
make the means and the rank test meaningless.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from safeship.model.canary import NanStrategy, OutlierStrategy

__all__ = [
    "SummaryStats",
    "add_gaussian_noise",
    "handle_missing",
    "handle_outliers",
    "iqr_outliers",
    "mean",
    "percentile",
    "remove_missing",
    "remove_outliers",
    "replace_missing",
    "summarize",
]


def remove_missing(values: Sequence[float]) -> tuple[float, ...]:
    """``values`` without NaN and infinite points (Kayenta's ``removeNaNs``)."""
    return tuple(float(v) for v in values if math.isfinite(v))


def replace_missing(values: Sequence[float], fill: float = 0.0) -> tuple[float, ...]:
    """``values`` with every NaN or infinite point set to ``fill`` (Kayenta's ``replaceNaNs``)."""
    return tuple(float(v) if math.isfinite(v) else fill for v in values)


def handle_missing(values: Sequence[float], strategy: NanStrategy) -> tuple[float, ...]:
    """Apply a metric's NaN strategy: remove missing points, or count them as 0."""
    if strategy is NanStrategy.REPLACE:
        return replace_missing(values)
    return remove_missing(values)


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0 < p <= 100) by the R-7 rule; NaN for no values.

    Written out rather than taken from NumPy so that the interpolation is evaluated exactly as
    Kayenta's does it (``low + fraction * (high - low)``), which Kayenta's tests compare exactly.
    """
    if not 0.0 < p <= 100.0:
        raise ValueError(f"a percentile must be in (0, 100], not {p}")
    ordered = sorted(float(v) for v in values)
    n = len(ordered)
    if n == 0:
        return math.nan
    if n == 1:
        return ordered[0]
    fraction = p / 100.0
    position = float(n) if fraction == 1.0 else 1.0 + (n - 1) * fraction  # >= 1 as p > 0
    if position >= n:
        return ordered[-1]
    whole = math.floor(position)
    low = ordered[int(whole) - 1]
    high = ordered[int(whole)]
    return low + (position - whole) * (high - low)


def iqr_outliers(values: Sequence[float], factor: float = 1.5, *,
                 reduce_sensitivity: bool = False) -> tuple[bool, ...]:
    """Which points lie strictly outside Tukey's fences Q1 - factor·IQR and Q3 + factor·IQR.

    With ``reduce_sensitivity`` (what Kayenta's judge uses) the fences are widened to at least
    the 1st and 99th percentiles, so at most about 1 % of the points on each side is an outlier.
    """
    if factor <= 0:
        raise ValueError("the outlier factor must be greater than zero")
    if not values:
        return ()
    q1 = percentile(values, 25)
    q3 = percentile(values, 75)
    spread = q3 - q1
    lower = q1 - factor * spread
    upper = q3 + factor * spread
    if reduce_sensitivity:
        lower = min(percentile(values, 1), lower)
        upper = max(percentile(values, 99), upper)
    return tuple(v > upper or v < lower for v in values)


def remove_outliers(values: Sequence[float], factor: float = 1.5, *,
                    reduce_sensitivity: bool = False) -> tuple[float, ...]:
    """``values`` without the points :func:`iqr_outliers` flags, in their original order."""
    flags = iqr_outliers(values, factor, reduce_sensitivity=reduce_sensitivity)
    return tuple(float(v) for v, outlier in zip(values, flags, strict=True) if not outlier)


def handle_outliers(values: Sequence[float], strategy: OutlierStrategy,
                    factor: float) -> tuple[float, ...]:
    """Apply a metric's outlier strategy the way Kayenta's judge does (widened fences)."""
    if strategy is OutlierStrategy.REMOVE:
        return remove_outliers(values, factor, reduce_sensitivity=True)
    return tuple(float(v) for v in values)


def mean(values: Sequence[float]) -> float:
    """The arithmetic mean, correctly rounded (``math.fsum``); NaN for no values."""
    if not values:
        return math.nan
    return math.fsum(values) / len(values)


@dataclass(frozen=True)
class SummaryStats:
    """What Kayenta attaches to each arm: min, max, mean, sample standard deviation, count.

    Like Kayenta, an empty arm summarises to zeros and a single point has deviation 0.
    """

    min: float
    max: float
    mean: float
    std: float
    count: int


def summarize(values: Sequence[float]) -> SummaryStats:
    """Summary statistics of one arm (after preprocessing)."""
    if not values:
        return SummaryStats(0.0, 0.0, 0.0, 0.0, 0)
    average = mean(values)
    count = len(values)
    if count == 1:
        std = 0.0
    else:
        std = math.sqrt(math.fsum((v - average) ** 2 for v in values) / (count - 1))
    return SummaryStats(float(min(values)), float(max(values)), average, std, count)


def add_gaussian_noise(values: Sequence[float], stdev: float,
                       rng: np.random.Generator) -> tuple[float, ...]:
    """``values`` plus independent normal noise of mean 0 and deviation ``stdev``.

    ``stdev`` may be 0 (no noise) or negative (same as its absolute value), as in Kayenta, which
    scales the noise by a value that can be either. The generator must be seeded by the caller.
    """
    noise = rng.standard_normal(len(values)) * stdev
    return tuple(float(v + n) for v, n in zip(values, noise, strict=True))
