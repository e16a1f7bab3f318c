"""``safeship migrations check`` end to end: exit codes, table and JSON output, and the gate in
``safeship gates run``.

The sub-apps are mounted on a local Typer app, so these tests do not depend on how
``cli/app.py`` registers them; errors still go through the real ``safeship.cli.app.run`` and its
exit-code mapping.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import typer

import safeship.cli.app as cli_app
from safeship.cli import gates_cmd, migrations_cmd
from tests.e2e.conftest import CliRunner, fix_lint

DATA = Path(__file__).resolve().parents[1] / "data" / "migrations"


@pytest.fixture(autouse=True)
def _local_app(monkeypatch: pytest.MonkeyPatch) -> None:
    local = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False,
                        add_completion=False)
    local.add_typer(migrations_cmd.app, name="migrations")
    local.add_typer(gates_cmd.app, name="gates")
    monkeypatch.setattr(cli_app, "app", local)


@pytest.fixture
def unsafe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the unsafe sample tree, as the current folder."""
    root = tmp_path / "unsafe"
    shutil.copytree(DATA / "unsafe", root)
    monkeypatch.chdir(root)
    return root


def test_clean_tree_exits_0(cli: CliRunner) -> None:
    result = cli("migrations", "check", str(DATA / "clean"))
    assert result.code == 0, result.out + result.err
    assert "9 migrations (2 alembic, 3 flyway, 1 golang-migrate, 1 dbmate, 2 django)" in (
        result.out)
    assert "no problem" in result.out
    assert "ERROR" not in result.out


def test_unsafe_tree_exits_1_and_lists_file_line_rule_and_advice(cli: CliRunner,
                                                                 unsafe: Path) -> None:
    result = cli("migrations", "check")
    assert result.code == 1
    lines = result.out.splitlines()
    assert ("ERROR    db/migration/V2__drop_email.sql:1  missing_rollback  V2__drop_email: "
            "V2__drop_email.sql has no undo script") in result.out
    [index] = [line for line in lines if "V3__email_index.sql:1  create_index_not_concurrently"
               in line]
    assert index.endswith("create the index with CONCURRENTLY (and outside a transaction) so "
                          "writes are not blocked")
    assert any(line.startswith("WARNING  db/migration/U7__orphan.sql:1  orphan_rollback")
               for line in lines)
    assert "alembic/versions/a2_pass_downgrade.py:16  empty_rollback" in result.out
    assert lines[-1].startswith("14 migrations")


def test_json_format(cli: CliRunner, unsafe: Path) -> None:
    result = cli("migrations", "check", ".", "--format", "json")
    assert result.code == 1
    document = json.loads(result.out)
    assert document["passed"] is False
    frameworks = {m["framework"] for m in document["migrations"]}
    assert frameworks == {"alembic", "flyway", "golang-migrate", "dbmate", "django"}
    flyway = {m["name"]: m for m in document["migrations"] if m["framework"] == "flyway"}
    assert flyway["V1__users"]["up"] == {"file": "db/migration/V1__users.sql", "line": 1}
    assert flyway["V1__users"]["down"] == {"file": "db/migration/U1__users.sql", "line": 1}
    assert flyway["V2__drop_email"]["down"] is None
    finding = next(f for f in document["findings"] if f["id"] == "unparseable_sql")
    assert finding == {
        "id": "unparseable_sql", "level": "error",
        "file": "db/migrations/20240103_broken.sql", "line": 4,
        "migration": "20240103_broken", "message": finding["message"], "reason": None}
    assert "review it by hand" in finding["message"]
    assert "summary" in document
    assert document["summary"] in result.err  # the summary also goes to stderr


def test_risk_high_needs_approval_for_any_schema_change(cli: CliRunner) -> None:
    result = cli("migrations", "check", str(DATA / "clean"), "--risk", "high", "-f", "json")
    assert result.code == 1
    ids = {f["id"] for f in json.loads(result.out)["findings"]}
    assert ids == {"schema_change_at_high_risk"}


def test_dialect_changes_the_postgres_only_rules(cli: CliRunner, unsafe: Path) -> None:
    target = "db/migration/V3__email_index.sql"
    postgres = json.loads(cli("migrations", "check", target, "-f", "json").out)
    mysql = json.loads(cli("migrations", "check", target, "-d", "mysql", "-f", "json").out)
    # The empty undo script beside it comes along.
    assert {f["id"] for f in postgres["findings"]} == {"empty_rollback",
                                                       "create_index_not_concurrently"}
    assert {f["id"] for f in mysql["findings"]} == {"empty_rollback"}
    assert mysql["dialect"] == "mysql"


