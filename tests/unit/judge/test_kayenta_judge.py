"""The ``kayenta`` judge end to end: preprocessing, classification, scoring and the decision."""

from __future__ import annotations

import math
from types import MappingProxyType

import pytest

from safeship.judge.interface import Judge
from safeship.judge.kayenta import JUDGE_NAME, kayenta_judge
from safeship.judge.kayenta_classifier import MetricClassification, Rule
from safeship.judge.mann_whitney import TiedObservationsError
from safeship.model.analysis import (
    AnalysisInput,
    AnalysisVerdict,
    Classification,
    Decision,
    MetricData,
    MetricOutcome,
    MetricVerdict,
    Series,
)
from safeship.model.canary import (
    CanaryMetric,
    CanarySpec,
    CanaryStep,
    Direction,
    EffectSize,
    JudgeConfig,
    JudgeName,
    NanStrategy,
    Outliers,
    OutlierStrategy,
    ScoreThresholds,
)
from tests.unit.judge.test_kayenta_classifier import (
    HIGH_CONTROL,
    HIGH_VALUES,
    LOW_CONTROL,
    LOW_VALUES,
)

NOW = 1_700_000_000.0
NAN = math.nan
REQUIRED_STATISTICS = {"ci_lower", "ci_upper", "estimate", "effect_size"}


def series(values: tuple[float, ...]) -> Series:
    return Series(tuple(NOW - 60.0 * (len(values) - i) for i in range(len(values))), values)


def evidence(**arms: tuple[tuple[float, ...], tuple[float, ...]]) -> AnalysisInput:
    """``name=(baseline, canary)`` for each metric."""
    metrics = {name: MetricData(name, series(baseline), series(canary))
               for name, (baseline, canary) in arms.items()}
    return AnalysisInput(MappingProxyType(metrics), NOW)


def spec(*metrics: CanaryMetric, weights: dict[str, float] | None = None,
         thresholds: ScoreThresholds | None = None) -> CanarySpec:
    judge = JudgeConfig(name=JudgeName.KAYENTA, group_weights=MappingProxyType(weights or {}),
                        score_thresholds=thresholds or ScoreThresholds())
    return CanarySpec("canary-analysis.yaml", "shop", (CanaryStep(10, 600),), metrics,
                      judge=judge)


def metric(name: str, **options: object) -> CanaryMetric:
    options.setdefault("direction", Direction.EITHER)
    return CanaryMetric(name, f"query_{name}", **options)  # type: ignore[arg-type]


def by_name(verdict: AnalysisVerdict, name: str) -> MetricVerdict:
    return next(m for m in verdict.metrics if m.name == name)


SAME = (LOW_CONTROL, LOW_VALUES)  # ClassifierSuite "Pass Metric"
RISES = (LOW_CONTROL, HIGH_VALUES)  # ClassifierSuite "High Metric"
FALLS = (HIGH_CONTROL, LOW_VALUES)  # ClassifierSuite "Low Metric"


def test_kayenta_judge_is_a_judge() -> None:
    judge: Judge = kayenta_judge
    assert judge(evidence(a=SAME), spec(metric("a"))).judge == JUDGE_NAME == "kayenta"


def test_all_pass_proceeds() -> None:
    verdict = kayenta_judge(evidence(latency=SAME, errors=SAME),
                            spec(metric("latency"), metric("errors")))
    assert verdict.decision is Decision.PROCEED
    assert verdict.score == 100.0
    assert verdict.evaluated_at == NOW
    assert "reaches the pass threshold 95" in verdict.reasons[0]
    latency = by_name(verdict, "latency")
    assert (latency.outcome, latency.classification, latency.critical) == (
        MetricOutcome.PASS, Classification.PASS, False)
    assert latency.baseline == pytest.approx(sum(LOW_CONTROL) / len(LOW_CONTROL))
    assert latency.canary == pytest.approx(sum(LOW_VALUES) / len(LOW_VALUES))
    assert set(latency.statistics) >= REQUIRED_STATISTICS
    lower, upper = latency.statistics["ci_lower"], latency.statistics["ci_upper"]
    assert lower is not None
    assert upper is not None
    assert lower < 0 < upper
    assert latency.statistics["canary_mean"] == latency.canary
    assert latency.statistics["baseline_count"] == 30.0
    assert latency.detail.startswith("latency passes: canary mean 9.")
    assert "98% CI of the shift" in latency.detail
    assert "does not clear ±0.25·|estimate|" in latency.detail


