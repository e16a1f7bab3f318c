"""`safeship gates run` end to end: exit codes, every output format, the store, approvals."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from defusedxml import ElementTree as ET

from tests.e2e.conftest import CliRunner, fix_lint

SARIF_SCHEMA = Path(__file__).resolve().parents[1] / "data" / "schemas" / "sarif-schema-2.1.0.json"


def test_lint_error_blocks_and_table_names_file_and_line(cli: CliRunner,
                                                         sample_repo: Path) -> None:
    result = cli("gates", "run", "-C", str(sample_repo), "--commit", "c1")
    assert result.code == 1
    assert "pkg/calc.py:3" in result.out
    assert "F401" in result.out
    assert "blocked" in result.out


def test_json_report(cli: CliRunner, sample_repo: Path) -> None:
    result = cli("gates", "run", "-C", str(sample_repo), "--format", "json", "--commit", "c1")
    assert result.code == 1
    report = json.loads(result.out)
    assert report["status"] == "blocked"
    assert report["service"] == "sample"
    lint = report["stages"][0]["gates"][0]
    assert lint["outcome"] == "blocked"
    assert lint["findings"][0]["path"] == "pkg/calc.py"
    assert lint["findings"][0]["line"] == 3
    # The blocked pre_commit stage stopped the others.
    assert report["stages"][1]["gates"][0]["outcome"] == "not_run"


def test_junit_report(cli: CliRunner, sample_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "junit.xml"
    result = cli("gates", "run", "-C", str(sample_repo), "--format", "junit", "-o", str(out),
                 "--keep-going")
    assert result.code == 1
    root = ET.parse(out).getroot()
    assert root.tag == "testsuites"
    failures = root.findall(".//testcase/failure")
    assert len(failures) == 1
    assert "pkg/calc.py:3" in (failures[0].text or "")


def test_sarif_report_validates_and_locates(cli: CliRunner, sample_repo: Path,
                                            tmp_path: Path) -> None:
    out = tmp_path / "report.sarif"
    result = cli("gates", "run", "-C", str(sample_repo), "--format", "sarif", "-o", str(out))
    assert result.code == 1
    sarif = json.loads(out.read_text())
    jsonschema.validate(sarif, json.loads(SARIF_SCHEMA.read_text()))
    [finding] = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "F401"]
    region = finding["locations"][0]["physicalLocation"]
    assert region["artifactLocation"]["uri"] == "pkg/calc.py"
    assert region["region"]["startLine"] == 3


def test_github_annotations(cli: CliRunner, sample_repo: Path) -> None:
    result = cli("gates", "run", "-C", str(sample_repo), "--format", "github")
    assert result.code == 1
    assert "::error file=pkg/calc.py,line=3" in result.out


def test_fixed_sample_passes_and_history_shows_both(cli: CliRunner, sample_repo: Path) -> None:
    assert cli("gates", "run", "-C", str(sample_repo), "--commit", "c1").code == 1
    fix_lint(sample_repo)
    passed = cli("gates", "run", "-C", str(sample_repo), "--commit", "c2")
    assert passed.code == 0, passed.out + passed.err
    history = cli("history", "-C", str(sample_repo), "--format", "json")
    assert history.code == 0
    runs = json.loads(history.out)
    assert [r["status"] for r in runs] == ["passed", "blocked"]
    assert [r["commit"] for r in runs] == ["c2", "c1"]
    table = cli("history", "-C", str(sample_repo), "--service", "sample", "--limit", "1")
    assert table.code == 0
    assert "passed" in table.out
    assert "blocked" not in table.out


def test_require_approval_then_approve(cli: CliRunner, sample_repo: Path) -> None:
    gates = sample_repo / ".pipeline" / "gates.yaml"
    gates.write_text(gates.read_text().replace(
        "threshold: error_free", "threshold: error_free\n        on_fail: require_approval"))
    pending = cli("gates", "run", "-C", str(sample_repo), "--commit", "c1", "--format", "json")
    assert pending.code == 4
    run_id = json.loads(pending.out)["run_id"]
    refused = cli("approve", run_id, "-C", str(sample_repo), "--by", "ann")
    assert refused.code == 2  # --reason is required
    approved = cli("approve", run_id[:8], "-C", str(sample_repo), "--by", "ann",
                   "--reason", "unused import is harmless")
    assert approved.code == 0, approved.err
    assert "approved" in approved.out
    again = cli("gates", "run", "-C", str(sample_repo), "--commit", "c1", "--format", "json")
    assert again.code == 0
    lint = json.loads(again.out)["stages"][0]["gates"][0]
    assert lint["outcome"] == "approved"
    assert "ann" in lint["summary"]
    # Another commit needs its own approval.
    other = cli("gates", "run", "-C", str(sample_repo), "--commit", "c2", "--format", "json")
    assert other.code == 4
    history = json.loads(cli("history", "-C", str(sample_repo), "--format", "json").out)
    assert history[-1]["status"] == "approved"


def test_unknown_run_id_for_approval(cli: CliRunner, sample_repo: Path) -> None:
    result = cli("approve", "doesnotexist", "-C", str(sample_repo), "--by", "a", "--reason", "r")
    assert result.code == 2
    assert "Traceback" not in result.err


def test_medium_risk_reports_missing_mandatory_gates(cli: CliRunner, sample_repo: Path) -> None:
    fix_lint(sample_repo)
    result = cli("gates", "run", "-C", str(sample_repo), "--risk", "medium", "--format", "json")
    assert result.code == 1
    report = json.loads(result.out)
    policy = {g["id"]: g for g in report["stages"][-1]["gates"]}
    assert set(policy) == {"mandatory:api_contract", "mandatory:db_migration",
                           "mandatory:secret_scan", "mandatory:cve_check"}
    assert "add `- type: secret_scan`" in policy["mandatory:secret_scan"]["summary"]


def test_only_selected_stage_runs(cli: CliRunner, sample_repo: Path) -> None:
    fix_lint(sample_repo)
    result = cli("gates", "run", "-C", str(sample_repo), "--stage", "build", "--format", "json")
    assert result.code == 0
    report = json.loads(result.out)
    assert [s["name"] for s in report["stages"]] == ["build"]


def test_unknown_stage_is_a_usage_error(cli: CliRunner, sample_repo: Path) -> None:
    result = cli("gates", "run", "-C", str(sample_repo), "--stage", "buid")
    assert result.code == 2
    assert "did you mean 'build'?" in result.err


def test_unreachable_endpoint_is_exit_3(cli: CliRunner, sample_repo: Path) -> None:
    fix_lint(sample_repo)
    gates = sample_repo / ".pipeline" / "gates.yaml"
    gates.write_text(gates.read_text() + (
        "  - name: pre_deploy_slo\n    type: api_call\n"
        "    endpoint: \"http://127.0.0.1:9/budget\"\n    condition: \"budget_remaining > 0.05\"\n"
        "    retries: 0\n    request_timeout: 1\n"))
    result = cli("gates", "run", "-C", str(sample_repo), "--format", "json")
    assert result.code == 3
    slo = json.loads(result.out)["stages"][-1]["gates"][0]
    assert slo["outcome"] == "error"


def test_guide_template_gates_are_never_reported_as_passed(cli: CliRunner, sample_repo: Path,
                                                           guide_gates: Path) -> None:
    from safeship.registry import UNAVAILABLE_GATES

    result = cli("gates", "run", "-C", str(sample_repo), "--config", str(guide_gates),
                 "--keep-going", "--format", "json", "--no-store")
    assert result.code in (1, 3)
    gates = {g["type"]: g for s in json.loads(result.out)["stages"] for g in s["gates"]}
    for gate_type, gate in gates.items():
        if gate_type in UNAVAILABLE_GATES:
            assert gate["outcome"] == "error"
            assert "not available yet" in gate["summary"]
    # No advisory database here: the CVE gate cannot run, and says so instead of passing.
    assert gates["cve_check"]["outcome"] == "error"
    # monitoring.internal does not resolve: the SLO gate fails closed too.
    assert gates["api_call"]["outcome"] == "error"


@pytest.mark.parametrize("args", [
    ["gates", "run", "--format", "yaml"],
    ["gates", "run", "--risk", "extreme"],
    ["history", "--limit", "0"],
    ["nonsense"],
])
def test_bad_arguments_exit_2(cli: CliRunner, args: list[str], sample_repo: Path) -> None:
    result = cli(*args, "-C", str(sample_repo)) if args[0] != "nonsense" else cli(*args)
    assert result.code == 2
    assert "Traceback" not in result.err


def test_gates_list(cli: CliRunner) -> None:
    result = cli("gates", "list")
    assert result.code == 0
    for name in ("lint", "compile", "coverage", "api_call", "secret_scan", "dast"):
        assert name in result.out
