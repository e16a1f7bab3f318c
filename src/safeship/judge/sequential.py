"""The ``sequential`` judge (the default): anytime-valid canary analysis on attributed events.

Research note, section 6. At every call the judge re-reads all evidence since the rollout began
and answers PROCEED, ROLLBACK or INSUFFICIENT_DATA. It may be called as often as one likes: the
false-rollback probability of a whole rollout stays below ``spec.judge.alpha``.

**Tests.** Per scrape interval the canary's share of requests ``rho = n_c / (n_c + n_b)`` is
measured, and bad events are attributed to an arm:

* availability and error-budget metrics: errors (one shared test per direction);
* latency metrics: requests slower than a threshold frozen from the baseline before the step
  (:mod:`~safeship.judge.latency_thresholds`), one test per quantile;
* business metrics: good events (``good_events[metric name]``); the harm is a drop (delta < 0).

Bad events can only harm by rising and good events only by falling, so a metric's ``direction``
matters only as ``either``, which tests both sides. Each test is the mixture-likelihood-ratio
e-process of :mod:`~safeship.judge.e_process` on the log rate ratio, accumulated over every
interval since the first step started (never reset). Intervals where an arm served no request or
a count is missing are skipped. The metric's relative limits (``max_increase_ratio``,
``max_increase_pct``, ``min_ratio``) are the threshold judge's; this judge uses the
non-inferiority ``margins`` instead. A test without events in either arm has no evidence and can
never PROCEED (a service without errors stays INSUFFICIENT_DATA on its error test).

**Guards.** The canary-only burn-rate guard (:mod:`~safeship.judge.burn_guard`, needs
``judge.slo_target``; its limit is ``judge.burn_rate_limit``, lowered to an error-budget metric's
``max_absolute`` when one is set, e.g. the guide's 3) and, for a latency metric with
``max_absolute_ms`` and a histogram bucket at or above the limit, a canary-only test that the
quantile is above the limit.

**alpha.** One budget per rollout, split by weighted Bonferroni: the guards share
:data:`GUARD_ALPHA_SHARE` (10 %) of ``alpha`` equally and the relative tests share the rest
equally (either family takes all of it when the other is empty). A test with share ``a_m``
rolls back when its e-value reaches ``1 / a_m``; the shares add up to ``alpha``, so the
rollout's false-rollback probability is at most ``alpha`` (Bonferroni, Ville). Guards only fire
on gross failures (a burn rate over 14.4x, a quantile beyond its absolute limit), where the
evidence grows fast, so the stricter threshold costs them little while the relative tests,
which have to find 1.5-2x regressions in a few dozen events, keep most of the budget.
Confidence bounds are taken at each test's level: they hold with probability ``>= 1 - a_m``.

**Absolute limits on series.** ``max_absolute`` / ``max_absolute_ms`` limits that no count-based
guard covers are checked on the canary's series like the threshold judge does (mean over the
current step). Resource metrics are guardrails only: just their absolute limits, never a
relative test. A metric whose counts are missing (no error, histogram or good-event counts) gets
only these absolute checks: it can cause ROLLBACK but it never lets the judge PROCEED.

**Indifference zone.** A relative test rolls back only on evidence that the harm ratio is beyond
``judge.rollback_margins`` (errors 1.0, slow requests 1.05, business 1.0 by default): its mixture
is centred at that ratio, which keeps the level for every ratio on the null side
(:func:`~safeship.judge.e_process.ratio_evidence`). Two fleets' latency differs by a few percent
from host to host and minute to minute; with enough traffic an exact test would roll back on that.

**Decision.**

1. ROLLBACK if a test or guard crossed its threshold after any interval so far, or an absolute
   series limit is exceeded.
2. PROCEED when all hold: the step has run ``min_exposure_s`` and the canary served
   ``min_sample_size`` requests in it; every relative test's confidence bound on the harm side is
   within its margin (``margins``: error ratio upper bound <= 1.5, slow-request ratio <= 1.25,
   business ratio lower bound >= 0.98; the reverse bounds too for ``either``); no guard fired;
   every metric has evidence (fallback metrics never do; resource metrics need data within their
   limits); every count series used has a sample in at least :data:`GAP_COVERAGE` (90 %) of the
   step's scrape intervals (expected intervals = elapsed step time / median scrape spacing); the
   traffic split is not broken (:mod:`~safeship.judge.sample_ratio`).
3. Otherwise INSUFFICIENT_DATA. Its first reason says why: "telemetry missing: ..." (no counts,
   no intervals, gaps), "traffic split broken: ...", "step ended without a decision: ..." once
   ``now >= steps[-1].end``, and otherwise "waiting: ..." — not decided yet, the caller keeps
   waiting until the step ends. Undecided metrics are ``MetricOutcome.INCONCLUSIVE``.

**Explanations.** A relative test's ``MetricVerdict`` carries the canary's and baseline's rates
(bad events per request since the rollout began) and ``statistics``: ``e_value`` and
``log_e_value`` (the largest so far, which ROLLBACK compares), ``e_value_now``, ``threshold``
(``M / alpha``), ``cs_lower`` / ``cs_upper`` (rate-ratio bounds; ``cs_upper`` None when
unbounded), ``margin``, ``rollback_margin``, ``events_canary``, ``events_baseline``, ``rho``
(the canary's share of the tested requests) and ``intervals``; latency tests add ``tau_s`` and
how it was calibrated, guards their own ``burn_*`` or ``slow_share_*`` numbers. ``detail``
reads like "error rate 2.4x baseline (canary 1.2 %, baseline 0.5 %, 99.5 % CS [1.6x, 3.9x]):
canary significantly worse than baseline, e-value 512 >= 200" or "slow requests (> 250 ms)
1.02x baseline (canary 5.1 %, baseline 5 %), 99.5 % CS [0.81x, 1.19x] within margin 1.25x".

Without steps, all intervals form one step that began one scrape before the first interval, with
no planned end and no configured split (the sample-ratio check is skipped, which is said).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from safeship.judge.burn_guard import RateGuard, rate_guard
from safeship.judge.e_process import RatioEvidence, ratio_evidence
from safeship.judge.interval_counts import ArmArrays, Intervals, align, step_indices
from safeship.judge.latency_thresholds import (
    freeze_threshold,
    metric_quantile,
    quantile_label,
)
from safeship.judge.sample_ratio import SampleRatio, sample_ratio_check
from safeship.judge.series_window import current_window, metric_data
from safeship.judge.threshold import ABSOLUTE_LIMITS, SeriesCheck, check_series
from safeship.model.analysis import (
    AnalysisInput,
    AnalysisVerdict,
    Classification,
    Decision,
    MetricOutcome,
    MetricVerdict,
    StepWindow,
)
from safeship.model.canary import CanaryMetric, CanarySpec, Direction, MetricCategory

__all__ = ["GAP_COVERAGE", "GUARD_ALPHA_SHARE", "JUDGE_NAME", "PRIOR_SIGMA", "TestKind",
           "sequential_judge"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

JUDGE_NAME = "sequential"
GAP_COVERAGE = 0.90
"""Share of the current step's scrape intervals each count series must have a sample in."""
GUARD_ALPHA_SHARE = 0.10
"""Share of ``alpha`` the guards split between them; the relative tests split the rest."""


