"""``safeship assess`` end to end: formats, exit codes, history, and this repository itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from safeship.cli import assess_cmd
from safeship.store.rollouts import RolloutStore
from safeship.store.urls import default_database_url
from tests.e2e.conftest import CliRunner
from tests.requirements import require_binary
from tests.unit.assess.git_repo import GitRepo
from tests.unit.assess.rollout_history import T0, record

REPOSITORY = Path(__file__).resolve().parents[2]
GOALS = {"low": 1, "medium": 2, "high": 3, "critical": 4}

LOW_SERVICE = """\
apiVersion: safeship/v1
kind: Service
name: shop
risk: low
target: {type: local, command: "python -m shop --port {port}"}
"""


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    require_binary("git", "assess reads the version-control state with git")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))


def scripted_service(root: Path, text: str = LOW_SERVICE) -> Path:
    """A folder with only a service file: a scripted (level 1) deployment."""
    (root / ".pipeline").mkdir(parents=True)
    (root / ".pipeline" / "service.yaml").write_text(text)
    return root


def criteria_by_id(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in data["criteria"]}


def test_a_goal_met_exits_0_and_json_has_the_documented_shape(cli: CliRunner,
                                                              tmp_path: Path) -> None:
    root = scripted_service(tmp_path / "shop")
    result = cli("assess", str(root), "--format", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert (data["level"], data["name"], data["goal"], data["meets_goal"], data["risk"]) == (
        1, "Scripted", 1, True, "low")
    assert len(data["criteria"]) == 13
    for criterion in data["criteria"]:
        assert set(criterion) == {"level", "id", "title", "met", "evidence", "action"}
        assert (criterion["action"] is None) == criterion["met"]
    assert [c["id"] for c in data["next_level_missing"]] == [
        "version_control", "test_gates", "ci", "one_command_deploy"]
    assert data["history"]["available"] is False
    assert "level 1 (Scripted) meets the goal" in result.err


def test_below_the_goal_exits_1_with_the_actions(cli: CliRunner, tmp_path: Path) -> None:
    root = scripted_service(tmp_path / "shop", LOW_SERVICE.replace("risk: low", "risk: high"))
    result = cli("assess", str(root))
    assert result.code == 1
    assert "level 1 (Scripted) BELOW the goal of level 3 (Progressive)" in result.out
    assert "to reach level 2 (CI/CD Pipeline):" in result.out
    assert "  - add `router: {type: embedded}` to .pipeline/service.yaml" in result.out
    assert "[missing] Pipeline and config are versioned:" in result.out


def test_a_repository_without_pipeline_is_level_0_not_an_error(cli: CliRunner,
                                                               tmp_path: Path) -> None:
    result = cli("assess", str(tmp_path), "--format", "json")
    assert result.code == 1
    data = json.loads(result.out)
    assert (data["level"], data["risk"], data["risk_source"], data["goal"]) == (
        0, "medium", "default", 2)
    assert "safeship init" in data["next_level_missing"][0]["action"]


def test_bad_input_exits_2_with_the_place(cli: CliRunner, tmp_path: Path) -> None:
    missing = cli("assess", str(tmp_path / "nope"))
    assert missing.code == 2
    assert "no such folder" in missing.err
    root = scripted_service(tmp_path / "shop", LOW_SERVICE.replace("name: shop", "name: [x]"))
    invalid = cli("assess", str(root))
    assert invalid.code == 2
    assert ".pipeline/service.yaml:3:7: name" in invalid.err
    assert cli("assess", str(root), "--service", str(tmp_path / "none.yaml")).code == 2
    assert cli("assess", str(root), "--format", "yaml").code == 2


def test_output_file_and_service_option(cli: CliRunner, tmp_path: Path) -> None:
    root = scripted_service(tmp_path / "shop")
    other = tmp_path / "critical.yaml"
    other.write_text(LOW_SERVICE.replace("risk: low", "risk: critical"))
    report = tmp_path / "out" / "assess.txt"
    result = cli("assess", str(root), "--service", str(other), "-o", str(report))
    assert result.code == 1
    assert result.out == ""
    assert f"report written to {report}" in result.err
    text = report.read_text()
    assert "service 'shop', risk critical" in text
    assert "BELOW the goal of level 4" in text


def test_the_rich_table_on_a_terminal(cli: CliRunner, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(assess_cmd, "is_interactive", lambda: True)
    result = cli("assess", str(scripted_service(tmp_path / "shop")))
    assert result.code == 0
    assert "deployment-pipeline maturity" in result.out
    assert "Deployment is scripted" in result.out
    assert "to reach level 2 (CI/CD Pipeline):" in result.out


def test_history_from_the_store_named_by_the_environment(cli: CliRunner, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    state = tmp_path / "state"
    with RolloutStore.open(None, state) as store:
        record(store, "r1", at=T0, decision="promoted")
        record(store, "r2", at=T0.replace(hour=13), decision="rolled_back",
               rollback={"verdict": {}}, rollback_seconds=0.25)
    monkeypatch.setenv("SAFESHIP_DATABASE_URL", default_database_url(state))
    root = scripted_service(tmp_path / "shop")
    data = json.loads(cli("assess", str(root), "--format", "json").out)
    history = data["history"]
    assert (history["releases"], history["promotions"], history["analysis_rollbacks"],
            history["median_rollback_seconds"]) == (2, 1, 1, 0.25)
    assert "too few to judge" in criteria_by_id(data)["zero_touch"]["evidence"]
    skipped = json.loads(cli("assess", str(root), "--format", "json", "--no-history").out)
    assert skipped["history"]["note"] == "not read (--no-history)"


def test_an_unreadable_store_exits_3(cli: CliRunner, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not sqlite " * 200)
    monkeypatch.setenv("SAFESHIP_DATABASE_URL", f"sqlite:///{garbage}")
    result = cli("assess", str(scripted_service(tmp_path / "shop")))
    assert result.code == 3
    assert "could not read the rollout history" in result.err


def test_an_untracked_pipeline_in_git_is_not_versioned(cli: CliRunner, tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "shop")
    scripted_service(repo.root)
    data = json.loads(cli("assess", str(repo.root), "--format", "json").out)
    versioned = criteria_by_id(data)["version_control"]
    assert not versioned["met"]
    assert ".pipeline/service.yaml is untracked" in versioned["evidence"]


CRITICAL_SERVICE = """\
apiVersion: safeship/v1
kind: Service
name: shop
risk: critical
strategy: {type: canary}
target: {type: local, command: "python -m shop --port {port}"}
router: {type: embedded}
metrics: {type: prometheus, url: "http://127.0.0.1:9090"}
slos:
  - name: availability
    objective: 99.9%
    good: sum(http_requests_total{job="shop",code!~"5.."})
    total: sum(http_requests_total{job="shop"})
