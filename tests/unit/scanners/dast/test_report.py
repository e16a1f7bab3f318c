"""The scan report as JSON, SARIF 2.1.0 (schema-valid) and gate findings."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from safeship.model.enums import Severity
from safeship.scanners.dast import (
    RULES,
    Alert,
    Level,
    RuleResult,
    ScanReport,
    render_scan_json,
    render_scan_sarif,
    scan_findings,
)

SCHEMA = Path(__file__).resolve().parents[3] / "data" / "schemas" / "sarif-schema-2.1.0.json"


@pytest.fixture
def validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


def report(*results: RuleResult, skipped: tuple[str, ...] = ()) -> ScanReport:
    return ScanReport(target="http://shop.test/", started_at="2026-01-01T00:00:00Z",
                      duration_s=1.5, pages=("http://shop.test/",), requests=9, bytes_read=99,
                      results=results, active=True, skipped=skipped,
                      errors=("http://shop.test/x: ReadError",))


XSS = RuleResult(RULES["40012"], Level.FAIL, (
    Alert("40012", "http://shop.test/search?q=...", "<safeshipab> reflected unencoded",
          "parameter 'q' is written into HTML unencoded", param="q", status=200),), 1)
CSP = RuleResult(RULES["10038"], Level.WARN, tuple(
    Alert("10038", f"http://shop.test/p{i}", "no Content-Security-Policy header", "d",
          status=200) for i in range(7)), 7)
SERVER = RuleResult(RULES["10036"], Level.INFO, (
    Alert("10036", "http://shop.test/", "Server: x/1.0", "d"),), 1)


def test_json_document() -> None:
    document = json.loads(render_scan_json(report(XSS, CSP, SERVER)))
    assert document["schema"] == "safeship.dast-scan/v1"
    assert document["passed"] is False
    assert document["counts"] == {"FAIL": 1, "WARN": 1, "INFO": 1}
    first = document["rules"][0]
    assert first["id"] == "40012"
    assert first["owasp"] == "A03:2021-Injection"
    assert first["cwe"] == 79
    assert first["alerts"][0]["param"] == "q"
    assert document["rules"][1]["instances"] == 7


def test_sarif_is_valid_and_complete(validator: jsonschema.Draft7Validator) -> None:
    log = json.loads(render_scan_sarif(report(XSS, CSP, SERVER)))
    validator.validate(log)
    run = log["runs"][0]
    assert run["tool"]["driver"]["name"] == "safeship-dast"
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["40012", "10038", "10036"]
    assert rules[0]["properties"]["tags"] == ["security", "dast", "A03:2021-Injection", "CWE-79"]
    assert rules[0]["properties"]["security-severity"] == "8.0"
    levels = [r["level"] for r in run["results"]]
    assert levels == ["error"] + ["warning"] * 7 + ["note"]
    xss = run["results"][0]
    assert xss["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "http://shop.test/search?q=...")
    assert xss["webRequest"] == {"method": "GET", "target": "http://shop.test/search?q=..."}
    assert xss["webResponse"] == {"statusCode": 200}
    assert xss["properties"] == {"parameter": "q"}
    assert run["invocations"][0]["executionSuccessful"] is True
    fingerprints = {r["partialFingerprints"]["safeshipFindingHash/v1"] for r in run["results"]}
    assert len(fingerprints) == len(run["results"])


def test_sarif_of_an_incomplete_scan(validator: jsonschema.Draft7Validator) -> None:
    log = json.loads(render_scan_sarif(report(skipped=("active probes stopped at max_seconds",))))
    validator.validate(log)
    invocation = log["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"][0]["message"]["text"] == (
        "incomplete scan: active probes stopped at max_seconds")


def test_findings() -> None:
    findings = scan_findings(report(XSS, CSP, SERVER, skipped=("x stopped at max_seconds",)))
    assert [(f.rule, f.severity) for f in findings] == [
        ("dast.40012", Severity.ERROR), ("dast.10038", Severity.WARNING),
        ("dast.10036", Severity.NOTE), ("dast.incomplete", Severity.ERROR)]
    assert findings[0].message.startswith(
        "[A03:2021-Injection] Cross-site scripting (reflected): 1 instance(s) at "
        "http://shop.test/search?q=...; parameter 'q', evidence: <safeshipab> reflected")
    assert "(+2 more)" in findings[1].message
    assert "Fix: Send a Content-Security-Policy" in findings[1].message
