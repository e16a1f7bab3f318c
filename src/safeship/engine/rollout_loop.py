"""The analysis loop of a rollout step: read both arms, judge the evidence so far, decide.

At every scrape interval the controller calls :func:`evaluate` (metrics for the baseline and the
canary since the analysis began, the step windows so far, the judge) and then
:func:`decide_tick`, a pure function that turns the verdict into what to do next:

* ROLLBACK verdicts are counted; the ``failure_count_threshold``-th one rolls back (or holds for a
  person when ``rollback_on_failure`` is false). Safety never pauses: this applies while paused.
* PROCEED moves to the next step at once, except in an extended verification (the canary's last
  100 % step, blue/green's monitor), which runs its full time and must end on PROCEED.
* INSUFFICIENT_DATA waits until the step's time runs out, then applies the policy
  (``on_insufficient_data``: ``rollback`` by default, ``extend`` once, or ``hold``).
* A paused rollout keeps judging but never advances.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol, runtime_checkable

from safeship.engine.analysis import build_input
from safeship.engine.rollout_state import InsufficientDataPolicy
from safeship.errors import MetricsUnavailable
from safeship.judge.interface import Judge
from safeship.metrics.derived import fetch_all
from safeship.metrics.interface import MetricsProvider, TimeRange
from safeship.model.analysis import AnalysisVerdict, Arm, Decision, StepWindow
from safeship.model.canary import CanarySpec, Scope

DEFAULT_SCRAPE_INTERVAL_S = 10.0


@runtime_checkable
class Sampler(Protocol):
    """A provider that records counters when told to (the ``builtin`` provider does)."""

    def sample(self, now: float) -> None:
        """Record one snapshot per version at ``now`` (unix seconds)."""
        ...


@dataclass(frozen=True)
class AnalysisPolicy:
    """How the analysis loop paces itself and what it does without an answer.

    ``max_interruption_s``: a controller resumed after more than this without a heartbeat during
    an analysis step rolls back (the unwatched time cannot be judged); below it, the step is
    lengthened by the unwatched time.
    """

    scrape_interval_s: float = DEFAULT_SCRAPE_INTERVAL_S
    on_insufficient_data: InsufficientDataPolicy = InsufficientDataPolicy.ROLLBACK
    max_interruption_s: float = 300.0
    max_extensions: int = 1

    def __post_init__(self) -> None:
        if self.scrape_interval_s <= 0:
            raise ValueError("the scrape interval must be positive")
        if self.max_interruption_s < 0 or self.max_extensions < 0:
            raise ValueError("max_interruption and max_extensions cannot be negative")


class TickAction(StrEnum):
    """What one evaluation leads to."""

    CONTINUE = "continue"
    ADVANCE = "advance"
    ROLLBACK = "rollback"
    EXTEND = "extend"
    HOLD = "hold"


@dataclass(frozen=True)
class TickDecision:
    """The action, why, and the ROLLBACK count after this verdict."""

    action: TickAction
    reason: str
    failures: int


def decide_tick(verdict: AnalysisVerdict, *, failures: int, threshold: int,
                rollback_on_failure: bool, verification: bool, paused: bool,
                time_up: bool, extensions: int, policy: AnalysisPolicy) -> TickDecision:
    """What to do after ``verdict`` (see the module docstring); pure."""
    first_reason = verdict.reasons[0] if verdict.reasons else verdict.decision.value
    if verdict.decision is Decision.ROLLBACK:
        failures += 1
        if failures >= max(1, threshold):
            reason = (f"ROLLBACK verdict {failures} of {threshold} allowed by "
                      f"failure_count_threshold: {first_reason}")
            if rollback_on_failure:
                return TickDecision(TickAction.ROLLBACK, reason, failures)
            if not paused:
                return TickDecision(TickAction.HOLD, reason + " (rollback_on_failure is false: "
                                    "waiting for a person to abort or promote)", failures)
            return TickDecision(TickAction.CONTINUE, reason, failures)
    if verdict.decision is Decision.PROCEED and not paused and (not verification or time_up):
        return TickDecision(TickAction.ADVANCE, first_reason, failures)
    if not time_up or paused:
        return TickDecision(TickAction.CONTINUE, first_reason, failures)
    # Time is up without a decision to proceed.
    why = f"step ended without PROCEED ({verdict.decision.value}: {first_reason})"
    if policy.on_insufficient_data is InsufficientDataPolicy.EXTEND:
        if extensions < policy.max_extensions:
            return TickDecision(TickAction.EXTEND, why + "; extending the step", failures)
        return TickDecision(TickAction.ROLLBACK, why + f"; already extended {extensions} "
                            "time(s), rolling back (fail closed)", failures)
    if policy.on_insufficient_data is InsufficientDataPolicy.HOLD:
        return TickDecision(TickAction.HOLD, why + "; holding for a person to promote or abort",
                            failures)
    return TickDecision(TickAction.ROLLBACK, why + "; rolling back (fail closed)", failures)


def scoped_spec(spec: CanarySpec, baseline: str, canary: str) -> CanarySpec:
    """``spec`` with its scope naming the versions, unless the file chose its own values.

    The default scope's values are the words ``baseline`` and ``canary``; a rollout compares
    two versions, so those words are replaced by the version names (the label is kept).
    """
    default = Scope()
    if (spec.scope.baseline, spec.scope.canary) != (default.baseline, default.canary):
        return spec
    return replace(spec, scope=replace(spec.scope, baseline=baseline, canary=canary))


def evaluate(provider: MetricsProvider | None, judge: Judge, judge_name: str,
             spec: CanarySpec, *, start: float, now: float,
             windows: Sequence[StepWindow], interval_s: float) -> AnalysisVerdict:
    """Judge the evidence from ``start`` to ``now``; missing metrics give INSUFFICIENT_DATA."""
    if provider is None:
        return _insufficient(judge_name, now, "no metrics provider configured (set metrics: in "
                                              "service.yaml); analysis cannot run")
    try:
        if isinstance(provider, Sampler):
            provider.sample(now)
        window = TimeRange(start, max(start, now), interval_s)
        baseline = fetch_all(provider, spec, Arm.BASELINE, window)
        canary = fetch_all(provider, spec, Arm.CANARY, window)
        baseline_counts = provider.counts(spec, Arm.BASELINE, window)
        canary_counts = provider.counts(spec, Arm.CANARY, window)
    except MetricsUnavailable as exc:
        return _insufficient(judge_name, now, f"metrics unavailable: {exc.message}")
    data = build_input(spec, baseline, canary, start=start, now=now,
                       baseline_counts=baseline_counts, canary_counts=canary_counts)
    data = replace(data, steps=tuple(windows))
    try:
        verdict = judge(data, spec)
    except Exception as exc:  # a judge that cannot decide never lets a release through
        return _insufficient(judge_name, now, f"the {judge_name} judge failed: "
                                              f"{type(exc).__name__}: {exc}")
    return replace(verdict, evaluated_at=now)


def _insufficient(judge_name: str, now: float, reason: str) -> AnalysisVerdict:
    return AnalysisVerdict(Decision.INSUFFICIENT_DATA, judge_name, (), (reason,),
                           evaluated_at=now)
