"""``assess_repository`` on real repositories in temp folders: evidence, levels and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from safeship.assess import gates_evidence
from safeship.assess.collect import assess_repository
from safeship.assess.criteria import Criterion
from safeship.assess.delivery_evidence import service_facts
from safeship.assess.gates_evidence import gates_facts
from safeship.assess.levels import Assessment
from safeship.config.gates_file import GateSpec, PipelineSpec, StageSpec, parse_gates_document
from safeship.config.service_file import ServiceSpec
from safeship.config.yaml_source import parse_yaml
from safeship.errors import ConfigError, NotFound, UsageError
from safeship.gates.interface import GateOptions
from safeship.model.enums import FailAction, RiskLevel
from safeship.model.slo import RatioSli, SliKind, SloDefinition
from safeship.registry import GateOptionsResolver, UnavailableGateInfo
from tests.unit.assess.git_repo import GitRepo

GUIDE = Path(__file__).resolve().parents[2] / "data" / "guide"

HIGH_SERVICE = """\
apiVersion: safeship/v1
kind: Service
name: shop
risk: high
strategy:
  type: canary
target: {type: local, command: "python -m shop --port {port}"}
router: {type: embedded}
metrics: {type: builtin}
"""

EXTRA_GATES = """\
  - name: integration
    gates:
      - type: api_contract
        spec: api/openapi.yaml
        base: git:main:api/openapi.yaml
      - type: db_migration
  - name: security_dast
    gates:
      - type: dast
        target: http://127.0.0.1:8080
  - name: artifact
    gates:
      - type: signature
        artifact: dist/shop.tar.gz
        trusted_keys: [keys/ci.pub]
"""

WORKFLOW = "on: [push]\njobs:\n  g:\n    steps:\n      - run: safeship gates run\n"


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))


def progressive_repo(root: Path) -> GitRepo:
    """A high-risk service meeting every level-3 criterion, committed."""
    repo = GitRepo(root)
    repo.write(".pipeline/service.yaml", HIGH_SERVICE)
    repo.write(".pipeline/gates.yaml", (GUIDE / "gates.yaml").read_text() + EXTRA_GATES)
    repo.write(".pipeline/canary-analysis.yaml", (GUIDE / "canary-analysis.yaml").read_text())
    repo.write(".github/workflows/ci.yml", WORKFLOW)
    return repo.commit()


def by_id(assessment: Assessment) -> dict[str, Criterion]:
    """The assessment's criteria by id."""
    return {c.id: c for c in assessment.criteria}


def test_an_empty_folder_is_level_0_and_says_how_to_start(tmp_path: Path) -> None:
    GitRepo(tmp_path / "unused")  # skips the test without git
    empty = tmp_path / "empty"
    empty.mkdir()
    result = assess_repository(empty, read_history=False)
    assert result.level == 0
    assert result.evidence.service.present is False
    assert result.evidence.service.name == "empty"
    assert (result.goal.risk, result.goal.level) == (RiskLevel.MEDIUM, 2)
    assert not result.meets_goal
    assert not any(c.met for c in result.criteria)
    (first,) = result.next_level_missing
    assert first.id == "deploy_definition"
    assert "safeship init" in (first.action or "")
    assert not (empty / ".safeship").exists()


def test_a_progressive_repository_reaches_level_3(tmp_path: Path) -> None:
    repo = progressive_repo(tmp_path / "shop")
    result = assess_repository(repo.root)
    assert result.level == 3
    assert result.meets_goal  # high risk asks for level 3
    assert {c.id for c in result.next_level_missing} == {"slos", "zero_touch"}
    criteria = by_id(result)
    assert criteria["auto_rollback"].met
    assert criteria["slo_gate"].met  # the guide's pre_deploy_slo api_call gate
    evidence = result.evidence
    assert evidence.vcs.state_of(".pipeline/gates.yaml").in_history
    assert evidence.gates.blocking("db_migration") == ()  # needs an approval at high risk
    assert evidence.history.note.startswith("no state store")


def test_an_uncommitted_pipeline_drops_to_level_1(tmp_path: Path) -> None:
    repo = progressive_repo(tmp_path / "shop")
    repo.git("rm", "-q", "--cached", ".pipeline/gates.yaml")
    result = assess_repository(repo.root, read_history=False)
    assert result.level == 1
    (missing,) = result.next_level_missing
    assert missing.id == "version_control"
    assert ".pipeline/gates.yaml is untracked" in missing.evidence
    assert not result.meets_goal


def test_a_recreate_strategy_without_metrics_stops_at_level_2(tmp_path: Path) -> None:
    repo = progressive_repo(tmp_path / "shop")
    repo.write(".pipeline/service.yaml", HIGH_SERVICE.replace("type: canary", "type: recreate")
               .replace("metrics: {type: builtin}\n", "")).commit()
    result = assess_repository(repo.root, read_history=False)
    assert result.level == 2
    assert {c.id for c in result.next_level_missing} == {"progressive_strategy",
                                                         "metrics_provider"}


