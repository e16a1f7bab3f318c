"""The event-attribution e-process: a mixture likelihood ratio on the canary/baseline rate ratio.

Model (research note, section 6.1). In scrape interval ``i`` the canary served a share
``rho_i = n_c / (n_c + n_b)`` of the requests. Bad events (errors, slow requests, good business
events for a "drop" test) happen at a rate proportional to requests, times an arbitrary common
time-varying base rate, times ``exp(delta)`` on the canary. Given the interval's events, the
canary's count is Binomial(k_c + k_b, p_i(delta)) with
``p_i(delta) = rho_i e^delta / (rho_i e^delta + 1 - rho_i)``, so

    LR_t(delta) = prod_i (p_i(delta)/rho_i)^{k_c,i} ((1 - p_i(delta))/(1 - rho_i))^{k_b,i}
    log LR_t(delta) = delta * K_c - sum_i (k_c,i + k_b,i) * log(1 + rho_i (e^delta - 1))

is a test martingale under ``delta = 0`` for every ``delta`` and whatever ``rho_i`` does between
steps. A mixture over a grid of ``delta`` with prior weights summing to one is again a test
martingale (an e-process), so by Ville's inequality ``P(sup_t E_t >= 1/a) <= a`` under H0,
however often it is looked at. Everything is computed in log space (log-sum-exp).

Priors: a discretised half-normal on ``delta > 0`` (harm = increase), its mirror for harm =
decrease, and the normal (the two halves with weight 1/2 each) for ``either``. Offsets are
multiples of the lattice step (:func:`lattice_step`: :data:`LATTICE_STEP`, finer for a narrow
prior), so the same log-likelihood lattice serves the test and its inversion.

Confidence sequence: the same mixture centred at ``delta0`` (offsets added to ``delta0``) tests
``delta = delta0``. Because ``log LR`` is concave in ``delta``, the upward mixture's e-value falls
as ``delta0`` grows and the downward one rises, so each one-sided inversion is a half-line:

* lower bound = where the upward mixture stops rejecting (``E_up(delta0) < 1/a``),
* upper bound = where the downward mixture starts rejecting.

Each bound holds with probability >= 1 - a uniformly over time. For ``either`` each half is
inverted at ``2/a`` (the normal mixture is at least half of each half), which contains the exact
inversion. Bounds are found on the exact lattice and refined between two lattice points by cubic
interpolation of the (smooth, concave) log-likelihood; the refined bound is rounded outwards to a
1/32 lattice step. The ROLLBACK decision itself uses only exact lattice values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from safeship.model.canary import Direction

__all__ = [
    "LATTICE_STEP",
    "POINTS_PER_SIGMA",
    "PRIOR_EXTENT_SIGMAS",
    "RATIO_RANGE",
    "RatioEvidence",
    "half_normal_offsets",
    "lattice_step",
    "log_likelihood_ratio",
    "logsumexp",
    "ratio_evidence",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

LATTICE_STEP = 0.05
"""Largest spacing of the log-ratio lattice and of the prior's offsets (:func:`lattice_step`)."""
POINTS_PER_SIGMA = 4
"""A narrow prior gets a finer lattice: at least this many points per prior standard deviation,
so a business test with a 0.1 prior can bet on a 2.5 % drop, not only on 5 % and more."""
PRIOR_EXTENT_SIGMAS = 3.0
"""The half-normal prior is truncated at this many standard deviations."""
RATIO_RANGE = 3.0
"""Confidence bounds are searched for ``log ratio`` in ``[-3, 3]`` (ratios 1/20.1 to 20.1), which
holds every margin and decision point. A lower bound beyond reads ``e^3`` and an upper bound below
reads ``e^-3`` (both still valid bounds); a lower bound below reads 0 and an upper bound above
reads infinity."""
_REFINE = 32


@dataclass(frozen=True)
class RatioEvidence:
    """What the e-process says about the canary/baseline rate ratio ``exp(delta)``.

    ``log_e`` is the largest log e-value of the harm-direction test over every interval so far
    (what ROLLBACK compares with ``log(M/alpha)``); ``log_e_now`` is its current value.
    ``cs_lower``/``cs_upper`` bound the rate ratio (0 and ``inf`` when unbounded).
    """

    log_e: float
    log_e_now: float
    cs_lower: float
    cs_upper: float
    events_canary: float
    events_baseline: float
    intervals: int


