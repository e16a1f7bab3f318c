"""SARIF 2.1.0 for ``safeship secrets scan --format sarif``, in the pipeline report's style.

One run; ``tool.driver.rules`` lists the rules that found something (id, description, tags
``security`` and ``secret``, ``security-severity`` 9.0 so GitHub code scanning ranks a leaked
credential as critical). Each finding is one ``error`` result located by file, line and column,
whose message shows the redacted secret and its fingerprint, never the secret (the report has
none to show). ``partialFingerprints["safeshipSecret/v1"]`` is the finding's fingerprint, which
ignores the line, so an alert keeps its identity when code above it moves and a baselined
finding keeps the same id. Skipped files (binary, too large, a symlink leaving the tree) become
``note`` notifications of the invocation, so a reader sees what was not scanned.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import safeship
from safeship.report.sarif import (
    SARIF_SCHEMA_URI,
    SARIF_VERSION,
    SRCROOT,
    TOOL_INFORMATION_URI,
    TOOL_NAME,
)
from safeship.scanners.secrets.results import ScanReport, SecretFinding

FINGERPRINT_KEY = "safeshipSecret/v1"
SECURITY_SEVERITY = "9.0"


def render_secrets_sarif(report: ScanReport) -> str:
    """``report`` as an indented SARIF 2.1.0 log, ending in a newline."""
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    results = []
    for finding in report.findings:
        if finding.rule_id not in index:
            index[finding.rule_id] = len(rules)
            rules.append({
                "id": finding.rule_id,
                "name": finding.rule_id,
                "shortDescription": {"text": finding.description},
                "helpUri": TOOL_INFORMATION_URI,
                "help": {"text": "Remove the secret from the code, rotate it, and load it "
                                 "from the environment or a secret manager."},
                "properties": {"tags": ["security", "secret"],
                               "security-severity": SECURITY_SEVERITY},
            })
        results.append(_result(finding, index[finding.rule_id]))
    notifications = [
        {"level": "note", "message": {"text": f"not scanned: {entry.file}: {entry.reason}"},
         "descriptor": {"id": "safeship/secrets/skipped"}}
        for entry in report.skipped
    ]
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    log = {
        "$schema": SARIF_SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {
                "name": TOOL_NAME,
                "version": safeship.__version__,
                "semanticVersion": safeship.__version__,
                "informationUri": TOOL_INFORMATION_URI,
                "rules": rules,
            }},
            "automationDetails": {"id": f"safeship/secrets/{report.source}"},
            "invocations": [invocation],
            "results": results,
            "properties": {
                "files": report.files, "bytes": report.bytes,
                "seconds": round(report.seconds, 3), "rules": report.rules,
                "suppressed": dict(report.suppressed),
            },
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _result(finding: SecretFinding, rule_index: int) -> dict[str, Any]:
    where = f" in commit {finding.commit}" if finding.commit else ""
    shown = f" {finding.redacted}" if finding.redacted else ""
    physical: dict[str, Any] = {"artifactLocation": {
        "uri": quote(finding.file, safe="/!$&'()*+,;=@~-._"), "uriBaseId": SRCROOT}}
    if finding.line >= 1:
        region: dict[str, Any] = {"startLine": finding.line}
        if finding.column >= 1:
            region["startColumn"] = finding.column
        physical["region"] = region
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": "error",
        "message": {"text": f"{finding.description}:{shown} (fingerprint "
                            f"{finding.fingerprint}){where}"},
        "locations": [{"physicalLocation": physical}],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
    }
    if finding.commit:
        result["properties"] = {"commit": finding.commit}
    return result
