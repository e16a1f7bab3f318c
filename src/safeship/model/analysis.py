"""What canary analysis reads and decides: series, per-arm counts, metric verdicts, decisions.

Judges take an :class:`AnalysisInput` and return an :class:`AnalysisVerdict`; both are plain
frozen data, so a verdict can be recomputed from recorded input at any time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType


class Arm(StrEnum):
    """The two sides of a canary comparison."""

    BASELINE = "baseline"
    CANARY = "canary"


class Decision(StrEnum):
    """The judge's answer at one point in time."""

    PROCEED = "PROCEED"
    ROLLBACK = "ROLLBACK"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


class Classification(StrEnum):
    """Per-metric classification, in Kayenta's vocabulary."""

    PASS = "Pass"  # noqa: S105 - a classification, not a password
    HIGH = "High"
    LOW = "Low"
    NODATA = "Nodata"
    NODATA_FAIL = "NodataFailMetric"


class MetricOutcome(StrEnum):
    """What one metric says about the release."""

    PASS = "pass"  # noqa: S105 - an outcome, not a password
    FAIL = "fail"
    NODATA = "nodata"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class Series:
    """Points of one metric for one arm, oldest first. Values may be NaN (missing)."""

    timestamps: tuple[float, ...] = ()
    values: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if len(self.timestamps) != len(self.values):
            raise ValueError("a series needs as many timestamps as values")

    def finite_values(self) -> tuple[float, ...]:
        """The values that are real numbers (no NaN, no infinity)."""
        return tuple(v for v in self.values if math.isfinite(v))

    def __len__(self) -> int:
        return len(self.values)


def _empty() -> Mapping[str, tuple[float, ...]]:
    return MappingProxyType({})


@dataclass(frozen=True)
class ArmCounts:
    """Per-interval event counts of one arm, as counter deltas between scrapes.

    ``latency_buckets`` maps a bucket's upper bound in seconds (Prometheus ``le``) to the
    per-interval number of requests at or below it (cumulative buckets, ``+Inf`` as ``inf``).
    ``good_events`` maps a business metric's name to its per-interval good-event count.
    A NaN count means the interval's scrape is missing.
    """

    timestamps: tuple[float, ...] = ()
    requests: tuple[float, ...] = ()
    errors: tuple[float, ...] = ()
    latency_buckets: Mapping[float, tuple[float, ...]] = field(
        default_factory=lambda: MappingProxyType({}))
    good_events: Mapping[str, tuple[float, ...]] = field(default_factory=_empty)

    def __post_init__(self) -> None:
        size = len(self.timestamps)
        series = [self.requests, self.errors, *self.latency_buckets.values(),
                  *self.good_events.values()]
        if any(len(values) != size for values in series if values):
            raise ValueError("every count series needs one value per interval")


@dataclass(frozen=True)
class StepWindow:
    """When a traffic step ran (unix seconds) and the canary's share in percent."""

    start: float
    end: float
    percentage: float


@dataclass(frozen=True)
class MetricData:
    """One metric's series for both arms."""

    name: str
    baseline: Series
    canary: Series


@dataclass(frozen=True)
class AnalysisInput:
    """Everything a judge sees: metric series, optional per-arm counts, the step history.

    ``now`` is the time of the decision (unix seconds); ``steps`` are the steps so far, the last
    one being the current step (its ``end`` is its planned end).
    """

    metrics: Mapping[str, MetricData]
    now: float
    steps: tuple[StepWindow, ...] = ()
    baseline_counts: ArmCounts | None = None
    canary_counts: ArmCounts | None = None


@dataclass(frozen=True)
class MetricVerdict:
    """One metric's judgement, with the numbers behind it and a sentence a person can act on."""

    name: str
    outcome: MetricOutcome
    classification: Classification
    critical: bool
    baseline: float | None
    canary: float | None
    detail: str
    statistics: Mapping[str, float | None] = field(
        default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class AnalysisVerdict:
    """The decision at one point in time, per-metric verdicts, and the reasons for it."""

    decision: Decision
    judge: str
    metrics: tuple[MetricVerdict, ...]
    reasons: tuple[str, ...]
    score: float | None = None
    evaluated_at: float | None = None


@dataclass(frozen=True)
class AnalysisReport:
    """A whole analysis as reported: the evidence, every verdict over time, and the final one.

    ``timeline`` holds the verdicts in the order they were made (each with ``evaluated_at``);
    ``final`` is the one that decided. ``source`` says where the metrics came from (a
    Prometheus URL or the recorded files).
    """

    config_name: str
    judge: str
    data: AnalysisInput
    timeline: tuple[AnalysisVerdict, ...]
    final: AnalysisVerdict
    source: str = ""
