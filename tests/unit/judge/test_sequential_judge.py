"""The sequential judge, branch by branch, on seeded simulated traffic."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from safeship.config.canary_file import load_canary_file
from safeship.engine.analysis import evidence_until
from safeship.judge.sequential import sequential_judge
from safeship.model.analysis import (
    AnalysisInput,
    ArmCounts,
    Classification,
    Decision,
    MetricOutcome,
    MetricVerdict,
    StepWindow,
)
from safeship.model.canary import (
    CanaryMetric,
    Direction,
    Margins,
    MetricCategory,
    RollbackMargins,
    Threshold,
)
from tests.unit.judge.test_sequential_simulator import (
    CHECKOUT,
    ERRORS,
    P95,
    make_spec,
    simulate,
    with_series,
)

REQUIRED_STATISTICS = {"e_value", "log_e_value", "threshold", "cs_lower", "cs_upper", "margin",
                       "events_canary", "events_baseline", "rho"}


def metric_named(verdict_metrics: tuple[MetricVerdict, ...], name: str) -> MetricVerdict:
    return next(m for m in verdict_metrics if m.name == name)


def stat(metric: MetricVerdict, key: str) -> float:
    value = metric.statistics[key]
    assert value is not None, key
    return value


def set_values(counts: ArmCounts, field: str, change: dict[int, float]) -> ArmCounts:
    values = list(getattr(counts, field))
    for index, value in change.items():
        values[index] = value
    if field == "errors":
        return replace(counts, errors=tuple(values))
    return replace(counts, requests=tuple(values))


# --------------------------------------------------------------------------- decisions


def test_a_healthy_canary_proceeds_with_explanations() -> None:
    verdict = sequential_judge(simulate(1), make_spec())
    assert verdict.decision is Decision.PROCEED, verdict.reasons
    assert verdict.judge == "sequential"
    assert "burn-rate guard skipped: no slo_target configured" in verdict.reasons
    for metric in verdict.metrics:
        assert metric.outcome is MetricOutcome.PASS
        assert set(metric.statistics) >= REQUIRED_STATISTICS
        assert metric.statistics["threshold"] == pytest.approx(2 / 0.01)
        assert metric.statistics["rho"] == pytest.approx(0.1, abs=0.01)
        assert "within margin" in metric.detail
    errors = metric_named(verdict.metrics, "error_rate")
    assert stat(errors, "cs_upper") <= 1.5
    assert errors.detail.startswith("error rate ")
    assert "99.5 % CS [" in errors.detail
    latency = metric_named(verdict.metrics, "latency_p95")
    assert latency.detail.startswith("slow requests (> 500 ms)")
    assert latency.statistics["tau_s"] == 0.5
    assert latency.statistics["margin"] == 1.25


def test_more_errors_roll_back() -> None:
    verdict = sequential_judge(simulate(2, error_ratio=3.0), make_spec())
    assert verdict.decision is Decision.ROLLBACK
    errors = metric_named(verdict.metrics, "error_rate")
    assert errors.outcome is MetricOutcome.FAIL
    assert errors.classification is Classification.HIGH
    assert stat(errors, "e_value") >= stat(errors, "threshold")
    assert stat(errors, "cs_lower") > 1.0
    assert errors.canary is not None
    assert errors.baseline is not None
    assert errors.canary > errors.baseline
    assert "canary significantly worse than baseline" in errors.detail
    assert verdict.reasons[0].startswith("error_rate: error rate ")


def test_slower_canary_rolls_back() -> None:
    verdict = sequential_judge(simulate(3, latency_scale=1.4), make_spec())
    assert verdict.decision is Decision.ROLLBACK
    latency = metric_named(verdict.metrics, "latency_p95")
    assert latency.outcome is MetricOutcome.FAIL
    assert stat(latency, "cs_lower") > 1.25
    # Slow requests roll back only beyond the 1.05x indifference zone, and say so.
    assert latency.statistics["rollback_margin"] == 1.05
    assert "canary significantly worse than 1.05x baseline" in latency.detail
    exact = sequential_judge(simulate(3, latency_scale=1.4),
                             make_spec(rollback_margins=RollbackMargins(slow_ratio=1.0)))
    exact_latency = metric_named(exact.metrics, "latency_p95")
    assert stat(exact_latency, "log_e_value") > stat(latency, "log_e_value")
    assert "canary significantly worse than baseline" in exact_latency.detail


def test_business_drop_rolls_back_and_healthy_business_proceeds() -> None:
    spec = make_spec(CHECKOUT)
    dropped = sequential_judge(simulate(4, good_ratio=0.8), spec)
    assert dropped.decision is Decision.ROLLBACK
    checkout = dropped.metrics[0]
    assert checkout.classification is Classification.LOW
    assert "significantly lower" in checkout.detail
    assert stat(checkout, "cs_upper") < 1.0
    healthy = sequential_judge(simulate(4),
                               make_spec(CHECKOUT, margins=Margins(business_ratio=0.8)))
    assert healthy.decision is Decision.PROCEED, healthy.reasons
    assert healthy.metrics[0].statistics["margin"] == 0.8
    assert stat(healthy.metrics[0], "cs_lower") >= 0.8
    # The default 0.98 margin needs far more good events than 10 minutes at 10 rps give.
    strict = sequential_judge(simulate(4), make_spec(CHECKOUT))
    assert strict.decision is Decision.INSUFFICIENT_DATA
    assert "lower bound" in strict.metrics[0].detail


def test_business_metric_default_direction_still_tests_a_drop() -> None:
    increase = CanaryMetric("checkout", "q", category=MetricCategory.BUSINESS)
    verdict = sequential_judge(simulate(4, good_ratio=0.8), make_spec(increase))
    assert verdict.decision is Decision.ROLLBACK


def test_either_direction_tests_both_ways() -> None:
    either = replace(ERRORS, direction=Direction.EITHER)
    fewer = sequential_judge(simulate(5, error_ratio=0.2), make_spec(either))
    assert fewer.decision is Decision.ROLLBACK
    assert fewer.metrics[0].classification is Classification.LOW
    assert "margin_lower" in fewer.metrics[0].statistics
    assert sequential_judge(simulate(5, error_ratio=0.2),
                            make_spec(ERRORS)).decision is not Decision.ROLLBACK


# --------------------------------------------------------------------------- waiting


def test_waiting_for_minimum_exposure() -> None:
    verdict = sequential_judge(simulate(1, now=30.0), make_spec())
    assert verdict.decision is Decision.INSUFFICIENT_DATA
    assert any(r.startswith("waiting: the step has run 30 s of the 60 s") for r in verdict.reasons)
    assert all(m.outcome is MetricOutcome.INCONCLUSIVE for m in verdict.metrics)


def test_waiting_for_the_minimum_sample() -> None:
    verdict = sequential_judge(simulate(1, rps=5.0), make_spec(min_sample_size=1000))
    assert verdict.decision is Decision.INSUFFICIENT_DATA
    assert any("min_sample_size is 1000" in r for r in verdict.reasons)


def test_undecided_while_the_step_runs_then_ended() -> None:
    data = simulate(6, rps=20.0)  # ~12 canary errors: the bounds stay wide
    ended = sequential_judge(data, make_spec(ERRORS))
    assert ended.decision is Decision.INSUFFICIENT_DATA
    assert ended.reasons[0].startswith("step ended without a decision: error rate: upper bound")
    assert ended.metrics[0].outcome is MetricOutcome.INCONCLUSIVE
    assert "not yet decided" in ended.metrics[0].detail
    running = sequential_judge(evidence_until(data, 500.0), make_spec(ERRORS))
    assert running.reasons[0].startswith("waiting: error rate: upper bound")


def test_a_new_step_without_scrapes_is_waiting() -> None:
    data = simulate(1)
    later = replace(data, steps=(*data.steps, StepWindow(600.0, 900.0, 50.0)), now=605.0)
    verdict = sequential_judge(later, make_spec())
    assert verdict.decision is Decision.INSUFFICIENT_DATA
    assert "waiting: no scrape interval in the current step yet" in verdict.reasons
    much_later = replace(later, now=700.0)
    assert any(r.startswith("telemetry missing: no scrape interval in the current step")
               for r in sequential_judge(much_later, make_spec()).reasons)


def test_zero_events_never_proceed() -> None:
    verdict = sequential_judge(simulate(1, error_rate=0.0), make_spec(ERRORS))
    assert verdict.decision is Decision.INSUFFICIENT_DATA
    assert "no events in either arm yet" in verdict.reasons[0]
    assert verdict.metrics[0].statistics["cs_upper"] is None


# --------------------------------------------------------------------------- telemetry


def test_missing_counts() -> None:
    data = simulate(1)
    for broken in (replace(data, canary_counts=None), replace(data, baseline_counts=None)):
        verdict = sequential_judge(broken, make_spec())
        assert verdict.decision is Decision.INSUFFICIENT_DATA
        assert verdict.reasons[0].startswith("telemetry missing: no request counts")
        assert all(m.outcome is MetricOutcome.NODATA for m in verdict.metrics)


def test_counts_that_never_meet() -> None:
    data = simulate(1)
    assert data.canary_counts is not None
    shifted = replace(data.canary_counts,
                      timestamps=tuple(t + 1 for t in data.canary_counts.timestamps))
    verdict = sequential_judge(replace(data, canary_counts=shifted), make_spec())
    assert verdict.decision is Decision.INSUFFICIENT_DATA
    assert "share no scrape interval" in verdict.reasons[0]


def test_all_requests_missing() -> None:
    data = simulate(1)
    assert data.canary_counts is not None
    blank = replace(data.canary_counts, requests=(math.nan,) * len(data.canary_counts.requests))
    verdict = sequential_judge(replace(data, canary_counts=blank), make_spec())
    assert verdict.decision is Decision.INSUFFICIENT_DATA
    assert "all missing" in verdict.reasons[0]


def test_nan_intervals_block_proceed_but_not_rollback() -> None:
    data = simulate(1)
    assert data.canary_counts is not None
    holes = dict.fromkeys(range(0, 60, 5), math.nan)  # 12 of 60 intervals
    gappy = replace(data, canary_counts=set_values(data.canary_counts, "errors", holes))
    verdict = sequential_judge(gappy, make_spec())
    assert verdict.decision is Decision.INSUFFICIENT_DATA
    assert verdict.reasons[0] == ("telemetry missing: canary errors has samples in 48 of 60 "
                                  "scrape intervals of the step (needs 90%)")
    bad = simulate(2, error_ratio=3.0)
    assert bad.canary_counts is not None
    bad_gappy = replace(bad, canary_counts=set_values(bad.canary_counts, "requests", holes))
    assert sequential_judge(bad_gappy, make_spec()).decision is Decision.ROLLBACK


def test_missing_scrapes_are_gaps() -> None:
    data = simulate(1)
    assert data.canary_counts is not None
    assert data.baseline_counts is not None
    keep = [i for i in range(60) if i % 4]  # every fourth scrape never arrived

    def thin(counts: ArmCounts) -> ArmCounts:
        return ArmCounts(
            timestamps=tuple(counts.timestamps[i] for i in keep),
            requests=tuple(counts.requests[i] for i in keep),
            errors=tuple(counts.errors[i] for i in keep),
            latency_buckets={b: tuple(v[i] for i in keep)
                             for b, v in counts.latency_buckets.items()})

    verdict = sequential_judge(replace(data, canary_counts=thin(data.canary_counts)),
                               make_spec())
    assert verdict.decision is Decision.INSUFFICIENT_DATA
    assert "45 of 60 scrape intervals" in verdict.reasons[0]
    both = replace(data, canary_counts=thin(data.canary_counts),
                   baseline_counts=thin(data.baseline_counts))
    assert sequential_judge(both, make_spec()).reasons[0].startswith("telemetry missing")


def test_broken_traffic_split() -> None:
    verdict = sequential_judge(simulate(1, share=0.2), make_spec())
    assert verdict.decision is Decision.INSUFFICIENT_DATA
    assert verdict.reasons[0].startswith("traffic split broken: the canary got 20")
    assert "configured 10 %" in verdict.reasons[0]
    equal_baseline = sequential_judge(simulate(1, share=0.5), make_spec())
    assert not any("split" in r for r in equal_baseline.reasons)


def test_an_impossible_percentage_never_proceeds() -> None:
    data = simulate(1)
    odd = replace(data, steps=(StepWindow(0.0, 600.0, 150.0),))
    verdict = sequential_judge(odd, make_spec())
    assert verdict.decision is Decision.INSUFFICIENT_DATA
    assert "is not a share" in verdict.reasons[0]


def test_time_that_is_not_a_number() -> None:
    verdict = sequential_judge(replace(simulate(1), now=math.nan), make_spec())
    assert verdict.decision is Decision.INSUFFICIENT_DATA


# --------------------------------------------------------------------------- guards


def test_burn_guard_fires_in_a_global_incident() -> None:
    incident = simulate(7, error_rate=0.05)  # both arms at 5 % errors: 50x a 99.9 % budget
    verdict = sequential_judge(incident, make_spec(slo_target=0.999))
    assert verdict.decision is Decision.ROLLBACK
    guard = metric_named(verdict.metrics, "slo_burn_guard")
    assert guard.outcome is MetricOutcome.FAIL
    assert guard.critical
    assert stat(guard, "burn_rate_lower") > 14.4
    assert "exceeds the limit 14.4x" in guard.detail
    errors = metric_named(verdict.metrics, "error_rate")
    assert errors.outcome is not MetricOutcome.FAIL  # the arms do not differ
    assert sequential_judge(incident, make_spec()).decision is not Decision.ROLLBACK


def test_burn_guard_takes_an_error_budget_metrics_limit() -> None:
    budget = CanaryMetric("slo_burn_rate", "(error_rate / (1 - 0.999))", Threshold(max_absolute=3),
                          derived_from=("error_rate",), category=MetricCategory.ERROR_BUDGET)
    data = simulate(8, error_rate=0.01)  # burn 10: under 14.4, over the metric's 3
    verdict = sequential_judge(data, make_spec(ERRORS, budget, slo_target=0.999))
    assert verdict.decision is Decision.ROLLBACK
    burn = metric_named(verdict.metrics, "slo_burn_rate")
    assert burn.outcome is MetricOutcome.FAIL
    assert burn.statistics["burn_rate_limit"] == 3
    assert not any(m.name == "slo_burn_guard" for m in verdict.metrics)
    # One errors test (shared by both metrics) with 90 % of alpha, one guard with 10 %.
    assert burn.statistics["threshold"] == pytest.approx(1 / (0.9 * 0.01))
    assert burn.statistics["burn_threshold"] == pytest.approx(1 / (0.1 * 0.01))
    assert "99.9 % lower bound" in burn.detail
    assert "99.1 % CS [" in burn.detail
    healthy = sequential_judge(simulate(8, error_rate=0.001),
                               make_spec(ERRORS, budget, slo_target=0.999))
    assert metric_named(healthy.metrics, "slo_burn_rate").outcome is not MetricOutcome.FAIL


def test_absolute_latency_limit_from_the_histogram() -> None:
    limited = replace(P95, threshold=Threshold(max_absolute_ms=250))
    verdict = sequential_judge(simulate(9), make_spec(limited))  # p95 is about 450 ms
    assert verdict.decision is Decision.ROLLBACK
    assert "canary p95 above 250 ms" in verdict.metrics[0].detail
    relaxed = replace(P95, threshold=Threshold(max_absolute_ms=1000))
    verdict = sequential_judge(simulate(9), make_spec(relaxed))
    assert verdict.metrics[0].outcome is MetricOutcome.PASS
    # The slow-request test keeps 90 % of alpha; the absolute-limit guard gets 10 %.
    assert verdict.metrics[0].statistics["threshold"] == pytest.approx(1 / (0.9 * 0.01))
    assert "99.9 % lower bound" in verdict.metrics[0].detail


# --------------------------------------------------------------------------- evidence over steps


def test_evidence_carries_across_steps() -> None:
    spec = make_spec(ERRORS)
    data = simulate(8, steps=((5, 300), (10, 300)), error_ratio=1.8)
    assert data.canary_counts is not None
    full = sequential_judge(data, spec)
    first_step = sequential_judge(evidence_until(data, 300.0), spec)
    stamps = data.canary_counts.timestamps
    forget = {i: math.nan for i, t in enumerate(stamps) if t <= 300}
    second_only = replace(data, canary_counts=set_values(data.canary_counts, "errors", forget))
    assert first_step.decision is not Decision.ROLLBACK
    assert sequential_judge(second_only, spec).decision is not Decision.ROLLBACK
    assert full.decision is Decision.ROLLBACK


def test_a_quiet_step_keeps_the_evidence() -> None:
    spec = make_spec(ERRORS)
    data = simulate(2, steps=((10, 300), (25, 300)), error_ratio=2.0)
    assert data.canary_counts is not None
    assert data.baseline_counts is not None
    quiet = {i: 0.0 for i, t in enumerate(data.canary_counts.timestamps) if t > 300}
    silent = replace(data, canary_counts=set_values(data.canary_counts, "errors", quiet),
                     baseline_counts=set_values(data.baseline_counts, "errors", quiet))
    after_first = sequential_judge(evidence_until(silent, 300.0), spec).metrics[0]
    after_both = sequential_judge(silent, spec).metrics[0]
    assert after_both.statistics["log_e_value"] == pytest.approx(
        after_first.statistics["log_e_value"])
    assert after_both.statistics["events_canary"] == after_first.statistics["events_canary"]


def test_rollback_seen_at_any_look_is_seen_by_the_last() -> None:
    spec = make_spec()
    outcomes = set()
    for seed, ratio in ((20, 1.6), (21, 1.6), (22, 1.0)):
        data = simulate(seed, error_ratio=ratio, latency_scale=1.1 if ratio > 1 else 1.0)
        looks = [sequential_judge(evidence_until(data, 10.0 * k), spec).decision
                 for k in range(1, 61)]
        if Decision.ROLLBACK in looks:
            first = looks.index(Decision.ROLLBACK)
            assert first > 0
            assert all(d is Decision.ROLLBACK for d in looks[first:])
        assert (looks[-1] is Decision.ROLLBACK) == (Decision.ROLLBACK in looks)
        outcomes.add(looks[-1])
    assert Decision.ROLLBACK in outcomes
    assert len(outcomes) > 1


# --------------------------------------------------------------------------- frozen thresholds


def _with_canary_buckets(data: AnalysisInput, until: float, factor: float) -> AnalysisInput:
    counts = data.canary_counts
    assert counts is not None
    stamps = counts.timestamps
    buckets = {le: tuple(v * factor if t <= until and math.isfinite(le) else v
                         for t, v in zip(stamps, values, strict=True))
               for le, values in counts.latency_buckets.items()}
    return replace(data, canary_counts=replace(counts, latency_buckets=buckets))


def test_tau_comes_from_the_baseline_only() -> None:
    spec = make_spec(P95)
    data = simulate(10, steps=((10, 300), (25, 300)), pre=12)
    reference = sequential_judge(data, spec).metrics[0].statistics
    # Make the canary much slower before and during step 1: step 2's threshold must not move.
    slower = _with_canary_buckets(data, 300.0, 0.3)
    changed = sequential_judge(slower, spec).metrics[0].statistics
    assert changed["tau_s"] == reference["tau_s"]
    assert changed["baseline_exceedance"] == reference["baseline_exceedance"]
    first = sequential_judge(evidence_until(data, 120.0), spec).metrics[0].statistics
    first_slower = sequential_judge(evidence_until(slower, 120.0), spec).metrics[0].statistics
    assert first_slower["tau_s"] == first["tau_s"]
    assert first["calibration_intervals"] == 0.0  # 12 scrapes of history before the rollout


def test_tau_follows_the_baseline() -> None:
    spec = make_spec(P95)
    fast = sequential_judge(simulate(10, pre=12), spec).metrics[0].statistics
    data = simulate(10, pre=12)
    assert data.baseline_counts is not None
    counts = data.baseline_counts
    # The baseline's requests all land in the first bucket: the threshold drops to 50 ms.
    everything_fast = dict.fromkeys(counts.latency_buckets, counts.requests)
    changed = replace(data, baseline_counts=replace(counts, latency_buckets=everything_fast))
    moved = sequential_judge(changed, spec).metrics[0].statistics
    assert fast["tau_s"] == 0.5
    assert moved["tau_s"] == 0.05


def test_first_step_without_history_calibrates_on_the_baseline() -> None:
    spec = make_spec(P95)
    verdict = sequential_judge(simulate(11, pre=0), spec)
    stats = verdict.metrics[0].statistics
    assert stats["calibration_intervals"] == 1.0  # 900 baseline requests in the first scrape
    low_traffic = sequential_judge(simulate(11, rps=10.0, now=20.0), spec)
    assert any("not yet enough to place the slow-request threshold" in r
               for r in low_traffic.reasons)


# --------------------------------------------------------------------------- fallbacks


def test_metric_without_counts_falls_back_to_absolute_limits() -> None:
    data = simulate(12)
    assert data.canary_counts is not None
    assert data.baseline_counts is not None
    no_histogram = replace(data, canary_counts=replace(data.canary_counts, latency_buckets={}),
                           baseline_counts=replace(data.baseline_counts, latency_buckets={}))
    limited = CanaryMetric("latency_p95", "q", Threshold(max_absolute_ms=500),
                           category=MetricCategory.LATENCY)
    stamps = [100.0 * i for i in range(1, 7)]
    slow = with_series(no_histogram, "latency_p95", [0.3] * 6, [0.8] * 6, stamps)
    verdict = sequential_judge(slow, make_spec(ERRORS, limited))
    assert verdict.decision is Decision.ROLLBACK
    assert "p95 latency above 500 ms" in metric_named(verdict.metrics, "latency_p95").detail
    fine = with_series(no_histogram, "latency_p95", [0.3] * 6, [0.35] * 6, stamps)
    verdict = sequential_judge(fine, make_spec(ERRORS, limited))
    assert verdict.decision is Decision.INSUFFICIENT_DATA
    latency = metric_named(verdict.metrics, "latency_p95")
    assert latency.outcome is MetricOutcome.INCONCLUSIVE
    assert "never enough evidence to proceed" in latency.detail
    assert any(r.startswith("step ended without a decision: latency_p95: no counts")
               for r in verdict.reasons)
    unlimited = sequential_judge(no_histogram, make_spec(ERRORS, P95))
    assert metric_named(unlimited.metrics, "latency_p95").outcome is MetricOutcome.NODATA


def test_resource_metrics_are_guardrails() -> None:
    cpu = CanaryMetric("cpu", "q", Threshold(max_absolute=0.9),
                       category=MetricCategory.RESOURCE)
    stamps = [100.0 * i for i in range(1, 7)]
    data = simulate(1)
    hot = sequential_judge(with_series(data, "cpu", [0.5] * 6, [0.95] * 6, stamps),
                           make_spec(ERRORS, P95, cpu))
    assert hot.decision is Decision.ROLLBACK
    assert metric_named(hot.metrics, "cpu").outcome is MetricOutcome.FAIL
    # Twice the baseline's CPU but under the limit: advisory only.
    cool = sequential_judge(with_series(data, "cpu", [0.2] * 6, [0.45] * 6, stamps),
                            make_spec(ERRORS, P95, cpu))
    assert cool.decision is Decision.PROCEED, cool.reasons
    blind = sequential_judge(data, make_spec(ERRORS, P95, cpu))
    assert blind.decision is Decision.INSUFFICIENT_DATA
    assert metric_named(blind.metrics, "cpu").outcome is MetricOutcome.NODATA


def test_missing_counts_still_roll_back_on_absolute_limits() -> None:
    cpu = CanaryMetric("cpu", "q", Threshold(max_absolute=0.9),
                       category=MetricCategory.RESOURCE)
    data = with_series(replace(simulate(1), canary_counts=None), "cpu", [0.5], [0.99], [300.0])
    verdict = sequential_judge(data, make_spec(ERRORS, cpu))
    assert verdict.decision is Decision.ROLLBACK


def test_without_steps_everything_is_one_step() -> None:
    data = replace(simulate(1), steps=())
    verdict = sequential_judge(data, make_spec())
    assert verdict.decision is Decision.PROCEED, verdict.reasons
    assert "sample-ratio check skipped: no step with a configured percentage" in verdict.reasons


def test_no_metrics() -> None:
    verdict = sequential_judge(simulate(1), replace(make_spec(), metrics=()))
    assert verdict.decision is Decision.INSUFFICIENT_DATA
    assert verdict.reasons == ("no metrics configured",)


def test_the_guides_template(guide_canary: Path) -> None:
    spec = load_canary_file(guide_canary)
    steps = tuple((s.percentage, s.duration_s) for s in spec.steps[:2])
    bad = simulate(13, steps=steps, rps=1000.0, error_rate=0.001, error_ratio=10.0)
    verdict = sequential_judge(bad, spec)
    assert verdict.decision is Decision.ROLLBACK
    assert {m.name for m in verdict.metrics} == {"error_rate", "latency_p95", "slo_burn_rate"}
    healthy = sequential_judge(simulate(13, steps=steps, rps=1000.0, error_rate=0.0005), spec)
    assert healthy.decision is not Decision.ROLLBACK
    burn = metric_named(healthy.metrics, "slo_burn_rate")
    assert burn.statistics["slo_target"] == pytest.approx(0.999)
    assert burn.statistics["burn_rate_limit"] == 3


def test_speed_budget_sanity() -> None:
    # Not a timing assertion (benchmarks measure speed): a long rollout stays cheap enough to
    # run many times here.
    data = simulate(14, steps=((10, 10_000),))
    assert data.canary_counts is not None
    assert len(data.canary_counts.timestamps) == 1000
    spec = make_spec(ERRORS, P95, replace(P95, name="latency_p99", query="histogram_quantile("
                                          "0.99, x)"), CHECKOUT, slo_target=0.99)
    for _ in range(5):
        verdict = sequential_judge(data, spec)
    assert verdict.decision in set(Decision)
    assert np.isfinite(verdict.metrics[0].statistics["log_e_value"] or 0.0)


def test_a_rollback_on_earlier_evidence_says_so() -> None:
    data = simulate(2, error_ratio=3.0)
    counts = data.canary_counts
    assert counts is not None
    # The canary stops failing after its first third: the decision stands (the e-value's
    # running maximum crossed), and the explanation says the crossing was earlier.
    quiet = dict.fromkeys(range(len(counts.errors) // 3, len(counts.errors)), 0.0)
    calmed = replace(data, canary_counts=set_values(counts, "errors", quiet))
    verdict = sequential_judge(calmed, make_spec())
    assert verdict.decision is Decision.ROLLBACK
    errors = metric_named(verdict.metrics, "error_rate")
    assert stat(errors, "log_e_value") >= math.log(stat(errors, "threshold"))
    assert stat(errors, "e_value_now") < stat(errors, "threshold")
    assert "earlier in the rollout (now " in errors.detail
    steady = metric_named(sequential_judge(data, make_spec()).metrics, "error_rate")
    assert "earlier in the rollout" not in steady.detail
