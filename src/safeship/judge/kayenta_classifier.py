"""Kayenta's ``MannWhitneyClassifier``: one metric's canary arm against its baseline arm.

The checks run in Kayenta's order, and the first that applies decides:

1. An empty arm: ``Nodata`` (``NodataFailMetric`` when the metric must have data and is not
   critical; a critical metric keeps its critical flag), or ``Pass`` under the ``replace`` NaN
   strategy, as Kayenta does. (The judge in :mod:`safeship.judge.kayenta` does not let an empty
   arm get this far; see there.)
2. Identical data (same sorted values): ``Pass``. All points of both arms equal: ``Pass``.
3. Each arm holding a single distinct value (a degenerate rank test): a little normal noise
   (deviation 1e-5 of the value) is added to both arms, from a generator with a fixed seed, so
   the result is reproducible.
4. The Mann-Whitney interval of the shift canary - baseline (:mod:`.mann_whitney`) and the band
   ``tolerance · |estimate|``. ``High`` needs the interval's lower bound above the band, a
   direction of ``increase`` or ``either``, and an effect size of at least ``allowed_increase``
   (ignored when the effect size is undefined). ``Low`` mirrors it. Anything else is ``Pass``.
5. A critical metric that is ``High`` with an effect of at least ``critical_increase`` (or
   ``Low`` at most ``critical_decrease``) is marked critical, which fails the whole canary.

Kayenta turns any exception in this path into an ``Error`` label that never passes but is left
out of the group score. :class:`~safeship.model.analysis.Classification` has no ``Error``, so an
error here becomes ``NodataFailMetric`` (it counts as a failure), keeps the metric's critical flag,
and says in its reason that the comparison errored.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from safeship.judge.kayenta_preprocess import add_gaussian_noise, mean
from safeship.judge.mann_whitney import MannWhitneyInterval, average_ranks, mann_whitney_interval
from safeship.model.analysis import Classification
from safeship.model.canary import (
    CanaryMetric,
    Direction,
    EffectMeasure,
    EffectSize,
    JudgeConfig,
    NanStrategy,
)

__all__ = [
    "NOISE_SCALE",
    "NOISE_SEED",
    "ClassifierConfig",
    "MetricClassification",
    "MetricRules",
    "Rule",
    "classify",
    "cles",
    "effect_size",
    "mean_ratio",
]

NOISE_SEED = 20170823
"""Seed of the generator behind the degenerate-case noise (any fixed value would do)."""
NOISE_SCALE = 1e-5
"""Kayenta's noise deviation, relative to the arm's single value."""


class Rule(StrEnum):
    """Which of the classifier's checks decided."""

    EMPTY = "empty"
    IDENTICAL = "identical"
    ALL_EQUAL = "all_equal"
    TESTED = "tested"
    ERROR = "error"


@dataclass(frozen=True)
class ClassifierConfig:
    """Settings shared by every metric: Kayenta's judge uses tolerance 0.25 and 98 %."""

    tolerance: float = 0.25
    confidence: float = 0.98
    noise_seed: int = NOISE_SEED

    @classmethod
    def from_judge(cls, judge: JudgeConfig) -> ClassifierConfig:
        """The settings a canary file's judge section asks for."""
        return cls(tolerance=judge.tolerance, confidence=judge.confidence)


@dataclass(frozen=True)
class MetricRules:
    """How one metric is judged (Kayenta's per-metric ``analysisConfigurations.canary``)."""

    direction: Direction = Direction.EITHER
    nan_strategy: NanStrategy = NanStrategy.REMOVE
    critical: bool = False
    must_have_data: bool = False
    effect_size: EffectSize = field(default_factory=EffectSize)

    @classmethod
    def from_metric(cls, metric: CanaryMetric) -> MetricRules:
        """The rules a canary file gives ``metric``."""
        return cls(metric.direction, metric.nan_strategy, metric.critical,
                   metric.must_have_data, metric.effect_size)


@dataclass(frozen=True)
class MetricClassification:
    """A metric's label and everything behind it.

    ``deviation`` is the canary/baseline mean ratio as Kayenta reports it: 1.0 on the
    short-cut branches, NaN when a mean is 0. ``effect_size`` is None unless the rank test ran.
    ``error`` says what went wrong when the comparison raised (``rule`` is ``ERROR``).
    """

    classification: Classification
    critical: bool
    reason: str
    rule: Rule
    deviation: float = 1.0
    effect_size: float | None = None
    interval: MannWhitneyInterval | None = None
    bound: float | None = None
    noise_added: bool = False
    error: str | None = None


