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
warm-up (``--warmup-s``; default 0, as the issue specifies) no judge is asked before it. A run
ends at the first ROLLBACK or when all steps end. Judges are pure, so the verdict at interval k
is computed once per judge and shared by every schedule that looks at k; the input at k is
built once and handed to every judge, which is what makes their evidence identical.
"""

from __future__ import annotations

import importlib
import math
import time
from collections.abc import Callable, Mapping, Sequence
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
class Outcome:
    """How one judge ended on one trace at one checking frequency."""

    judge: str
    check_every: str
    rollback_index: int | None
    final_decision: str
    looks: int
    error: str | None = None
    judge_seconds: float = 0.0
    """Time spent inside this judge on this trace (all checking frequencies together)."""


def judge_trace(trace: Trace, spec: CanarySpec, judges: Mapping[str, JudgeFn],
                check_every: Sequence[str], warmup_s: float = 0.0) -> list[Outcome]:
    """Run every judge at every checking frequency over ``trace``."""
    evidence = Evidence(trace, spec)
    masks = schedules(trace, check_every, warmup_s)
    keys = [(j, s) for j in judges for s in masks]
    active = dict.fromkeys(keys, True)
    last: dict[tuple[str, str], str] = dict.fromkeys(keys, Decision.INSUFFICIENT_DATA.value)
    looks = dict.fromkeys(keys, 0)
    rollback: dict[tuple[str, str], int | None] = dict.fromkeys(keys, None)
    errors: dict[tuple[str, str], str | None] = dict.fromkeys(keys, None)
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
                looks[key] += 1
                last[key] = decision
                if decision == Decision.ROLLBACK.value:
                    rollback[key] = k
                    active[key] = False
                elif error is not None:
                    errors[key] = error
                    active[key] = False
    return [Outcome(j, s, rollback[(j, s)], last[(j, s)], looks[(j, s)], errors[(j, s)],
                    spent[j]) for j, s in keys]


@dataclass(frozen=True)
class RunRecord:
    """One run's result for one judge at one checking frequency, ready for aggregation."""

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


def records(trace: Trace, outcomes: Sequence[Outcome], run: int) -> list[RunRecord]:
    """Turn outcomes into records with delays measured from the regression's onset."""
    result = []
    canary_requests = trace.true_requests[CANARY]
    for out in outcomes:
        rb = out.rollback_index
        early = rb is not None and rb < trace.onset_index
        delay_req = delay_min = None
        step = None
        if rb is not None:
            step = int(trace.step_of[rb])
            if not early:
                delay_req = float(canary_requests[trace.onset_index:rb + 1].sum())
                delay_min = float(trace.ends[rb] - trace.onset_time) / 60.0
        result.append(RunRecord(trace.scenario.id, run, out.judge, out.check_every,
                                rb is not None, early, delay_req, delay_min, step,
                                out.final_decision, out.looks, out.error, out.judge_seconds))
    return result
