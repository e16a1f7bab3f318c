"""The JSON report: a stable, documented document for one pipeline run, or a list of them.

Shape of ``render_json`` (schema ``safeship.pipeline-run/v1``; keys always present, in this
order)::

    {
      "schema": "safeship.pipeline-run/v1",
      "run_id": str, "service": str, "commit": str | null, "actor": str,
      "risk": "low" | "medium" | "high" | "critical",
      "status": "running" | "passed" | "blocked" | "error" | "pending_approval" | ...,
      "started_at": ISO 8601 str, "finished_at": ISO 8601 str | null,
      "duration_s": float | null,          # null while the run has not finished
      "stages": [
        {"name": str, "outcome": str, "skipped": bool,
         "gates": [
           {"id": str, "type": str, "verdict": str, "action": str, "outcome": str,
            "summary": str, "duration_s": float, "mandatory": bool,
            "metrics": {str: JSON value},
            "findings": [{"rule": str, "message": str, "severity": "error" | "warning" | "note",
                          "path": str | null, "line": int | null, "column": int | null}]}
         ]}
      ],
      "counts": {outcome: int}               # every outcome, zeros included
    }

``render_runs_json`` renders a JSON array of such documents (newest first is the caller's order).
Metric values that JSON cannot hold are converted: non-finite floats become the strings
``"NaN"``, ``"Infinity"`` and ``"-Infinity"``; dates become ISO 8601 strings; enums their value;
anything else its ``str()``. Nothing from the pipeline configuration is included.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any

from safeship.model.results import Finding, GateResult, PipelineRun, StageResult
from safeship.report._summary import outcome_counts, run_duration_s, seconds

SCHEMA_ID = "safeship.pipeline-run/v1"


def render_json(run: PipelineRun) -> str:
    """The run as an indented JSON document (UTF-8 text, non-ASCII kept), ending in a newline."""
    return _dump(pipeline_run_document(run))


def render_runs_json(runs: Iterable[PipelineRun]) -> str:
    """Several runs (a history) as a JSON array of ``render_json`` documents."""
    return _dump([pipeline_run_document(run) for run in runs])


def pipeline_run_document(run: PipelineRun) -> dict[str, Any]:
    """The JSON-ready dictionary behind ``render_json``, for callers that embed it elsewhere."""
    duration = run_duration_s(run)
    return {
        "schema": SCHEMA_ID,
        "run_id": run.run_id,
        "service": run.service,
        "commit": run.commit,
        "actor": run.actor,
        "risk": run.risk.value,
        "status": run.status.value,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at is not None else None,
        "duration_s": seconds(duration) if duration is not None else None,
        "stages": [_stage(stage) for stage in run.stages],
        "counts": outcome_counts(run),
    }


def _stage(stage: StageResult) -> dict[str, Any]:
    return {
        "name": stage.name,
        "outcome": stage.outcome.value,
        "skipped": stage.skipped,
        "gates": [_gate(gate) for gate in stage.gates],
    }


def _gate(gate: GateResult) -> dict[str, Any]:
    return {
        "id": gate.gate_id,
        "type": gate.gate_type,
        "verdict": gate.verdict.value,
        "action": gate.action.value,
        "outcome": gate.outcome.value,
        "summary": gate.summary,
        "duration_s": seconds(gate.duration_s),
        "mandatory": gate.mandatory,
        "metrics": _jsonable(gate.metrics),
        "findings": [_finding(finding) for finding in gate.findings],
    }


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "message": finding.message,
        "severity": finding.severity.value,
        "path": finding.path,
        "line": finding.line,
        "column": finding.column,
    }


def _jsonable(value: Any) -> Any:
    """``value`` turned into something ``json.dumps(..., allow_nan=False)`` accepts."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, Enum):
        return _jsonable(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, set | frozenset):
        # Sets have no order; sort their text so the document is the same every time.
        return sorted((_jsonable(item) for item in value), key=str)
    return str(value)


def _dump(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