def test_a_high_metric_rolls_back_with_an_actionable_sentence() -> None:
    verdict = kayenta_judge(evidence(latency_p95=RISES, errors=SAME),
                            spec(metric("latency_p95"), metric("errors")))
    assert verdict.decision is Decision.ROLLBACK
    assert verdict.score == 50.0
    assert "at or below the marginal threshold 75" in verdict.reasons[0]
    assert "latency_p95: High" in verdict.reasons
    high = by_name(verdict, "latency_p95")
    assert (high.outcome, high.classification) == (MetricOutcome.FAIL, Classification.HIGH)
    ratio = sum(HIGH_VALUES) / sum(LOW_CONTROL)
    assert high.statistics["effect_size"] == pytest.approx(ratio)
    assert high.statistics["mean_ratio"] == pytest.approx(ratio)
    assert high.detail == (
        "latency_p95 is High: canary mean 20.22 vs baseline 9.78 (ratio 2.068), 98% CI of the "
        "shift [9.149, 11.82] clears ±0.25·|estimate| = ±2.656; find what the canary changed "
        "before promoting it.")


def test_a_low_metric_on_an_either_metric_fails_too() -> None:
    verdict = kayenta_judge(evidence(throughput=FALLS), spec(metric("throughput")))
    assert verdict.decision is Decision.ROLLBACK
    assert by_name(verdict, "throughput").detail.startswith("throughput is Low: ")


def test_marginal_score_needs_a_person() -> None:
    metrics = [metric(f"m{i}") for i in range(5)]
    verdict = kayenta_judge(evidence(m0=RISES, m1=SAME, m2=SAME, m3=SAME, m4=SAME),
                            spec(*metrics))
    assert verdict.score == 80.0
    assert verdict.decision is Decision.INSUFFICIENT_DATA
    assert "(Kayenta: Marginal), so a person should decide" in verdict.reasons[0]


def test_score_at_marginal_fails_like_kayentas_monitor() -> None:
    # 3 of 4 pass: 75.0, which Kayenta's judge calls Marginal but its monitor fails.
    verdict = kayenta_judge(evidence(a=RISES, b=SAME, c=SAME, d=SAME),
                            spec(*(metric(n) for n in "abcd")))
    assert verdict.score == 75.0
    assert verdict.decision is Decision.ROLLBACK
    assert "(Kayenta: Marginal)" in verdict.reasons[0]


def test_rollback_wins_when_thresholds_overlap() -> None:
    verdict = kayenta_judge(evidence(a=RISES, b=SAME), spec(metric("a"), metric("b"),
                            thresholds=ScoreThresholds(pass_score=40.0, marginal=60.0)))
    assert verdict.decision is Decision.ROLLBACK


def test_a_critical_high_metric_fails_the_canary() -> None:
    verdict = kayenta_judge(
        evidence(latency=RISES, **{f"ok{i}": SAME for i in range(9)}),
        spec(metric("latency", critical=True), *(metric(f"ok{i}") for i in range(9))))
    assert verdict.decision is Decision.ROLLBACK
    assert verdict.score == 0.0
    assert "critical metric latency did not pass" in verdict.reasons[0]
    assert "Canary Failed: latency was classified as High (critical)" in verdict.reasons[0]
    latency = by_name(verdict, "latency")
    assert latency.critical
    assert "it is critical and its mean ratio" in latency.detail
    assert "so the canary fails" in latency.detail


def test_a_critical_low_metric_fails_the_canary() -> None:
    verdict = kayenta_judge(evidence(success=FALLS, ok=SAME),
                            spec(metric("success", critical=True), metric("ok")))
    assert verdict.decision is Decision.ROLLBACK
    assert "reaches the critical decrease" in by_name(verdict, "success").detail


