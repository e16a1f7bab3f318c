"""Alembic revisions: the downgrade check and the op.* calls read from upgrade()."""

from __future__ import annotations

from pathlib import Path

import pytest

from safeship.model.enums import RiskLevel
from safeship.scanners.migrations import Framework, Level, SqlDialect

from .migration_files import REPO_MIGRATIONS, check, line_of, rule_ids, rules, write

HEAD = '''
"""A revision."""
import sqlalchemy as sa
from alembic import op

revision = "r1"
down_revision = None
'''

REAL_UPGRADE = '''

def upgrade():
    op.add_column("users", sa.Column("nick", sa.Text(), nullable=True))
'''

REAL_DOWNGRADE = '''

def downgrade():
    op.drop_column("users", "nick")
'''


FILE = "versions/r1_change.py"


def revision(tmp_path: Path, *parts: str) -> Path:
    return write(tmp_path, {FILE: "".join((HEAD, *parts))})


def at(tmp_path: Path, snippet: str, occurrence: int = 1) -> int:
    return line_of(tmp_path / FILE, snippet, occurrence)


def test_a_revision_with_a_real_downgrade_passes(tmp_path: Path) -> None:
    report = check(revision(tmp_path, REAL_UPGRADE + REAL_DOWNGRADE))
    assert report.passed
    (migration,) = report.migrations
    assert migration.framework is Framework.ALEMBIC
    assert (migration.name, migration.version, migration.description) == ("r1", "r1",
                                                                           "A revision.")
    assert migration.up.line == at(tmp_path, "def upgrade")
    assert migration.down is not None
    assert migration.down.line == at(tmp_path, "def downgrade")


def test_no_downgrade_is_a_missing_rollback(tmp_path: Path) -> None:
    report = check(revision(tmp_path, REAL_UPGRADE))
    assert rules(report) == [("missing_rollback", FILE, at(tmp_path, "def upgrade"))]
    assert report.migrations[0].down is None
    assert not report.passed


@pytest.mark.parametrize("body", [
    "    pass\n",
    '    """Nothing to undo."""\n',
    "    ...\n",
    '    """Doc."""\n    pass\n',
    '    raise NotImplementedError("cannot go back")\n',
    '    """Doc."""\n    raise RuntimeError\n',
])
def test_a_downgrade_that_does_nothing_is_an_empty_rollback(tmp_path: Path, body: str) -> None:
    report = check(revision(tmp_path, REAL_UPGRADE + "\n\ndef downgrade():\n" + body))
    assert rules(report) == [("empty_rollback", FILE, at(tmp_path, "def downgrade"))]


def test_merge_revisions_with_nothing_to_undo_pass(tmp_path: Path) -> None:
    body = "\n\ndef upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n"
    report = check(revision(tmp_path, body))
    assert report.passed
    assert report.findings == ()


def test_a_conditional_downgrade_counts_as_real(tmp_path: Path) -> None:
    body = REAL_UPGRADE + ("\n\ndef downgrade():\n    if True:\n        pass\n")
    assert check(revision(tmp_path, body)).passed


UPGRADE_OPS = '''
USERS = "users"


def upgrade():
    op.drop_column(USERS, "legacy")
    op.drop_table("sessions")
    op.rename_table("customers", "clients")
    op.alter_column(USERS, "mail", new_column_name="email")
    op.alter_column(USERS, "age", type_=sa.BigInteger())
    op.alter_column(USERS, "plan", nullable=False)
    op.add_column(USERS, sa.Column("tier", sa.Integer(), nullable=False))
    op.create_index("ix_users_tier", USERS, ["tier"])
    op.create_foreign_key("fk_plan", USERS, "plans", ["plan_id"], ["id"])
    op.execute("UPDATE users SET tier = 0")
    op.execute(sa.text("DELETE FROM audit"))
'''


def test_every_dangerous_op_call_is_found_at_its_line(tmp_path: Path) -> None:
    report = check(revision(tmp_path, UPGRADE_OPS, REAL_DOWNGRADE))
    assert [(rule, line) for rule, _, line in rules(report)] == [
        ("drop_column", at(tmp_path, "op.drop_column(USERS")),
        ("drop_table", at(tmp_path, "op.drop_table")),
        ("rename_table", at(tmp_path, "op.rename_table")),
        ("rename_column", at(tmp_path, "new_column_name")),
        ("change_column_type", at(tmp_path, "type_=")),
        ("set_not_null", at(tmp_path, "nullable=False)")),
        ("add_column_not_null", at(tmp_path, "op.add_column")),
        ("create_index_not_concurrently", at(tmp_path, "op.create_index")),
        ("foreign_key_without_not_valid", at(tmp_path, "op.create_foreign_key")),
        ("update_without_where", at(tmp_path, "UPDATE users")),
        ("delete_without_where", at(tmp_path, "DELETE FROM audit"))]
    messages = {f.rule.value: f.message for f in report.findings}
    assert "users.legacy" in messages["drop_column"]  # module constant resolved
    assert "sa.BigInteger()" in messages["change_column_type"]


