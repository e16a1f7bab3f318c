"""The ``kayenta`` judge: a port of Kayenta's NetflixACAJudge behind safeship's Judge contract.

For every metric of the canary file: preprocess each arm (NaN strategy, then optional IQR
outlier removal), classify the canary against the baseline with Kayenta's Mann-Whitney
classifier, then roll the labels up into Kayenta's weighted group score. The input is the
per-interval points of each arm, as in Kayenta (which is why consecutive points are not
independent; see the research notes, section 1.7).

Decisions, from the summary score and Kayenta's overrides:

* no metrics in the file: INSUFFICIENT_DATA;
* a critical metric that did not pass (score 0, "Canary Failed"): ROLLBACK;
* 50 % or more of the metrics without data (Kayenta scores 0): INSUFFICIENT_DATA, because
  missing data is not evidence either way; it never gives PROCEED;
* score at or below the marginal threshold: ROLLBACK (Kayenta's monitor fails a run there);
* score at or above the pass threshold: PROCEED, unless any metric has no data (then
  INSUFFICIENT_DATA: Kayenta would pass, safeship never promotes on missing data);
* in between (Kayenta's "Marginal"): INSUFFICIENT_DATA, for a person to decide.

One deliberate difference from Kayenta: an arm with no points at all (or a metric the input
lacks) is ``Nodata`` (``NodataFailMetric`` with ``must_have_data``) whatever the NaN strategy.
Kayenta passes it under the ``replace`` strategy, which would let a canary with no data promote.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType

from safeship.judge.kayenta_classifier import (
    ClassifierConfig,
    MetricClassification,
    MetricRules,
    Rule,
    classify,
)
from safeship.judge.kayenta_preprocess import (
    SummaryStats,
    handle_missing,
    handle_outliers,
    summarize,
)
from safeship.judge.kayenta_scorer import ScoredMetric, ScoreResult, classify_score, score
from safeship.judge.mann_whitney import MannWhitneyInterval
from safeship.model.analysis import (
    AnalysisInput,
    AnalysisVerdict,
    Classification,
    Decision,
    MetricData,
    MetricOutcome,
    MetricVerdict,
)
from safeship.model.canary import CanaryMetric, CanarySpec, Direction, EffectMeasure, NanStrategy

__all__ = ["JUDGE_NAME", "kayenta_judge"]

JUDGE_NAME = "kayenta"

_OUTCOMES = {
    Classification.PASS: MetricOutcome.PASS,
    Classification.HIGH: MetricOutcome.FAIL,
    Classification.LOW: MetricOutcome.FAIL,
    Classification.NODATA: MetricOutcome.NODATA,
    Classification.NODATA_FAIL: MetricOutcome.FAIL,
}


@dataclass(frozen=True)
class _Arm:
    """One arm of one metric: how many points came in and what is left after preprocessing."""

    received: int
    values: tuple[float, ...]
    stats: SummaryStats


def _prepare(values: Sequence[float], metric: CanaryMetric) -> _Arm:
    kept = handle_missing(values, metric.nan_strategy)
    kept = handle_outliers(kept, metric.outliers.strategy, metric.outliers.factor)
    return _Arm(len(values), kept, summarize(kept))


def _num(value: float) -> str:
    return f"{value:.4g}"


def _finite_or_none(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value


def _assess(metric: CanaryMetric, series: MetricData | None,
            config: ClassifierConfig) -> tuple[MetricVerdict, ScoredMetric]:
    rules = MetricRules.from_metric(metric)
    baseline = _prepare(series.baseline.values if series else (), metric)
    canary = _prepare(series.canary.values if series else (), metric)
    if baseline.received == 0 or canary.received == 0:
        # Fail closed: no points at all is missing data, even under the replace strategy.
        rules = replace(rules, nan_strategy=NanStrategy.REMOVE)
    result = classify(baseline.values, canary.values, rules, config, name=metric.name)
    detail = _detail(metric, series, result, baseline, canary, config)
    outcome = MetricOutcome.INCONCLUSIVE if result.rule is Rule.ERROR else _OUTCOMES[
        result.classification]
    verdict = MetricVerdict(
        name=metric.name,
        outcome=outcome,
        classification=result.classification,
        critical=result.critical,
        baseline=baseline.stats.mean if baseline.values else None,
        canary=canary.stats.mean if canary.values else None,
        detail=detail,
        statistics=MappingProxyType(_statistics(result, baseline, canary, config)),
    )
    scored = ScoredMetric(metric.name, result.classification, result.critical, metric.groups,
                          result.reason)
    return verdict, scored


def _statistics(result: MetricClassification, baseline: _Arm, canary: _Arm,
                config: ClassifierConfig) -> dict[str, float | None]:
    interval = result.interval
    tested = result.rule is Rule.TESTED
    stats: dict[str, float | None] = {
        "ci_lower": interval.lower if interval else None,
        "ci_upper": interval.upper if interval else None,
        "estimate": interval.estimate if interval else None,
        "effect_size": _finite_or_none(result.effect_size),
        "bound": result.bound,
        "mean_ratio": _finite_or_none(result.deviation) if tested else None,
        "tolerance": config.tolerance,
        "confidence": config.confidence,
        "noise_added": 1.0 if result.noise_added else 0.0,
    }
    for label, arm in (("baseline", baseline), ("canary", canary)):
        stats[f"{label}_mean"] = arm.stats.mean if arm.values else None
        stats[f"{label}_std"] = arm.stats.std if arm.values else None
        stats[f"{label}_count"] = float(arm.stats.count)
        stats[f"{label}_dropped"] = float(arm.received - arm.stats.count)
    return stats


def _missing_consequence(result: MetricClassification) -> str:
    if result.classification is Classification.NODATA_FAIL:
        return "must_have_data is set, so it counts as a failure"
    if result.critical:
        return "it is critical, so the canary fails"
    return "it is left out of the score"


def _detail(metric: CanaryMetric, series: MetricData | None, result: MetricClassification,
            baseline: _Arm, canary: _Arm, config: ClassifierConfig) -> str:
    name = metric.name
    if series is None:
        return (f"{name} has no data because the input has no series for it; "
                f"{_missing_consequence(result)}; check its query and scope labels.")
    if result.rule is Rule.EMPTY:
        empty = [f"{label} ({arm.received} points, none usable)"
                 for label, arm in (("canary", canary), ("baseline", baseline))
                 if not arm.values]
        return (f"{name} has no data for the {' and the '.join(empty)}; "
                f"{_missing_consequence(result)}; check its query, scope labels and traffic.")
    if result.rule is Rule.IDENTICAL:
        return (f"{name} passes: the canary and baseline data are identical "
                f"({canary.stats.count} points each).")
    if result.rule is Rule.ALL_EQUAL:
        return f"{name} passes: every point of both arms is {_num(canary.values[0])}."
    if result.rule is Rule.ERROR:
        tail = "; it is critical, so the canary fails" if result.critical else ""
        return (f"{name} could not be compared ({result.error}), so it counts as a "
                f"failure{tail}; inspect its series for extreme or malformed values.")
    if result.interval is None or result.bound is None:
        return f"{name} is {result.classification}: {result.reason}."
    return _tested_detail(metric, result, result.interval, result.bound, baseline, canary,
                          config)


def _tested_detail(metric: CanaryMetric, result: MetricClassification,
                   interval: MannWhitneyInterval, bound: float, baseline: _Arm, canary: _Arm,
                   config: ClassifierConfig) -> str:
    ratio = "undefined" if math.isnan(result.deviation) else _num(result.deviation)
    means = (f"canary mean {_num(canary.stats.mean)} vs baseline {_num(baseline.stats.mean)} "
             f"(ratio {ratio})")
    shift = (f"{config.confidence:.0%} CI of the shift [{_num(interval.lower)}, "
             f"{_num(interval.upper)}]")
    band = f"±{config.tolerance:g}·|estimate| = ±{_num(bound)}"
    effects = metric.effect_size
    measure = "CLES" if effects.measure is EffectMeasure.CLES else "mean ratio"
    effect = result.effect_size if result.effect_size is not None else math.nan
    label = result.classification
    if label in (Classification.HIGH, Classification.LOW):
        rising = label is Classification.HIGH
        critical = ""
        if result.critical:
            limit = effects.critical_increase if rising else effects.critical_decrease
            critical = (f"; it is critical and its {measure} "
                        f"{'is undefined' if math.isnan(effect) else _num(effect)} "
                        f"reaches the critical {'increase' if rising else 'decrease'} "
                        f"{_num(limit)}, so the canary fails")
        return (f"{metric.name} is {label}: {means}, {shift} clears {band}{critical}; "
                f"find what the canary changed before promoting it.")
    clears_up = interval.lower > bound
    clears_down = interval.upper < -bound
    if clears_up and metric.direction is Direction.DECREASE:
        why = "it rose, and only a decrease counts against this metric"
    elif clears_down and metric.direction is Direction.INCREASE:
        why = "it fell, and only an increase counts against this metric"
    elif clears_up:
        why = (f"it rose, but its {measure} {_num(effect)} is below the allowed increase "
               f"{_num(effects.allowed_increase)}")
    elif clears_down:
        why = (f"it fell, but its {measure} {_num(effect)} is above the allowed decrease "
               f"{_num(effects.allowed_decrease)}")
    else:
        why = f"the interval does not clear {band}"
    return f"{metric.name} passes: {means}, {shift}; {why}."


def _missing(verdicts: Sequence[MetricVerdict]) -> list[str]:
    """Names of the metrics judged without data."""
    return [v.name for v in verdicts
            if v.classification in (Classification.NODATA, Classification.NODATA_FAIL)]


def _decide(result: ScoreResult, spec: CanarySpec,
            verdicts: Sequence[MetricVerdict]) -> tuple[Decision, list[str]]:
    thresholds = spec.judge.score_thresholds
    value = result.summary
    kind = classify_score(value, thresholds)
    if result.critical_failures:
        names = ", ".join(result.critical_failures)
        decision = Decision.ROLLBACK
        reasons = [f"critical metric {names} did not pass, so the canary fails with score 0 "
                   f"({result.reason})"]
    elif result.reason is not None:
        nodata = sum(1 for v in verdicts if v.classification is Classification.NODATA)
        decision = Decision.INSUFFICIENT_DATA
        reasons = [f"{nodata} of {len(verdicts)} metrics ({result.nodata_percent:.0f}%) have "
                   "no data: Kayenta scores that 0, safeship waits for data and never "
                   "promotes on it"]
    elif value <= thresholds.marginal:
        decision = Decision.ROLLBACK
        reasons = [f"summary score {value:g} is at or below the marginal threshold "
                   f"{thresholds.marginal:g} (Kayenta: {kind}), so the canary fails"]
    elif value >= thresholds.pass_score and _missing(verdicts):
        # Kayenta would pass here; safeship never promotes while any metric lacks data.
        decision = Decision.INSUFFICIENT_DATA
        reasons = [f"summary score {value:g} reaches the pass threshold, but "
                   f"{', '.join(_missing(verdicts))} have no data, and missing data never "
                   "promotes a release"]
    elif value >= thresholds.pass_score:
        decision = Decision.PROCEED
        reasons = [f"summary score {value:g} reaches the pass threshold "
                   f"{thresholds.pass_score:g}"]
    else:
        decision = Decision.INSUFFICIENT_DATA
        reasons = [f"summary score {value:g} is between the marginal threshold "
                   f"{thresholds.marginal:g} and the pass threshold {thresholds.pass_score:g} "
                   "(Kayenta: Marginal), so a person should decide"]
    reasons.extend(f"group {group.name}: " + ("no data" if group.no_data else
                                              f"score {group.score:.2f}")
                   for group in result.groups)
    reasons.extend(f"{v.name}: {v.classification}" + (" (critical)" if v.critical else "")
                   for v in verdicts if v.classification is not Classification.PASS)
    return decision, reasons


def kayenta_judge(data: AnalysisInput, spec: CanarySpec) -> AnalysisVerdict:
    """Judge ``data`` the way Kayenta's NetflixACAJudge would, under ``spec``'s settings."""
    if not spec.metrics:
        return AnalysisVerdict(
            Decision.INSUFFICIENT_DATA, JUDGE_NAME, (),
            ("the canary file lists no metrics, so there is nothing to judge; add metrics to "
             "canary-analysis.yaml before promoting",),
            None, data.now)
    config = ClassifierConfig.from_judge(spec.judge)
    assessed = [_assess(metric, data.metrics.get(metric.name), config)
                for metric in spec.metrics]
    verdicts = tuple(verdict for verdict, _ in assessed)
    result = score([scored for _, scored in assessed], spec.judge.group_weights)
    decision, reasons = _decide(result, spec, verdicts)
    return AnalysisVerdict(decision, JUDGE_NAME, verdicts, tuple(reasons), result.summary,
                           data.now)