def test_half_the_metrics_without_data_is_insufficient_data() -> None:
    verdict = kayenta_judge(evidence(ok=SAME), spec(metric("ok"), metric("missing")))
    assert verdict.decision is Decision.INSUFFICIENT_DATA
    assert verdict.score == 0.0
    assert verdict.reasons[0].startswith("1 of 2 metrics (50%) have no data")
    missing = by_name(verdict, "missing")
    assert (missing.outcome, missing.classification) == (MetricOutcome.NODATA,
                                                         Classification.NODATA)
    assert (missing.baseline, missing.canary) == (None, None)
    assert missing.statistics["ci_lower"] is None
    assert missing.statistics["effect_size"] is None
    assert missing.detail == ("missing has no data because the input has no series for it; it "
                              "is left out of the score; check its query and scope labels.")


def test_less_than_half_without_data_scores_like_kayenta_but_never_promotes() -> None:
    verdict = kayenta_judge(evidence(a=SAME, b=SAME), spec(metric("a"), metric("b"),
                                                           metric("c")))
    assert verdict.score == 100.0  # Kayenta's score: Nodata is left out
    assert "c: Nodata" in verdict.reasons
    # Kayenta would pass; safeship holds until every metric has data.
    assert verdict.decision is Decision.INSUFFICIENT_DATA
    assert "c have no data, and missing data never promotes" in verdict.reasons[0]


def test_must_have_data_turns_missing_data_into_a_failure() -> None:
    verdict = kayenta_judge(evidence(ok=SAME, required=((), ())),
                            spec(metric("ok"), metric("required", must_have_data=True)))
    required = by_name(verdict, "required")
    assert (required.classification, required.outcome) == (Classification.NODATA_FAIL,
                                                           MetricOutcome.FAIL)
    assert "must_have_data is set, so it counts as a failure" in required.detail
    assert verdict.score == 50.0
    assert verdict.decision is Decision.ROLLBACK


def test_a_critical_metric_without_data_fails_the_canary() -> None:
    verdict = kayenta_judge(evidence(ok=SAME), spec(metric("ok"), metric("vital", critical=True)))
    assert verdict.decision is Decision.ROLLBACK
    vital = by_name(verdict, "vital")
    assert (vital.classification, vital.critical) == (Classification.NODATA, True)
    assert "it is critical, so the canary fails" in vital.detail


def test_no_metrics_is_insufficient_data() -> None:
    verdict = kayenta_judge(evidence(), spec())
    assert verdict.decision is Decision.INSUFFICIENT_DATA
    assert verdict.score is None
    assert verdict.metrics == ()
    assert "lists no metrics" in verdict.reasons[0]


@pytest.mark.parametrize("strategy", [NanStrategy.REMOVE, NanStrategy.REPLACE])
def test_an_empty_series_is_missing_data_under_both_strategies(strategy: NanStrategy) -> None:
    # Kayenta passes an empty arm under "replace"; safeship does not let that promote.
    verdict = kayenta_judge(evidence(m=((1.0, 2.0), ())), spec(metric("m", nan_strategy=strategy)))
    m = by_name(verdict, "m")
    assert m.classification is Classification.NODATA
    assert verdict.decision is Decision.INSUFFICIENT_DATA
    assert m.detail == ("m has no data for the canary (0 points, none usable); it is left out "
                        "of the score; check its query, scope labels and traffic.")


def test_all_nan_under_remove_is_missing_data() -> None:
    verdict = kayenta_judge(evidence(m=((NAN, NAN), (NAN, NAN, NAN))), spec(metric("m")))
    m = by_name(verdict, "m")
    assert m.classification is Classification.NODATA
    assert "no data for the canary (3 points, none usable) and the baseline (2 points" in m.detail
    assert m.statistics["canary_dropped"] == 3.0


