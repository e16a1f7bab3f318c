"""Realistic canary analyses for the analysis report writers' tests (unit and Chromium).

Builders, not pytest fixtures: every test calls them and gets fresh, frozen data. They build:

- ``canary_spec``: the guide's ``service-x-canary`` (error_rate, latency_p95, slo_burn_rate),
  plus a business metric ``checkout_success`` that may not drop below 0.98x the baseline.
- ``rollback_report``: the sequential judge rolls back 3 minutes into the 25% step. The error
  rate is 2.4x the baseline, and the confidence sequence of the ratio moves above the margin.
  The canary misses two scrapes (NaN), and a detail string holds unicode and ``<script>``.
- ``proceed_report``: the Kayenta judge promotes after all four steps with score 100. Every
  verdict carries ci_lower/ci_upper/estimate/effect_size, and the baseline has a gap.
- ``insufficient_report``: 90 s into the 1% step, nothing to judge. The series are empty or all
  NaN, the score is NaN, a statistic is infinite, the final verdict has no time, and one metric
  of the spec has neither data nor a verdict.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping

from safeship.model.analysis import (
    AnalysisInput,
    AnalysisReport,
    AnalysisVerdict,
    Classification,
    Decision,
    MetricData,
    MetricOutcome,
    MetricVerdict,
    Series,
    StepWindow,
)
from safeship.model.canary import (
    CanaryMetric,
    CanarySpec,
    CanaryStep,
    Direction,
    JudgeConfig,
    JudgeName,
    MetricCategory,
    Threshold,
)

T0 = 1741944413.0
"""2025-03-14T09:26:53Z, when the 1% step began."""

NAN = float("nan")
INF = float("inf")

SCRIPT_DETAIL = (
    'checkout “ñandú” ✓ 98.9% vs 99.1% (ratio 0.998 ≥ 0.98) on page="<script>alert(1)</script>"'
)
ERROR_DETAIL = (
    "error_rate 2.4x baseline (0.12% vs 0.05%), limit 2x: the confidence sequence of the "
    "ratio [1.62, 3.55] lies above the margin 1.5"
)
ROLLBACK_REASON = "error_rate 2.4x baseline (0.12% vs 0.05%): confidence sequence above margin 1.5"
CRITICAL_REASON = "critical metric error_rate failed; failure_count_threshold 1 rolls back now"

ERROR_RATE_QUERY = (
    'sum(rate(http_requests_total{status=~"5.."}[2m])) / sum(rate(http_requests_total[2m]))'
)
LATENCY_QUERY = (
    "histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket[2m])) by (le))"
)
CHECKOUT_QUERY = 'sum(rate(checkout_total{result="ok"}[2m])) / sum(rate(checkout_total[2m]))'


def canary_spec(judge: JudgeName = JudgeName.SEQUENTIAL) -> CanarySpec:
    """The guide's canary file plus a business metric, judged by ``judge``."""
    return CanarySpec(
        source=".pipeline/canary-analysis.yaml",
        name="service-x-canary",
        steps=(
            CanaryStep(1, 300),
            CanaryStep(5, 300),
            CanaryStep(25, 600),
            CanaryStep(100, 1800),
        ),
        metrics=(
            CanaryMetric(
                "error_rate",
                ERROR_RATE_QUERY,
                Threshold(max_increase_ratio=2.0),
                category=MetricCategory.AVAILABILITY,
                critical=True,
                must_have_data=True,
            ),
            CanaryMetric(
                "latency_p95",
                LATENCY_QUERY,
                Threshold(max_absolute_ms=500),
                category=MetricCategory.LATENCY,
            ),
            CanaryMetric(
                "slo_burn_rate",
                "(error_rate / (1 - 0.999))",
                Threshold(max_absolute=3),
                derived_from=("error_rate",),
                category=MetricCategory.ERROR_BUDGET,
            ),
            CanaryMetric(
                "checkout_success",
                CHECKOUT_QUERY,
                Threshold(min_ratio=0.98),
                category=MetricCategory.BUSINESS,
                direction=Direction.DECREASE,
            ),
        ),
        judge=JudgeConfig(name=judge),
    )


