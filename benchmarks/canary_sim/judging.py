"""The judges under test and the checking loop that feeds them one trace.

Real judges are safeship's pure functions ``(AnalysisInput, CanarySpec) -> AnalysisVerdict``.
A judge whose module does not import yet is reported as missing and skipped, never faked.
:func:`standin_judge` exists for the simulator's own tests and for developing the harness; it
is named so that no table can mistake it for a real judge.

Checking frequencies (``check_every``):

* ``10s``: at the end of every scrape interval;
* ``1m``: at the end of every sixth interval;
* ``event``: at the end of every interval in which a bad event was observed on either arm (an
  error, a request slower than the baseline's nominal p99 bucket, a conversion in business
  scenarios): as often as new information arrives. With latency guarded, slow requests arrive
  in almost every interval, so ``event`` differs from ``10s`` mostly through the error-only
  evidence.

Every schedule also looks at the last interval, so each run has a final decision. With a
warm-up (``--warmup-s``; default 0, as the issue specifies) no judge is asked before it. Judges
are pure, so the verdict at interval k is computed once per judge and shared by every schedule
that looks at k; the input at k is built once and handed to every judge, which is what makes
their evidence identical.

When a judge stops being asked. The raw outcome of every judge is its first ROLLBACK (or the
end of the steps, or a judge error): that is the guide's setting, a failure limit of 1. The
sequential judge is only ever asked up to it: its ROLLBACK is sticky (the e-process keeps its
running maximum), so a later look could only say ROLLBACK again. The judges in
:data:`CALIBRATED_JUDGES` are asked on after their first ROLLBACK, at the same looks, so that
``canary_sim/matching.py`` can replay them with an Argo ``failureLimit`` / Flagger
``threshold`` of L: roll back at the L-th ROLLBACK look, counted cumulatively (a ROLLBACK, then
a PROCEED, then a ROLLBACK is two failed looks). Each (judge, frequency) records the interval of
every ROLLBACK look and stops at its :data:`MAX_FAILURE_LIMIT`-th, at a judge error or at the
end of the steps. The cost is bounded: a calibrated judge is never asked more often than one
that never rolls back (every look of the schedule), and one that rolls back at every look stops
:data:`MAX_FAILURE_LIMIT` - 1 looks after its first ROLLBACK.
"""

from __future__ import annotations

import importlib
import math
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from canary_sim.evidence import Evidence
from canary_sim.traffic import CANARY, Trace
from safeship.model.analysis import (
    AnalysisInput,
    AnalysisVerdict,
    Classification,
    Decision,
    MetricOutcome,
    MetricVerdict,
)
from safeship.model.canary import CanarySpec

JudgeFn = Callable[[AnalysisInput, CanarySpec], AnalysisVerdict]

REAL_JUDGES: tuple[tuple[str, str, str], ...] = (
    ("sequential", "safeship.judge.sequential", "sequential_judge"),
    ("kayenta", "safeship.judge.kayenta", "kayenta_judge"),
    ("threshold", "safeship.judge.threshold", "threshold_judge"),
)
SEQUENTIAL = "sequential"
"""safeship's own judge, the one the targets are about."""
CALIBRATED_JUDGES: tuple[str, ...] = ("kayenta", "threshold")
"""Judges asked on after their first ROLLBACK, so that a failure limit can be matched."""
MAX_FAILURE_LIMIT = 60
"""Most ROLLBACK looks recorded per (judge, frequency); the largest failure limit tried."""
STANDIN = "standin-NOT-A-REAL-JUDGE"
ERROR = "ERROR"


class CheckEvery(StrEnum):
    """How often a judge is asked."""

    TEN_SECONDS = "10s"
    MINUTE = "1m"
    EVENT = "event"


@dataclass(frozen=True)
class JudgeStatus:
    """Whether a real judge can be imported, and why not."""

    name: str
    available: bool
    reason: str = ""


def real_judge_status() -> list[JudgeStatus]:
    """Import each real judge; a missing one is reported with the reason."""
    statuses = []
    for name, module, attr in REAL_JUDGES:
        try:
            fn = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            statuses.append(JudgeStatus(name, False, f"{module}.{attr}: {exc}"))
            continue
        statuses.append(JudgeStatus(name, callable(fn), "" if callable(fn) else "not callable"))
    return statuses