def test_all_nan_under_replace_counts_as_zeros() -> None:
    verdict = kayenta_judge(evidence(m=((0.0, 0.0), (NAN, NAN))),
                            spec(metric("m", nan_strategy=NanStrategy.REPLACE)))
    m = by_name(verdict, "m")
    assert m.classification is Classification.PASS
    assert m.detail == "m passes: the canary and baseline data are identical (2 points each)."
    assert (m.baseline, m.canary) == (0.0, 0.0)
    assert m.statistics["ci_lower"] is None
    assert m.statistics["mean_ratio"] is None


def test_nan_points_are_dropped_under_remove() -> None:
    baseline = (*LOW_CONTROL, NAN, math.inf)
    verdict = kayenta_judge(evidence(m=(baseline, LOW_VALUES)), spec(metric("m")))
    m = by_name(verdict, "m")
    assert m.classification is Classification.PASS
    assert m.statistics["baseline_count"] == 30.0
    assert m.statistics["baseline_dropped"] == 2.0


def test_outliers_are_removed_when_asked() -> None:
    canary = (*LOW_VALUES, 10_000.0)
    kept = kayenta_judge(evidence(m=(LOW_CONTROL, canary)), spec(metric("m")))
    removed = kayenta_judge(evidence(m=(LOW_CONTROL, canary)),
                            spec(metric("m", outliers=Outliers(OutlierStrategy.REMOVE, 3.0))))
    assert by_name(kept, "m").statistics["canary_dropped"] == 0.0
    assert by_name(removed, "m").statistics["canary_dropped"] == 1.0
    assert by_name(removed, "m").canary == pytest.approx(sum(LOW_VALUES) / len(LOW_VALUES))


def test_all_points_equal() -> None:
    verdict = kayenta_judge(evidence(m=((5.0, 5.0), (5.0, 5.0, 5.0))), spec(metric("m")))
    assert by_name(verdict, "m").detail == "m passes: every point of both arms is 5."
    assert verdict.decision is Decision.PROCEED


def test_zero_baseline_mean() -> None:
    verdict = kayenta_judge(evidence(errors=((0.0,) * 5, (54.9, 54.5, 55.1, 55.6, 57.4))),
                            spec(metric("errors")))
    errors = by_name(verdict, "errors")
    assert errors.classification is Classification.HIGH
    assert errors.statistics["effect_size"] is None  # undefined ratio, not a number
    assert errors.statistics["mean_ratio"] is None
    assert "(ratio undefined)" in errors.detail
    assert errors.baseline == 0.0


def test_constant_arms_use_the_seeded_noise() -> None:
    verdict = kayenta_judge(evidence(m=((1.0,) * 5, (10.0,) * 5)), spec(metric("m")))
    m = by_name(verdict, "m")
    assert m.classification is Classification.HIGH
    assert m.statistics["noise_added"] == 1.0
    assert (m.baseline, m.canary) == (1.0, 10.0)  # the means of the data, not of the noise


@pytest.mark.parametrize(("direction", "arms", "expected", "why"), [
    (Direction.DECREASE, RISES, Classification.PASS,
     "it rose, and only a decrease counts against this metric."),
    (Direction.INCREASE, FALLS, Classification.PASS,
     "it fell, and only an increase counts against this metric."),
    (Direction.INCREASE, RISES, Classification.HIGH, None),
    (Direction.DECREASE, FALLS, Classification.LOW, None),
])
def test_direction(direction: Direction, arms: tuple[tuple[float, ...], tuple[float, ...]],
                   expected: Classification, why: str | None) -> None:
    verdict = kayenta_judge(evidence(m=arms), spec(metric("m", direction=direction)))
    m = by_name(verdict, "m")
    assert m.classification is expected
    if why:
        assert m.detail.endswith(why)


def test_allowed_effect_sizes_show_in_the_sentence() -> None:
    up = kayenta_judge(evidence(m=RISES),
                       spec(metric("m", effect_size=EffectSize(allowed_increase=3.0))))
    assert by_name(up, "m").classification is Classification.PASS
    assert "but its mean ratio 2.068 is below the allowed increase 3." in by_name(up, "m").detail
    down = kayenta_judge(evidence(m=FALLS),
                         spec(metric("m", effect_size=EffectSize(allowed_decrease=0.2))))
    assert "but its mean ratio 0.4907 is above the allowed decrease 0.2." in by_name(
        down, "m").detail


