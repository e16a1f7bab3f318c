"""Canary-only guards on an absolute rate: the SLO burn-rate guard and absolute latency limits.

A canary that is as bad as a bad baseline passes every relative test, for instance during a global
incident. These guards look at the canary alone (research note, section 6.2):

* **Burn rate.** ``burn = bad ratio / (1 - slo_target)``. The guard fires when the anytime-valid
  lower confidence bound of the canary's bad ratio, divided by ``1 - slo_target``, exceeds the
  limit (SRE Workbook page threshold 14.4 by default): promoted to 100 %, this build would burn
  at least that fast.
* **Absolute latency.** For a latency limit like ``max_absolute_ms: 500`` on a p95, the guard
  fires when the lower bound of the canary's share of requests slower than the limit exceeds
  ``1 - q``: then the canary's q-quantile is above the limit.

Both are one-sided tests of ``H0: rate <= limit`` run over the canary's cumulative counts since
the rollout began (see :mod:`safeship.judge.confidence_sequence`). The guard fires if the test
crossed ``log(M/alpha)`` after any interval so far (Ville's inequality covers every look).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from safeship.judge.confidence_sequence import log_e_above, lower_bound, upper_bound

__all__ = ["RateGuard", "rate_guard"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class RateGuard:
    """What the canary's bad-request share says against a limit on that share."""

    limit: float
    estimate: float | None
    lower: float
    upper: float
    log_e: float
    fired: bool
    bad: float
    total: float


def rate_guard(bad: FloatArray, total: FloatArray, *, limit: float,
               log_threshold: float) -> RateGuard:
    """Test the canary's share ``bad/total`` against ``limit`` over per-interval counts.

    Intervals with a missing (NaN) count are left out; a ``bad`` count above ``total`` (an
    inconsistent scrape) is capped at ``total``.
    """
    valid = np.isfinite(bad) & np.isfinite(total) & (total > 0)
    capped = np.minimum(bad[valid], total[valid])
    successes = np.cumsum(capped)
    trials = np.cumsum(total[valid])
    bad_sum = float(successes[-1]) if successes.size else 0.0
    total_sum = float(trials[-1]) if trials.size else 0.0
    path = log_e_above(successes, trials, limit)
    log_e = max(0.0, float(path.max())) if path.size else 0.0
    estimate = bad_sum / total_sum if total_sum > 0 else None
    return RateGuard(
        limit=limit, estimate=estimate,
        lower=lower_bound(bad_sum, total_sum, log_threshold),
        upper=upper_bound(bad_sum, total_sum, log_threshold),
        log_e=log_e, fired=log_e >= log_threshold, bad=bad_sum, total=total_sum)
