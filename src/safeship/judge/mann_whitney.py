"""The Mann-Whitney (Wilcoxon rank-sum) confidence interval for a location shift, as Kayenta has it.

Kayenta's judge does not use a p-value. It inverts the normal approximation of the rank-sum
statistic, with R's tie correction and continuity correction (``wilcox.test(conf.int=TRUE,
exact=FALSE, correct=TRUE)``), to get a confidence interval and a point estimate of the shift
``x - y`` (canary minus baseline). Each bound is a root of :func:`wilcoxon_diff`, found by Brent's
method with Kayenta's fixed **absolute** tolerance of 1e-4; the bounds therefore carry an error of
up to about 1e-4 whatever the scale of the data, and this module reproduces that on purpose so
that results agree with Kayenta's (see ``MannWhitneySuite`` in the tests).

The root finder is written out here rather than taken from ``scipy.optimize.brentq``: both are
Brent's algorithm, but SciPy keeps its "previous step" differently, and with a tolerance this
coarse the two stop at different points of a step-shaped function. Kayenta's published
expectations are only met by following Brent's original bookkeeping.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from safeship.errors import InternalError

__all__ = [
    "BRENT_MAX_ITERATIONS",
    "BRENT_TOLERANCE",
    "MannWhitneyInterval",
    "TiedObservationsError",
    "average_ranks",
    "brent_root",
    "mann_whitney_interval",
    "normal_quantile",
    "wilcoxon_diff",
]

BRENT_TOLERANCE = 1e-4
"""Kayenta's absolute tolerance on a root (not relative: see the module docstring)."""
BRENT_MAX_ITERATIONS = 1000
_EPSILON = 2.220446049250313e-16
_SMALLEST = math.ulp(0.0)
"""Anything this close to 0 is a root; Kayenta tests ``Precision.equals(f, 0)``."""

FloatArray = npt.NDArray[np.float64]


class TiedObservationsError(InternalError, ValueError):
    """Every observation of both samples has the same rank, so the interval does not exist."""

    def __init__(self) -> None:
        super().__init__(
            "cannot compute a Mann-Whitney confidence interval: all observations are tied",
            hint="the Kayenta classifier passes identical data before it gets here; a caller "
                 "that calls mann_whitney_interval directly must do the same",
        )


@dataclass(frozen=True)
class MannWhitneyInterval:
    """A confidence interval and point estimate for the location shift ``x - y``."""

    lower: float
    upper: float
    estimate: float
    confidence: float


def _as_array(values: Sequence[float] | FloatArray) -> FloatArray:
    return np.asarray(values, dtype=np.float64)


