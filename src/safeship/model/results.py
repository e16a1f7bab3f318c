"""Results of gates, stages and pipeline runs, as frozen dataclasses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from safeship.model.enums import FailAction, Outcome, RiskLevel, RunStatus, Severity, Verdict


@dataclass(frozen=True)
class Finding:
    """One concrete problem a gate found, with its place in the source when it has one."""

    rule: str
    message: str
    severity: Severity = Severity.ERROR
    path: str | None = None
    line: int | None = None
    column: int | None = None

    def where(self) -> str:
        """``path:line:col`` or an empty string when the finding has no place."""
        if self.path is None:
            return ""
        text = self.path
        if self.line is not None:
            text += f":{self.line}"
            if self.column is not None:
                text += f":{self.column}"
        return text


def _frozen(data: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(data or {}))


@dataclass(frozen=True)
class GateCheck:
    """What a gate backend returns: its verdict, a one-line summary and the findings."""

    verdict: Verdict
    summary: str
    findings: tuple[Finding, ...] = ()
    metrics: Mapping[str, Any] = field(default_factory=lambda: _frozen(None))

    @classmethod
    def passed(cls, summary: str, **metrics: Any) -> GateCheck:
        """A passing check with optional numbers worth recording."""
        return cls(Verdict.PASSED, summary, (), _frozen(metrics))

    @classmethod
    def failed(cls, summary: str, findings: tuple[Finding, ...] = (), **metrics: Any) -> GateCheck:
        """A failing check with the findings that explain it."""
        return cls(Verdict.FAILED, summary, findings, _frozen(metrics))


@dataclass(frozen=True)
class GateResult:
    """A gate's check after the engine applied its fail action."""

    stage: str
    gate_id: str
    gate_type: str
    verdict: Verdict
    action: FailAction
    outcome: Outcome
    summary: str
    findings: tuple[Finding, ...] = ()
    duration_s: float = 0.0
    metrics: Mapping[str, Any] = field(default_factory=lambda: _frozen(None))
    mandatory: bool = False


@dataclass(frozen=True)
class StageResult:
    """The gates of one stage and the stage's overall outcome."""

    name: str
    gates: tuple[GateResult, ...]
    skipped: bool = False

    @property
    def outcome(self) -> Outcome:
        """The worst outcome among the stage's gates."""
        return worst_outcome(g.outcome for g in self.gates) if self.gates else (
            Outcome.NOT_RUN if self.skipped else Outcome.PASSED
        )


# Worst first: the order in which outcomes decide a stage or a run.
_OUTCOME_SEVERITY = (
    Outcome.BLOCKED,
    Outcome.ERROR,
    Outcome.PENDING_APPROVAL,
    Outcome.NOT_RUN,
    Outcome.WARNED,
    Outcome.APPROVED,
    Outcome.LOGGED,
    Outcome.SKIPPED,
    Outcome.PASSED,
)


def worst_outcome(outcomes: Any) -> Outcome:
    """The most severe outcome of an iterable of outcomes (PASSED when empty)."""
    worst = Outcome.PASSED
    for outcome in outcomes:
        if _OUTCOME_SEVERITY.index(outcome) < _OUTCOME_SEVERITY.index(worst):
            worst = outcome
    return worst


@dataclass(frozen=True)
class PipelineRun:
    """A whole gate-pipeline run as it is reported and stored."""

    run_id: str
    service: str
    commit: str | None
    actor: str
    risk: RiskLevel
    started_at: datetime
    finished_at: datetime | None
    status: RunStatus
    stages: tuple[StageResult, ...]
    config_path: str | None = None

    @property
    def gates(self) -> tuple[GateResult, ...]:
        """Every gate result of the run, in stage order."""
        return tuple(g for s in self.stages for g in s.gates)


@dataclass(frozen=True)
class Approval:
    """A request for (and possibly the decision of) a human on one gate of one run."""

    approval_id: int
    run_id: str
    service: str
    commit: str | None
    gate_id: str
    reason_requested: str
    status: str
    decided_by: str | None = None
    decision_reason: str | None = None
    requested_at: datetime | None = None
    decided_at: datetime | None = None