class TestKind(StrEnum):
    """What a relative test counts as a bad event."""

    ERRORS = "errors"
    SLOW = "slow"
    GOOD = "good"


PRIOR_SIGMA: Mapping[TestKind, float] = {TestKind.ERRORS: 1.0, TestKind.SLOW: 0.5,
                                         TestKind.GOOD: 0.1}
"""Scale of the half-normal prior on the log rate ratio: business effects of interest are a few
percent (the 0.1 prior gets a 2.5 % lattice, so it bets on 2.5 %, 5 %, ... drops), error and
latency regressions tens of percent to several-fold."""

_RELATIVE_CATEGORIES = {
    MetricCategory.AVAILABILITY: TestKind.ERRORS,
    MetricCategory.ERROR_BUDGET: TestKind.ERRORS,
    MetricCategory.LATENCY: TestKind.SLOW,
    MetricCategory.BUSINESS: TestKind.GOOD,
}


# --------------------------------------------------------------------------- context


@dataclass(frozen=True)
class _Step:
    """The current step, or the synthetic one without steps."""

    index: int
    start: float
    end: float
    percentage: float | None


@dataclass(frozen=True)
class _Context:
    data: AnalysisInput
    spec: CanarySpec
    intervals: Intervals
    steps: tuple[StepWindow, ...]
    step_of: npt.NDArray[np.int64]
    current: _Step
    rho: FloatArray

    @property
    def in_rollout(self) -> BoolArray:
        return np.asarray(self.step_of >= 0, dtype=np.bool_)

    @property
    def in_current(self) -> BoolArray:
        return np.asarray(self.step_of == self.current.index, dtype=np.bool_)

    def step_start(self, index: int) -> float:
        return self.steps[index].start if self.steps else self.current.start


def _build_context(data: AnalysisInput, spec: CanarySpec, intervals: Intervals) -> _Context:
    step_of = step_indices(intervals.stamps, data.steps)
    if data.steps:
        last = data.steps[-1]
        current = _Step(len(data.steps) - 1, last.start, last.end, last.percentage)
    else:
        first = float(intervals.stamps[0]) - (intervals.spacing or 0.0)
        current = _Step(0, first, math.inf, None)
    base, canary = intervals.baseline.requests, intervals.canary.requests
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = canary / (canary + base)
    return _Context(data, spec, intervals, data.steps, step_of, current, rho)


# --------------------------------------------------------------------------- relative tests