def test_no_migrations_exits_0_with_a_note(cli: CliRunner, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("migrations", "check")
    assert result.code == 0
    assert "note: no migrations found under ." in result.out
    as_json = cli("migrations", "check", "--format", "json")
    assert as_json.code == 0
    assert json.loads(as_json.out)["migrations"] == []
    assert "no migrations found" in as_json.err


def test_output_file(cli: CliRunner, unsafe: Path, tmp_path: Path) -> None:
    out = tmp_path / "report" / "migrations.json"
    result = cli("migrations", "check", "-f", "json", "-o", str(out))
    assert result.code == 1
    assert result.out == ""
    assert json.loads(out.read_text())["passed"] is False


@pytest.mark.parametrize("args", [
    ["migrations", "check", "does/not/exist"],
    ["migrations", "check", "--dialect", "oracle"],
    ["migrations", "check", "--format", "yaml"],
    ["migrations", "check", "--risk", "extreme"],
])
def test_bad_input_exits_2_without_traceback(cli: CliRunner, args: list[str],
                                             tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli(*args)
    assert result.code == 2
    assert "Traceback" not in result.err
    if "does/not/exist" in args:
        assert "does/not/exist does not exist" in result.err


def test_not_a_migration_file_exits_2(cli: CliRunner, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    result = cli("migrations", "check", str(notes))
    assert result.code == 2
    assert "not a migration file" in result.err


def test_help_answers_the_question(cli: CliRunner) -> None:
    result = cli("migrations", "check", "--help")
    assert result.code == 0
    for text in ("rollback", "CONCURRENTLY", "safeship: allow", "--dialect", "--format",
                 "Exit codes"):
        assert text in result.out


GATE = """\
  - name: integration
    gates:
      - type: db_migration
"""


def test_gate_in_a_pipeline_run_waits_for_approval(cli: CliRunner, sample_repo: Path) -> None:
    fix_lint(sample_repo)
    gates = sample_repo / ".pipeline" / "gates.yaml"
    gates.write_text(gates.read_text() + GATE)
    # SQL migrations only: the sample's lint gate would read Python ones as its own code.
    shutil.copytree(DATA / "clean" / "db", sample_repo / "db")
    clean = cli("gates", "run", "-C", str(sample_repo), "--risk", "low", "--no-store",
                "--format", "json")
    assert clean.code == 0, clean.out + clean.err
    shutil.copytree(DATA / "unsafe" / "db" / "migration", sample_repo / "sql")
    pending = cli("gates", "run", "-C", str(sample_repo), "--risk", "low", "--no-store",
                  "--format", "json")
    assert pending.code == 4
    gate = json.loads(pending.out)["stages"][-1]["gates"][0]
    assert gate["outcome"] == "pending_approval"
    assert any(f["path"] == "sql/V2__drop_email.sql" and f["line"] == 2
               for f in gate["findings"])


def test_gate_with_nothing_to_check_is_an_error(cli: CliRunner, sample_repo: Path) -> None:
    fix_lint(sample_repo)
    gates = sample_repo / ".pipeline" / "gates.yaml"
    gates.write_text(gates.read_text() + GATE)
    result = cli("gates", "run", "-C", str(sample_repo), "--risk", "low", "--no-store",
                 "--format", "json")
    assert result.code == 3
    gate = json.loads(result.out)["stages"][-1]["gates"][0]
    assert gate["outcome"] == "error"
    assert "no migrations found" in gate["summary"]
    gates.write_text(gates.read_text() + "        allow_empty: true\n")
    allowed = cli("gates", "run", "-C", str(sample_repo), "--risk", "low", "--no-store")
    assert allowed.code == 0, allowed.out


def test_apply_test_and_accepted_findings_in_plain_lines(cli: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "1_t.up.sql").write_text(
        "CREATE TABLE t (id integer);\nCREATE INDEX ix_t ON t (id);\n"
        "-- safeship: allow delete_without_where reason=scratch table\nDELETE FROM scratch;\n")
    (folder / "1_t.down.sql").write_text("DROP TABLE t;\n")
    plain = cli("migrations", "check", str(folder), "-d", "sqlite")
    assert plain.code == 0, plain.out
    assert "ACCEPTED" in plain.out
    assert plain.out.splitlines()[0].endswith("[accepted: scratch table]")
    # DELETE on a table SQLite does not have fails the apply test at that statement.
    applied = cli("migrations", "check", str(folder), "-d", "sqlite", "--apply-test",
                  "-f", "json")
    assert applied.code == 1
    document = json.loads(applied.out)
    assert document["apply_test"] is True
    [failure] = [f for f in document["findings"] if f["id"] == "apply_test_failed"]
    assert (failure["line"], failure["file"].endswith("1_t.up.sql")) == (4, True)
    assert "no such table: scratch" in failure["message"]
    (folder / "1_t.up.sql").write_text("CREATE TABLE t (id integer);\n")
    assert cli("migrations", "check", str(folder), "-d", "sqlite", "--apply-test").code == 0


def test_terminal_output_is_a_rich_table(cli: CliRunner, unsafe: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(migrations_cmd, "is_interactive", lambda: True)
    result = cli("migrations", "check", "db/migration")
    assert result.code == 1
    assert "migrations" in result.out
    assert "findings" in result.out
    assert "V2__drop_email" in result.out
    assert "missing_rollback" in result.out
    assert "3 migrations (3 flyway)" in result.out
