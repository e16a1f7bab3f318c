"""Aggregate run records into one row per judge x scenario x check frequency.

Delays are *censored*: a run that never detects the regression counts as an infinite delay, so
the median (or p90) exists only when at least half (or 90 %) of the runs detected it. This keeps
a judge that detects 5 % of runs quickly from looking faster than one that detects all of them.
Quantiles are sample values (``inverted_cdf``), never interpolated across the censoring.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from canary_sim.judging import ERROR, RunRecord
from canary_sim.scenarios import scenario as scenario_by_id
from safeship.model.analysis import Decision

Z95 = 1.959963984540054


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (95 % by default)."""
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    denom = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def censored_quantile(values: Sequence[float | None], q: float) -> float | None:
    """The q-quantile with ``None`` (not detected) as +infinity; None when it is infinite."""
    if not values:
        return None
    data = np.array([math.inf if v is None else v for v in values], dtype=np.float64)
    result = float(np.quantile(data, q, method="inverted_cdf"))
    return result if math.isfinite(result) else None


@dataclass(frozen=True)
class Row:
    """Measurements for one judge x scenario x check frequency."""

    judge: str
    scenario: str
    check_every: str
    runs: int
    harmful: bool
    false_rollback_rate: float | None
    false_rollback_ci: tuple[float, float] | None
    detected_rate: float | None
    detected_ci: tuple[float, float] | None
    early_rollback_rate: float
    """Rollbacks before the regression began (non-zero only in ``mid_step``)."""
    median_delay_requests: float | None
    p90_delay_requests: float | None
    median_delay_minutes: float | None
    p90_delay_minutes: float | None
    rollback_by_step: tuple[float, ...]
    """Cumulative share of runs rolled back (after the onset) by the end of each step."""
    detected_1pct_within_60m: float | None
    """Share of runs detected during the first step and within 60 minutes of the onset."""
    insufficient_data_rate: float
    judge_error_rate: float
    mean_looks: float
    first_error: str | None = None
    judge_seconds_per_run: float = 0.0
    """Mean time inside the judge per run (its verdicts are shared by all frequencies)."""


def aggregate(records: Sequence[RunRecord], steps: int) -> list[Row]:
    """One :class:`Row` per judge x scenario x check frequency, in first-seen order."""
    groups: dict[tuple[str, str, str], list[RunRecord]] = defaultdict(list)
    for record in records:
        groups[(record.judge, record.scenario, record.check_every)].append(record)
    rows = []
    for (judge, scenario_id, check), group in groups.items():
        harmful = scenario_by_id(scenario_id).harmful
        n = len(group)
        rolled = sum(r.rolled_back for r in group)
        detected = [r for r in group if r.rolled_back and not r.early]
        early = sum(r.early for r in group)
        insufficient = sum(r.final_decision == Decision.INSUFFICIENT_DATA.value for r in group)
        errors = [r for r in group if r.final_decision == ERROR]
        by_step = tuple(
            sum(1 for r in detected if r.rollback_step is not None and r.rollback_step <= s) / n
            for s in range(steps))
        if harmful:
            hit = {id(r) for r in detected}
            delays_req = [r.delay_requests if id(r) in hit else None for r in group]
            delays_min = [r.delay_minutes if id(r) in hit else None for r in group]
            within = sum(1 for r in detected if r.rollback_step == 0
                         and r.delay_minutes is not None and r.delay_minutes <= 60.0)
            row = Row(judge, scenario_id, check, n, True, None, None, len(detected) / n,
                      wilson(len(detected), n), early / n,
                      censored_quantile(delays_req, 0.5), censored_quantile(delays_req, 0.9),
                      censored_quantile(delays_min, 0.5), censored_quantile(delays_min, 0.9),
                      by_step, within / n, insufficient / n, len(errors) / n,
                      sum(r.looks for r in group) / n, errors[0].error if errors else None,
                      sum(r.judge_seconds for r in group) / n)
        else:
            row = Row(judge, scenario_id, check, n, False, rolled / n, wilson(rolled, n), None,
                      None, 0.0, None, None, None, None, by_step, None, insufficient / n,
                      len(errors) / n, sum(r.looks for r in group) / n,
                      errors[0].error if errors else None, sum(r.judge_seconds for r in group) / n)
        rows.append(row)
    return rows
