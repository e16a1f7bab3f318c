"""A :class:`ScanReport` as JSON, as SARIF 2.1.0, and as gate findings.

JSON (schema ``safeship.dast-scan/v1``)::

    {"schema": ..., "target": str, "started_at": str, "duration_s": float, "passed": bool,
     "active": bool, "pages_scanned": int, "requests": int, "bytes_read": int,
     "openapi_paths": int, "limits_reached": [str], "skipped": [str], "errors": [str],
     "ignored_rules": [str], "counts": {"FAIL": int, "WARN": int, "INFO": int},
     "pages": [str],
     "rules": [{"id", "name", "level", "risk", "owasp", "cwe", "kind", "description",
                "solution", "instances": int,
                "alerts": [{"url", "evidence", "detail", "param", "status"}]}]}

SARIF: one run of tool ``safeship-dast``; a rule per alerting rule (OWASP category and CWE as
tags, ``security-severity`` from the risk), a result per alert located at its URL, with a
``webRequest`` naming the URL. FAIL is ``error``, WARN ``warning``, INFO ``note``.

URLs are display-safe (no credentials, query values hidden) and evidence holds no secrets.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import safeship
from safeship.model.enums import Severity
from safeship.model.results import Finding
from safeship.scanners.dast.model import Level, Risk, RuleResult, ScanReport

SCHEMA_ID = "safeship.dast-scan/v1"
SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "safeship-dast"
TOOL_INFORMATION_URI = "https://github.com/safeship/safeship"
FINDING_URLS = 5
"""A gate finding lists at most this many URLs of its rule."""

_SARIF_LEVEL = {Level.FAIL: "error", Level.WARN: "warning", Level.INFO: "note"}
_SEVERITY = {Level.FAIL: Severity.ERROR, Level.WARN: Severity.WARNING, Level.INFO: Severity.NOTE}
_SECURITY_SEVERITY = {Risk.HIGH: "8.0", Risk.MEDIUM: "5.5", Risk.LOW: "3.0", Risk.INFO: "0.0"}


def scan_document(report: ScanReport) -> dict[str, Any]:
    """The JSON-ready dictionary of ``report``."""
    return {
        "schema": SCHEMA_ID,
        "target": report.target,
        "started_at": report.started_at,
        "duration_s": report.duration_s,
        "passed": not report.failed,
        "active": report.active,
        "pages_scanned": len(report.pages),
        "requests": report.requests,
        "bytes_read": report.bytes_read,
        "openapi_paths": report.openapi_paths,
        "limits_reached": list(report.limits_reached),
        "skipped": list(report.skipped),
        "errors": list(report.errors),
        "ignored_rules": list(report.ignored_rules),
        "counts": report.counts(),
        "pages": list(report.pages),
        "rules": [_rule_entry(result) for result in report.results],
    }


def _rule_entry(result: RuleResult) -> dict[str, Any]:
    rule = result.rule
    return {
        "id": rule.id,
        "name": rule.name,
        "level": result.level.value,
        "risk": rule.risk.value,
        "owasp": rule.owasp,
        "cwe": rule.cwe,
        "kind": rule.kind.value,
        "description": rule.description,
        "solution": rule.solution,
        "instances": result.instances,
        "alerts": [
            {"url": a.url, "evidence": a.evidence, "detail": a.detail, "param": a.param,
             "status": a.status}
            for a in result.alerts
        ],
    }


def render_scan_json(report: ScanReport) -> str:
    """``report`` as indented JSON text ending in a newline."""
    return json.dumps(scan_document(report), indent=2, ensure_ascii=False) + "\n"


def render_scan_sarif(report: ScanReport) -> str:
    """``report`` as a SARIF 2.1.0 log."""
    rules: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for index, result in enumerate(report.results):
        rule = result.rule
        level = _SARIF_LEVEL.get(result.level, "note")
        rules.append({
            "id": rule.id,
            "name": rule.name,
            "shortDescription": {"text": rule.name},
            "fullDescription": {"text": rule.description},
            "help": {"text": rule.solution},
            "defaultConfiguration": {"level": level},
            "properties": {
                "tags": ["security", "dast", rule.owasp, f"CWE-{rule.cwe}"],
                "security-severity": _SECURITY_SEVERITY[rule.risk],
                "risk": rule.risk.value,
            },
        })
        for alert in result.alerts:
            material = "\x1f".join((rule.id, alert.url, alert.param or "", alert.evidence))
            entry: dict[str, Any] = {
                "ruleId": rule.id,
                "ruleIndex": index,
                "level": level,
                "message": {"text": f"{rule.name}: {alert.detail} ({alert.evidence})"},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": alert.url}}}],
                "webRequest": {"method": "GET", "target": alert.url},
                "partialFingerprints": {
                    "safeshipFindingHash/v1": hashlib.sha256(material.encode()).hexdigest()
                },
            }
            if alert.status is not None:
                entry["webResponse"] = {"statusCode": alert.status}
            if alert.param:
                entry["properties"] = {"parameter": alert.param}
            results.append(entry)
    notifications = [
        {"level": "error", "message": {"text": f"incomplete scan: {part}"}}
        for part in report.skipped
    ] + [{"level": "warning", "message": {"text": f"not fetched: {error}"}}
         for error in report.errors[:20]]
    invocation: dict[str, Any] = {"executionSuccessful": not report.skipped}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    log = {
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": TOOL_NAME,
                "version": safeship.__version__,
                "informationUri": TOOL_INFORMATION_URI,
                "rules": rules,
            }},
            "invocations": [invocation],
            "results": results,
            "properties": {"target": report.target, "pagesScanned": len(report.pages),
                           "passed": not report.failed},
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def scan_findings(report: ScanReport) -> tuple[Finding, ...]:
    """One finding per alerting rule (FAIL as errors, WARN as warnings, INFO as notes), plus
    one error finding per part of the scan that could not run."""
    findings = []
    for result in report.results:
        rule = result.rule
        urls = list(dict.fromkeys(alert.url for alert in result.alerts))
        shown = ", ".join(urls[:FINDING_URLS])
        more = f" (+{len(urls) - FINDING_URLS} more)" if len(urls) > FINDING_URLS else ""
        first = result.alerts[0]
        param = f" parameter '{first.param}'," if first.param else ""
        message = (
            f"[{rule.owasp}] {rule.name}: {result.instances} instance(s) at {shown}{more};"
            f"{param} evidence: {first.evidence}. Fix: {rule.solution}"
        )
        findings.append(Finding(f"dast.{rule.id}", message, _SEVERITY[result.level]))
    findings += [
        Finding("dast.incomplete", f"the scan did not finish: {part}; raise max_seconds or "
                "max_pages limits so every probe runs", Severity.ERROR)
        for part in report.skipped
    ]
    return tuple(findings)