@dataclass(frozen=True)
class _TestPlan:
    kind: TestKind
    harm: Direction
    quantile: float | None = None
    good_name: str | None = None

    @property
    def key(self) -> tuple[str, ...]:
        return (self.kind.value, self.harm.value, str(self.quantile), str(self.good_name))


@dataclass(frozen=True)
class _TestResult:
    plan: _TestPlan
    label: str
    evidence: RatioEvidence
    rollback: bool
    within_margin: bool
    margin_upper: float
    margin_lower: float
    canary_rate: float | None
    baseline_rate: float | None
    rho: float | None
    waiting: str
    statistics: Mapping[str, float | None]
    series_used: Mapping[str, FloatArray] = field(default_factory=dict)


def _histogram_bounds(intervals: Intervals) -> FloatArray:
    shared = set(intervals.baseline.buckets) & set(intervals.canary.buckets)
    return np.asarray(sorted(b for b in shared if math.isfinite(b) and b > 0), dtype=np.float64)


def _harm(kind: TestKind, direction: Direction) -> Direction:
    """Bad events can only harm by rising, good events only by falling; ``either`` tests both."""
    if direction is Direction.EITHER:
        return Direction.EITHER
    return Direction.DECREASE if kind is TestKind.GOOD else Direction.INCREASE


def _plan_test(metric: CanaryMetric, intervals: Intervals | None) -> _TestPlan | None:
    kind = _RELATIVE_CATEGORIES.get(metric.category)
    if kind is None or intervals is None:
        return None
    harm = _harm(kind, metric.direction)
    if kind is TestKind.ERRORS:
        if intervals.baseline.errors is None or intervals.canary.errors is None:
            return None
        return _TestPlan(kind, harm)
    if kind is TestKind.SLOW:
        if _histogram_bounds(intervals).size == 0:
            return None
        return _TestPlan(kind, harm, quantile=metric_quantile(metric))
    if metric.name in intervals.baseline.good and metric.name in intervals.canary.good:
        return _TestPlan(kind, harm, good_name=metric.name)
    return None


def _totals(arm: ArmArrays) -> FloatArray:
    return arm.buckets.get(math.inf, arm.requests)


@dataclass(frozen=True)
class _Events:
    canary: FloatArray
    baseline: FloatArray
    canary_base: FloatArray
    baseline_base: FloatArray
    usable: BoolArray
    label: str
    extra: Mapping[str, float | None]
    series_used: Mapping[str, FloatArray]
    waiting: str = ""


def _slow_events(ctx: _Context, quantile: float) -> _Events:
    intervals = ctx.intervals
    bounds = _histogram_bounds(intervals)
    base_below = np.vstack([intervals.baseline.buckets[b] for b in bounds])
    canary_below = np.vstack([intervals.canary.buckets[b] for b in bounds])
    base_total, canary_total = _totals(intervals.baseline), _totals(intervals.canary)
    rows = np.full(len(intervals), -1, dtype=np.int64)
    extra: dict[str, float | None] = {"quantile": quantile}
    label = f"{quantile_label(quantile)} slow requests"
    waiting = ""
    for index in sorted({int(i) for i in ctx.step_of.tolist() if i >= 0}):
        in_step = np.asarray(ctx.step_of == index, dtype=np.bool_)
        frozen = freeze_threshold(bounds=bounds, baseline_below=base_below,
                                  baseline_total=base_total, stamps=intervals.stamps,
                                  in_step=in_step, step_start=ctx.step_start(index),
                                  quantile=quantile)
        rows = np.where(frozen.rows >= 0, frozen.rows, rows)
        if index != ctx.current.index:
            continue
        if frozen.tau is None:
            waiting = (f"{label}: the baseline has served {frozen.calibration_requests:g} "
                       f"requests, not yet enough to place the slow-request threshold")
            continue
        label = f"slow requests (> {frozen.tau * 1000:g} ms)"
        extra.update(tau_s=frozen.tau, baseline_exceedance=frozen.baseline_exceedance,
                     calibration_intervals=float(frozen.calibration_intervals),
                     provisional_intervals=float(frozen.provisional_intervals),
                     tau_frozen=float(frozen.frozen))
    usable = rows >= 0
    picks = np.where(usable, rows, 0)
    columns = np.arange(len(intervals))
    slow_b = np.where(usable, base_total - base_below[picks, columns], np.nan)
    slow_c = np.where(usable, canary_total - canary_below[picks, columns], np.nan)
    slow_b = np.where(slow_b >= 0, slow_b, np.nan)
    slow_c = np.where(slow_c >= 0, slow_c, np.nan)
    # Coverage looks at the histogram itself (the +Inf total and the threshold's bucket), not at
    # the test's events, which calibrating intervals leave out on purpose.
    tau = extra.get("tau_s")
    row = int(np.flatnonzero(bounds == tau)[0]) if tau is not None else 0
    used = {"baseline latency histogram": base_total + base_below[row],
            "canary latency histogram": canary_total + canary_below[row]}
    return _Events(slow_c, slow_b, canary_total, base_total, usable, label, extra, used, waiting)