def series(
    times: Iterable[float], value: Callable[[int, float], float], gaps: Iterable[int] = ()
) -> Series:
    """A series at ``times`` with ``value(index, time)``, NaN at the indexes in ``gaps``."""
    stamps = tuple(times)
    missing = set(gaps)
    values = tuple(
        NAN if index in missing else round(value(index, at), 8) for index, at in enumerate(stamps)
    )
    return Series(stamps, values)


def _wobble(index: int, size: float = 0.04) -> float:
    # Deterministic noise: the tests compare exact numbers.
    return 1.0 + size * math.sin(index * 1.7)


def _metric_data(
    times: tuple[float, ...],
    levels: Mapping[str, tuple[Callable[[float], float], Callable[[float], float]]],
    baseline_gaps: Iterable[int] = (),
    canary_gaps: Iterable[int] = (),
) -> dict[str, MetricData]:
    data: dict[str, MetricData] = {}
    for name, (base, can) in levels.items():
        # A success ratio near 99% moves by tenths of a percent, not by 4%.
        size = 0.003 if name == "checkout_success" else 0.04
        data[name] = MetricData(
            name,
            series(times, _wobbling(base, size, shift=0), baseline_gaps),
            series(times, _wobbling(can, size, shift=3), canary_gaps),
        )
    return data


def _wobbling(
    level: Callable[[float], float], size: float, *, shift: int
) -> Callable[[int, float], float]:
    def value(index: int, at: float) -> float:
        return level(at) * _wobble(index + shift, size)

    return value


def _verdict(
    name: str,
    outcome: MetricOutcome,
    baseline: float | None,
    canary: float | None,
    detail: str,
    statistics: Mapping[str, float | None],
    *,
    classification: Classification | None = None,
    critical: bool = False,
) -> MetricVerdict:
    default = {
        MetricOutcome.PASS: Classification.PASS,
        MetricOutcome.FAIL: Classification.HIGH,
        MetricOutcome.NODATA: Classification.NODATA,
        MetricOutcome.INCONCLUSIVE: Classification.PASS,
    }[outcome]
    return MetricVerdict(
        name=name,
        outcome=outcome,
        classification=classification or default,
        critical=critical,
        baseline=baseline,
        canary=canary,
        detail=detail,
        statistics=dict(statistics),
    )


# --- ROLLBACK, sequential judge ----------------------------------------------------------------

ROLLBACK_AT = T0 + 780
# Evaluation time -> (decision, error_rate's e-value, cs_lower, cs_upper).
SEQUENTIAL_LOOKS: tuple[tuple[float, Decision, float, float, float], ...] = (
    (T0 + 120, Decision.INSUFFICIENT_DATA, 0.41, 0.18, 7.9),
    (T0 + 240, Decision.PROCEED, 0.3, 0.55, 1.46),
    (T0 + 360, Decision.PROCEED, 0.27, 0.61, 1.41),
    (T0 + 480, Decision.PROCEED, 0.22, 0.68, 1.33),
    (T0 + 600, Decision.PROCEED, 0.2, 0.72, 1.29),
    (T0 + 720, Decision.INSUFFICIENT_DATA, 24.5, 1.21, 3.02),
    (ROLLBACK_AT, Decision.ROLLBACK, 412.7, 1.62, 3.55),
)


def _rollback_metrics(
    at: float, decision: Decision, e_value: float, lower: float, upper: float
) -> tuple[MetricVerdict, ...]:
    failed = decision is Decision.ROLLBACK
    canary_error = 0.0012 if at > T0 + 600 else 0.00052
    error = _verdict(
        "error_rate",
        MetricOutcome.FAIL if failed else MetricOutcome.INCONCLUSIVE,
        0.0005,
        canary_error,
        ERROR_DETAIL if failed else "error_rate within the margin so far",
        {"e_value": e_value, "cs_lower": lower, "cs_upper": upper, "margin": 1.5},
        critical=True,
    )
    latency = _verdict(
        "latency_p95",
        MetricOutcome.PASS,
        0.182,
        0.191,
        "p95 191 ms vs 182 ms, below the 500 ms ceiling",
        {"e_value": 0.8, "cs_lower": 0.87, "cs_upper": 1.19},
    )
    burn = _verdict(
        "slo_burn_rate",
        MetricOutcome.PASS,
        0.5,
        1.2 if at > T0 + 600 else 0.52,
        "burn rate 1.2 below the limit 3",
        {"e_value": 2.1, "cs_lower": 0.4, "cs_upper": 1.9},
    )
    checkout = _verdict(
        "checkout_success",
        MetricOutcome.PASS,
        0.991,
        0.989,
        SCRIPT_DETAIL,
        {"e_value": 1.1, "cs_lower": 0.991, "cs_upper": 1.004},
    )
    return (error, latency, burn, checkout)


