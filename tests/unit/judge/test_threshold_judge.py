"""The threshold judge: the guide's section 4.4 rules, each limit's edge table, every decision."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from safeship.config.canary_file import load_canary_file
from safeship.judge.series_window import Window, canary_request_count, current_window
from safeship.judge.threshold import check_series, threshold_judge, values_in_seconds
from safeship.model.analysis import (
    AnalysisInput,
    ArmCounts,
    Classification,
    Decision,
    MetricData,
    MetricOutcome,
    Series,
    StepWindow,
)
from safeship.model.canary import (
    CanaryMetric,
    CanarySpec,
    CanaryStep,
    JudgeConfig,
    MetricCategory,
    Threshold,
)

NAN = math.nan
STEP = StepWindow(100.0, 400.0, 10.0)


def series(values: Sequence[float], start: float = 110.0) -> Series:
    return Series(tuple(start + 10.0 * i for i in range(len(values))), tuple(values))


def counts(requests: float, intervals: int = 3, start: float = 110.0) -> ArmCounts:
    return ArmCounts(timestamps=tuple(start + 10.0 * i for i in range(intervals)),
                     requests=(requests / intervals,) * intervals)


def make_input(metrics: Mapping[str, tuple[Sequence[float], Sequence[float]]], *,
               requests: float | None = 1000.0, steps: tuple[StepWindow, ...] = (STEP,),
               now: float = 200.0) -> AnalysisInput:
    data = {name: MetricData(name, series(base), series(canary))
            for name, (base, canary) in metrics.items()}
    canary_counts = counts(requests) if requests is not None else None
    return AnalysisInput(data, now, steps, counts(9000.0), canary_counts)


def make_spec(*metrics: CanaryMetric, min_sample_size: int = 100) -> CanarySpec:
    return CanarySpec("t.yaml", "svc", (CanaryStep(10, 300),), metrics,
                      judge=JudgeConfig(min_sample_size=min_sample_size))


def metric(kind: str, value: float, category: MetricCategory = MetricCategory.AVAILABILITY,
           name: str = "m") -> CanaryMetric:
    return CanaryMetric(name, "q", Threshold(**{kind: value}), category=category)


# --------------------------------------------------------------------------- edge tables

EMPTY: list[float] = []
EDGE_TABLE = [
    # kind, limit, category, baseline, canary, expected outcome
    ("max_increase_ratio", 2.0, MetricCategory.AVAILABILITY, [0, 0], [0.1, 0.1], "fail"),
    ("max_increase_ratio", 2.0, MetricCategory.AVAILABILITY, [0, 0], [0, 0], "pass"),
    ("max_increase_ratio", 2.0, MetricCategory.AVAILABILITY, [1, 1], [1, 1], "pass"),
    ("max_increase_ratio", 2.0, MetricCategory.AVAILABILITY, [1, 1], [2, 2], "pass"),
    ("max_increase_ratio", 2.0, MetricCategory.AVAILABILITY, [1, 1], [2.01, 2.01], "fail"),
    ("max_increase_ratio", 2.0, MetricCategory.AVAILABILITY, [1, 1], EMPTY, "nodata"),
    ("max_increase_ratio", 2.0, MetricCategory.AVAILABILITY, EMPTY, [1, 1], "nodata"),
    ("max_increase_ratio", 2.0, MetricCategory.AVAILABILITY, [1, NAN], [NAN, 3], "fail"),
    ("max_increase_ratio", 2.0, MetricCategory.AVAILABILITY, [1, NAN], [NAN, 1.5], "pass"),
    ("max_increase_ratio", 2.0, MetricCategory.AVAILABILITY, [NAN, NAN], [1, 1], "nodata"),
    ("max_increase_pct", 20.0, MetricCategory.LATENCY, [0, 0], [0.1, 0.1], "fail"),
    ("max_increase_pct", 20.0, MetricCategory.LATENCY, [0, 0], [0, 0], "pass"),
    ("max_increase_pct", 20.0, MetricCategory.LATENCY, [0.2, 0.2], [0.2, 0.2], "pass"),
    ("max_increase_pct", 20.0, MetricCategory.LATENCY, [0.25, 0.25], [0.3, 0.3], "pass"),
    ("max_increase_pct", 20.0, MetricCategory.LATENCY, [0.25, 0.25], [0.31, 0.31], "fail"),
    ("max_increase_pct", 20.0, MetricCategory.LATENCY, EMPTY, [0.3], "nodata"),
    ("max_increase_pct", 20.0, MetricCategory.LATENCY, [0.2, NAN], [math.inf, 0.3], "fail"),
    ("max_increase_pct", 20.0, MetricCategory.LATENCY, [NAN], [NAN], "nodata"),
    ("max_absolute_ms", 500.0, MetricCategory.LATENCY, [0.3, 0.3], [0.4, 0.4], "pass"),
    ("max_absolute_ms", 500.0, MetricCategory.LATENCY, [0.3, 0.3], [0.5, 0.5], "pass"),
    ("max_absolute_ms", 500.0, MetricCategory.LATENCY, [0.3, 0.3], [0.6, 0.6], "fail"),
    ("max_absolute_ms", 500.0, MetricCategory.LATENCY, [0, 0], [0.6, 0.6], "fail"),
    ("max_absolute_ms", 500.0, MetricCategory.LATENCY, [0, 0], [0, 0], "pass"),
    ("max_absolute_ms", 500.0, MetricCategory.LATENCY, [300, 300], [450, 450], "pass"),
    ("max_absolute_ms", 500.0, MetricCategory.LATENCY, [300, 300], [600, 600], "fail"),
    ("max_absolute_ms", 500.0, MetricCategory.LATENCY, [0.3], [150, 150], "fail"),
    ("max_absolute_ms", 500.0, MetricCategory.LATENCY, EMPTY, [0.6], "fail"),
    ("max_absolute_ms", 500.0, MetricCategory.LATENCY, [0.3], EMPTY, "nodata"),
    ("max_absolute_ms", 500.0, MetricCategory.LATENCY, [0.3], [NAN, 0.45], "pass"),
    ("max_absolute", 3.0, MetricCategory.ERROR_BUDGET, [1, 1], [3, 3], "pass"),
    ("max_absolute", 3.0, MetricCategory.ERROR_BUDGET, [1, 1], [3.1, 3.1], "fail"),
    ("max_absolute", 3.0, MetricCategory.ERROR_BUDGET, [0, 0], [0, 0], "pass"),
    ("max_absolute", 3.0, MetricCategory.ERROR_BUDGET, EMPTY, [1], "pass"),
    ("max_absolute", 3.0, MetricCategory.ERROR_BUDGET, [1], EMPTY, "nodata"),
    ("max_absolute", 3.0, MetricCategory.ERROR_BUDGET, [1], [NAN, 4], "fail"),
    ("min_ratio", 0.98, MetricCategory.BUSINESS, [0, 0], [0, 0], "pass"),
    ("min_ratio", 0.98, MetricCategory.BUSINESS, [0, 0], [5, 5], "pass"),
    ("min_ratio", 0.98, MetricCategory.BUSINESS, [10, 10], [0, 0], "fail"),
    ("min_ratio", 0.98, MetricCategory.BUSINESS, [10, 10], [10, 10], "pass"),
    ("min_ratio", 0.98, MetricCategory.BUSINESS, [10, 10], [9.8, 9.8], "pass"),
    ("min_ratio", 0.98, MetricCategory.BUSINESS, [10, 10], [9.7, 9.7], "fail"),
    ("min_ratio", 0.98, MetricCategory.BUSINESS, EMPTY, [9.7], "nodata"),
    ("min_ratio", 0.98, MetricCategory.BUSINESS, [10, NAN], [NAN, 9.9], "pass"),
]


@pytest.mark.parametrize(("kind", "limit", "category", "baseline", "canary", "expected"),
                         EDGE_TABLE)
def test_edge_table(kind: str, limit: float, category: MetricCategory, baseline: list[float],
                    canary: list[float], expected: str) -> None:
    spec = make_spec(metric(kind, limit, category))
    verdict = threshold_judge(make_input({"m": (baseline, canary)}), spec)
    assert verdict.metrics[0].outcome == MetricOutcome(expected), verdict.metrics[0].detail
    decision = {"fail": Decision.ROLLBACK, "pass": Decision.PROCEED,
                "nodata": Decision.INSUFFICIENT_DATA}[expected]
    assert verdict.decision is decision
    assert verdict.judge == "threshold"
    assert verdict.evaluated_at == 200.0


def test_missing_metric_is_nodata_and_must_have_data_marks_it() -> None:
    strict = CanaryMetric("gone", "q", Threshold(max_absolute=1), must_have_data=True)
    lax = CanaryMetric("also_gone", "q", Threshold(max_absolute=1))
    verdict = threshold_judge(make_input({}), make_spec(strict, lax))
    assert verdict.decision is Decision.INSUFFICIENT_DATA
    assert [m.classification for m in verdict.metrics] == [Classification.NODATA_FAIL,
                                                           Classification.NODATA]
    assert all(m.outcome is MetricOutcome.NODATA for m in verdict.metrics)


def test_metric_without_limits_passes_on_data() -> None:
    verdict = threshold_judge(make_input({"m": ([1], [100])}),
                              make_spec(CanaryMetric("m", "q")))
    assert verdict.decision is Decision.PROCEED
    assert verdict.metrics[0].detail == "no limit configured"


# --------------------------------------------------------------------------- the guide's rules


def test_guide_rules_and_messages() -> None:
    spec = make_spec(
        CanaryMetric("error_rate", "q", Threshold(max_increase_ratio=2.0)),
        CanaryMetric("latency_p95", "histogram_quantile(0.95, x)",
                     Threshold(max_increase_pct=20), category=MetricCategory.LATENCY),
        CanaryMetric("slo_burn_rate", "q", Threshold(max_absolute=3),
                     category=MetricCategory.ERROR_BUDGET))
    bad = make_input({"error_rate": ([0.01], [0.025]), "latency_p95": ([0.2], [0.25]),
                      "slo_burn_rate": ([1], [4])})
    verdict = threshold_judge(bad, spec)
    assert verdict.decision is Decision.ROLLBACK
    text = " | ".join(verdict.reasons)
    assert "Error rate doubled" in text
    assert "p95 latency increased >20%" in text
    assert "Canary burning budget at >3x" in text
    assert [m.classification for m in verdict.metrics] == [Classification.HIGH] * 3
    assert verdict.metrics[0].statistics["ratio"] == pytest.approx(2.5)
    good = make_input({"error_rate": ([0.01], [0.019]), "latency_p95": ([0.2], [0.23]),
                       "slo_burn_rate": ([1], [2.9])})
    assert threshold_judge(good, spec).decision is Decision.PROCEED


def test_other_ratio_wording() -> None:
    spec = make_spec(metric("max_increase_ratio", 1.5, MetricCategory.LATENCY),
                     metric("min_ratio", 0.9, MetricCategory.BUSINESS, name="checkout"))
    verdict = threshold_judge(make_input({"m": ([1], [2]), "checkout": ([10], [5])}), spec)
    assert "increased more than 1.5x" in verdict.metrics[0].detail
    assert verdict.metrics[1].classification is Classification.LOW
    assert "fell below 0.9x baseline" in verdict.metrics[1].detail


def test_too_few_requests_wins_over_violations() -> None:
    spec = make_spec(metric("max_increase_ratio", 2.0), min_sample_size=100)
    verdict = threshold_judge(make_input({"m": ([1], [5])}, requests=99), spec)
    assert verdict.decision is Decision.INSUFFICIENT_DATA
    assert "fewer than min_sample_size 100" in verdict.reasons[0]
    assert verdict.metrics[0].outcome is MetricOutcome.FAIL
    exactly = threshold_judge(make_input({"m": ([1], [5])}, requests=100), spec)
    assert exactly.decision is Decision.ROLLBACK


def test_unknown_request_count_fails_closed() -> None:
    spec = make_spec(metric("max_increase_ratio", 2.0))
    verdict = threshold_judge(make_input({"m": ([1], [1])}, requests=None), spec)
    assert verdict.decision is Decision.INSUFFICIENT_DATA
    assert "request count unknown" in verdict.reasons[0]
    all_nan = AnalysisInput(make_input({"m": ([1], [1])}).metrics, 200.0, (STEP,), None,
                            ArmCounts(timestamps=(150.0,), requests=(NAN,)))
    assert threshold_judge(all_nan, spec).decision is Decision.INSUFFICIENT_DATA


def test_request_count_from_a_request_metric() -> None:
    spec = make_spec(metric("max_increase_ratio", 2.0))
    per_scrape = make_input({"m": ([1], [1]), "request_count": ([500, 500], [60, 60])},
                            requests=None)
    assert canary_request_count(per_scrape, current_window(per_scrape)).count == 120
    assert threshold_judge(per_scrape, spec).decision is Decision.PROCEED
    rate = make_input({"m": ([1], [1]), "request_rate": ([50, 50, 50], [2, 2, 2])},
                      requests=None)
    found = canary_request_count(rate, current_window(rate))
    assert found.count == pytest.approx(60.0)  # 3 points x 2 rps x 10 s spacing
    assert "per second" in found.source
    assert threshold_judge(rate, spec).decision is Decision.INSUFFICIENT_DATA


def test_request_count_prefers_counters() -> None:
    data = make_input({"request_count": ([1], [5])}, requests=1000)
    assert canary_request_count(data, current_window(data)).count == pytest.approx(1000)


def test_no_metrics_is_insufficient() -> None:
    verdict = threshold_judge(make_input({}), make_spec())
    assert verdict.decision is Decision.INSUFFICIENT_DATA
    assert verdict.reasons == ("no metrics configured",)


def test_window_is_the_current_step() -> None:
    spec = make_spec(metric("max_increase_ratio", 2.0))
    earlier = Series((50.0, 90.0, 100.0, 150.0), (9.0, 9.0, 9.0, 1.0))
    data = AnalysisInput({"m": MetricData("m", series([1.0]), earlier)}, 200.0, (STEP,),
                         counts(9000), counts(1000))
    verdict = threshold_judge(data, spec)
    assert verdict.metrics[0].canary == 1.0  # only t=150 lies in (100, 200]
    assert verdict.decision is Decision.PROCEED
    no_steps = AnalysisInput(data.metrics, 200.0, (), counts(9000), counts(1000))
    assert current_window(no_steps) == Window(-math.inf, 200.0)
    assert threshold_judge(no_steps, spec).metrics[0].canary == pytest.approx(7.0)
    future = AnalysisInput(data.metrics, 120.0, (STEP,), counts(9000), counts(1000))
    assert threshold_judge(future, spec).decision is Decision.INSUFFICIENT_DATA


def test_unit_rule_uses_the_baseline() -> None:
    assert values_in_seconds(MetricData("x", series([0.2]), series([150.0])))
    assert not values_in_seconds(MetricData("x", series([120.0]), series([80.0])))
    assert values_in_seconds(MetricData("x", series([]), series([80.0])))
    assert not values_in_seconds(MetricData("x", series([NAN]), series([150.0])))
    assert values_in_seconds(MetricData("x", Series(), Series()))


def test_check_series_without_data() -> None:
    check = check_series(metric("max_absolute", 1.0), None, Window(0, 1))
    assert check.nodata
    assert check.classification is Classification.NODATA


def test_derived_burn_rate_is_computed_from_its_source() -> None:
    burn = CanaryMetric("slo_burn_rate", "(error_rate / (1 - 0.999))",
                        Threshold(max_absolute=3), derived_from=("error_rate",),
                        category=MetricCategory.ERROR_BUDGET)
    errors = CanaryMetric("error_rate", "q", Threshold(max_increase_ratio=2.0))
    spec = make_spec(errors, burn)
    verdict = threshold_judge(make_input({"error_rate": ([0.002], [0.0035])}), spec)
    assert verdict.metrics[1].canary == pytest.approx(3.5)
    assert verdict.decision is Decision.ROLLBACK
    assert "Canary burning budget at >3x" in verdict.reasons[0]
    other = CanaryMetric("slo_burn_rate", "error_rate * 2", Threshold(max_absolute=3),
                         derived_from=("error_rate",), category=MetricCategory.ERROR_BUDGET)
    nodata = threshold_judge(make_input({"error_rate": ([0.002], [0.0035])}),
                             make_spec(errors, other))
    assert nodata.metrics[1].outcome is MetricOutcome.NODATA


def test_the_guides_template(guide_canary: Path) -> None:
    spec = load_canary_file(guide_canary)
    healthy = make_input({"error_rate": ([0.001], [0.0012]), "latency_p95": ([0.3], [0.32])})
    verdict = threshold_judge(healthy, spec)
    assert verdict.decision is Decision.PROCEED, verdict.reasons
    assert verdict.metrics[2].canary == pytest.approx(1.2)
    slow = make_input({"error_rate": ([0.001], [0.001]), "latency_p95": ([0.3], [0.7])})
    verdict = threshold_judge(slow, spec)
    assert verdict.decision is Decision.ROLLBACK
    assert "p95 latency above 500 ms" in verdict.reasons[0]
    failing = make_input({"error_rate": ([0.001], [0.0035]), "latency_p95": ([0.3], [0.3])})
    reasons = threshold_judge(failing, spec).reasons
    assert any("Error rate doubled" in r for r in reasons)
    assert any("Canary burning budget at >3x" in r for r in reasons)