def _events(ctx: _Context, plan: _TestPlan) -> _Events:
    intervals = ctx.intervals
    base, canary = intervals.baseline, intervals.canary
    everything = np.ones(len(intervals), dtype=np.bool_)
    if plan.kind is TestKind.ERRORS:
        base_errors = base.errors if base.errors is not None else np.full(len(intervals), np.nan)
        canary_errors = (canary.errors if canary.errors is not None
                         else np.full(len(intervals), np.nan))
        used = {"baseline errors": base_errors, "canary errors": canary_errors}
        return _Events(canary_errors, base_errors, canary.requests, base.requests, everything,
                       "error rate", {}, used)
    if plan.kind is TestKind.SLOW:
        return _slow_events(ctx, plan.quantile if plan.quantile is not None else 0.95)
    name = plan.good_name or ""
    used = {f"baseline {name}": base.good[name], f"canary {name}": canary.good[name]}
    return _Events(canary.good[name], base.good[name], canary.requests, base.requests,
                   everything, f"{name} (good events per request)", {}, used)


def _threshold_value(log_threshold: float) -> float:
    """``M / alpha`` back from its log, without the float noise of the round trip."""
    return float(f"{math.exp(log_threshold):.12g}")


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.3g} %"


def _ratio(value: float) -> str:
    if math.isinf(value):
        return "inf"
    return f"{value:.3g}x"


def _run_test(ctx: _Context, plan: _TestPlan, log_threshold: float) -> _TestResult:
    events = _events(ctx, plan)
    n_c, n_b = ctx.intervals.canary.requests, ctx.intervals.baseline.requests
    valid = (ctx.in_rollout & events.usable & np.isfinite(events.canary)
             & np.isfinite(events.baseline) & np.isfinite(ctx.rho) & (n_c > 0) & (n_b > 0))
    tolerated = _rollback_margin(ctx.spec, plan.kind)
    evidence = ratio_evidence(events.canary[valid], events.baseline[valid], ctx.rho[valid],
                              harm=plan.harm, sigma=PRIOR_SIGMA[plan.kind],
                              log_threshold=log_threshold, tolerance=abs(math.log(tolerated)))
    margins = ctx.spec.judge.margins
    if plan.kind is TestKind.GOOD:
        margin_lower, margin_upper = margins.business_ratio, 1.0 / margins.business_ratio
    else:
        margin = margins.error_ratio if plan.kind is TestKind.ERRORS else margins.slow_ratio
        margin_lower, margin_upper = 1.0 / margin, margin
    checks_upper = plan.harm in (Direction.INCREASE, Direction.EITHER)
    checks_lower = plan.harm in (Direction.DECREASE, Direction.EITHER)
    within = ((not checks_upper or evidence.cs_upper <= margin_upper)
              and (not checks_lower or evidence.cs_lower >= margin_lower))
    rollback = evidence.log_e >= log_threshold

    def rate(bad: FloatArray, base: FloatArray) -> float | None:
        total = float(base[valid].sum())
        return float(bad[valid].sum()) / total if total > 0 else None

    canary_rate = rate(events.canary, events.canary_base)
    baseline_rate = rate(events.baseline, events.baseline_base)
    share_total = float((n_c[valid] + n_b[valid]).sum())
    rho = float(n_c[valid].sum()) / share_total if share_total > 0 else None
    threshold = _threshold_value(log_threshold)
    stats: dict[str, float | None] = {
        "e_value": math.exp(min(evidence.log_e, 700.0)),
        "log_e_value": evidence.log_e,
        "e_value_now": math.exp(min(evidence.log_e_now, 700.0)),
        "threshold": threshold,
        "cs_lower": evidence.cs_lower,
        "cs_upper": None if math.isinf(evidence.cs_upper) else evidence.cs_upper,
        "margin": margin_lower if plan.harm is Direction.DECREASE else margin_upper,
        "rollback_margin": tolerated,
        "events_canary": evidence.events_canary,
        "events_baseline": evidence.events_baseline,
        "rho": rho,
        "intervals": float(int(valid.sum())),
    }
    if plan.harm is Direction.EITHER:
        stats["margin_lower"] = margin_lower
    stats.update(events.extra)
    waiting = events.waiting
    if not rollback and not within and not waiting:
        side = []
        if checks_upper and evidence.cs_upper > margin_upper:
            side.append(f"upper bound {_ratio(evidence.cs_upper)} above margin "
                        f"{margin_upper:.3g}x")
        if checks_lower and evidence.cs_lower < margin_lower:
            side.append(f"lower bound {_ratio(evidence.cs_lower)} below margin "
                        f"{margin_lower:.3g}x")
        waiting = f"{events.label}: " + " and ".join(side)
        if evidence.events_canary + evidence.events_baseline == 0:
            waiting += " (no events in either arm yet)"
    return _TestResult(plan, events.label, evidence, rollback, within and not events.waiting,
                       margin_upper, margin_lower, canary_rate, baseline_rate, rho, waiting,
                       stats, events.series_used)