def load_judge(name: str) -> JudgeFn:
    """The judge called ``name`` (a real one, or :data:`STANDIN`)."""
    if name == STANDIN:
        return standin_judge
    for real, module, attr in REAL_JUDGES:
        if real == name:
            fn: JudgeFn = getattr(importlib.import_module(module), attr)
            return fn
    raise KeyError(f"unknown judge {name!r}")


def standin_judge(data: AnalysisInput, spec: CanarySpec) -> AnalysisVerdict:
    """NOT A REAL JUDGE. Rolls back when the canary's cumulative error ratio is over 3x the
    baseline's with at least 10 canary errors; PROCEED after 1000 canary requests otherwise.
    Only here to exercise the harness."""
    base, canary = data.baseline_counts, data.canary_counts
    if base is None or canary is None:
        return AnalysisVerdict(Decision.INSUFFICIENT_DATA, STANDIN, (), ("no counts",))
    n_b, n_c = np.nansum(base.requests), np.nansum(canary.requests)
    e_b, e_c = np.nansum(base.errors), np.nansum(canary.errors)
    ratio = (e_c / max(n_c, 1.0)) / max(e_b / max(n_b, 1.0), 1e-9)
    if e_c >= 10 and ratio > 3.0:
        decision = Decision.ROLLBACK
    elif n_c >= 1000:
        decision = Decision.PROCEED
    else:
        decision = Decision.INSUFFICIENT_DATA
    failed = decision is Decision.ROLLBACK
    verdict = MetricVerdict("error_rate", MetricOutcome.FAIL if failed else MetricOutcome.PASS,
                            Classification.HIGH if failed else Classification.PASS, False,
                            float(e_b / max(n_b, 1.0)), float(e_c / max(n_c, 1.0)),
                            f"stand-in ratio {ratio:.2f}")
    return AnalysisVerdict(decision, STANDIN, (verdict,), ("stand-in",), evaluated_at=data.now)


def schedules(trace: Trace, which: Sequence[str], warmup_s: float = 0.0,
              ) -> dict[str, NDArray[np.bool_]]:
    """For each ``check_every``, a mask of the intervals at whose end the judge is asked.

    ``warmup_s``: no look before this many seconds into the rollout (0: from the first scrape).
    """
    n = trace.intervals
    first = math.ceil(warmup_s / trace.config.interval_s - 1e-9) - 1
    per_minute = max(1, round(60.0 / trace.config.interval_s))
    masks: dict[str, NDArray[np.bool_]] = {}
    for name in which:
        every = CheckEvery(name)
        if every is CheckEvery.TEN_SECONDS:
            mask = np.ones(n, dtype=bool)
        elif every is CheckEvery.MINUTE:
            mask = (np.arange(n) + 1) % per_minute == 0
        else:
            mask = trace.bad_event_intervals().copy()
        mask[:max(0, first)] = False
        mask[n - 1] = True
        masks[name] = mask
    return masks


@dataclass(frozen=True)
class Ending:
    """Where a judge stopped being asked on one trace at one frequency."""

    decision: str
    """Its last decision (``ERROR`` when it raised)."""
    looks: int
    """How many times it had been asked."""
    error: str | None = None


@dataclass(frozen=True)
class Outcome:
    """How one judge ended on one trace at one checking frequency.

    ``rollback_index``, ``final_decision``, ``looks`` and ``error`` are the raw outcome: the
    first ROLLBACK (failure limit 1). The other fields say what the judge did when it was asked
    on after it (judges in :data:`CALIBRATED_JUDGES` only; see the module docstring).
    """

    judge: str
    check_every: str
    rollback_index: int | None
    final_decision: str
    looks: int
    error: str | None = None
    judge_seconds: float = 0.0
    """Time spent inside this judge on this trace (all checking frequencies together, looks
    after the first ROLLBACK included)."""
    rollback_looks: tuple[int, ...] = ()
    """Interval index of every ROLLBACK look in order, at most :data:`MAX_FAILURE_LIMIT`; the
    first one is ``rollback_index``."""
    looks_at_rollbacks: tuple[int, ...] = ()
    """For each of ``rollback_looks``, the looks made up to and including it."""
    ended: Ending | None = None
    """Where the judge stopped being asked; None means at the raw outcome."""

    def ending(self) -> Ending:
        """Where the judge stopped being asked (the raw outcome unless it was asked on)."""
        return self.ended or Ending(self.final_decision, self.looks, self.error)