"""

DAY_LONG_CANARY = """\
apiVersion: analysis/v1
kind: CanaryConfig
metadata: {name: shop-canary}
spec:
  steps:
    - {percentage: 1, duration: 1h}
    - {percentage: 10, duration: 11h}
    - {percentage: 50, duration: 12h}
  metrics:
    - name: error_rate
      query: sum(rate(http_requests_total{code=~"5.."}[2m])) / sum(rate(http_requests_total[2m]))
      threshold: {max_increase_ratio: 2.0}
  judge: {name: kayenta}
  rollback_on_failure: true
"""

ALL_GATES = """\
version: 2
stages:
  - name: pre_commit
    gates:
      - type: lint
      - type: secret_scan
  - name: build
    gates:
      - type: compile
      - type: sbom
  - name: unit_test
    gates:
      - type: coverage
  - name: integration
    gates:
      - type: api_contract
        spec: api/openapi.yaml
        base: git:main:api/openapi.yaml
      - type: db_migration
  - name: security
    gates:
      - type: cve_check
      - type: dast
        target: http://127.0.0.1:8080
      - type: signature
        artifact: dist/shop.tar.gz
        trusted_keys: [keys/ci.pub]
  - name: pre_deploy_slo
    gates:
      - type: slo_check
"""


def test_a_mission_critical_service_at_level_4(cli: CliRunner, tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "shop")
    repo.write(".pipeline/service.yaml", CRITICAL_SERVICE)
    repo.write(".pipeline/gates.yaml", ALL_GATES)
    repo.write(".pipeline/canary-analysis.yaml", DAY_LONG_CANARY)
    repo.write(".gitlab-ci.yml", "gates:\n  script:\n    - safeship gates run --risk critical\n")
    repo.commit()
    with RolloutStore.open(None, repo.root) as store:
        for index in range(4):
            record(store, f"r{index}", at=T0.replace(hour=index), decision="promoted")
        record(store, "r9", at=T0.replace(hour=9), decision="rolled_back",
               rollback={"verdict": {}}, rollback_seconds=0.3)
    result = cli("assess", str(repo.root), "--format", "json")
    data = json.loads(result.out)
    assert [c["id"] for c in data["criteria"] if not c["met"]] == []
    assert (data["level"], data["goal"], data["meets_goal"]) == (4, 4, True)
    assert result.code == 0
    assert data["next_level"] is None
    assert data["history"]["zero_touch"] == 5
    # One more release a person had to stop, and the share (5 of 7) falls below 80 %.
    with RolloutStore.open(None, repo.root) as store:
        record(store, "r10", at=T0.replace(hour=10), decision="aborted", commands=["abort"],
               rollback={"reached": 1})
        record(store, "r11", at=T0.replace(hour=11), decision="promoted", commands=["pause"])
    below = cli("assess", str(repo.root), "--format", "json")
    assert below.code == 1
    dropped = json.loads(below.out)
    assert dropped["level"] == 3
    assert [c["id"] for c in dropped["next_level_missing"]] == ["zero_touch"]
    assert "5 of 7 finished release(s)" in dropped["next_level_missing"][0]["evidence"]


def _yaml(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text()) if path.exists() else None


def test_this_repository_is_assessed_consistently_with_its_files(cli: CliRunner) -> None:
    result = cli("assess", str(REPOSITORY), "--format", "json", "--no-history")
    assert result.code in (0, 1), result.err
    data = json.loads(result.out)
    criteria = criteria_by_id(data)
    service = _yaml(REPOSITORY / ".pipeline" / "service.yaml") or {}
    gates = _yaml(REPOSITORY / ".pipeline" / "gates.yaml") or {}
    types = {g["type"] for stage in gates.get("stages", []) for g in stage.get("gates", [stage])}
    # The risk and the goal come from service.yaml; the exit code says whether it is met.
    risk = service.get("risk", "medium")
    assert (data["risk"], data["goal"]) == (risk, GOALS[risk])
    assert data["meets_goal"] == (data["level"] >= data["goal"])
    assert result.code == (0 if data["meets_goal"] else 1)
    # Each criterion agrees with what the files say.
    assert criteria["deploy_definition"]["met"] == ("target" in service or any(
        REPOSITORY.glob("scripts/deploy*")) or any(REPOSITORY.glob("deploy*")))
    assert criteria["one_command_deploy"]["met"] == ("target" in service and "router" in service)
    assert criteria["test_gates"]["met"] == ("coverage" in types and bool({"compile", "lint"}
                                                                         & types))
    assert criteria["metrics_provider"]["met"] == ("metrics" in service)
    assert criteria["slo_gate"]["met"] == bool({"slo_check", "api_call"} & types)
    assert criteria["ci"]["met"] == ("safeship gates run" in (REPOSITORY / "Makefile").read_text()
                                     and "make test" in (REPOSITORY / ".ci" / "run").read_text())
    # The level is the highest whose criteria (and all below) are met.
    level = 0
    for number in range(1, 5):
        if not all(c["met"] for c in data["criteria"] if c["level"] == number):
            break
        level = number
    assert data["level"] == level
    assert data["name"] == ["Manual", "Scripted", "CI/CD Pipeline", "Progressive",
                            "Safe & Autonomous"][level]