def _rollback_margin(spec: CanarySpec, kind: TestKind) -> float:
    """The ratio a ROLLBACK must show the canary beyond (``judge.rollback_margins``)."""
    margins = spec.judge.rollback_margins
    if kind is TestKind.ERRORS:
        return margins.error_ratio
    return margins.slow_ratio if kind is TestKind.SLOW else margins.business_ratio


def _test_detail(result: _TestResult, level: str) -> str:
    ev = result.evidence
    estimate = (result.canary_rate / result.baseline_rate
                if result.canary_rate is not None and result.baseline_rate else None)
    head = (f"{result.label} {_ratio(estimate)} baseline" if estimate is not None
            else f"{result.label}, ratio undefined (no baseline events)")
    rates = f"canary {_pct(result.canary_rate)}, baseline {_pct(result.baseline_rate)}"
    bounds = f"{level} CS [{_ratio(ev.cs_lower)}, {_ratio(ev.cs_upper)}]"
    threshold = result.statistics["threshold"] or 0.0
    if result.rollback:
        up = result.plan.harm is Direction.INCREASE or ev.cs_lower > 1.0
        moved = "higher" if up else "lower"
        if up and result.plan.kind is not TestKind.GOOD:
            moved = "worse"
        tolerated = result.statistics.get("rollback_margin") or 1.0
        than = "baseline" if tolerated == 1.0 else f"{_ratio(tolerated)} baseline"
        peak = math.exp(min(ev.log_e, 700.0))
        if math.exp(min(ev.log_e_now, 700.0)) >= threshold:
            evidence = f"e-value {peak:.3g} >= {threshold:.3g}"
        else:
            # The decision stands on the running maximum (Ville's inequality covers the whole
            # path); the bounds above are today's, so say why they may now include 1.
            evidence = (f"e-value reached {peak:.3g} >= {threshold:.3g} earlier in the rollout "
                        f"(now {math.exp(min(ev.log_e_now, 700.0)):.3g})")
        return f"{head} ({rates}, {bounds}): canary significantly {moved} than {than}, {evidence}"
    if result.within_margin:
        return f"{head} ({rates}), {bounds} within margin {_margin_text(result)}"
    return f"{head} ({rates}, {bounds}): not yet decided, {result.waiting.split(': ', 1)[-1]}"


def _margin_text(result: _TestResult) -> str:
    if result.plan.harm is Direction.INCREASE:
        return f"{result.margin_upper:.3g}x"
    if result.plan.harm is Direction.DECREASE:
        return f">= {result.margin_lower:.3g}x"
    return f"[{result.margin_lower:.3g}x, {result.margin_upper:.3g}x]"


# --------------------------------------------------------------------------- guards


@dataclass(frozen=True)
class _Guard:
    name: str
    result: RateGuard
    detail: str
    statistics: Mapping[str, float | None]


def _burn_limit(spec: CanarySpec) -> float:
    limits = [spec.judge.burn_rate_limit]
    limits.extend(m.threshold.max_absolute for m in spec.metrics
                  if m.category is MetricCategory.ERROR_BUDGET
                  and m.threshold.max_absolute is not None)
    return min(limits)


def _burn_guard(ctx: _Context, slo_target: float, log_threshold: float, level: str) -> _Guard:
    canary = ctx.intervals.canary
    allowance = 1.0 - slo_target
    limit = _burn_limit(ctx.spec)
    errors = canary.errors if canary.errors is not None else np.full(len(ctx.intervals), np.nan)
    mask = ctx.in_rollout
    guard = rate_guard(errors[mask], canary.requests[mask], limit=limit * allowance,
                       log_threshold=log_threshold)
    estimate = None if guard.estimate is None else guard.estimate / allowance
    lower, upper = guard.lower / allowance, guard.upper / allowance
    verb = "exceeds" if guard.fired else "does not exceed"
    shown = "n/a" if estimate is None else f"{estimate:.3g}x"
    detail = (f"canary burn rate {shown} of the {slo_target:g} SLO's budget "
              f"({level} lower bound {lower:.3g}x) {verb} the limit {limit:g}x")
    stats: dict[str, float | None] = {
        "burn_rate": estimate, "burn_rate_lower": lower, "burn_rate_upper": upper,
        "burn_rate_limit": limit, "burn_log_e_value": guard.log_e,
        "burn_e_value": math.exp(min(guard.log_e, 700.0)),
        "burn_threshold": _threshold_value(log_threshold), "slo_target": slo_target,
        "canary_errors": guard.bad, "canary_requests": guard.total}
    return _Guard("slo_burn_guard", guard, detail, stats)