def judge_trace(trace: Trace, spec: CanarySpec, judges: Mapping[str, JudgeFn],
                check_every: Sequence[str], warmup_s: float = 0.0,
                asked_on: Collection[str] = CALIBRATED_JUDGES) -> list[Outcome]:
    """Run every judge at every checking frequency over ``trace``.

    Judges named in ``asked_on`` are asked on after their first ROLLBACK, up to their
    :data:`MAX_FAILURE_LIMIT`-th ROLLBACK look; the others stop at their first ROLLBACK.
    """
    evidence = Evidence(trace, spec)
    masks = schedules(trace, check_every, warmup_s)
    keys = [(j, s) for j in judges for s in masks]
    active = dict.fromkeys(keys, True)
    # The raw outcome (first ROLLBACK or error) stays open until then; ``end_*`` follow the
    # judge for as long as it is asked, past its first ROLLBACK for the calibrated judges.
    raw_open = dict.fromkeys(keys, True)
    last: dict[tuple[str, str], str] = dict.fromkeys(keys, Decision.INSUFFICIENT_DATA.value)
    looks = dict.fromkeys(keys, 0)
    rollback: dict[tuple[str, str], int | None] = dict.fromkeys(keys, None)
    errors: dict[tuple[str, str], str | None] = dict.fromkeys(keys, None)
    end_last = dict(last)
    end_looks = dict(looks)
    end_errors = dict(errors)
    failed: dict[tuple[str, str], list[tuple[int, int]]] = {key: [] for key in keys}
    spent = dict.fromkeys(judges, 0.0)
    for k in range(trace.intervals):
        wanted = {j: [s for s in masks if active[(j, s)] and masks[s][k]] for j in judges}
        wanted = {j: s for j, s in wanted.items() if s}
        if not wanted:
            if not any(active.values()):
                break
            continue
        data = evidence.at(k)
        for name, listening in wanted.items():
            error: str | None = None
            started = time.perf_counter()
            try:
                decision = judges[name](data, spec).decision.value
            except Exception as exc:  # a judge's bug is a result to report, not a crash
                decision, error = ERROR, f"{type(exc).__name__}: {exc}"
            spent[name] += time.perf_counter() - started
            for s in listening:
                key = (name, s)
                end_looks[key] += 1
                end_last[key] = decision
                if raw_open[key]:
                    looks[key] = end_looks[key]
                    last[key] = decision
                if decision == Decision.ROLLBACK.value:
                    failed[key].append((k, end_looks[key]))
                    if raw_open[key]:
                        rollback[key] = k
                        raw_open[key] = False
                    if name not in asked_on or len(failed[key]) >= MAX_FAILURE_LIMIT:
                        active[key] = False
                elif error is not None:
                    if raw_open[key]:
                        errors[key] = error
                        raw_open[key] = False
                    end_errors[key] = error
                    active[key] = False
    return [Outcome(j, s, rollback[(j, s)], last[(j, s)], looks[(j, s)], errors[(j, s)],
                    spent[j], tuple(k for k, _ in failed[(j, s)]),
                    tuple(n for _, n in failed[(j, s)]),
                    Ending(end_last[(j, s)], end_looks[(j, s)], end_errors[(j, s)]))
            for j, s in keys]


@dataclass(frozen=True)
class RollbackLook:
    """One ROLLBACK look of one run, measured against the regression's onset."""

    index: int
    """The interval at whose end the judge said ROLLBACK."""
    look: int
    """Looks made up to and including this one."""
    step: int
    early: bool
    """Before the regression began (a false alarm in ``mid_step``)."""
    delay_requests: float | None
    """Canary requests served from the onset to this look; None when early."""
    delay_minutes: float | None


