"""The secret_scan gate through GateContext: verdicts, options, fail-closed, no leaks."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from safeship.errors import GateCannotRun
from safeship.gates.interface import GateContext
from safeship.gates.secret_scan import SKIPPED_RULE, SecretScanGate, SecretScanOptions
from safeship.model.enums import FailAction, Outcome, RiskLevel, RunStatus, Severity, Verdict
from safeship.model.results import GateCheck, GateResult, PipelineRun, StageResult
from safeship.report import render_json, render_plain, render_sarif
from safeship.scanners.secrets import ScanOptions, default_ruleset, render_baseline, scan_paths
from safeship.store.repository import StateStore
from tests.unit.scanners.secrets.corpus import Gen, checksummed

GUIDE_PATTERN = "(?i)(password|secret|key).*=.+"


def evaluate(root: Path, **options: object) -> GateCheck:
    gate = SecretScanGate(SecretScanOptions.model_validate(options))
    return gate.evaluate(GateContext(project_root=root))


@pytest.fixture
def gen() -> Gen:
    return Gen(99)


def test_class_facts() -> None:
    assert SecretScanGate.type_name == "secret_scan"
    assert SecretScanGate.default_action is FailAction.BLOCK
    assert SecretScanGate.options_model is SecretScanOptions
    assert SecretScanGate.checks


def test_clean_project_passes(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text('import os\n\nPASSWORD = os.environ["DB_PASSWORD"]\n')
    check = evaluate(tmp_path, pattern=GUIDE_PATTERN)
    assert check.verdict is Verdict.PASSED
    assert check.findings == ()
    assert check.metrics["files"] == 1
    assert "no secrets in 1 file" in check.summary


def test_secret_fails_with_location_and_redaction(tmp_path: Path, gen: Gen) -> None:
    token = checksummed("ghp_", gen)
    password = gen.password()
    (tmp_path / "deploy.env").write_text(f"GITHUB_TOKEN={token}\n")
    (tmp_path / "settings.py").write_text(f'DEBUG = False\ndb_password = "{password}"\n')
    check = evaluate(tmp_path, pattern=GUIDE_PATTERN)
    assert check.verdict is Verdict.FAILED
    rows = [(f.rule, f.path, f.line, f.severity) for f in check.findings]
    assert rows == [("github-pat", "deploy.env", 1, Severity.ERROR),
                    ("generic-password", "settings.py", 2, Severity.ERROR)]
    assert "found 2 secrets in 2 files" in check.summary
    text = repr(check)
    assert token not in text
    assert password not in text
    assert "ghp_****" in check.findings[0].message


def test_guide_pattern_finds_what_defaults_do_not(tmp_path: Path, gen: Gen) -> None:
    value = gen.b62(10) + "-" + gen.b62(10)
    (tmp_path / "app.cfg").write_text(f"signing_material={value}\n")
    assert evaluate(tmp_path).verdict is Verdict.PASSED
    check = evaluate(tmp_path, pattern=r"(?i)(material).*=.+")
    assert [f.rule for f in check.findings] == ["gates-pattern"]


def test_config_baseline_paths_and_exclude(tmp_path: Path, gen: Gen) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "tests").mkdir()
    (tmp_path / "src" / "a.env").write_text("TOKEN=" + checksummed("ghp_", gen) + "\n")
    (tmp_path / "tests" / "b.env").write_text("TOKEN=" + checksummed("ghp_", gen) + "\n")
    (tmp_path / "rules.toml").write_text(
        '[extend]\nuseDefault = true\n\n[[rules]]\nid = "acme"\nregex = "acme_[0-9]{12}"\n'
        'keywords = ["acme_"]\n')
    (tmp_path / "src" / "c.txt").write_text("x = acme_" + gen.digits(12) + "\n")
    accepted = scan_paths(tmp_path, default_ruleset(), ScanOptions(jobs=1),
                          targets=[Path("src/a.env")])
    (tmp_path / "baseline.json").write_text(render_baseline(accepted))
    check = evaluate(tmp_path, config="rules.toml", baseline="baseline.json", paths=["src"],
                     exclude=["*.md"])
    assert [(f.rule, f.path) for f in check.findings] == [("acme", "src/c.txt")]
    assert check.metrics["baselined"] == 1


def test_skipped_files_are_noted(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("hello\n")
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01")
    (tmp_path / "big.txt").write_text("x" * 200)
    check = evaluate(tmp_path, max_file_bytes=100)
    assert check.verdict is Verdict.PASSED
    notes = {(f.path, f.message) for f in check.findings if f.rule == SKIPPED_RULE}
    assert ("blob.bin", "not scanned: binary file") in notes
    assert all(f.severity is Severity.NOTE for f in check.findings)
    assert "2 not scanned" in check.summary


@pytest.mark.parametrize(("options", "message"), [
    ({"config": "missing.toml"}, "rule file not found"),
    ({"baseline": "missing.json"}, "baseline file not found"),
    ({"paths": ["nope"]}, "no such file"),
    ({"paths": ["../outside"]}, "outside the scanned tree"),
])
def test_fails_closed(tmp_path: Path, options: dict[str, object], message: str) -> None:
    (tmp_path / "a.txt").write_text("hello\n")
    (tmp_path.parent / "outside").mkdir(exist_ok=True)
    with pytest.raises(GateCannotRun) as caught:
        evaluate(tmp_path, **options)
    assert message in caught.value.message


def test_bad_rule_file_cannot_run(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("hello\n")
    (tmp_path / "rules.toml").write_text("[[rules]]\nid = 'x'\nregex = '(['\n")
    with pytest.raises(GateCannotRun) as caught:
        evaluate(tmp_path, config="rules.toml")
    assert "rules.toml:3" in caught.value.message


def test_empty_project_cannot_run(tmp_path: Path) -> None:
    with pytest.raises(GateCannotRun):
        evaluate(tmp_path)


@pytest.mark.parametrize("options", [
    {"pattern": "(unclosed"}, {"pattern": "  "}, {"max_file_bytes": 0}, {"paths": []},
    {"paths": [""]}, {"unknown": 1},
])
def test_invalid_options(options: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SecretScanOptions.model_validate(options)


def test_no_secret_reaches_reports_or_store(tmp_path: Path, gen: Gen) -> None:
    token = checksummed("ghp_", gen)
    password = gen.password()
    (tmp_path / "a.env").write_text(f"GITHUB_TOKEN={token}\nDB_PASSWORD={password}\n")
    check = evaluate(tmp_path)
    now = datetime.now(UTC)
    gate = GateResult("pre_commit", "secret_scan", "secret_scan", check.verdict, FailAction.BLOCK,
                      Outcome.BLOCKED, check.summary, check.findings, 0.1, check.metrics)
    run = PipelineRun("run-1", "shop", "c1", "ci", RiskLevel.HIGH, now, now, RunStatus.BLOCKED,
                      (StageResult("pre_commit", (gate,)),))
    for text in (render_json(run), render_sarif(run), render_plain(run)):
        assert token not in text
        assert password not in text
        assert "ghp_****" in text
    store = StateStore.open(None, tmp_path)
    try:
        store.save_run(run)
        assert len(store.get_run("run-1").gates[0].findings) == 2
    finally:
        store.close()
    database = next((tmp_path / ".safeship").glob("*.db"))
    raw = database.read_bytes()
    assert token.encode() not in raw
    assert password.encode() not in raw
    with sqlite3.connect(database) as connection:
        dump = "\n".join(connection.iterdump())
    assert token not in dump
    assert password not in dump