def _latency_limit_bound(metric: CanaryMetric, intervals: Intervals | None) -> float | None:
    limit_ms = metric.threshold.max_absolute_ms
    if metric.category is not MetricCategory.LATENCY or limit_ms is None or intervals is None:
        return None
    bounds = _histogram_bounds(intervals)
    above = bounds[bounds >= limit_ms / 1000.0 - 1e-12]
    return float(above[0]) if above.size else None


def _latency_guard(ctx: _Context, metric: CanaryMetric, bound: float, log_threshold: float,
                   level: str) -> _Guard:
    canary = ctx.intervals.canary
    total = _totals(canary)
    quantile = metric_quantile(metric)
    share = 1.0 - quantile
    mask = ctx.in_rollout
    slow = total - canary.buckets[bound]
    slow = np.where(slow >= 0, slow, np.nan)
    guard = rate_guard(slow[mask], total[mask], limit=share, log_threshold=log_threshold)
    limit_ms = metric.threshold.max_absolute_ms or 0.0
    label = quantile_label(quantile)
    verb = "above" if guard.fired else "not shown above"
    shown = _pct(guard.estimate)
    detail = (f"canary {label} {verb} {limit_ms:g} ms: {shown} of canary requests slower than "
              f"{bound * 1000:g} ms ({level} lower bound {guard.lower * 100:.3g} %, "
              f"limit {share * 100:.3g} %)")
    stats: dict[str, float | None] = {
        "limit_share": share, "slow_share": guard.estimate, "slow_share_lower": guard.lower,
        "slow_share_upper": guard.upper, "limit_log_e_value": guard.log_e,
        "limit_bound_s": bound, "max_absolute_ms": limit_ms}
    return _Guard(f"{metric.name} absolute limit", guard, detail, stats)


# --------------------------------------------------------------------------- per metric


@dataclass
class _MetricParts:
    metric: CanaryMetric
    test: _TestResult | None = None
    guards: list[_Guard] = field(default_factory=list)
    series: SeriesCheck | None = None


def _metric_verdict(parts: _MetricParts, level: str) -> MetricVerdict:
    metric, test, series = parts.metric, parts.test, parts.series
    details: list[str] = []
    stats: dict[str, float | None] = {}
    failed = False
    decided_pass = True
    classification = Classification.PASS
    baseline: float | None = None
    canary: float | None = None
    if test is not None:
        details.append(_test_detail(test, level))
        stats.update(test.statistics)
        baseline, canary = test.baseline_rate, test.canary_rate
        if test.rollback:
            failed = True
            up = test.evidence.cs_lower > 1.0 or test.plan.harm is Direction.INCREASE
            classification = Classification.HIGH if up else Classification.LOW
        decided_pass &= test.within_margin
    elif metric.category is not MetricCategory.RESOURCE:
        decided_pass = False
        details.append("no counts to compare the arms with: absolute limits only, "
                       "never enough evidence to proceed")
    for guard in parts.guards:
        details.append(guard.detail)
        stats.update(guard.statistics)
        if guard.result.fired:
            failed = True
            classification = Classification.HIGH
    nodata = False
    if series is not None:
        if series.nodata:
            nodata = test is None
            decided_pass = False
            details.append(f"absolute limits not checked: {'; '.join(series.passed)}")
        else:
            details.extend(series.violations or series.passed)
            stats.update({f"series_{k}": v for k, v in series.statistics.items()})
            if baseline is None and canary is None:
                baseline, canary = series.baseline, series.canary
            if series.violations:
                failed = True
                classification = series.classification
    if test is None and series is None and not parts.guards:
        nodata = True
    if failed:
        return MetricVerdict(metric.name, MetricOutcome.FAIL, classification, metric.critical,
                             baseline, canary, "; ".join(details), stats)
    if nodata:
        label = Classification.NODATA_FAIL if metric.must_have_data else Classification.NODATA
        return MetricVerdict(metric.name, MetricOutcome.NODATA, label, metric.critical,
                             baseline, canary, "; ".join(details) or "no data", stats)
    outcome = MetricOutcome.PASS if decided_pass else MetricOutcome.INCONCLUSIVE
    return MetricVerdict(metric.name, outcome, Classification.PASS, metric.critical, baseline,
                         canary, "; ".join(details), stats)


# --------------------------------------------------------------------------- data quality


def _coverage_problems(ctx: _Context, series: Mapping[str, FloatArray]) -> list[str]:
    current = ctx.in_current
    present = int(current.sum())
    elapsed = max(0.0, ctx.data.now - ctx.current.start)
    expected = present
    if ctx.steps and ctx.intervals.spacing:
        expected = max(present, math.floor(elapsed / ctx.intervals.spacing + 1e-9))
    if expected == 0:
        return []
    problems = []
    for name, values in series.items():
        have = int(np.isfinite(values[current]).sum())
        if have < GAP_COVERAGE * expected:
            problems.append(f"{name} has samples in {have} of {expected} scrape intervals of "
                            f"the step (needs {GAP_COVERAGE:.0%})")
    return problems