def logsumexp(values: FloatArray, axis: int | None = None) -> FloatArray:
    """``log(sum(exp(values)))`` along ``axis`` without overflow."""
    peak = np.max(values, axis=axis, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    with np.errstate(divide="ignore"):
        total = np.log(np.sum(np.exp(values - peak), axis=axis, keepdims=True)) + peak
    if axis is None:
        return np.asarray(total.reshape(()), dtype=np.float64)
    return np.asarray(np.squeeze(total, axis=axis), dtype=np.float64)


def lattice_step(sigma: float) -> float:
    """The lattice spacing for a prior of scale ``sigma``."""
    return min(LATTICE_STEP, sigma / POINTS_PER_SIGMA)


def half_normal_offsets(sigma: float) -> tuple[FloatArray, FloatArray]:
    """Positive offsets (multiples of the lattice step) and log weights of a half-normal prior."""
    step = lattice_step(sigma)
    count = max(1, math.ceil(PRIOR_EXTENT_SIGMAS * sigma / step - 1e-9))
    offsets = step * np.arange(1, count + 1, dtype=np.float64)
    log_weights = -0.5 * (offsets / sigma) ** 2
    log_weights = log_weights - logsumexp(log_weights)
    return offsets, log_weights


def log_likelihood_ratio(deltas: FloatArray, events_canary: FloatArray, events_total: FloatArray,
                         rho: FloatArray) -> FloatArray:
    """``log LR_t(delta)`` summed over all intervals, for each ``delta`` in ``deltas``."""
    if events_total.size == 0:
        return np.zeros(deltas.shape)
    spread = np.log1p(np.multiply.outer(np.expm1(deltas), rho)) @ events_total
    return np.asarray(deltas * float(events_canary.sum()) - spread, dtype=np.float64)


def _log_lr_path(deltas: FloatArray, events_canary: FloatArray, events_total: FloatArray,
                 rho: FloatArray) -> FloatArray:
    """``log LR_t(delta)`` after each interval: shape (len(deltas), len(intervals))."""
    per_interval = (np.multiply.outer(deltas, events_canary)
                    - np.log1p(np.multiply.outer(np.expm1(deltas), rho)) * events_total)
    return np.asarray(np.cumsum(per_interval, axis=1), dtype=np.float64)


def _interpolate(values: FloatArray, first: float, step: float,
                 points: FloatArray) -> FloatArray:
    """Four-point (cubic) Lagrange interpolation of lattice ``values`` at ``points``."""
    position = (points - first) / step
    index = np.clip(np.floor(position).astype(np.int64), 1, values.size - 3)
    t = position - index
    p0, p1, p2, p3 = values[index - 1], values[index], values[index + 1], values[index + 2]
    return np.asarray(
        -t * (t - 1) * (t - 2) / 6 * p0 + (t + 1) * (t - 1) * (t - 2) / 2 * p1
        - (t + 1) * t * (t - 2) / 2 * p2 + (t + 1) * t * (t - 1) / 6 * p3, dtype=np.float64)


class _Lattice:
    """``log LR`` at every lattice point, and the centred mixtures built from it."""

    def __init__(self, events_canary: FloatArray, events_total: FloatArray, rho: FloatArray,
                 offsets: FloatArray, log_weights: FloatArray, step: float) -> None:
        self.step = step
        self.steps = np.rint(offsets / step).astype(np.int64)
        self.log_weights = log_weights
        extent = int(self.steps[-1])
        self.radius = round(RATIO_RANGE / step)
        half = self.radius + extent + 2
        self.first = -half * step
        grid = step * np.arange(-half, half + 1, dtype=np.float64)
        self.ell = log_likelihood_ratio(grid, events_canary, events_total, rho)
        self.centre = half  # index of delta = 0
        self.centres = np.arange(half - self.radius, half + self.radius + 1, dtype=np.int64)

    def log_e(self, upward: bool) -> FloatArray:
        """log e-value of the mixture centred at every centre (exact lattice values)."""
        sign = 1 if upward else -1
        shifted = self.ell[self.centres[None, :] + sign * self.steps[:, None]]
        return logsumexp(shifted - self.ell[self.centres][None, :]
                         + self.log_weights[:, None], axis=0)

    def log_e_at(self, deltas: FloatArray, upward: bool) -> FloatArray:
        """log e-value of the mixture centred at arbitrary ``deltas`` (interpolated)."""
        sign = 1.0 if upward else -1.0
        offsets = sign * self.step * self.steps
        shifted = _interpolate(self.ell, self.first, self.step,
                               deltas[None, :] + offsets[:, None])
        centre = _interpolate(self.ell, self.first, self.step, deltas)
        return logsumexp(shifted - centre[None, :] + self.log_weights[:, None], axis=0)

    def delta(self, index: int) -> float:
        return float((index - self.centre) * self.step)

    def upper_bound(self, log_threshold: float) -> float:
        """Smallest ``delta0`` the downward mixture rejects (the CS's upper end)."""
        rejects = self.log_e(upward=False) >= log_threshold
        if not rejects.any():
            return math.inf
        first = int(np.argmax(rejects))
        if first == 0:
            return self.delta(int(self.centres[0]))
        top = self.delta(int(self.centres[first]))
        trial = top - self.step + self.step * np.arange(1, _REFINE + 1) / _REFINE
        inside = self.log_e_at(trial, upward=False) >= log_threshold
        return float(trial[int(np.argmax(inside))]) if inside.any() else top

    def lower_bound(self, log_threshold: float) -> float:
        """Largest ``delta0`` the upward mixture rejects (the CS's lower end)."""
        rejects = self.log_e(upward=True) >= log_threshold
        if not rejects.any():
            return -math.inf
        last = int(rejects.size - 1 - np.argmax(rejects[::-1]))
        if last == rejects.size - 1:
            return self.delta(int(self.centres[-1]))
        bottom = self.delta(int(self.centres[last]))
        trial = bottom + self.step * np.arange(_REFINE - 1, -1, -1) / _REFINE
        inside = self.log_e_at(trial, upward=True) >= log_threshold
        return float(trial[int(np.argmax(inside))]) if inside.any() else bottom


def ratio_evidence(events_canary: FloatArray, events_baseline: FloatArray, rho: FloatArray, *,
                   harm: Direction, sigma: float, log_threshold: float,
                   tolerance: float = 0.0) -> RatioEvidence:
    """Run the e-process over intervals in time order.

    ``events_canary``, ``events_baseline`` and ``rho`` are per-interval arrays of valid intervals
    only (finite, non-negative counts, ``0 < rho < 1``). ``harm`` picks the prior: increase and
    decrease are one-sided tests, either is two-sided. ``tolerance`` (``>= 0``, a log ratio) is
    the indifference zone: the increase test is of ``delta <= tolerance`` (the mixture centred at
    ``+tolerance``), the decrease test of ``delta >= -tolerance``. Under a binomial model the
    likelihood ratio of a larger ``p`` against a smaller one is increasing in ``k_c``, so the
    centred mixture is a supermartingale for every ``delta`` on the null side, and the test
    stays valid for the whole composite null; 0 gives the point null ``delta = 0``.
    ``log_threshold`` is ``log(M/alpha)``; it sets the confidence level of the bounds.
    """
    total = events_canary + events_baseline
    busy = total > 0
    k_c, k_t, share = events_canary[busy], total[busy], rho[busy]
    offsets, log_weights = half_normal_offsets(sigma)
    centre = max(0.0, tolerance)
    if harm is Direction.INCREASE:
        deltas, weights, sides = centre + offsets, log_weights, np.zeros(offsets.size, np.int64)
    elif harm is Direction.DECREASE:
        deltas, weights, sides = -centre - offsets, log_weights, np.ones(offsets.size, np.int64)
    else:
        deltas = np.concatenate([centre + offsets, -centre - offsets])
        weights = np.concatenate([log_weights, log_weights]) + math.log(0.5)
        sides = np.repeat(np.arange(2, dtype=np.int64), offsets.size)
    if k_t.size:
        ratios = _log_lr_path(deltas, k_c, k_t, share)
        if centre > 0.0:
            # Each alternative is measured against its own side's centre: one path per side.
            centres = _log_lr_path(np.array([centre, -centre]), k_c, k_t, share)
            ratios = ratios - centres[sides]
        path = logsumexp(ratios + weights[:, None], axis=0)
        log_e_now = float(path[-1])
        log_e = max(0.0, float(path.max()))
    else:
        log_e_now = log_e = 0.0
    lattice = _Lattice(k_c, k_t, share, offsets, log_weights, lattice_step(sigma))
    bound_threshold = log_threshold + (math.log(2.0) if harm is Direction.EITHER else 0.0)
    lower = lattice.lower_bound(bound_threshold)
    upper = lattice.upper_bound(bound_threshold)
    return RatioEvidence(
        log_e=log_e, log_e_now=log_e_now, cs_lower=math.exp(lower), cs_upper=math.exp(upper),
        events_canary=float(events_canary.sum()), events_baseline=float(events_baseline.sum()),
        intervals=int(k_t.size))
