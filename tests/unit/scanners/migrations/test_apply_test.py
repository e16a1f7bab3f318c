"""The apply test: up -> down -> up on an in-memory SQLite catches rollbacks that do not."""

from __future__ import annotations

from pathlib import Path

from safeship.scanners.migrations import Level, SqlDialect

from .migration_files import DATA, check, rules, write


def apply(root: Path, dialect: SqlDialect = SqlDialect.SQLITE) -> list[tuple[str, str, int]]:
    report = check(root, dialect=dialect, apply_test=True)
    assert report.applied
    return [r for r in rules(report) if r[0] == "apply_test_failed"]


def test_rollbacks_that_reverse_their_migration_pass(tmp_path: Path) -> None:
    write(tmp_path, {
        "m/1_users.up.sql": "CREATE TABLE users (id integer PRIMARY KEY, email text);\n"
                            "CREATE INDEX ix_users_email ON users (email);\n",
        "m/1_users.down.sql": "DROP INDEX ix_users_email;\nDROP TABLE users;\n",
        "m/2_nick.up.sql": "ALTER TABLE users ADD COLUMN nick text;\n"
                           "INSERT INTO users (id, email) VALUES (1, 'a@b');\n",
        "m/2_nick.down.sql": "DELETE FROM users WHERE id = 1;\n"
                             "ALTER TABLE users DROP COLUMN nick;\n",
    })
    assert apply(tmp_path) == []


def test_a_down_that_leaves_an_index_behind(tmp_path: Path) -> None:
    write(tmp_path, {
        "db/migration/V1__t.sql": "CREATE TABLE t (id integer);\n",
        "db/migration/U1__t.sql": "DROP TABLE t;\n",
        "db/migration/V2__ix.sql": "CREATE INDEX ix_t ON t (id);\nALTER TABLE t ADD x int;\n",
        "db/migration/U2__ix.sql": "-- forgot the index\nALTER TABLE t DROP COLUMN x;\n",
    })
    report = check(tmp_path, dialect=SqlDialect.SQLITE, apply_test=True)
    assert rules(report) == [("apply_test_failed", "db/migration/U2__ix.sql", 2)]
    message = report.findings[0].message
    assert "index ix_t left behind" in message
    assert "make the down script reverse every change" in message


def test_a_down_that_restores_a_column_differently(tmp_path: Path) -> None:
    write(tmp_path, {
        "m/1_t.up.sql": "CREATE TABLE t (id integer, name text NOT NULL DEFAULT 'x');\n",
        "m/1_t.down.sql": "DROP TABLE t;\n",
        "m/2_drop.up.sql": "ALTER TABLE t DROP COLUMN name;\n",
        "m/2_drop.down.sql": "ALTER TABLE t ADD COLUMN name text;\n",
    })
    (failure,) = apply(tmp_path)
    assert failure == ("apply_test_failed", "m/2_drop.down.sql", 1)
    report = check(tmp_path, dialect=SqlDialect.SQLITE, apply_test=True)
    message = next(f.message for f in report.findings if f.rule.value == "apply_test_failed")
    assert "table t is (id INTEGER, name TEXT)" in message
    assert "was (id INTEGER, name TEXT not null default 'x')" in message


def test_a_down_that_leaves_rows_makes_the_second_up_fail(tmp_path: Path) -> None:
    write(tmp_path, {
        "m/1_t.up.sql": "CREATE TABLE plans (id integer PRIMARY KEY);\n",
        "m/1_t.down.sql": "DROP TABLE plans;\n",
        "m/2_seed.up.sql": "-- seed\nINSERT INTO plans (id) VALUES (1);\n",
        "m/2_seed.down.sql": "SELECT 1;\n",
    })
    assert apply(tmp_path) == [("apply_test_failed", "m/2_seed.up.sql", 2)]


def test_failing_statements_are_placed_and_stop_the_folder(tmp_path: Path) -> None:
    write(tmp_path, {
        "m/1_a.up.sql": "CREATE TABLE a (id int);\n\nCREATE TABLE a (id int);\n",
        "m/1_a.down.sql": "DROP TABLE a;\n",
        "m/2_b.up.sql": "CREATE TABLE b (id int);\n",
        "m/2_b.down.sql": "DROP TABLE nope;\n",
        "other/1_c.up.sql": "CREATE TABLE c (id int);\n",
        "other/1_c.down.sql": "DROP TABLE nope;\n",
    })
    assert apply(tmp_path) == [("apply_test_failed", "m/1_a.up.sql", 3),
                               ("apply_test_failed", "other/1_c.down.sql", 1)]


def test_postgres_sql_is_translated_and_concurrently_dropped(tmp_path: Path) -> None:
    write(tmp_path, {
        "db/migrations/1_t.sql": "-- migrate:up\nCREATE TABLE t (id serial PRIMARY KEY, "
                                 "at timestamptz);\nCREATE INDEX CONCURRENTLY ix ON t (at);\n"
                                 "-- migrate:down\nDROP INDEX CONCURRENTLY ix;\nDROP TABLE t;\n",
    })
    assert apply(tmp_path, SqlDialect.POSTGRES) == []


def test_what_sqlite_cannot_run_fails_and_can_be_accepted(tmp_path: Path) -> None:
    write(tmp_path, {
        "m/1_t.up.sql": "CREATE TABLE t (id int);\n",
        "m/1_t.down.sql": "DROP TABLE t;\n",
        "m/2_t.up.sql": "-- safeship: allow apply_test_failed, change_column_type reason=PG only\n"
                        "ALTER TABLE t ALTER COLUMN id TYPE bigint;\n",
        "m/2_t.down.sql": "ALTER TABLE t ALTER COLUMN id TYPE int;\n",
    })
    report = check(tmp_path, apply_test=True)
    assert report.passed
    assert [(f.rule.value, f.level) for f in report.findings] == [
        ("apply_test_failed", Level.ACCEPTED), ("change_column_type", Level.ACCEPTED)]
    assert "SQLite could not run this up statement" in report.findings[0].message


def test_unsplittable_sql_and_missing_rollbacks(tmp_path: Path) -> None:
    write(tmp_path, {
        "m/1_t.up.sql": "CREATE TABLE t (id int);\n",
        "m/2_u.up.sql": "CREATE TABLE u (id int);\n",
        "m/2_u.down.sql": "DROP TABLE u;\nSELECT 'open;\n",
    })
    report = check(tmp_path, dialect=SqlDialect.SQLITE, apply_test=True)
    assert rules(report) == [("missing_rollback", "m/1_t.up.sql", 1),
                             ("apply_test_failed", "m/2_u.down.sql", 2)]
    assert "cannot be split into statements" in report.findings[1].message


def test_the_apply_test_is_off_unless_asked_for() -> None:
    report = check(DATA / "unsafe")
    assert not report.applied
    assert "apply_test_failed" not in {f.rule.value for f in report.findings}
    assert report.to_json()["apply_test"] is False
