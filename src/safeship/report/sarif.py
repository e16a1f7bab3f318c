"""The SARIF 2.1.0 report, for GitHub code scanning and any other SARIF viewer.

One SARIF run per pipeline run. ``tool.driver.rules`` holds one rule per distinct finding rule id
(in order of first appearance) plus one ``safeship/<gate type>`` rule for each gate type that
failed without naming a finding. Each finding becomes one result:

- ``level`` follows the finding's severity (error/warning/note), but a finding of a gate whose
  outcome let the change through (warned, logged, approved, passed) is at most ``warning``;
- ``locations`` carries the file relative to ``%SRCROOT%`` with forward slashes, and
  ``region.startLine``/``startColumn`` when known; absolute paths become ``file://`` URIs;
- ``partialFingerprints["safeshipFindingHash/v1"]`` is a SHA-256 of rule, path and message (not
  the line), so an alert keeps its identity when code above it moves;
- ``properties`` names the stage, gate, gate type and outcome.

A gate that did not pass yet named no finding (blocked, error, pending approval, warned, logged)
still yields one result without a location, so nothing is silently dropped.
``invocations[0].executionSuccessful`` is false when a gate could not run or the run itself
errored or was interrupted; a policy block is a successful execution with error results.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

import safeship
from safeship.model.enums import Outcome, RunStatus
from safeship.model.results import Finding, GateResult, PipelineRun
from safeship.report._summary import (
    failed_without_findings,
    finding_level,
    gate_level,
    posix_path,
)

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL_NAME = "safeship"
# The project's home page as SARIF viewers link it. No URL is recorded for the project yet:
# replace this placeholder when the project gets one (the schema wants an absolute URI).
TOOL_INFORMATION_URI = "https://github.com/safeship/safeship"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "safeshipFindingHash/v1"


def render_sarif(run: PipelineRun) -> str:
    """The run as an indented SARIF 2.1.0 log (UTF-8 text), ending in a newline."""
    rules: list[dict[str, Any]] = []
    rule_index: dict[str, int] = {}
    results: list[dict[str, Any]] = []

    def index_of(rule_id: str, description: str, gate: GateResult) -> int:
        if rule_id not in rule_index:
            rule_index[rule_id] = len(rules)
            rules.append(
                {
                    "id": rule_id,
                    "name": rule_id,
                    "shortDescription": {"text": description},
                    "properties": {"tags": list(dict.fromkeys(("safeship", gate.gate_type)))},
                }
            )
        return rule_index[rule_id]

    for gate in run.gates:
        for finding in gate.findings:
            description = f"{finding.rule} (reported by the {gate.gate_type} gate)"
            index = index_of(finding.rule, description, gate)
            results.append(_finding_result(finding, gate, index))
        if failed_without_findings(gate):
            rule_id = f"safeship/{gate.gate_type}"
            description = f"The {gate.gate_type} gate did not pass"
            results.append(_gate_result(gate, rule_id, index_of(rule_id, description, gate)))

    log = {
        "$schema": SARIF_SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": safeship.__version__,
                        "semanticVersion": safeship.__version__,
                        "informationUri": TOOL_INFORMATION_URI,
                        "rules": rules,
                    }
                },
                "automationDetails": {"id": f"safeship/{run.service}/{run.run_id}"},
                "invocations": [_invocation(run)],
                "results": results,
                "properties": {
                    "runId": run.run_id,
                    "service": run.service,
                    "commit": run.commit,
                    "risk": run.risk.value,
                    "status": run.status.value,
                },
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _finding_result(finding: Finding, gate: GateResult, rule_index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": finding_level(finding, gate).value,
        "message": {"text": finding.message or finding.rule},
    }
    location = _location(finding)
    if location is not None:
        result["locations"] = [location]
    path = posix_path(finding.path) if finding.path else ""
    result["partialFingerprints"] = {
        FINGERPRINT_KEY: _fingerprint(finding.rule, path, finding.message)
    }
    result["properties"] = {**_gate_properties(gate), "severity": finding.severity.value}
    return result


def _gate_result(gate: GateResult, rule_id: str, rule_index: int) -> dict[str, Any]:
    summary = gate.summary or gate.outcome.value
    return {
        "ruleId": rule_id,
        "ruleIndex": rule_index,
        "level": gate_level(gate).value,
        "message": {"text": f"{gate.stage}/{gate.gate_id}: {summary}"},
        # The summary can carry numbers that change every run; the gate's identity does not.
        "partialFingerprints": {
            FINGERPRINT_KEY: _fingerprint(rule_id, "", f"{gate.stage}/{gate.gate_id}")
        },
        "properties": _gate_properties(gate),
    }


def _gate_properties(gate: GateResult) -> dict[str, Any]:
    return {
        "stage": gate.stage,
        "gate": gate.gate_id,
        "gateType": gate.gate_type,
        "outcome": gate.outcome.value,
    }


def _location(finding: Finding) -> dict[str, Any] | None:
    if not finding.path:
        return None
    physical: dict[str, Any] = {"artifactLocation": _artifact_location(finding.path)}
    if finding.line is not None and finding.line >= 1:
        region: dict[str, Any] = {"startLine": finding.line}
        if finding.column is not None and finding.column >= 1:
            region["startColumn"] = finding.column
        physical["region"] = region
    return {"physicalLocation": physical}


def _artifact_location(path: str) -> dict[str, Any]:
    windows = PureWindowsPath(path)
    if windows.drive and windows.is_absolute():
        return {"uri": windows.as_uri()}
    text = posix_path(path)
    if text.startswith("/"):
        return {"uri": PurePosixPath(text).as_uri()}
    # A relative reference: percent-encode what a URI cannot hold (spaces, non-ASCII, '%'), and
    # ':' too, which in a first path segment would read as a scheme ("c:x.py" is not a file).
    return {"uri": quote(text, safe="/!$&'()*+,;=@~-._"), "uriBaseId": SRCROOT}


def _fingerprint(rule: str, path: str, message: str) -> str:
    material = "\x1f".join((rule, path, message)).encode("utf-8", errors="surrogatepass")
    return hashlib.sha256(material).hexdigest()


def _invocation(run: PipelineRun) -> dict[str, Any]:
    errored = any(gate.outcome is Outcome.ERROR for gate in run.gates)
    failed_run = run.status in (RunStatus.ERROR, RunStatus.INTERRUPTED)
    invocation: dict[str, Any] = {
        "executionSuccessful": not (errored or failed_run),
        "startTimeUtc": _utc(run.started_at),
    }
    if run.finished_at is not None:
        invocation["endTimeUtc"] = _utc(run.finished_at)
    notifications = [
        {
            "level": "error",
            "message": {"text": f"{gate.stage}/{gate.gate_id} could not run: {gate.summary}"},
            "descriptor": {"id": f"safeship/{gate.gate_type}"},
        }
        for gate in run.gates
        if gate.outcome is Outcome.ERROR
    ]
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation


def _utc(moment: datetime) -> str:
    # SARIF wants UTC with a "Z"; a naive timestamp is taken to be UTC already.
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