def average_ranks(values: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Ranks 1..n with ties sharing their average rank, and the size of each tie group."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    # A new group starts wherever the sorted value changes.
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    sizes = np.diff(np.append(starts, ordered.size)).astype(np.float64)
    # Group g covers ranks starts[g]+1 .. starts[g]+sizes[g]; its average is the midpoint.
    group_rank = starts + (sizes + 1.0) / 2.0
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = np.repeat(group_rank, sizes.astype(np.int64))
    return ranks, sizes


def wilcoxon_diff(shift: float, quantile: float, x: Sequence[float] | FloatArray,
                  y: Sequence[float] | FloatArray) -> float:
    """The standardised rank-sum statistic of ``x - shift`` against ``y``, minus ``quantile``.

    Its roots in ``shift`` are the confidence bounds (``quantile`` = ±z) and the estimate
    (``quantile`` = 0). The expression is evaluated in Kayenta's order of operations.
    """
    xs = _as_array(x)
    ys = _as_array(y)
    nx = float(xs.size)
    ny = float(ys.size)
    with np.errstate(over="raise", invalid="raise"):  # overflow is an error, not a silent inf
        shifted = xs - shift
    ranks, tie_sizes = average_ranks(np.concatenate((shifted, ys)))
    dz = float(np.sum(ranks[: xs.size])) - nx * (nx + 1) / 2 - nx * ny / 2
    correction = math.copysign(0.5, dz) if dz != 0 else 0.0
    ties = float(np.sum(tie_sizes**3 - tie_sizes))
    sigma = math.sqrt((nx * ny / 12) * ((nx + ny + 1) - ties / ((nx + ny) * (nx + ny - 1))))
    if sigma == 0:
        raise TiedObservationsError
    return (dz - correction) / sigma - quantile


def brent_root(function: Callable[[float], float], lower: float, upper: float,
               f_lower: float, f_upper: float, *, tolerance: float = BRENT_TOLERANCE,
               max_iterations: int = BRENT_MAX_ITERATIONS) -> float:
    """A zero of ``function`` in ``[lower, upper]`` by Brent's method (his 1973 book, ch. 4).

    ``f_lower`` and ``f_upper`` are the function's values at the ends (the caller has them
    already). The search stops when the bracket is narrower than about ``tolerance`` or after
    ``max_iterations`` evaluations, returning the best point so far. Like Kayenta's solver it
    does not check that the ends bracket a root.
    """
    if abs(f_lower) <= _SMALLEST:
        return lower
    if abs(f_upper) <= _SMALLEST:
        return upper
    # b is the best guess, c the other end of the bracket, a the previous b.
    a, b, c = lower, upper, lower
    fa, fb, fc = f_lower, f_upper, f_lower
    for _ in range(max_iterations + 1):
        last_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol = 2 * _EPSILON * abs(b) + tolerance / 2
        step = (c - b) / 2
        if abs(step) <= tol or abs(fb) <= _SMALLEST:
            return b
        if abs(last_step) >= tol and abs(fa) > abs(fb):
            # Interpolate: secant through a and b, or inverse quadratic through a, b and c.
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            # Accept the interpolated point only if it lands well inside the bracket and the
            # step shrinks fast enough; otherwise keep the bisection step.
            if p < 0.75 * cb * q - abs(tol * q) / 2 and p < abs(last_step * q / 2):
                step = p / q
        if abs(step) < tol:
            step = tol if step > 0 else -tol
        a, fa = b, fb
        b += step
        fb = function(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b


def normal_quantile(probability: float) -> float:
    """The standard normal quantile (inverse CDF) at ``probability``."""
    return NormalDist().inv_cdf(probability)


def mann_whitney_interval(x: Sequence[float] | FloatArray, y: Sequence[float] | FloatArray,
                          confidence: float = 0.95) -> MannWhitneyInterval:
    """Confidence interval and estimate of the shift ``x - y`` (``x`` is the canary).

    Raises ``ValueError`` for an empty or non-finite sample, a confidence outside (0, 1) or
    differences that overflow, ``FloatingPointError`` if a shifted sample overflows, and
    :class:`TiedObservationsError` when every observation is tied.
    """
    xs = _as_array(x)
    ys = _as_array(y)
    if xs.size == 0 or ys.size == 0:
        raise ValueError("the Mann-Whitney interval needs at least one value in each sample")
    if not (np.all(np.isfinite(xs)) and np.all(np.isfinite(ys))):
        raise ValueError("the Mann-Whitney interval needs finite values (remove NaN first)")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    lowest = float(xs.min()) - float(ys.max())
    highest = float(xs.max()) - float(ys.min())
    if not (math.isfinite(lowest) and math.isfinite(highest)):
        raise ValueError("the samples are too far apart to compare: their differences overflow")

    def root(quantile: float, *, clamp: bool) -> float:
        def f(shift: float) -> float:
            return wilcoxon_diff(shift, quantile, xs, ys)

        f_low = f(lowest)
        f_high = f(highest)
        # A bound whose equation has no root inside the range sits at the range's end.
        if clamp and f_low <= 0:
            return lowest
        if clamp and f_high >= 0:
            return highest
        return brent_root(f, lowest, highest, f_low, f_high)

    z = normal_quantile((1.0 - confidence) / 2)  # negative
    lower = root(-z, clamp=True)
    upper = root(z, clamp=True)
    estimate = root(0.0, clamp=False)
    if not all(math.isfinite(v) for v in (lower, upper, estimate)):
        raise ValueError("the Mann-Whitney interval is not finite for these values")
    return MannWhitneyInterval(lower, upper, estimate, confidence)