def _verdict(decision: Decision, metrics: list[MetricVerdict], reasons: list[str],
             now: float) -> AnalysisVerdict:
    return AnalysisVerdict(decision, JUDGE_NAME, tuple(metrics), tuple(reasons),
                           evaluated_at=now)


def _no_counts_verdict(data: AnalysisInput, spec: CanarySpec, why: str) -> AnalysisVerdict:
    """Counts are missing: only absolute series limits can speak, and only for ROLLBACK."""
    window = current_window(data)
    verdicts = []
    failures = []
    for metric in spec.metrics:
        parts = _MetricParts(metric)
        if _has_absolute_limit(metric) or metric.category is MetricCategory.RESOURCE:
            parts.series = check_series(metric, metric_data(metric, data), window,
                                        limits=ABSOLUTE_LIMITS)
        verdict = _metric_verdict(parts, "")
        verdicts.append(verdict)
        if verdict.outcome is MetricOutcome.FAIL:
            failures.append(f"{metric.name}: {verdict.detail}")
    if failures:
        return _verdict(Decision.ROLLBACK, verdicts, failures, data.now)
    return _verdict(Decision.INSUFFICIENT_DATA, verdicts, [f"telemetry missing: {why}"],
                    data.now)


def _has_absolute_limit(metric: CanaryMetric) -> bool:
    return (metric.threshold.max_absolute is not None
            or metric.threshold.max_absolute_ms is not None)


# --------------------------------------------------------------------------- the judge


def _alpha_shares(alpha: float, tests: int, guards: int) -> tuple[float, float]:
    """Each relative test's and each guard's share of ``alpha`` (see "alpha" above)."""
    if tests == 0 or guards == 0:
        each = alpha / max(1, tests + guards)
        return each, each
    return ((1.0 - GUARD_ALPHA_SHARE) * alpha / tests, GUARD_ALPHA_SHARE * alpha / guards)


