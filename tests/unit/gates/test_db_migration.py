"""The db_migration gate: options, verdicts at medium and high risk, findings, fail-closed cases."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from safeship.config.gates_file import load_gates_file
from safeship.errors import GateCannotRun
from safeship.gates.db_migration import DbMigrationGate, DbMigrationOptions
from safeship.gates.interface import GateContext
from safeship.model.enums import FailAction, RiskLevel, Severity, Verdict
from safeship.registry import GateOptionsResolver, build_gate

TESTS = Path(__file__).resolve().parents[2]
DATA = TESTS / "data" / "migrations"
REPO = TESTS.parent


def evaluate(root: Path, risk: RiskLevel = RiskLevel.MEDIUM, **options: Any) -> Any:
    gate = DbMigrationGate(DbMigrationOptions.model_validate(options))
    return gate.evaluate(GateContext(project_root=root, risk=risk))


def test_defaults_and_registration() -> None:
    assert DbMigrationGate.type_name == "db_migration"
    assert DbMigrationGate.default_action is FailAction.REQUIRE_APPROVAL
    options = DbMigrationOptions()
    assert (options.path, options.dialect, options.allow_empty) == (None, "postgres", False)
    assert isinstance(build_gate("db_migration", options), DbMigrationGate)


def test_options_from_gates_yaml(tmp_path: Path) -> None:
    gates = tmp_path / "gates.yaml"
    gates.write_text("version: 2\nstages:\n  - name: integration\n    gates:\n"
                     "      - type: db_migration\n        path: [db/migration, alembic]\n"
                     "        dialect: mysql\n        allow_empty: true\n")
    spec = load_gates_file(gates, GateOptionsResolver())
    options = spec.stages[0].gates[0].options
    assert isinstance(options, DbMigrationOptions)
    assert options.paths() == ["db/migration", "alembic"]
    assert (options.dialect, options.allow_empty) == ("mysql", True)


@pytest.mark.parametrize("raw", [
    {"dialect": "oracle"},
    {"path": []},
    {"path": ""},
    {"path": ["ok", " "]},
    {"allow_empty": "maybe"},
    {"paths": "db"},
])
def test_bad_options_are_refused(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        DbMigrationOptions.model_validate(raw)


def test_clean_migrations_pass_at_medium_risk() -> None:
    check = evaluate(DATA / "clean")
    assert check.verdict is Verdict.PASSED
    assert check.findings == ()
    assert check.summary.startswith("9 migrations")
    assert check.metrics["checked"] == 9
    assert check.metrics["passed"] is True


def test_clean_migrations_need_approval_at_high_risk() -> None:
    for risk in (RiskLevel.HIGH, RiskLevel.CRITICAL):
        check = evaluate(DATA / "clean", risk)
        assert check.verdict is Verdict.FAILED
        assert {f.rule for f in check.findings} == {"db_migration/schema_change_at_high_risk"}
        assert all("schema change at high risk needs approval" in f.message
                   for f in check.findings)


def test_unsafe_migrations_fail_with_placed_findings() -> None:
    check = evaluate(DATA / "unsafe")
    assert check.verdict is Verdict.FAILED
    by_rule = {}
    for finding in check.findings:
        by_rule.setdefault(finding.rule, finding)
    missing = by_rule["db_migration/missing_rollback"]
    assert missing.severity is Severity.ERROR
    assert (missing.path, missing.line) == ("alembic/versions/a1_no_downgrade.py", 10)
    index = by_rule["db_migration/create_index_not_concurrently"]
    assert "CONCURRENTLY (and outside a transaction)" in index.message
    assert by_rule["db_migration/orphan_rollback"].severity is Severity.WARNING
    assert check.metrics["errors"] == sum(f.severity is Severity.ERROR for f in check.findings)


def test_path_option_limits_the_check_and_dialect_matters(tmp_path: Path) -> None:
    shutil.copytree(DATA / "unsafe", tmp_path / "proj")
    check = evaluate(tmp_path / "proj", path="db/migration/V3__email_index.sql",
                     dialect="postgres")
    assert sorted(f.rule for f in check.findings) == [
        "db_migration/create_index_not_concurrently", "db_migration/empty_rollback"]
    mysql = evaluate(tmp_path / "proj", path=["db/migration/V3__email_index.sql"],
                     dialect="mysql")
    assert [f.rule for f in mysql.findings] == ["db_migration/empty_rollback"]


def test_accepted_findings_pass_and_are_listed(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "1_a.up.sql").write_text(
        "-- safeship: allow drop_table reason=replaced by view in v3\nDROP TABLE a;\n")
    (tmp_path / "m" / "1_a.down.sql").write_text("CREATE TABLE a (id int);\n")
    check = evaluate(tmp_path)
    assert check.verdict is Verdict.PASSED
    (finding,) = check.findings
    assert finding.severity is Severity.NOTE
    assert finding.message.endswith("[accepted: replaced by view in v3]")
    assert (finding.path, finding.line) == ("m/1_a.up.sql", 2)


def test_nothing_to_check_cannot_pass_unless_allowed(tmp_path: Path) -> None:
    with pytest.raises(GateCannotRun) as caught:
        evaluate(tmp_path)
    assert "no migrations found" in caught.value.message
    assert "allow_empty" in (caught.value.hint or "")
    check = evaluate(tmp_path, allow_empty=True)
    assert check.verdict is Verdict.PASSED
    assert "allow_empty" in check.summary


def test_a_path_that_does_not_exist_cannot_run(tmp_path: Path) -> None:
    with pytest.raises(GateCannotRun, match="does not exist"):
        evaluate(tmp_path, path="db/migration")


def test_the_repositorys_own_migrations() -> None:
    path = "src/safeship/store/migrations"
    medium = evaluate(REPO, path=path)
    assert medium.verdict is Verdict.PASSED, [f.message for f in medium.findings]
    assert medium.findings == ()
    high = evaluate(REPO, RiskLevel.HIGH, path=path)
    assert high.verdict is Verdict.FAILED


def test_apply_test_option(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "1_t.up.sql").write_text(
        "CREATE TABLE t (id int);\nCREATE INDEX i ON t (id);\n")
    (tmp_path / "m" / "1_t.down.sql").write_text("DROP INDEX i;\n")
    assert evaluate(tmp_path, dialect="sqlite").verdict is Verdict.PASSED
    check = evaluate(tmp_path, dialect="sqlite", apply_test=True)
    assert check.verdict is Verdict.FAILED
    (finding,) = check.findings
    assert finding.rule == "db_migration/apply_test_failed"
    assert "table t left behind" in finding.message
    assert check.metrics["apply_test"] is True
