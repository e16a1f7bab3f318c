"""Per-interval counts of both arms as aligned numpy arrays, and the step each interval belongs to.

The sequential judge reads :class:`~safeship.model.analysis.ArmCounts` (counter deltas per
scrape). Here they become arrays over the scrape timestamps both arms report, sorted, no later
than ``now``. A value that is NaN, infinite or negative (a missing scrape, or a counter reset
seen as a negative delta) becomes NaN: missing, never zero.

An interval's timestamp is the scrape that closes it, so a scrape at exactly a step's start still
belongs to the step before: interval ``t`` belongs to step ``k`` when
``steps[k].start < t <= steps[k+1].start``; intervals at or before the first step's start
happened before the rollout (index -1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from safeship.model.analysis import ArmCounts, StepWindow

__all__ = ["ArmArrays", "Intervals", "align", "step_indices"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ArmArrays:
    """One arm's per-interval counts; ``errors`` is None when the arm reports none."""

    requests: FloatArray
    errors: FloatArray | None
    buckets: Mapping[float, FloatArray]
    good: Mapping[str, FloatArray]


@dataclass(frozen=True)
class Intervals:
    """Both arms over their common scrape timestamps; ``spacing`` is the median scrape gap."""

    stamps: FloatArray
    baseline: ArmArrays
    canary: ArmArrays
    spacing: float | None

    def __len__(self) -> int:
        return int(self.stamps.size)


def _positions(counts: ArmCounts, now: float) -> dict[float, int]:
    positions: dict[float, int] = {}
    for index, stamp in enumerate(counts.timestamps):
        if math.isfinite(stamp) and stamp <= now and stamp not in positions:
            positions[stamp] = index
    return positions


def _clean(values: tuple[float, ...], picks: list[int]) -> FloatArray:
    if not values:
        return np.full(len(picks), np.nan)
    array = np.asarray(values, dtype=np.float64)[picks] if picks else np.zeros(0)
    return np.where(np.isfinite(array) & (array >= 0), array, np.nan)


def _arm(counts: ArmCounts, picks: list[int]) -> ArmArrays:
    buckets = {float(le): _clean(values, picks) for le, values in counts.latency_buckets.items()
               if not math.isnan(le) and values}
    good = {name: _clean(values, picks) for name, values in counts.good_events.items() if values}
    errors = _clean(counts.errors, picks) if counts.errors else None
    return ArmArrays(_clean(counts.requests, picks), errors, buckets, good)


def align(baseline: ArmCounts | None, canary: ArmCounts | None, now: float) -> Intervals | None:
    """Both arms on their common timestamps up to ``now``; None when an arm has no counts."""
    if baseline is None or canary is None:
        return None
    base_at, canary_at = _positions(baseline, now), _positions(canary, now)
    common = sorted(set(base_at) & set(canary_at))
    if not common:
        return None
    stamps = np.asarray(common, dtype=np.float64)
    gaps = np.diff(stamps)
    spacing = float(np.median(gaps)) if gaps.size else None
    return Intervals(stamps, _arm(baseline, [base_at[t] for t in common]),
                     _arm(canary, [canary_at[t] for t in common]), spacing)


def step_indices(stamps: FloatArray, steps: tuple[StepWindow, ...]) -> IntArray:
    """The step each interval belongs to (-1 before the first step)."""
    if not steps:
        return np.zeros(stamps.size, dtype=np.int64)
    starts = np.asarray([step.start for step in steps], dtype=np.float64)
    return np.asarray(np.searchsorted(starts, stamps, side="left") - 1, dtype=np.int64)
