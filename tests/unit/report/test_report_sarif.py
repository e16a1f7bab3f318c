"""The SARIF report validates against the official OASIS schema and carries every finding."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import safeship
from safeship.model.enums import Outcome, RunStatus
from safeship.model.results import PipelineRun
from safeship.report import render_sarif

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "data" / "schemas" / "sarif-schema-2.1.0.json"
FINGERPRINT = "safeshipFindingHash/v1"


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )


def _log(run: PipelineRun) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(render_sarif(run))
    return log


def _results(log: dict[str, Any], gate_id: str) -> list[dict[str, Any]]:
    return [r for r in log["runs"][0]["results"] if r["properties"]["gate"] == gate_id]


def test_vendored_schema_is_the_official_draft_07_schema() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))

    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert len(schema["definitions"]) == 52
    jsonschema.Draft7Validator.check_schema(schema)


def test_validates_against_the_official_schema(
    full_run: PipelineRun,
    passing_run: PipelineRun,
    many_findings_run: PipelineRun,
    running_run: PipelineRun,
    sarif_validator: jsonschema.Draft7Validator,
) -> None:
    for run in (full_run, passing_run, many_findings_run, running_run):
        errors = [e.message for e in sarif_validator.iter_errors(_log(run))]
        assert errors == []


def test_the_schema_check_is_real(sarif_validator: jsonschema.Draft7Validator) -> None:
    broken = {"version": "2.1.0", "runs": [{"tool": {"driver": {}}, "results": [{"level": "x"}]}]}
    assert not sarif_validator.is_valid(broken)


def test_log_header_and_tool(full_run: PipelineRun) -> None:
    log = _log(full_run)

    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "safeship"
    assert driver["version"] == safeship.__version__
    assert driver["informationUri"].startswith("https://")
    assert log["runs"][0]["automationDetails"] == {
        "id": "safeship/shop/7f3c9a2e41d84b0f9e6a5c3b2d1e0f99"
    }


def test_one_rule_per_distinct_rule_id_and_indexes_match(full_run: PipelineRun) -> None:
    run = _log(full_run)["runs"][0]
    rules = run["tool"]["driver"]["rules"]

    assert [rule["id"] for rule in rules] == [
        "F401",
        "E999",
        "aws-access-key",
        "coverage/file",
        "CVE-2024-3772",
        "GHSA-9wx4-h78v-vm56",
        "response-property-removed",
        "safeship/db_migration",
        "safeship/slo_check",
    ]
    assert rules[0]["shortDescription"] == {"text": "F401 (reported by the lint gate)"}
    assert rules[7]["shortDescription"] == {"text": "The db_migration gate did not pass"}
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_one_result_per_finding_plus_gates_that_failed_silently(full_run: PipelineRun) -> None:
    results = _log(full_run)["runs"][0]["results"]

    assert len(results) == sum(len(g.findings) for g in full_run.gates) + 2
    assert [(r["properties"]["gate"], r["ruleId"], r["level"]) for r in results] == [
        ("lint", "F401", "error"),
        ("lint", "E999", "error"),
        ("secrets", "aws-access-key", "error"),
        ("coverage", "coverage/file", "note"),
        ("cve", "CVE-2024-3772", "warning"),
        # error severity, but the gate only warned: the change went through
        ("cve", "GHSA-9wx4-h78v-vm56", "warning"),
        # error severity, approved by a person
        ("api_contract", "response-property-removed", "warning"),
        ("db_migration", "safeship/db_migration", "error"),
        ("slo", "safeship/slo_check", "warning"),
    ]


def test_finding_location_uri_and_region(full_run: PipelineRun) -> None:
    log = _log(full_run)

    unused, syntax = _results(log, "lint")
    assert unused["message"] == {"text": "'os' imported but unused"}
    assert unused["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "src/shop/app.py", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 3, "startColumn": 8},
            }
        }
    ]
    assert syntax["locations"][0]["physicalLocation"] == {
        "artifactLocation": {
            "uri": "src/shop/%C3%BCn%C3%AFcode%20module.py",
            "uriBaseId": "%SRCROOT%",
        },
        "region": {"startLine": 12},
    }
    (secret,) = _results(log, "secrets")
    assert secret["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "config/settings.py"
    )
    assert secret["message"]["text"] == (
        "AWS access key AKIA…MPLE found (entropy 100% above limit)\nrotate it, then rewrite history"
    )
    (contract,) = _results(log, "api_contract")
    # ':' is encoded: in a relative reference it could otherwise read as a URI scheme.
    assert contract["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "api/a,b%3Ac.yaml"
    )
    (coverage,) = _results(log, "coverage")
    assert coverage["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "src/shop/cart.py", "uriBaseId": "%SRCROOT%"}
    }


def test_finding_without_a_place_has_no_location(full_run: PipelineRun) -> None:
    no_place, _ = _results(_log(full_run), "cve")

    assert "locations" not in no_place
    assert no_place["message"] == {"text": "pydantic 2.5.0: ReDoS in the e-mail validator"}


def test_results_name_their_gate_and_stage(full_run: PipelineRun) -> None:
    unused = _results(_log(full_run), "lint")[0]

    assert unused["properties"] == {
        "stage": "pre_commit",
        "gate": "lint",
        "gateType": "lint",
        "outcome": "blocked",
        "severity": "error",
    }


def test_gate_that_failed_without_findings_yields_one_result(full_run: PipelineRun) -> None:
    (db,) = _results(_log(full_run), "db_migration")

    assert db["ruleId"] == "safeship/db_migration"
    assert db["level"] == "error"
    assert db["message"] == {"text": "pre_deploy/db_migration: squawk not found on PATH"}
    assert "locations" not in db
    assert db["properties"] == {
        "stage": "pre_deploy",
        "gate": "db_migration",
        "gateType": "db_migration",
        "outcome": "error",
    }


def test_gates_that_passed_or_never_ran_yield_nothing(full_run: PipelineRun) -> None:
    log = _log(full_run)

    for gate_id in ("compile", "sbom", "dast"):
        assert _results(log, gate_id) == []


def test_fingerprint_ignores_the_line_but_not_rule_path_or_message(
    single_gate_run: Callable[..., PipelineRun], many_findings_run: PipelineRun
) -> None:
    results = _log(many_findings_run)["runs"][0]["results"]
    prints = [r["partialFingerprints"][FINGERPRINT] for r in results]

    # Same rule and path, different line and message: all distinct.
    assert len(set(prints)) == 25
    assert all(len(p) == 64 for p in prints)
    # Stable across renders.
    assert prints == [
        r["partialFingerprints"][FINGERPRINT] for r in _log(many_findings_run)["runs"][0]["results"]
    ]


def test_fingerprint_is_stable_when_code_moves(full_run: PipelineRun) -> None:
    from dataclasses import replace

    moved_finding = replace(full_run.gates[0].findings[0], line=300, column=1)
    moved_gate = replace(full_run.gates[0], findings=(moved_finding,))
    moved_stage = replace(full_run.stages[0], gates=(moved_gate,))
    moved = replace(full_run, stages=(moved_stage,))

    before = _results(_log(full_run), "lint")[0]
    after = _results(_log(moved), "lint")[0]
    assert before["partialFingerprints"] == after["partialFingerprints"]
    assert after["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 300,
        "startColumn": 1,
    }


def test_invocation_success_reflects_gates_that_could_not_run(
    full_run: PipelineRun,
    passing_run: PipelineRun,
    single_gate_run: Callable[..., PipelineRun],
) -> None:
    failed = _log(full_run)["runs"][0]["invocations"]
    assert failed[0]["executionSuccessful"] is False
    assert failed[0]["startTimeUtc"] == "2025-03-14T09:26:53.000Z"
    assert failed[0]["endTimeUtc"] == "2025-03-14T09:27:35.500Z"
    assert failed[0]["toolExecutionNotifications"] == [
        {
            "level": "error",
            "message": {"text": "pre_deploy/db_migration could not run: squawk not found on PATH"},
            "descriptor": {"id": "safeship/db_migration"},
        }
    ]
    assert _log(passing_run)["runs"][0]["invocations"][0]["executionSuccessful"] is True
    # A policy block is still a successful execution of the tool.
    blocked = _log(single_gate_run(Outcome.BLOCKED, RunStatus.BLOCKED))
    assert blocked["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_passing_run_reports_its_warnings_only(passing_run: PipelineRun) -> None:
    run = _log(passing_run)["runs"][0]

    assert [(r["ruleId"], r["level"]) for r in run["results"]] == [("CVE-2024-3772", "warning")]
    assert run["properties"]["status"] == "passed"


def test_absolute_paths_become_file_uris(single_gate_run: Callable[..., PipelineRun]) -> None:
    from dataclasses import replace

    from safeship.model.results import Finding

    base = single_gate_run(Outcome.BLOCKED, RunStatus.BLOCKED)
    findings = (
        Finding("x", "posix", path="/srv/app/main.py", line=2),
        Finding("x", "windows", path="C:\\work\\app\\main.py", line=2),
    )
    gate = replace(base.gates[0], findings=findings)
    run = replace(base, stages=(replace(base.stages[0], gates=(gate,)),))

    locations = [
        r["locations"][0]["physicalLocation"]["artifactLocation"]
        for r in _log(run)["runs"][0]["results"]
    ]
    assert locations == [{"uri": "file:///srv/app/main.py"}, {"uri": "file:///C:/work/app/main.py"}]


# RFC 3986: unreserved / reserved characters, and '%' only as the start of a pct-encoded octet.
_URI_CHARS = re.compile(r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*")
_SARIF_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def _walk(node: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, k)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, key)
    else:
        yield key, node


def test_uris_and_times_have_the_formats_the_schema_names(full_run: PipelineRun) -> None:
    # jsonschema checks "uri" and "date-time" only with optional packages; check them here.
    values = list(_walk(_log(full_run)))
    uris = [v for k, v in values if k in ("uri", "informationUri", "$schema")]
    times = [v for k, v in values if k.endswith("TimeUtc")]

    assert len(uris) == 8  # $schema, informationUri, the 6 findings that have a path
    for uri in uris:
        assert _URI_CHARS.fullmatch(uri), uri
    assert times == ["2025-03-14T09:26:53.000Z", "2025-03-14T09:27:35.500Z"]
    for moment in times:
        assert _SARIF_UTC.fullmatch(moment)