def mean_ratio(baseline: Sequence[float], canary: Sequence[float]) -> float:
    """mean(canary) / mean(baseline); NaN when either mean is 0 (Kayenta's ``meanRatio``)."""
    baseline_mean = mean(baseline)
    canary_mean = mean(canary)
    if baseline_mean == 0.0 or canary_mean == 0.0:
        return math.nan
    return canary_mean / baseline_mean


def cles(baseline: Sequence[float], canary: Sequence[float]) -> float:
    """The common-language effect size: the share of (canary, baseline) pairs where the canary
    is higher, ties counting half (Vargha and Delaney's A, computed from ranks)."""
    m = len(canary)
    n = len(baseline)
    if m == 0 or n == 0:
        return math.nan
    ranks, _ = average_ranks(np.asarray([*canary, *baseline], dtype=np.float64))
    r1 = float(np.sum(ranks[:m]))
    return (2 * r1 - m * (m + 1)) / (2 * n * m)


def effect_size(baseline: Sequence[float], canary: Sequence[float],
                measure: EffectMeasure) -> float:
    """The effect size a metric's rules ask for: mean ratio or CLES."""
    if measure is EffectMeasure.CLES:
        return cles(baseline, canary)
    return mean_ratio(baseline, canary)


def classify(baseline: Sequence[float], canary: Sequence[float],
             rules: MetricRules | None = None, config: ClassifierConfig | None = None, *,
             name: str = "metric") -> MetricClassification:
    """Classify the canary arm against the baseline arm, both already preprocessed."""
    rules = rules or MetricRules()
    config = config or ClassifierConfig()
    if not canary or not baseline:
        return _classify_empty(rules, name)
    if sorted(canary) == sorted(baseline):
        return MetricClassification(Classification.PASS, False,
                                    f"the canary and baseline data of {name} are identical",
                                    Rule.IDENTICAL)
    if len({*canary, *baseline}) == 1:
        return MetricClassification(Classification.PASS, False,
                                    f"every point of {name} has the same value", Rule.ALL_EQUAL)
    try:
        return _compare(baseline, canary, rules, config, name)
    except (ValueError, ArithmeticError) as error:
        # Kayenta labels this Error. Too few or fully tied points are not evidence of a
        # regression, so safeship neither rolls back nor promotes on it: it is left out of the
        # score like missing data, and the judge waits (a metric without data never promotes).
        return MetricClassification(
            Classification.NODATA, rules.critical,
            f"{name} could not be compared yet ({error}); it counts as missing data",
            Rule.ERROR, error=str(error))


def _classify_empty(rules: MetricRules, name: str) -> MetricClassification:
    if rules.nan_strategy is NanStrategy.REPLACE:
        return MetricClassification(Classification.PASS, False,
                                    f"{name} has no data; Kayenta passes it under the replace "
                                    "NaN strategy", Rule.EMPTY)
    reason = f"missing data for {name}"
    if rules.must_have_data and not rules.critical:
        return MetricClassification(Classification.NODATA_FAIL, False, reason, Rule.EMPTY)
    return MetricClassification(Classification.NODATA, rules.critical, reason, Rule.EMPTY)


def _compare(baseline: Sequence[float], canary: Sequence[float], rules: MetricRules,
             config: ClassifierConfig, name: str) -> MetricClassification:
    noise = len(set(canary)) == 1 and len(set(baseline)) == 1
    if noise:
        # Both arms are constant and differ: the rank test would see one big tie per arm.
        # Kayenta jitters each arm by 1e-5 of its value (the canary first, then the baseline).
        rng = np.random.default_rng(config.noise_seed)
        canary = add_gaussian_noise(canary, canary[0] * NOISE_SCALE, rng)
        baseline = add_gaussian_noise(baseline, baseline[0] * NOISE_SCALE, rng)
    interval = mann_whitney_interval(canary, baseline, config.confidence)
    bound = config.tolerance * abs(interval.estimate)
    deviation = mean_ratio(baseline, canary)
    effect = effect_size(baseline, canary, rules.effect_size.measure)
    thresholds = rules.effect_size
    undefined = math.isnan(effect)

    high = (rules.direction in (Direction.INCREASE, Direction.EITHER)
            and interval.lower > bound
            and (undefined or effect >= thresholds.allowed_increase))
    low = (rules.direction in (Direction.DECREASE, Direction.EITHER)
           and interval.upper < -bound
           and (undefined or effect <= thresholds.allowed_decrease))

    if high:
        label = Classification.HIGH
        critical = rules.critical and (undefined or effect >= thresholds.critical_increase)
    elif low:
        label = Classification.LOW
        critical = rules.critical and (undefined or effect <= thresholds.critical_decrease)
    else:
        label = Classification.PASS
        critical = False
    reason = f"{name} was classified as {label}" + (" (critical)" if critical else "")
    return MetricClassification(label, critical, reason, Rule.TESTED, deviation, effect,
                                interval, bound, noise)
