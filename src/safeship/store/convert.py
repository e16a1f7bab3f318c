"""Mapping between the store's rows and the frozen dataclasses of :mod:`safeship.model.results`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from safeship.errors import InternalError
from safeship.model.enums import (
    ApprovalStatus,
    FailAction,
    Outcome,
    RiskLevel,
    RunStatus,
    Severity,
    Verdict,
)
from safeship.model.results import Approval, Finding, GateResult, PipelineRun, StageResult
from safeship.store.tables import ApprovalRow, FindingRow, GateRow, RunRow, StageRow


def require_aware(value: datetime | None, what: str) -> None:
    """Refuse a naive datetime: the store keeps every timestamp in UTC."""
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise InternalError(f"{what} must be timezone-aware, got naive {value.isoformat()}")


def run_columns(run: PipelineRun) -> dict[str, Any]:
    """The ``runs`` columns of ``run``, by attribute name."""
    require_aware(run.started_at, f"run {run.run_id}: started_at")
    require_aware(run.finished_at, f"run {run.run_id}: finished_at")
    return {
        "run_id": run.run_id,
        "service": run.service,
        "commit": run.commit,
        "actor": run.actor,
        "risk": run.risk.value,
        "status": run.status.value,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "config_path": run.config_path,
    }


def stage_rows(run: PipelineRun) -> list[StageRow]:
    """New rows for the stages of ``run``, each holding its gates and their findings."""
    return [
        StageRow(
            run_id=run.run_id,
            position=position,
            name=stage.name,
            skipped=stage.skipped,
            gates=[_gate_row(gate, index) for index, gate in enumerate(stage.gates)],
        )
        for position, stage in enumerate(run.stages)
    ]


def _gate_row(gate: GateResult, position: int) -> GateRow:
    metrics = dict(gate.metrics)
    try:
        json.dumps(metrics)
    except (TypeError, ValueError) as exc:
        raise InternalError(f"gate {gate.gate_id}: metrics are not JSON data: {exc}") from exc
    return GateRow(
        position=position,
        stage=gate.stage,
        gate_id=gate.gate_id,
        gate_type=gate.gate_type,
        verdict=gate.verdict.value,
        action=gate.action.value,
        outcome=gate.outcome.value,
        summary=gate.summary,
        duration_s=gate.duration_s,
        metrics=metrics,
        mandatory=gate.mandatory,
        findings=[
            FindingRow(
                position=index,
                rule=finding.rule,
                message=finding.message,
                severity=finding.severity.value,
                path=finding.path,
                line=finding.line,
                column=finding.column,
            )
            for index, finding in enumerate(gate.findings)
        ],
    )


def run_from_row(row: RunRow) -> PipelineRun:
    """The :class:`PipelineRun` stored in ``row`` and its loaded children."""
    return PipelineRun(
        run_id=row.run_id,
        service=row.service,
        commit=row.commit,
        actor=row.actor,
        risk=RiskLevel(row.risk),
        started_at=row.started_at,
        finished_at=row.finished_at,
        status=RunStatus(row.status),
        stages=tuple(
            StageResult(
                name=stage.name,
                gates=tuple(_gate_from_row(gate) for gate in stage.gates),
                skipped=stage.skipped,
            )
            for stage in row.stages
        ),
        config_path=row.config_path,
    )


def _gate_from_row(row: GateRow) -> GateResult:
    return GateResult(
        stage=row.stage,
        gate_id=row.gate_id,
        gate_type=row.gate_type,
        verdict=Verdict(row.verdict),
        action=FailAction(row.action),
        outcome=Outcome(row.outcome),
        summary=row.summary,
        findings=tuple(
            Finding(
                rule=finding.rule,
                message=finding.message,
                severity=Severity(finding.severity),
                path=finding.path,
                line=finding.line,
                column=finding.column,
            )
            for finding in row.findings
        ),
        duration_s=row.duration_s,
        metrics=_frozen(row.metrics),
        mandatory=row.mandatory,
    )


def _frozen(data: Mapping[str, Any] | None) -> Mapping[str, Any]:
    # The same read-only view the model builds for GateResult.metrics.
    return MappingProxyType(dict(data or {}))


def approval_from_row(row: ApprovalRow) -> Approval:
    """The :class:`Approval` stored in ``row``."""
    return Approval(
        approval_id=row.id,
        run_id=row.run_id,
        service=row.service,
        commit=row.commit,
        gate_id=row.gate_id,
        reason_requested=row.reason_requested,
        status=ApprovalStatus(row.status),
        decided_by=row.decided_by,
        decision_reason=row.decision_reason,
        requested_at=row.requested_at,
        decided_at=row.decided_at,
    )