def sequential_judge(data: AnalysisInput, spec: CanarySpec) -> AnalysisVerdict:
    """Judge all evidence since the rollout began (see the module docstring)."""
    if not spec.metrics:
        return _verdict(Decision.INSUFFICIENT_DATA, [], ["no metrics configured"], data.now)
    if not math.isfinite(data.now):
        return _verdict(Decision.INSUFFICIENT_DATA, [], ["the decision time is not a number"],
                        data.now)
    intervals = align(data.baseline_counts, data.canary_counts, data.now)
    if intervals is None:
        missing = ("no request counts for the baseline and canary"
                   if data.baseline_counts is None or data.canary_counts is None
                   else "the arms' counts share no scrape interval up to now")
        return _no_counts_verdict(data, spec, missing)
    if not (np.isfinite(intervals.canary.requests).any()
            and np.isfinite(intervals.baseline.requests).any()):
        return _no_counts_verdict(data, spec, "request counts are empty or all missing")
    ctx = _build_context(data, spec, intervals)
    judge = spec.judge
    alpha = min(max(judge.alpha, 1e-300), 1.0)

    # Plan: relative tests (shared between metrics), guards, absolute series checks.
    parts = [_MetricParts(metric) for metric in spec.metrics]
    plans: dict[tuple[str, ...], _TestPlan] = {}
    plan_of: dict[str, _TestPlan] = {}
    for part in parts:
        plan = _plan_test(part.metric, intervals)
        if plan is not None:
            plans.setdefault(plan.key, plan)
            plan_of[part.metric.name] = plans[plan.key]
    has_errors = intervals.canary.errors is not None
    burn_active = judge.slo_target is not None and has_errors and 0 < judge.slo_target < 1
    latency_bounds = {part.metric.name: _latency_limit_bound(part.metric, intervals)
                      for part in parts}
    guard_count = int(burn_active) + sum(b is not None for b in latency_bounds.values())
    test_alpha, guard_alpha = _alpha_shares(alpha, len(plans), guard_count)
    log_threshold = math.log(1.0 / test_alpha)
    level = f"{100 * (1 - test_alpha):.4g} %"
    guard_log_threshold = math.log(1.0 / guard_alpha)
    guard_level = f"{100 * (1 - guard_alpha):.4g} %"

    results = {key: _run_test(ctx, plan, log_threshold) for key, plan in plans.items()}
    burn = (_burn_guard(ctx, float(judge.slo_target), guard_log_threshold, guard_level)
            if burn_active and judge.slo_target is not None else None)
    window = current_window(data)
    for part in parts:
        metric = part.metric
        plan = plan_of.get(metric.name)
        part.test = results[plan.key] if plan is not None else None
        covered: set[str] = set()
        bound = latency_bounds[metric.name]
        if bound is not None:
            part.guards.append(_latency_guard(ctx, metric, bound, guard_log_threshold,
                                              guard_level))
            covered.add("max_absolute_ms")
        if burn is not None and metric.category is MetricCategory.ERROR_BUDGET:
            part.guards.append(burn)
            covered.add("max_absolute")
        limits = {kind for kind in ABSOLUTE_LIMITS - covered
                  if getattr(metric.threshold, kind) is not None}
        if limits or metric.category is MetricCategory.RESOURCE:
            part.series = check_series(metric, metric_data(metric, data), window, limits=limits)
    verdicts = [_metric_verdict(part, level) for part in parts]
    if burn is not None and not any(burn in part.guards for part in parts):
        verdicts.append(MetricVerdict(
            burn.name, MetricOutcome.FAIL if burn.result.fired else MetricOutcome.PASS,
            Classification.HIGH if burn.result.fired else Classification.PASS, True,
            None, burn.statistics["burn_rate"], burn.detail, burn.statistics))

    # 1. ROLLBACK
    failures = [f"{v.name}: {v.detail}" for v in verdicts if v.outcome is MetricOutcome.FAIL]
    if failures:
        return _verdict(Decision.ROLLBACK, verdicts, failures, data.now)

    # 2. PROCEED preconditions
    notes: list[str] = []
    if judge.slo_target is None:
        notes.append("burn-rate guard skipped: no slo_target configured")
    elif not burn_active:
        notes.append("burn-rate guard skipped: no error counts")
    telemetry: list[str] = []
    used: dict[str, FloatArray] = {"baseline requests": intervals.baseline.requests,
                                   "canary requests": intervals.canary.requests}
    for result in results.values():
        used.update(result.series_used)
    if burn is not None and intervals.canary.errors is not None:
        used["canary errors"] = intervals.canary.errors
    telemetry.extend(_coverage_problems(ctx, used))
    current = ctx.in_current
    waiting: list[str] = []
    elapsed = data.now - ctx.current.start
    if not math.isfinite(elapsed):
        telemetry.append("the current step's start time is not a number")
    if not current.any():
        spacing = intervals.spacing or math.inf
        if elapsed >= 2 * spacing:
            telemetry.append(f"no scrape interval in the current step after {elapsed:.0f} s")
        else:
            waiting.append("no scrape interval in the current step yet")
    split: list[str] = []
    percentage = ctx.current.percentage
    if percentage is None:
        notes.append("sample-ratio check skipped: no step with a configured percentage")
    elif not 0.0 <= percentage <= 100.0:
        split.append(f"the step's configured percentage {percentage!r} is not a share")
    elif current.any():
        srm = sample_ratio_check(intervals.canary.requests[current],
                                 intervals.baseline.requests[current],
                                 percentage=percentage,
                                 log_threshold=math.log(1.0 / alpha))
        if srm.broken:
            split.append(_split_text(srm))
    if elapsed < judge.min_exposure_s:
        waiting.append(f"the step has run {max(elapsed, 0.0):.0f} s of the "
                       f"{judge.min_exposure_s:g} s minimum exposure")
    canary_requests = float(np.nansum(intervals.canary.requests[current]))
    if canary_requests < judge.min_sample_size:
        waiting.append(f"the canary served {canary_requests:g} requests in this step, "
                       f"min_sample_size is {judge.min_sample_size}")
    waiting.extend(result.waiting for result in results.values()
                   if not result.within_margin and result.waiting)
    for verdict in verdicts:
        plan = plan_of.get(verdict.name)
        if verdict.outcome is MetricOutcome.NODATA:
            telemetry.append(f"{verdict.name}: {verdict.detail}")
        elif verdict.outcome is MetricOutcome.INCONCLUSIVE and (
                plan is None or results[plan.key].within_margin):
            waiting.append(f"{verdict.name}: {verdict.detail}")
    undecided = [v for v in verdicts if v.outcome is not MetricOutcome.PASS]
    if not (telemetry or split or waiting or undecided):
        return _verdict(Decision.PROCEED, verdicts, [
            f"all {len(results)} relative tests within their margins after "
            f"{elapsed:.0f} s and {canary_requests:g} canary requests in this step",
            *notes], data.now)

    # 3. INSUFFICIENT_DATA, the most fundamental reason first.
    reasons = [f"telemetry missing: {text}" for text in telemetry]
    reasons += [f"traffic split broken: {text}" for text in split]
    ended = data.now >= ctx.current.end
    prefix = "step ended without a decision" if ended else "waiting"
    reasons += [f"{prefix}: {text}" for text in waiting]
    if ended and not waiting:
        reasons.append(f"{prefix}: the step's planned end has passed")
    if not reasons:
        reasons.append(f"{prefix}: " + ", ".join(v.name for v in undecided) + " undecided")
    return _verdict(Decision.INSUFFICIENT_DATA, verdicts, reasons + notes, data.now)


def _split_text(srm: SampleRatio) -> str:
    observed = "n/a" if srm.observed is None else f"{srm.observed * 100:.3g} %"
    return (f"the canary got {observed} of {srm.canary_requests + srm.baseline_requests:g} "
            f"requests in this step, configured {srm.expected * 100:g} % (e-value "
            f"{math.exp(min(srm.log_e, 700.0)):.3g})")
