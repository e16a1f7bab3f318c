"""Kayenta's roll-up of metric labels: group scores, the weighted summary score, its class.

* A group's score is ``100 · Pass / (Pass + High + Low + NodataFailMetric)``. Plain ``Nodata`` is
  left out; a group with nothing counted is "no data" and enters the summary as 100.
* The summary is the sum of group scores times their weights (in percent). Groups without a
  configured weight share what the configured weights leave of 100 equally. It is rounded to two
  decimals, halves away from zero (Kayenta's ``Precision.round``).
* Overrides, in order: a critical metric that did not pass makes the score 0 ("Canary Failed:
  ..."); otherwise 50 % or more of the metrics being ``Nodata`` makes it 0.
* The score is classified Pass (>= pass threshold), Marginal (>= marginal), or Fail.

Kayenta only scores a metric in the groups its config lists. A metric that lists none would be
ignored by the summary, which would let a failing metric go unnoticed; here it joins the group
:data:`DEFAULT_GROUP` instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from types import MappingProxyType

from safeship.model.analysis import Classification
from safeship.model.canary import ScoreThresholds

__all__ = [
    "DEFAULT_GROUP",
    "NODATA_THRESHOLD",
    "GroupScore",
    "ScoreClass",
    "ScoreResult",
    "ScoredMetric",
    "classify_score",
    "group_score",
    "round_score",
    "score",
    "summary_score",
]

DEFAULT_GROUP = "default"
"""The group of a metric that lists no groups."""
NODATA_THRESHOLD = 50.0
"""Percentage of ``Nodata`` metrics at or above which the canary scores 0."""

_COUNTED = (Classification.PASS, Classification.HIGH, Classification.LOW,
            Classification.NODATA_FAIL)


class ScoreClass(StrEnum):
    """Kayenta's classification of the summary score."""

    PASS = "Pass"  # noqa: S105 - a score class, not a password
    MARGINAL = "Marginal"
    FAIL = "Fail"


@dataclass(frozen=True)
class ScoredMetric:
    """What the scorer needs of one metric's result."""

    name: str
    classification: Classification
    critical: bool = False
    groups: tuple[str, ...] = ()
    reason: str = ""

    @property
    def effective_groups(self) -> tuple[str, ...]:
        """The metric's groups, or the default group when it lists none."""
        return self.groups or (DEFAULT_GROUP,)


@dataclass(frozen=True)
class GroupScore:
    """One group's score. ``score`` is 0 for a no-data group (it counts as 100 in the summary)."""

    name: str
    score: float
    no_data: bool
    counts: Mapping[Classification, int] = field(default_factory=lambda: MappingProxyType({}))
    metric_count: int = 0


@dataclass(frozen=True)
class ScoreResult:
    """The summary score, the group scores behind it, and the override's reason if one applied."""

    summary: float
    groups: tuple[GroupScore, ...]
    reason: str | None
    metric_count: int
    critical_failures: tuple[str, ...] = ()
    nodata_percent: float = 0.0


def round_score(value: float) -> float:
    """``value`` rounded to two decimals, halves away from zero (as Kayenta rounds)."""
    return float(Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def group_score(name: str, labels: Sequence[Classification]) -> GroupScore:
    """Score one group from the labels of its metrics."""
    counts = Counter(labels)
    counted = sum(counts[label] for label in _COUNTED)
    no_data = counted == 0
    value = 0.0 if no_data else counts[Classification.PASS] / counted * 100
    return GroupScore(name, value, no_data, MappingProxyType(dict(counts)), len(labels))


def _group_scores(results: Sequence[ScoredMetric]) -> tuple[GroupScore, ...]:
    labels: dict[str, list[Classification]] = {}
    for result in results:
        for group in result.effective_groups:
            labels.setdefault(group, []).append(result.classification)
    return tuple(group_score(name, group_labels) for name, group_labels in labels.items())


def summary_score(groups: Sequence[GroupScore], weights: Mapping[str, float]) -> float:
    """The weighted sum of group scores, rounded to two decimals (no overrides)."""
    configured = sum(weights.values())
    unweighted = {group.name for group in groups} - set(weights)
    shared = (100 - configured) / len(unweighted) if unweighted else 0.0
    total = 0.0
    for group in groups:
        effective = 100.0 if group.no_data else group.score
        total += effective * (weights.get(group.name, shared) / 100)
    return round_score(total)


def score(results: Sequence[ScoredMetric],
          weights: Mapping[str, float] | None = None) -> ScoreResult:
    """Kayenta's ``WeightedSumScorer``: group scores, summary, and the two overrides."""
    weights = weights or {}
    groups = _group_scores(results)
    failures = tuple(r for r in results
                     if r.critical and r.classification is not Classification.PASS)
    nodata = sum(1 for r in results if r.classification is Classification.NODATA)
    nodata_percent = nodata / len(results) * 100 if results else 0.0
    failed = tuple(r.name for r in failures)
    if failures:
        first = failures[0]
        reason = first.reason or f"{first.name} was classified as {first.classification}"
        return ScoreResult(0.0, groups, f"Canary Failed: {reason}", len(results), failed,
                           nodata_percent)
    if results and nodata_percent >= NODATA_THRESHOLD:
        reason = (f"Canary Failed: {NODATA_THRESHOLD:g}% or more metrics returned "
                  f"{Classification.NODATA.upper()}")
        return ScoreResult(0.0, groups, reason, len(results), (), nodata_percent)
    return ScoreResult(summary_score(groups, weights), groups, None, len(results), (),
                       nodata_percent)


def classify_score(value: float, thresholds: ScoreThresholds) -> ScoreClass:
    """Pass at or above the pass threshold, Marginal at or above the marginal one, else Fail."""
    if value >= thresholds.pass_score:
        return ScoreClass.PASS
    if value >= thresholds.marginal:
        return ScoreClass.MARGINAL
    return ScoreClass.FAIL