def test_mysql_does_not_demand_concurrently_or_not_valid(tmp_path: Path) -> None:
    report = check(revision(tmp_path, UPGRADE_OPS, REAL_DOWNGRADE), dialect=SqlDialect.MYSQL)
    ids = rule_ids(report)
    assert "create_index_not_concurrently" not in ids
    assert "foreign_key_without_not_valid" not in ids
    assert "drop_column" in ids


SAFE_OPS = '''

def upgrade():
    op.create_table("plans", sa.Column("id", sa.Integer(), primary_key=True))
    op.create_index("ix_plans_id", "plans", ["id"])
    op.create_foreign_key("fk_plans_owner", "plans", "users", ["owner"], ["id"])
    op.add_column("users", sa.Column("tier", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("users", sa.Column("note", sa.Text()))
    op.add_column("users", sa.Column("n", sa.Integer(), sa.Identity(), nullable=False))
    op.alter_column("users", "plan", nullable=False, existing_nullable=False,
                    server_default="free")
    op.alter_column("users", "plan", nullable=True)
    with op.get_context().autocommit_block():
        op.create_index("ix_users_tier", "users", ["tier"], postgresql_concurrently=True)
    op.create_foreign_key("fk_plan", "users", "plans", ["plan_id"], ["id"],
                          postgresql_not_valid=True)
    op.execute("UPDATE users SET tier = 1 WHERE id < 100")
    op.bulk_insert(sa.table("plans"), [{"id": 1}])
'''


def test_safe_forms_of_the_same_ops_pass(tmp_path: Path) -> None:
    report = check(revision(tmp_path, SAFE_OPS, REAL_DOWNGRADE))
    assert report.findings == ()


def test_batch_ops_helpers_and_sql_in_strings(tmp_path: Path) -> None:
    body = '''
RENAME = "ALTER TABLE a RENAME COLUMN x TO y"


def upgrade():
    with op.batch_alter_table("events") as batch_op:
        batch_op.drop_column("payload")
        batch_op.create_index("ix_events_at", ["at"])
        batch_op.alter_column("kind", new_column_name="type")
    _cleanup()
    op.get_bind().execute(sa.text(RENAME))


def _cleanup():
    op.execute("""
        SELECT 1;
        DELETE FROM events;
    """)


def downgrade():
    _never_read()


def _never_read():
    op.drop_table("events")
'''
    report = check(revision(tmp_path, body))
    assert [(rule, line) for rule, _, line in rules(report)] == [
        ("drop_column", at(tmp_path, 'batch_op.drop_column("payload")')),
        ("create_index_not_concurrently", at(tmp_path, "batch_op.create_index")),
        ("rename_column", at(tmp_path, "batch_op.alter_column")),
        ("rename_column", at(tmp_path, "op.get_bind().execute")),  # constant: at the call
        ("delete_without_where", at(tmp_path, "DELETE FROM events"))]
    messages = [f.message for f in report.findings]
    assert "events.payload" in messages[0]
    assert "ix_events_at on events" in messages[1]


def test_sql_built_at_run_time_cannot_be_checked(tmp_path: Path) -> None:
    body = '''

def upgrade():
    table = "users"
    op.execute(f"DELETE FROM {table}")
'''
    report = check(revision(tmp_path, body, REAL_DOWNGRADE))
    (finding,) = report.findings
    assert (finding.rule.value, finding.place.line) == ("unparseable_sql",
                                                         at(tmp_path, "op.execute"))
    assert "built at run time" in finding.message


def test_unparseable_sql_in_execute_is_placed_at_its_line(tmp_path: Path) -> None:
    body = '''

def upgrade():
    op.execute("""
        SELECT 1;
        SELEC broken FROM;
    """)
'''
    report = check(revision(tmp_path, body, REAL_DOWNGRADE))
    assert rules(report) == [("unparseable_sql", FILE, at(tmp_path, "SELEC broken"))]


