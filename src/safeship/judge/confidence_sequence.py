"""Anytime-valid bounds on one arm's share of "bad" requests (a Bernoulli rate).

Used where a limit is absolute rather than relative to the baseline: the canary's SLO burn rate,
the canary's share of requests slower than an absolute latency limit, and the canary's share of
traffic (the sample-ratio check).

The test of ``H0: p <= p0`` is a mixture of binomial likelihood ratios over alternatives
``p_j = sigmoid(logit(p0) + d_j)`` above ``p0``, with a discretised half-normal prior on the
log-odds offsets ``d_j``. For each alternative the likelihood ratio is a supermartingale under
every ``p <= p0`` (monotone likelihood ratio), so the mixture is an e-process for the composite
null and Ville's inequality bounds ``P(sup_t E_t >= 1/a) <= a``. The mirror image tests
``p >= p0``. Inverting the tests over ``p0`` gives lower and upper confidence bounds valid
uniformly over time; they are found on a fine log-odds grid and rounded outwards.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from safeship.judge.e_process import half_normal_offsets, logsumexp

__all__ = [
    "BERNOULLI_PRIOR_SIGMA",
    "log_e_above",
    "log_e_below",
    "lower_bound",
    "upper_bound",
]

FloatArray = npt.NDArray[np.float64]

BERNOULLI_PRIOR_SIGMA = 1.0
"""Scale of the half-normal prior on the log-odds distance from ``p0``."""
_GRID = 160
_FLOOR = 1e-9


def _logit(p: float) -> float:
    return math.log(p) - math.log1p(-p)


def log_e_above(successes: FloatArray, trials: FloatArray, p0: float,
                sigma: float = BERNOULLI_PRIOR_SIGMA) -> FloatArray:
    """log e-value of ``H0: p <= p0`` after each entry of the cumulative counts.

    ``successes`` and ``trials`` are running totals (non-decreasing, ``successes <= trials``).
    With ``p0 >= 1`` nothing can exceed it and the e-value stays 1.
    """
    if successes.size == 0 or p0 >= 1.0:
        return np.zeros(successes.shape)
    p0 = max(p0, _FLOOR)
    offsets, log_weights = half_normal_offsets(sigma)
    base = _logit(p0)
    odds = base + offsets
    # log(p_j/p0) and log((1 - p_j)/(1 - p0)) through log-sigmoids, stable for any odds.
    log_up = -np.logaddexp(0.0, -odds) - math.log(p0)
    log_down = -np.logaddexp(0.0, odds) - math.log1p(-p0)
    failures = trials - successes
    per_alternative = (np.multiply.outer(log_up, successes)
                       + np.multiply.outer(log_down, failures) + log_weights[:, None])
    return logsumexp(per_alternative, axis=0)


def log_e_below(successes: FloatArray, trials: FloatArray, p0: float,
                sigma: float = BERNOULLI_PRIOR_SIGMA) -> FloatArray:
    """log e-value of ``H0: p >= p0`` after each entry (the mirror of :func:`log_e_above`)."""
    return log_e_above(trials - successes, trials, 1.0 - p0, sigma)


def _grid(low: float, high: float) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.linspace(_logit(low), _logit(high), _GRID))),
                      dtype=np.float64)


def _log_e_totals(successes: float, trials: float, p0: FloatArray, sigma: float) -> FloatArray:
    """log e-value of ``H0: p <= p0`` from the totals, for each ``p0`` of a grid."""
    offsets, log_weights = half_normal_offsets(sigma)
    base = np.log(p0) - np.log1p(-p0)
    odds = base[:, None] + offsets[None, :]
    log_up = -np.logaddexp(0.0, -odds) - np.log(p0)[:, None]
    log_down = -np.logaddexp(0.0, odds) - np.log1p(-p0)[:, None]
    terms = successes * log_up + (trials - successes) * log_down + log_weights[None, :]
    return logsumexp(terms, axis=1)


def _last_rejected(candidates: FloatArray, successes: float, trials: float,
                   log_threshold: float, sigma: float) -> int | None:
    rejected = _log_e_totals(successes, trials, candidates, sigma) >= log_threshold
    if not rejected.any():
        return None
    return int(rejected.size - 1 - np.argmax(rejected[::-1]))


def lower_bound(successes: float, trials: float, log_threshold: float,
                sigma: float = BERNOULLI_PRIOR_SIGMA) -> float:
    """Lower confidence bound on ``p`` from the totals so far (0 when nothing is excluded).

    The largest ``p0`` the test rejects, found on a log-odds grid up to the estimate and then on
    a finer grid up to the next point (rounded down, so the bound errs low).
    """
    if not (trials > 0 and successes > 0):
        return 0.0
    estimate = min(successes / trials, 1.0 - _FLOOR)
    if estimate <= _FLOOR:
        return 0.0
    candidates = _grid(_FLOOR, estimate)
    last = _last_rejected(candidates, successes, trials, log_threshold, sigma)
    if last is None:
        return 0.0
    if last == candidates.size - 1:
        return float(candidates[last])
    fine = _grid(float(candidates[last]), float(candidates[last + 1]))
    index = _last_rejected(fine, successes, trials, log_threshold, sigma)
    return float(fine[0] if index is None else fine[index])


def upper_bound(successes: float, trials: float, log_threshold: float,
                sigma: float = BERNOULLI_PRIOR_SIGMA) -> float:
    """Upper confidence bound on ``p`` from the totals so far (1 when nothing is excluded)."""
    if not trials > 0:
        return 1.0
    return 1.0 - lower_bound(trials - successes, trials, log_threshold, sigma)
