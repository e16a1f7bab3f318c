"""The sample-ratio check: is the canary getting the share of requests the step configured?

The rate-ratio test measures the canary's share ``rho`` instead of assuming it, so a wrong split
does not bias it; but a split that differs from the plan means the router is not doing what the
rollout thinks, and nothing should be promoted on top of that (research note, 6.4.2).

Two layouts are accepted, because the judge cannot see which one runs:

* the baseline is the rest of the fleet: the canary's share of ``canary + baseline`` requests is
  the step's percentage;
* the baseline is a fresh pool as large as the canary (Kayenta's practice): the share is 1/2.

The split is **broken** when a sequential test rejects *both*. Each null is a band: the expected
share ``s`` plus or minus ``max(10 % of min(s, 1 - s), 0.002)`` (routers round weights). A band is
tested by two one-sided binomial mixtures (:mod:`safeship.judge.confidence_sequence`) averaged;
the union of the two layouts takes the smaller e-value at each interval. The check covers the
current step's requests and fires if the e-value crossed ``1/alpha`` after any interval of the
step. A broken split only ever withholds PROCEED (INSUFFICIENT_DATA); it never causes ROLLBACK.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from safeship.judge.confidence_sequence import log_e_above, log_e_below

__all__ = [
    "ABSOLUTE_TOLERANCE",
    "EQUAL_BASELINE_SHARE",
    "RELATIVE_TOLERANCE",
    "SampleRatio",
    "sample_ratio_check",
]

FloatArray = npt.NDArray[np.float64]

RELATIVE_TOLERANCE = 0.10
ABSOLUTE_TOLERANCE = 0.002
EQUAL_BASELINE_SHARE = 0.5


@dataclass(frozen=True)
class SampleRatio:
    """The configured and observed canary share, and whether the split is broken."""

    expected: float
    observed: float | None
    log_e: float
    broken: bool
    canary_requests: float
    baseline_requests: float


def _band_log_e(successes: FloatArray, trials: FloatArray, share: float) -> FloatArray:
    half_width = max(RELATIVE_TOLERANCE * min(share, 1.0 - share), ABSOLUTE_TOLERANCE)
    low, high = share - half_width, share + half_width
    sides = []
    if high < 1.0:
        sides.append(log_e_above(successes, trials, high))
    if low > 0.0:
        sides.append(log_e_below(successes, trials, low))
    if not sides:
        return np.zeros(successes.shape)
    stacked = np.vstack(sides)
    return np.asarray(np.logaddexp.reduce(stacked, axis=0) - math.log(len(sides)),
                      dtype=np.float64)


def sample_ratio_check(canary: FloatArray, baseline: FloatArray, *, percentage: float,
                       log_threshold: float) -> SampleRatio:
    """Check the step's per-interval request counts against its configured ``percentage``."""
    valid = np.isfinite(canary) & np.isfinite(baseline)
    canary_valid, baseline_valid = canary[valid], baseline[valid]
    successes = np.cumsum(canary_valid)
    trials = successes + np.cumsum(baseline_valid)
    positive = trials > 0
    successes, trials = successes[positive], trials[positive]
    expected = percentage / 100.0
    canary_sum, baseline_sum = float(canary_valid.sum()), float(baseline_valid.sum())
    total = canary_sum + baseline_sum
    observed = canary_sum / total if total > 0 else None
    if successes.size == 0:
        return SampleRatio(expected, observed, 0.0, False, canary_sum, baseline_sum)
    per_layout = [_band_log_e(successes, trials, expected)]
    if not math.isclose(expected, EQUAL_BASELINE_SHARE):
        per_layout.append(_band_log_e(successes, trials, EQUAL_BASELINE_SHARE))
    union = np.min(np.vstack(per_layout), axis=0)
    log_e = max(0.0, float(union.max()))
    return SampleRatio(expected, observed, log_e, log_e >= log_threshold, canary_sum,
                       baseline_sum)