def test_allow_comments_in_python(tmp_path: Path) -> None:
    body = '''

def upgrade():
    # safeship: allow drop_column reason=column unused since v41 (OPS-12)
    op.drop_column("users", "legacy")
    op.drop_table("old")  # safeship: allow drop_table reason=empty since 2023
    op.execute("""
        -- safeship: allow update_without_where reason=ten-row table
        UPDATE flags SET enabled = false;
    """)
    # safeship: allow drop_column
    op.drop_column("users", "other")
'''
    report = check(revision(tmp_path, body))
    accepted = [(f.rule.value, f.place.line, f.reason) for f in report.findings
                if f.level is Level.ACCEPTED]
    assert accepted == [
        ("drop_column", at(tmp_path, '"legacy"'), "column unused since v41 (OPS-12)"),
        ("drop_table", at(tmp_path, "op.drop_table"), "empty since 2023"),
        ("update_without_where", at(tmp_path, "UPDATE flags"), "ten-row table"),
    ]
    assert rules(report) == [
        ("missing_rollback", FILE, at(tmp_path, "def upgrade")),
        ("invalid_allow", FILE, at(tmp_path, "# safeship: allow drop_column", 2)),
        ("drop_column", FILE, at(tmp_path, '"other"'))]


def test_a_missing_downgrade_can_be_accepted_anywhere_in_the_file(tmp_path: Path) -> None:
    body = REAL_UPGRADE + "\n# safeship: allow missing_rollback reason=data fix; restore " \
        "from backup\n"
    report = check(revision(tmp_path, body))
    assert report.passed
    (finding,) = report.findings
    assert finding.level is Level.ACCEPTED
    assert finding.reason == "data fix; restore from backup"


def test_an_allow_comment_above_execute_covers_its_sql(tmp_path: Path) -> None:
    body = '''

def upgrade():
    # safeship: allow delete_without_where reason=lookup table rebuilt below
    op.execute("""
        DELETE FROM countries;
    """)
'''
    report = check(revision(tmp_path, body, REAL_DOWNGRADE))
    assert report.passed
    assert [f.level for f in report.findings] == [Level.ACCEPTED]


def test_non_revision_python_files_are_ignored(tmp_path: Path) -> None:
    write(tmp_path, {"versions/helpers.py": "def upgrade():\n    pass\n",
                     "versions/env.py": "from alembic import context\n"})
    report = check(tmp_path)
    assert report.migrations == ()


def test_a_revision_that_is_not_valid_python_is_reported(tmp_path: Path) -> None:
    write(tmp_path, {"versions/r9_broken.py": 'revision = "r9"\ndef upgrade(:\n    pass\n'})
    report = check(tmp_path)
    assert rules(report) == [("unparseable_python", "versions/r9_broken.py", 2)]
    assert report.migrations[0].framework is Framework.ALEMBIC


def test_the_repositorys_own_migrations_pass_at_medium_risk() -> None:
    report = check(REPO_MIGRATIONS)
    assert len(report.migrations) >= 2
    assert {m.framework for m in report.migrations} == {Framework.ALEMBIC}
    assert all(m.down is not None for m in report.migrations)
    assert report.findings == ()
    assert report.passed


def test_the_repositorys_own_migrations_need_approval_at_high_risk() -> None:
    report = check(REPO_MIGRATIONS, risk=RiskLevel.HIGH)
    assert not report.passed
    assert set(rule_ids(report)) == {"schema_change_at_high_risk"}
    assert len(report.findings) == len(report.migrations)


def test_sqlalchemy_core_statements_are_judged_by_their_methods(tmp_path: Path) -> None:
    body = '''
accounts = sa.table("accounts", sa.column("id"), sa.column("plan"))


def upgrade():
    op.execute(accounts.update().values(plan="free"))
    op.execute(sa.table("sessions").delete())
    op.execute(accounts.update().where(accounts.c.id < 10).values(plan="pro"))
    op.execute(accounts.insert().values(id=1, plan="free"))
    op.get_bind().execute(sa.select(accounts))
    op.execute(make_statement())
    op.execute(sa.update(accounts).values(plan=None))
    op.execute(sa.delete(accounts).where(accounts.c.id == 1))
'''
    report = check(revision(tmp_path, body, REAL_DOWNGRADE))
    assert [(rule, line) for rule, _, line in rules(report)] == [
        ("update_without_where", at(tmp_path, 'values(plan="free"))')),
        ("delete_without_where", at(tmp_path, '"sessions"')),
        ("unparseable_sql", at(tmp_path, "make_statement")),
        ("update_without_where", at(tmp_path, "sa.update(accounts)")),
    ]
    assert "every row of accounts" in report.findings[0].message
    assert "every row of sessions" in report.findings[1].message
    assert "every row of accounts" in report.findings[3].message


def test_an_allow_comment_on_any_line_of_a_multi_line_call(tmp_path: Path) -> None:
    body = '''

def upgrade():
    op.drop_column(
        "users",
        "legacy",  # safeship: allow drop_column reason=unused since 2.0
    )
'''
    report = check(revision(tmp_path, body, REAL_DOWNGRADE))
    assert report.passed
    assert [f.level for f in report.findings] == [Level.ACCEPTED]