def rollback_look(trace: Trace, index: int, look: int) -> RollbackLook:
    """The ROLLBACK at the end of interval ``index``: its step and delay from the onset."""
    early = index < trace.onset_index
    delay_req = delay_min = None
    if not early:
        delay_req = float(trace.true_requests[CANARY][trace.onset_index:index + 1].sum())
        delay_min = float(trace.ends[index] - trace.onset_time) / 60.0
    return RollbackLook(index, look, int(trace.step_of[index]), early, delay_req, delay_min)


@dataclass(frozen=True)
class RunRecord:
    """One run's result for one judge at one checking frequency, ready for aggregation.

    The fields up to ``judge_seconds`` describe where this judge rolled back (for a raw judge,
    its first ROLLBACK; for a matched variant, see :func:`with_failure_limit`).
    """

    scenario: str
    run: int
    judge: str
    check_every: str
    rolled_back: bool
    early: bool
    """Rolled back before the regression began (a false alarm in ``mid_step``)."""
    delay_requests: float | None
    """Canary requests served from the regression's onset to the ROLLBACK decision."""
    delay_minutes: float | None
    rollback_step: int | None
    final_decision: str
    looks: int
    error: str | None
    judge_seconds: float = 0.0
    rollback_looks: tuple[RollbackLook, ...] = ()
    """Every ROLLBACK look the judge made (see :attr:`Outcome.rollback_looks`)."""
    ended: Ending | None = None
    """Where the judge stopped being asked; None means at this record's own outcome."""

    def ending(self) -> Ending:
        """Where the judge stopped being asked."""
        return self.ended or Ending(self.final_decision, self.looks, self.error)


def _stopped(scenario: str, run: int, judge: str, check_every: str, hit: RollbackLook | None,
             otherwise: Ending, judge_seconds: float, hits: tuple[RollbackLook, ...],
             ended: Ending) -> RunRecord:
    """A record that rolled back at ``hit``, or ended as ``otherwise`` when ``hit`` is None."""
    if hit is None:
        return RunRecord(scenario, run, judge, check_every, False, False, None, None, None,
                         otherwise.decision, otherwise.looks, otherwise.error, judge_seconds,
                         hits, ended)
    return RunRecord(scenario, run, judge, check_every, True, hit.early, hit.delay_requests,
                     hit.delay_minutes, hit.step, Decision.ROLLBACK.value, hit.look, None,
                     judge_seconds, hits, ended)


def records(trace: Trace, outcomes: Sequence[Outcome], run: int) -> list[RunRecord]:
    """Turn outcomes into records with delays measured from the regression's onset.

    Each record is the raw outcome (the first ROLLBACK) and carries every ROLLBACK look for
    :func:`with_failure_limit`.
    """
    result = []
    for out in outcomes:
        hits = tuple(rollback_look(trace, k, n)
                     for k, n in zip(out.rollback_looks, out.looks_at_rollbacks, strict=True))
        first = None
        if out.rollback_index is not None:
            first = (hits[0] if hits and hits[0].index == out.rollback_index
                     else rollback_look(trace, out.rollback_index, out.looks))
        result.append(_stopped(trace.scenario.id, run, out.judge, out.check_every, first,
                               Ending(out.final_decision, out.looks, out.error),
                               out.judge_seconds, hits, out.ending()))
    return result


def with_failure_limit(record: RunRecord, limit: int | None, judge: str) -> RunRecord:
    """``record`` as if its judge, renamed ``judge``, rolled back only at its ``limit``-th
    ROLLBACK look (Argo ``failureLimit``, Flagger ``threshold``: failed looks accumulate).

    With fewer ROLLBACK looks than ``limit``, or ``limit`` None (no limit matches), the run
    does not roll back and ends where the judge stopped being asked.
    """
    hits = record.rollback_looks
    hit = hits[limit - 1] if limit is not None and 0 < limit <= len(hits) else None
    ending = record.ending()
    return _stopped(record.scenario, record.run, judge, record.check_every, hit, ending,
                    record.judge_seconds, hits, ending)