def rollback_report() -> AnalysisReport:
    """Sequential judge, ROLLBACK at T0+780 s on error_rate (2.4x baseline, critical)."""
    times = tuple(T0 + 30 * n for n in range(1, 27))
    levels = {
        "error_rate": (lambda t: 0.0005, lambda t: 0.0012 if t > T0 + 600 else 0.00052),
        "latency_p95": (lambda t: 0.182, lambda t: 0.191),
        "slo_burn_rate": (lambda t: 0.5, lambda t: 1.2 if t > T0 + 600 else 0.52),
        "checkout_success": (lambda t: 0.991, lambda t: 0.989),
    }
    data = AnalysisInput(
        metrics=_metric_data(times, levels, canary_gaps=(7, 8)),
        now=ROLLBACK_AT,
        steps=(
            StepWindow(T0, T0 + 300, 1),
            StepWindow(T0 + 300, T0 + 600, 5),
            StepWindow(T0 + 600, T0 + 1200, 25),
        ),
    )
    timeline = []
    for at, decision, e_value, lower, upper in SEQUENTIAL_LOOKS:
        if decision is Decision.ROLLBACK:
            reasons: tuple[str, ...] = (ROLLBACK_REASON, CRITICAL_REASON)
        elif decision is Decision.PROCEED:
            reasons = ("every metric within its margin",)
        else:
            reasons = ("error_rate: confidence sequence still spans the margin 1.5",)
        timeline.append(
            AnalysisVerdict(
                decision=decision,
                judge="sequential",
                metrics=_rollback_metrics(at, decision, e_value, lower, upper),
                reasons=reasons,
                score=None,
                evaluated_at=at,
            )
        )
    return AnalysisReport(
        config_name="service-x-canary",
        judge="sequential",
        data=data,
        timeline=tuple(timeline),
        final=timeline[-1],
        source="prometheus http://127.0.0.1:9090",
    )


# --- PROCEED, Kayenta judge --------------------------------------------------------------------

PROCEED_AT = T0 + 3000
KAYENTA_STATISTICS: dict[str, dict[str, float]] = {
    "error_rate": {"ci_lower": -4e-05, "ci_upper": 6e-05, "estimate": 1e-05, "effect_size": 1.02},
    "latency_p95": {"ci_lower": -0.006, "ci_upper": 0.011, "estimate": 0.002, "effect_size": 1.01},
    "slo_burn_rate": {"ci_lower": -0.04, "ci_upper": 0.06, "estimate": 0.01, "effect_size": 1.02},
    "checkout_success": {
        "ci_lower": -0.002,
        "ci_upper": 0.001,
        "estimate": -0.0004,
        "effect_size": 0.9996,
    },
}
KAYENTA_VALUES: dict[str, tuple[float, float, str]] = {
    "error_rate": (0.0005, 0.00051, "mean ratio 1.02; interval [-4e-05, 6e-05] includes 0"),
    "latency_p95": (0.182, 0.184, "mean ratio 1.01; p95 184 ms, ceiling 500 ms"),
    "slo_burn_rate": (0.5, 0.51, "mean ratio 1.02; burn rate 0.51 below 3"),
    "checkout_success": (0.991, 0.9906, "mean ratio 0.9996, floor 0.98"),
}