def test_the_service_file_can_live_elsewhere(tmp_path: Path) -> None:
    repo = progressive_repo(tmp_path / "shop")
    custom = repo.root / "deploy" / "prod.yaml"
    repo.write("deploy/prod.yaml", HIGH_SERVICE.replace("risk: high", "risk: critical")
               + "gates: ../.pipeline/gates.yaml\ncanary: ../.pipeline/canary-analysis.yaml\n")
    result = assess_repository(repo.root, service_file=custom, read_history=False)
    assert result.evidence.service.path == "deploy/prod.yaml"
    assert result.goal.level == 4
    assert result.evidence.gates.present
    versioned = by_id(result)["version_control"]
    assert not versioned.met
    assert "deploy/prod.yaml is untracked" in versioned.evidence


def test_invalid_files_are_reported_together_with_their_places(tmp_path: Path) -> None:
    root = tmp_path / "bad"
    (root / ".pipeline").mkdir(parents=True)
    (root / ".pipeline" / "service.yaml").write_text(
        "apiVersion: safeship/v1\nkind: Service\nname: shop\nrisk: extreme\n")
    (root / ".pipeline" / "gates.yaml").write_text(
        "version: 2\nstages:\n  - name: build\n    gates:\n      - type: compiel\n")
    (root / ".pipeline" / "canary-analysis.yaml").write_text("steps: [\n")
    with pytest.raises(ConfigError) as err:
        assess_repository(root, read_history=False)
    text = "\n".join(err.value.diagnostics())
    assert "service.yaml:4:7: risk" in text
    assert "gates.yaml:5:15: stages[0].gates[0].type: unknown gate type 'compiel'" in text
    assert "did you mean 'compile'" in text
    assert "canary-analysis.yaml:2:1: YAML syntax error" in text
    assert err.value.exit_code == 2


def test_bad_paths(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no such folder"):
        assess_repository(tmp_path / "nope")
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="is not a folder"):
        assess_repository(tmp_path / "file")
    with pytest.raises(NotFound, match="no such service file"):
        assess_repository(tmp_path, service_file=tmp_path / "missing.yaml")


def test_service_facts_keep_what_is_written_apart_from_defaults(tmp_path: Path) -> None:
    doc = parse_yaml("apiVersion: safeship/v1\nkind: Service\nname: shop\n", "s.yaml")
    slo = SloDefinition("availability", "shop", 0.999, 30 * 86400,
                        RatioSli(SliKind.BAD_TOTAL, "sum(errors)", "sum(requests)"))
    spec = ServiceSpec("s.yaml", "shop", RiskLevel.MEDIUM, tmp_path / "g", tmp_path / "c",
                       slos=(slo,))
    facts = service_facts(tmp_path, tmp_path / "s.yaml", spec, doc.data)
    assert (facts.strategy, facts.strategy_explicit, facts.risk_explicit) == ("canary", False,
                                                                             False)
    assert facts.slos == ("availability",)
    assert facts.target is None
    absent = service_facts(tmp_path, tmp_path / "s.yaml", None)
    assert (absent.present, absent.name, absent.strategy) == (False, tmp_path.name, None)


def test_gate_actions_follow_the_engines_risk_policy(tmp_path: Path) -> None:
    text = ("version: 2\nstages:\n  - name: unit_test\n    gates:\n      - type: coverage\n"
            "        on_fail: log\n      - type: lint\n        on_fail: warn\n")
    spec = PipelineSpec("g.yaml", 2, parse_gates(text).stages)
    low = gates_facts(tmp_path, tmp_path / "g.yaml", spec, RiskLevel.LOW)
    # coverage is mandatory at low risk: `on_fail: log` cannot weaken it. lint is not.
    assert [(g.type, g.action) for g in low.gates] == [("coverage", FailAction.FAIL),
                                                       ("lint", FailAction.WARN)]
    high = gates_facts(tmp_path, tmp_path / "g.yaml", spec, RiskLevel.HIGH)
    assert [g.action for g in high.gates] == [FailAction.FAIL, FailAction.BLOCK]


def test_a_gate_without_a_backend_never_counts(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gates_evidence, "UNAVAILABLE_GATES",
                        {"fuzz": UnavailableGateInfo(FailAction.WARN, "fuzzing")})
    gates = tuple(GateSpec("s", name, name, GateOptions(), None, None, ())
                  for name in ("fuzz", "mystery"))
    spec = PipelineSpec("g.yaml", 2, (StageSpec("s", gates),))
    facts = gates_facts(tmp_path, tmp_path / "g.yaml", spec, RiskLevel.MEDIUM)
    assert [(g.type, g.action, g.available) for g in facts.gates] == [
        ("fuzz", FailAction.WARN, False), ("mystery", FailAction.FAIL, False)]
    assert facts.types() == set()
    assert facts.blocking("mystery") == ()


def parse_gates(text: str) -> PipelineSpec:
    """A gates file's text, validated as ``safeship gates run`` validates it."""
    return parse_gates_document(parse_yaml(text, "g.yaml"), GateOptionsResolver())
