"""Replaying a judge over recorded evidence: windows, cut-offs, failure counting."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from safeship.engine.analysis import (
    build_input,
    evidence_span,
    evidence_until,
    replay,
    step_windows,
)
from safeship.model.analysis import (
    AnalysisInput,
    AnalysisVerdict,
    ArmCounts,
    Decision,
    Series,
)
from safeship.model.canary import CanaryMetric, CanarySpec, CanaryStep

SPEC = CanarySpec("x.yaml", "svc", (CanaryStep(1, 60), CanaryStep(50, 120)),
                  (CanaryMetric("error_rate", "q"),))


def series(start: float, count: int, value: float = 1.0) -> Series:
    return Series(tuple(start + 10 * i for i in range(count)), (value,) * count)


def data(count: int = 18) -> AnalysisInput:
    counts = ArmCounts(timestamps=tuple(10.0 * i for i in range(count)),
                       requests=(100.0,) * count, errors=(1.0,) * count,
                       latency_buckets={0.1: (90.0,) * count, math.inf: (100.0,) * count})
    return build_input(SPEC, {"error_rate": series(0, count)}, {"error_rate": series(0, count)},
                       start=0.0, now=10.0 * count, baseline_counts=counts,
                       canary_counts=counts)


def test_steps_are_laid_end_to_end() -> None:
    windows = step_windows(SPEC, 100.0)
    assert [(w.start, w.end, w.percentage) for w in windows] == [(100, 160, 1), (160, 280, 50)]


def test_evidence_until_cuts_everything() -> None:
    cut = evidence_until(data(), 55.0)
    assert cut.now == 55.0
    assert cut.metrics["error_rate"].canary.timestamps == (0, 10, 20, 30, 40, 50)
    assert cut.canary_counts is not None
    assert len(cut.canary_counts.requests) == 6
    assert cut.canary_counts.latency_buckets[0.1] == (90.0,) * 6
    assert [s.percentage for s in cut.steps] == [1]
    assert [s.percentage for s in evidence_until(data(), 61.0).steps] == [1, 50]


def test_span() -> None:
    assert evidence_span(data()) == (0.0, 170.0)
    empty = build_input(SPEC, {}, {}, start=0, now=0)
    assert evidence_span(empty) is None
    assert empty.metrics["error_rate"].canary == Series()


def verdict(decision: Decision) -> AnalysisVerdict:
    return AnalysisVerdict(decision, "scripted", (), (f"said {decision}",))


class Scripted:
    """Returns the scripted decisions in turn and records what it saw."""

    def __init__(self, *decisions: Decision) -> None:
        self.decisions = list(decisions)
        self.seen: list[float] = []

    def __call__(self, evidence: AnalysisInput, spec: CanarySpec) -> AnalysisVerdict:
        latest = max(evidence.metrics["error_rate"].canary.timestamps, default=-1.0)
        assert latest <= evidence.now  # never a point from the future
        self.seen.append(evidence.now)
        return verdict(self.decisions.pop(0) if len(self.decisions) > 1 else self.decisions[0])


def test_first_rollback_ends_the_analysis() -> None:
    judge = Scripted(Decision.INSUFFICIENT_DATA, Decision.ROLLBACK, Decision.PROCEED)
    report = replay(judge, "scripted", SPEC, data(), start=0, end=170, every_s=30)
    assert judge.seen == [30, 60]
    assert report.final.decision is Decision.ROLLBACK
    assert report.final.evaluated_at == 60
    assert [v.evaluated_at for v in report.timeline] == [30, 60]
    assert report.data.now == 60


def test_failure_count_threshold_needs_that_many_rollbacks() -> None:
    spec = replace(SPEC, failure_count_threshold=2)
    judge = Scripted(Decision.ROLLBACK, Decision.PROCEED, Decision.ROLLBACK, Decision.PROCEED)
    report = replay(judge, "scripted", spec, data(), start=0, end=170, every_s=30)
    assert report.final.decision is Decision.ROLLBACK
    assert report.final.evaluated_at == 90


def test_a_lone_rollback_below_the_threshold_is_not_a_pass() -> None:
    spec = replace(SPEC, failure_count_threshold=3)
    judge = Scripted(Decision.PROCEED, Decision.ROLLBACK)
    report = replay(judge, "scripted", spec, data(), start=0, end=60, every_s=30)
    assert report.final.decision is Decision.INSUFFICIENT_DATA
    assert "fewer than failure_count_threshold (3)" in report.final.reasons[-1]


def test_last_instant_is_the_end() -> None:
    judge = Scripted(Decision.PROCEED)
    report = replay(judge, "scripted", SPEC, data(), start=0, end=100, every_s=30)
    assert judge.seen == [30, 60, 90, 100]
    assert report.final.decision is Decision.PROCEED


def test_bad_interval() -> None:
    with pytest.raises(ValueError, match="positive"):
        replay(Scripted(Decision.PROCEED), "s", SPEC, data(), start=0, end=10, every_s=0)