def test_an_error_on_a_critical_metric_still_fails_the_canary(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object) -> None:
        raise TiedObservationsError

    monkeypatch.setattr("safeship.judge.kayenta_classifier.mann_whitney_interval", broken)
    verdict = kayenta_judge(evidence(m=SAME, ok=SAME), spec(metric("m", critical=True),
                                                           metric("ok")))
    m = by_name(verdict, "m")
    assert (m.classification, m.critical) == (Classification.NODATA, True)
    assert m.detail.startswith("m could not be compared (cannot compute a Mann-Whitney")
    assert "it is critical, so the canary fails" in m.detail
    assert verdict.decision is Decision.ROLLBACK


def test_an_error_on_an_ordinary_metric_waits_instead_of_rolling_back(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object) -> None:
        raise TiedObservationsError

    monkeypatch.setattr("safeship.judge.kayenta_classifier.mann_whitney_interval", broken)
    verdict = kayenta_judge(evidence(m=SAME, ok=SAME, more=SAME),
                            spec(metric("m"), metric("ok"), metric("more")))
    assert by_name(verdict, "m").classification is Classification.NODATA
    assert verdict.decision is Decision.INSUFFICIENT_DATA


def test_group_weights_and_the_default_group() -> None:
    metrics = (metric("a", groups=("latency",)), metric("b", groups=("errors",)), metric("c"))
    verdict = kayenta_judge(evidence(a=RISES, b=SAME, c=SAME),
                            spec(*metrics, weights={"latency": 10.0, "errors": 45.0}))
    # latency 0 x 10 % + errors 100 x 45 % + default 100 x 45 %.
    assert verdict.score == 90.0
    assert verdict.decision is Decision.INSUFFICIENT_DATA
    assert "group default: score 100.00" in verdict.reasons


def test_a_metric_the_spec_does_not_list_is_ignored() -> None:
    verdict = kayenta_judge(evidence(a=SAME, extra=RISES), spec(metric("a")))
    assert [m.name for m in verdict.metrics] == ["a"]
    assert verdict.decision is Decision.PROCEED


def test_the_judge_uses_the_spec_tolerance_and_confidence() -> None:
    config = JudgeConfig(name=JudgeName.KAYENTA, confidence=0.9, tolerance=0.5)
    canary_spec = CanarySpec("f.yaml", "s", (CanaryStep(1, 1),), (metric("m"),), judge=config)
    m = by_name(kayenta_judge(evidence(m=RISES), canary_spec), "m")
    assert (m.statistics["confidence"], m.statistics["tolerance"]) == (0.9, 0.5)
    assert "90% CI of the shift" in m.detail
    assert "±0.5·|estimate|" in m.detail


def test_same_input_same_verdict() -> None:
    data = evidence(a=RISES, b=SAME, c=((1.0,) * 5, (10.0,) * 5), d=((NAN, 1.0), (2.0, NAN)))
    canary_spec = spec(*(metric(n) for n in "abcd"))
    first = kayenta_judge(data, canary_spec)
    second = kayenta_judge(data, canary_spec)
    assert first == second
    assert [dict(m.statistics) for m in first.metrics] == [dict(m.statistics)
                                                          for m in second.metrics]


def test_a_tested_label_without_an_interval_still_explains_itself(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Cannot come from the real classifier; the sentence must not break if it ever does.
    def bare(*_args: object, **_kwargs: object) -> MetricClassification:
        return MetricClassification(Classification.HIGH, False, "m was classified as High",
                                    Rule.TESTED)

    monkeypatch.setattr("safeship.judge.kayenta.classify", bare)
    m = by_name(kayenta_judge(evidence(m=SAME), spec(metric("m"))), "m")
    assert m.detail == "m is High: m was classified as High."
