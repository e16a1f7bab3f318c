"""No input makes the judges raise, and missing data never gives PROCEED (hypothesis)."""

from __future__ import annotations

import math
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safeship.judge.sequential import sequential_judge
from safeship.judge.threshold import threshold_judge
from safeship.model.analysis import (
    AnalysisInput,
    AnalysisVerdict,
    ArmCounts,
    Decision,
    MetricData,
    MetricOutcome,
    Series,
    StepWindow,
)
from safeship.model.canary import CanaryMetric, Direction, MetricCategory, Threshold
from tests.unit.judge.test_sequential_simulator import CHECKOUT, ERRORS, P95, make_spec, simulate

BUDGET = CanaryMetric("slo_burn_rate", "(error_rate / (1 - 0.999))", Threshold(max_absolute=3),
                      derived_from=("error_rate",), category=MetricCategory.ERROR_BUDGET)
CPU = CanaryMetric("cpu", "q", Threshold(max_absolute=0.9), category=MetricCategory.RESOURCE)
LIMITED_P99 = CanaryMetric("latency_p99", "histogram_quantile(0.99, x)",
                           Threshold(max_absolute_ms=800), category=MetricCategory.LATENCY,
                           direction=Direction.EITHER)
SPECS = [make_spec(), make_spec(ERRORS, P95, CHECKOUT, BUDGET, CPU, LIMITED_P99,
                                slo_target=0.999, min_exposure_s=0.0, min_sample_size=1)]

count = st.one_of(st.sampled_from([0.0, 1.0, 5.0, math.nan, -1.0, math.inf]),
                  st.floats(min_value=0, max_value=1e6, allow_nan=False))
BOUNDS = (0.1, 0.5, math.inf)


@st.composite
def arm_counts(draw: st.DrawFn, stamps: tuple[float, ...]) -> ArmCounts | None:
    if draw(st.booleans()) and draw(st.booleans()) and draw(st.booleans()):
        return None
    size = len(stamps)

    def column() -> tuple[float, ...]:
        return tuple(draw(st.lists(count, min_size=size, max_size=size)))

    buckets = {b: column() for b in BOUNDS} if draw(st.booleans()) else {}
    good = {"checkout": column()} if draw(st.booleans()) else {}
    return ArmCounts(timestamps=stamps, requests=column() if draw(st.booleans()) else (),
                     errors=column() if draw(st.booleans()) else (),
                     latency_buckets=buckets, good_events=good)


@st.composite
def inputs(draw: st.DrawFn) -> AnalysisInput:
    size = draw(st.integers(min_value=0, max_value=12))
    stamps = tuple(draw(st.sampled_from([10.0 * (i + 1), 10.0 * (i + 1), math.nan, 5.0]))
                   for i in range(size))
    steps = tuple(
        StepWindow(start, start + draw(st.sampled_from([30.0, 60.0, 600.0])),
                   draw(st.sampled_from([0.0, 1.0, 10.0, 50.0, 100.0, math.nan, -5.0])))
        for start in sorted(draw(st.lists(st.sampled_from([0.0, 20.0, 40.0, 200.0]),
                                          max_size=3))))
    values = st.lists(st.sampled_from([0.0, 0.2, 0.95, 3.0, math.nan, 800.0]), min_size=size,
                      max_size=size)
    metrics = {name: MetricData(name, Series(stamps, tuple(draw(values))),
                                Series(stamps, tuple(draw(values))))
               for name in draw(st.sets(st.sampled_from(["error_rate", "cpu", "latency_p99",
                                                         "request_count"])))}
    now = draw(st.sampled_from([0.0, 35.0, 125.0, 1000.0, math.nan]))
    return AnalysisInput(metrics, now, steps, draw(arm_counts(stamps)),
                         draw(arm_counts(stamps)))


def _no_nan_statistics(verdict: AnalysisVerdict) -> None:
    for metric in verdict.metrics:
        for key, value in metric.statistics.items():
            assert value is None or not math.isnan(value), (metric.name, key)


def _check_proceed(data: AnalysisInput, verdict: AnalysisVerdict) -> None:
    if verdict.decision is not Decision.PROCEED:
        return
    assert data.canary_counts is not None
    assert data.baseline_counts is not None
    assert math.isfinite(data.now)
    assert all(m.outcome is MetricOutcome.PASS for m in verdict.metrics)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=inputs(), which=st.sampled_from([0, 1]))
def test_random_inputs_never_raise_nor_proceed_blindly(data: AnalysisInput, which: int) -> None:
    spec = SPECS[which]
    verdict = sequential_judge(data, spec)
    assert verdict.decision in set(Decision)
    assert len(verdict.reasons) >= 1
    _no_nan_statistics(verdict)
    _check_proceed(data, verdict)
    threshold = threshold_judge(data, spec)
    assert threshold.decision in set(Decision)
    if threshold.decision is Decision.PROCEED:
        assert all(m.outcome is MetricOutcome.PASS for m in threshold.metrics)


HEALTHY = simulate(1)


@settings(max_examples=40, deadline=None)
@given(field=st.sampled_from(["requests", "errors", "bucket", "baseline_requests"]),
       holes=st.sets(st.integers(min_value=0, max_value=59), min_size=7, max_size=40),
       value=st.sampled_from([math.nan, -3.0, math.inf]))
def test_missing_data_in_a_healthy_run_never_proceeds(field: str, holes: set[int],
                                                      value: float) -> None:
    spec = make_spec()
    assert sequential_judge(HEALTHY, spec).decision is Decision.PROCEED
    canary, baseline = HEALTHY.canary_counts, HEALTHY.baseline_counts
    assert canary is not None
    assert baseline is not None

    def punch(values: tuple[float, ...]) -> tuple[float, ...]:
        return tuple(value if i in holes else v for i, v in enumerate(values))

    if field == "requests":
        broken = replace(HEALTHY, canary_counts=replace(canary, requests=punch(canary.requests)))
    elif field == "errors":
        broken = replace(HEALTHY, canary_counts=replace(canary, errors=punch(canary.errors)))
    elif field == "baseline_requests":
        broken = replace(HEALTHY, baseline_counts=replace(baseline,
                                                          requests=punch(baseline.requests)))
    else:
        buckets = dict(canary.latency_buckets)
        buckets[0.5] = punch(buckets[0.5])
        broken = replace(HEALTHY, canary_counts=replace(canary, latency_buckets=buckets))
    verdict = sequential_judge(broken, spec)
    assert verdict.decision is Decision.INSUFFICIENT_DATA
    assert verdict.reasons[0].startswith("telemetry missing")