def _kayenta_metrics(shrink: float) -> tuple[MetricVerdict, ...]:
    # Intervals narrow as the cumulative window grows: shrink is 1 at the last interval.
    return tuple(
        _verdict(
            name,
            MetricOutcome.PASS,
            baseline,
            canary,
            detail,
            {
                key: (value * shrink if key in {"ci_lower", "ci_upper"} else value)
                for key, value in KAYENTA_STATISTICS[name].items()
            },
        )
        for name, (baseline, canary, detail) in KAYENTA_VALUES.items()
    )


def proceed_report() -> AnalysisReport:
    """Kayenta judge, PROCEED at T0+3000 s after all four steps, score 100 at every interval."""
    times = tuple(T0 + 60 * n for n in range(1, 51))
    levels = {
        "error_rate": (lambda t: 0.0005, lambda t: 0.00051),
        "latency_p95": (lambda t: 0.182, lambda t: 0.184),
        "slo_burn_rate": (lambda t: 0.5, lambda t: 0.51),
        "checkout_success": (lambda t: 0.991, lambda t: 0.9906),
    }
    data = AnalysisInput(
        metrics=_metric_data(times, levels, baseline_gaps=(20, 21)),
        now=PROCEED_AT,
        steps=(
            StepWindow(T0, T0 + 300, 1),
            StepWindow(T0 + 300, T0 + 600, 5),
            StepWindow(T0 + 600, T0 + 1200, 25),
            StepWindow(T0 + 1200, T0 + 3000, 100),
        ),
    )
    timeline = tuple(
        AnalysisVerdict(
            decision=Decision.PROCEED,
            judge="kayenta",
            metrics=_kayenta_metrics(shrink),
            reasons=("score 100 >= pass 95: all 4 metrics Pass",),
            score=100.0,
            evaluated_at=at,
        )
        for at, shrink in ((T0 + 300, 3.0), (T0 + 600, 2.0), (T0 + 1200, 1.5), (PROCEED_AT, 1.0))
    )
    return AnalysisReport(
        config_name="service-x-canary",
        judge="kayenta",
        data=data,
        timeline=timeline,
        final=timeline[-1],
        source="recorded .pipeline/recordings/shop-2025-03-14.json",
    )


# --- INSUFFICIENT_DATA, threshold judge --------------------------------------------------------

INSUFFICIENT_NOW = T0 + 90


def insufficient_report() -> AnalysisReport:
    """Threshold judge, 90 s into the 1% step: empty and all-NaN series, NaN score, no time."""
    times = (T0 + 30, T0 + 60, T0 + 90)
    data = AnalysisInput(
        metrics={
            "error_rate": MetricData("error_rate", Series(), Series()),
            "latency_p95": MetricData(
                "latency_p95", Series(times, (0.18, NAN, 0.19)), Series(times, (NAN, NAN, NAN))
            ),
            "checkout_success": MetricData(
                "checkout_success", Series(times[:1], (0.99,)), Series()
            ),
        },
        now=INSUFFICIENT_NOW,
        steps=(StepWindow(T0, T0 + 300, 1),),
    )
    final = AnalysisVerdict(
        decision=Decision.INSUFFICIENT_DATA,
        judge="threshold",
        metrics=(
            _verdict(
                "error_rate",
                MetricOutcome.NODATA,
                None,
                None,
                "no data for either arm after 90 s: is the canary receiving traffic?",
                {"ci_lower": NAN, "ci_upper": INF, "estimate": None},
                classification=Classification.NODATA_FAIL,
                critical=True,
            ),
            _verdict(
                "latency_p95",
                MetricOutcome.NODATA,
                0.185,
                NAN,
                "the canary's 3 latency scrapes are all NaN",
                {},
            ),
            _verdict(
                "checkout_success",
                MetricOutcome.INCONCLUSIVE,
                0.99,
                None,
                "1 baseline point, 0 canary points; 12 canary requests < min_sample_size 100",
                {"requests": 12.0, "min_sample_size": 100.0},
            ),
        ),
        reasons=(
            "error_rate has no data and must have data: never promote on missing data",
            "12 canary requests so far, fewer than min_sample_size 100",
        ),
        score=NAN,
        evaluated_at=None,
    )
    return AnalysisReport(
        config_name="service-x-canary",
        judge="threshold",
        data=data,
        timeline=(final,),
        final=final,
        source="",
    )
