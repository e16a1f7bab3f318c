"""A validated ``canary-analysis.yaml`` as frozen dataclasses: steps, metrics, judge and scope.

The config layer builds these from the YAML; judges, metric providers and the engine read them.
Defaults follow the guide, and where the guide is silent, Kayenta's documented defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType


class MetricCategory(StrEnum):
    """The guide's section 4.2 categories; they decide how the sequential judge treats a metric."""

    AVAILABILITY = "availability"
    LATENCY = "latency"
    ERROR_BUDGET = "error_budget"
    BUSINESS = "business"
    RESOURCE = "resource"


class Direction(StrEnum):
    """Which way a metric may not move."""

    INCREASE = "increase"
    DECREASE = "decrease"
    EITHER = "either"


class NanStrategy(StrEnum):
    """What to do with NaN points: drop them, or count them as 0 (Kayenta's ``replace``)."""

    REMOVE = "remove"
    REPLACE = "replace"


class OutlierStrategy(StrEnum):
    """Keep every point, or drop points outside Kayenta's widened IQR fences."""

    KEEP = "keep"
    REMOVE = "remove"


class EffectMeasure(StrEnum):
    """Kayenta's effect sizes: ratio of means, or the common-language effect size."""

    MEAN_RATIO = "meanRatio"
    CLES = "cles"


class JudgeName(StrEnum):
    """The available judges."""

    SEQUENTIAL = "sequential"
    KAYENTA = "kayenta"
    THRESHOLD = "threshold"


@dataclass(frozen=True)
class CanaryStep:
    """A traffic step: the canary's share of traffic in percent and how long to hold it."""

    percentage: float
    duration_s: float


@dataclass(frozen=True)
class Threshold:
    """A metric's limits. None means "not constrained this way".

    ``max_increase_ratio``: canary / baseline may not exceed it. ``max_increase_pct``: the same
    as a percentage above the baseline (20 means at most 1.2x). ``max_absolute_ms``: ceiling in
    milliseconds for latency metrics whose values are in seconds (Prometheus' convention) or ms.
    ``max_absolute``: ceiling in the metric's own unit. ``min_ratio``: canary / baseline may not
    fall below it (business metrics, e.g. 0.98).
    """

    max_increase_ratio: float | None = None
    max_absolute_ms: float | None = None
    max_absolute: float | None = None
    max_increase_pct: float | None = None
    min_ratio: float | None = None

    def is_empty(self) -> bool:
        """True when no limit is set."""
        return all(value is None for value in (self.max_increase_ratio, self.max_absolute_ms,
                                               self.max_absolute, self.max_increase_pct,
                                               self.min_ratio))


@dataclass(frozen=True)
class Outliers:
    """Outlier handling for the Kayenta judge."""

    strategy: OutlierStrategy = OutlierStrategy.KEEP
    factor: float = 3.0


@dataclass(frozen=True)
class EffectSize:
    """Kayenta's effect-size gates; 1.0 (0.5 for CLES) means "any effect in that direction"."""

    measure: EffectMeasure = EffectMeasure.MEAN_RATIO
    allowed_increase: float = 1.0
    allowed_decrease: float = 1.0
    critical_increase: float = 1.0
    critical_decrease: float = 1.0


@dataclass(frozen=True)
class CanaryMetric:
    """One metric to compare between canary and baseline.

    ``derived_from`` is set when ``query`` is an arithmetic expression over other metrics of the
    same file (the guide's ``slo_burn_rate``) rather than PromQL.
    """

    name: str
    query: str
    threshold: Threshold = field(default_factory=Threshold)
    derived_from: tuple[str, ...] = ()
    category: MetricCategory = MetricCategory.AVAILABILITY
    direction: Direction = Direction.INCREASE
    critical: bool = False
    must_have_data: bool = False
    nan_strategy: NanStrategy = NanStrategy.REMOVE
    outliers: Outliers = field(default_factory=Outliers)
    effect_size: EffectSize = field(default_factory=EffectSize)
    groups: tuple[str, ...] = ()

    @property
    def is_derived(self) -> bool:
        """True for an expression over other metrics of the file (not PromQL)."""
        return bool(self.derived_from)


@dataclass(frozen=True)
class ScoreThresholds:
    """Kayenta's summary-score thresholds (0-100)."""

    pass_score: float = 95.0
    marginal: float = 75.0


@dataclass(frozen=True)
class Margins:
    """Non-inferiority margins of the sequential judge: PROCEED needs the harm ratio's upper
    confidence bound below these (error and slow-request ratios) or the lower bound above
    ``business_ratio``."""

    error_ratio: float = 1.5
    slow_ratio: float = 1.25
    business_ratio: float = 0.98


@dataclass(frozen=True)
class RollbackMargins:
    """Indifference zone of the sequential judge's ROLLBACK tests: it rolls back only on evidence
    that the harm ratio is beyond these (above for errors and slow requests, below for business
    events). 1.0 tests "any harm at all". Slow requests default to 1.05 because two fleets'
    latency differs by a few percent from host to host and minute to minute: a certain but
    3 % difference in slow requests is noise to a release engineer, not a regression."""

    error_ratio: float = 1.0
    slow_ratio: float = 1.05
    business_ratio: float = 1.0


@dataclass(frozen=True)
class JudgeConfig:
    """Which judge decides and with what settings."""

    name: JudgeName = JudgeName.SEQUENTIAL
    alpha: float = 0.01
    """One false-rollback budget for the whole rollout (sequential judge)."""
    confidence: float = 0.98
    """Mann-Whitney confidence level (Kayenta judge)."""
    tolerance: float = 0.25
    """Kayenta's band: High/Low only when the interval clears tolerance x |estimate|."""
    score_thresholds: ScoreThresholds = field(default_factory=ScoreThresholds)
    group_weights: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    min_sample_size: int = 100
    """Canary requests below this give INSUFFICIENT_DATA (threshold judge; sequential minimum)."""
    margins: Margins = field(default_factory=Margins)
    rollback_margins: RollbackMargins = field(default_factory=RollbackMargins)
    min_exposure_s: float = 60.0
    """Time a step must run before the sequential judge may PROCEED."""
    burn_rate_limit: float = 14.4
    """Canary-only guard: ROLLBACK when the burn rate's lower confidence bound exceeds this."""
    slo_target: float | None = None
    """The SLO (e.g. 0.999) for the burn-rate guard; taken from a ``x / (1 - 0.999)`` metric
    when not set."""


@dataclass(frozen=True)
class Scope:
    """How a query is narrowed to one arm: the label and its value for each arm."""

    label: str = "version"
    baseline: str = "baseline"
    canary: str = "canary"


@dataclass(frozen=True)
class CanarySpec:
    """A validated canary-analysis file."""

    source: str
    name: str
    steps: tuple[CanaryStep, ...]
    metrics: tuple[CanaryMetric, ...]
    rollback_on_failure: bool = True
    failure_count_threshold: int = 1
    judge: JudgeConfig = field(default_factory=JudgeConfig)
    scope: Scope = field(default_factory=Scope)

    @property
    def total_duration_s(self) -> float:
        """How long the analysis lasts if every step passes."""
        return sum(step.duration_s for step in self.steps)

    def metric(self, name: str) -> CanaryMetric:
        """The metric called ``name``; KeyError if there is none."""
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise KeyError(name)
