"""Canary analysis over recorded evidence: lay out the steps, replay the judge, decide.

``replay`` evaluates a judge at regular instants over evidence that has already been fetched,
exactly as the live rollout loop does while it waits: at each instant the judge sees only the
data up to then. The analysis ends at the ``failure_count_threshold``-th ROLLBACK (the guide's
"first failure triggers rollback" by default), or at the end of the evidence.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace

from safeship.judge.interface import Judge
from safeship.model.analysis import (
    AnalysisInput,
    AnalysisReport,
    AnalysisVerdict,
    ArmCounts,
    Decision,
    MetricData,
    Series,
    StepWindow,
)
from safeship.model.canary import CanarySpec

MAX_EVALUATIONS = 100_000


def step_windows(spec: CanarySpec, start: float) -> tuple[StepWindow, ...]:
    """The spec's steps laid end to end from ``start``."""
    windows = []
    begin = start
    for step in spec.steps:
        windows.append(StepWindow(begin, begin + step.duration_s, step.percentage))
        begin += step.duration_s
    return tuple(windows)


def _cut_series(series: Series, until: float) -> Series:
    keep = [i for i, t in enumerate(series.timestamps) if t <= until]
    return Series(tuple(series.timestamps[i] for i in keep), tuple(series.values[i] for i in keep))


def _cut_counts(counts: ArmCounts | None, until: float) -> ArmCounts | None:
    if counts is None:
        return None
    size = sum(1 for t in counts.timestamps if t <= until)

    def head(values: tuple[float, ...]) -> tuple[float, ...]:
        return values[:size] if values else values

    return ArmCounts(
        timestamps=counts.timestamps[:size], requests=head(counts.requests),
        errors=head(counts.errors),
        latency_buckets={le: head(v) for le, v in counts.latency_buckets.items()},
        good_events={name: head(v) for name, v in counts.good_events.items()},
    )


def evidence_until(data: AnalysisInput, until: float) -> AnalysisInput:
    """What was known at ``until``: points up to then and the steps begun by then."""
    return AnalysisInput(
        metrics={name: MetricData(name, _cut_series(m.baseline, until),
                                  _cut_series(m.canary, until))
                 for name, m in data.metrics.items()},
        now=until,
        steps=tuple(s for s in data.steps if s.start <= until),
        baseline_counts=_cut_counts(data.baseline_counts, until),
        canary_counts=_cut_counts(data.canary_counts, until),
    )


def evidence_span(data: AnalysisInput) -> tuple[float, float] | None:
    """The first and last timestamp of any series or count, or None when there is no data."""
    stamps: list[float] = []
    for metric in data.metrics.values():
        stamps.extend(metric.baseline.timestamps)
        stamps.extend(metric.canary.timestamps)
    for counts in (data.baseline_counts, data.canary_counts):
        if counts is not None:
            stamps.extend(counts.timestamps)
    finite = [t for t in stamps if math.isfinite(t)]
    return (min(finite), max(finite)) if finite else None


def build_input(spec: CanarySpec, baseline: Mapping[str, Series], canary: Mapping[str, Series],
                *, start: float, now: float, baseline_counts: ArmCounts | None = None,
                canary_counts: ArmCounts | None = None) -> AnalysisInput:
    """Assemble a judge's input from per-arm series, with the spec's steps laid from ``start``."""
    metrics = {
        m.name: MetricData(m.name, baseline.get(m.name, Series()), canary.get(m.name, Series()))
        for m in spec.metrics
    }
    return AnalysisInput(metrics, now, step_windows(spec, start), baseline_counts,
                         canary_counts)


def replay(judge: Judge, judge_name: str, spec: CanarySpec, data: AnalysisInput, *,
           start: float, end: float, every_s: float, source: str = "") -> AnalysisReport:
    """Evaluate ``judge`` every ``every_s`` seconds from ``start`` to ``end`` over ``data``."""
    if every_s <= 0:
        raise ValueError("the evaluation interval must be positive")
    count = min(MAX_EVALUATIONS, max(1, math.ceil((end - start) / every_s)))
    instants = [min(end, start + every_s * (i + 1)) for i in range(count)]
    if instants[-1] < end:
        instants.append(end)
    timeline: list[AnalysisVerdict] = []
    failures = 0
    final: AnalysisVerdict | None = None
    for instant in instants:
        verdict = replace(judge(evidence_until(data, instant), spec), evaluated_at=instant)
        timeline.append(verdict)
        if verdict.decision is Decision.ROLLBACK:
            failures += 1
            if failures >= spec.failure_count_threshold:
                final = verdict
                break
    if final is None:
        final = timeline[-1]
        if final.decision is Decision.ROLLBACK:
            # Fewer rollbacks than failure_count_threshold: not enough to act on, not a pass.
            final = replace(final, decision=Decision.INSUFFICIENT_DATA, reasons=(
                *final.reasons,
                f"{failures} ROLLBACK verdict(s), fewer than failure_count_threshold "
                f"({spec.failure_count_threshold})"))
    return AnalysisReport(spec.name, judge_name, evidence_until(data, final.evaluated_at or end),
                          tuple(timeline), final, source)
