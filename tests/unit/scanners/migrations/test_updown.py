"""golang-migrate up/down pairs and dbmate up/down sections."""

from __future__ import annotations

from pathlib import Path

from safeship.scanners.migrations import Framework, Level

from .migration_files import check, rules, write

UP = "CREATE TABLE items (id int);\nUPDATE stock SET n = 0;\n"
DOWN = "DROP TABLE items;\n"


def test_golang_migrate_pair_passes_apart_from_dangerous_up_sql(tmp_path: Path) -> None:
    report = check(write(tmp_path, {"migrations/000001_items.up.sql": UP,
                                    "migrations/000001_items.down.sql": DOWN}))
    assert rules(report) == [("update_without_where", "migrations/000001_items.up.sql", 2)]
    (migration,) = report.migrations
    assert migration.framework is Framework.GOLANG_MIGRATE
    assert (migration.name, migration.version, migration.description) == (
        "000001_items", "000001", "items")
    assert migration.down is not None
    assert migration.down.file == "migrations/000001_items.down.sql"


def test_golang_migrate_missing_down(tmp_path: Path) -> None:
    report = check(write(tmp_path, {"migrations/2_a.up.sql": "SELECT 1;\n"}))
    assert rules(report) == [("missing_rollback", "migrations/2_a.up.sql", 1)]
    assert "2_a.down.sql" in report.findings[0].message


def test_golang_migrate_empty_down(tmp_path: Path) -> None:
    report = check(write(tmp_path, {"migrations/3_a.up.sql": "SELECT 1;\n",
                                    "migrations/3_a.down.sql": "-- nothing\n"}))
    assert rules(report) == [("empty_rollback", "migrations/3_a.down.sql", 1)]


def test_golang_migrate_down_only_is_an_orphan_warning(tmp_path: Path) -> None:
    report = check(write(tmp_path, {"migrations/4_a.down.sql": DOWN}))
    assert rules(report, None) == [("orphan_rollback", "migrations/4_a.down.sql", 1)]
    assert report.findings[0].level is Level.WARNING
    assert report.migrations == ()


def test_golang_migrate_pairs_by_version_number(tmp_path: Path) -> None:
    report = check(write(tmp_path, {"m/0005_a.up.sql": "SELECT 1;\n",
                                    "m/5_a.down.sql": "SELECT 1;\n",
                                    "m/10_b.up.sql": "SELECT 1;\n",
                                    "m/10_b.down.sql": "SELECT 1;\n"}))
    assert report.passed
    assert [m.version for m in report.migrations] == ["0005", "10"]


def dbmate(tmp_path: Path, text: str) -> Path:
    return write(tmp_path, {"db/migrations/20240101093000_tags.sql": text})


FILE = "db/migrations/20240101093000_tags.sql"


def test_dbmate_with_both_sections_passes(tmp_path: Path) -> None:
    report = check(dbmate(tmp_path, """
        -- migrate:up transaction:false
        CREATE TABLE tags (id int);
        CREATE INDEX CONCURRENTLY ix_tags ON labels (id);

        -- migrate:down
        DROP TABLE tags;
    """))
    assert report.passed
    (migration,) = report.migrations
    assert migration.framework is Framework.DBMATE
    assert (migration.version, migration.description) == ("20240101093000", "tags")
    assert (migration.up.line, migration.down.line if migration.down else None) == (1, 5)


def test_dbmate_without_down_section(tmp_path: Path) -> None:
    report = check(dbmate(tmp_path, "-- migrate:up\nCREATE TABLE tags (id int);\n"))
    assert rules(report) == [("missing_rollback", FILE, 1)]
    assert report.migrations[0].down is None


def test_dbmate_with_empty_down_section(tmp_path: Path) -> None:
    report = check(dbmate(tmp_path, """
        -- migrate:up
        CREATE TABLE tags (id int);
        -- migrate:down
        -- nothing, sorry
    """))
    assert rules(report) == [("empty_rollback", FILE, 3)]


def test_dbmate_down_section_is_not_read_for_dangerous_operations(tmp_path: Path) -> None:
    report = check(dbmate(tmp_path, """
        -- migrate:up
        ALTER TABLE labels DROP COLUMN color;
        -- migrate:down
        ALTER TABLE labels ADD COLUMN color text;
        DROP TABLE labels;
        DELETE FROM labels;
    """))
    assert rules(report) == [("drop_column", FILE, 2)]


def test_dbmate_sections_in_either_order(tmp_path: Path) -> None:
    report = check(dbmate(tmp_path, """
        -- migrate:down
        DROP TABLE tags;
        -- migrate:up
        CREATE TABLE tags (id int);
        UPDATE labels SET n = 1;
    """))
    assert rules(report) == [("update_without_where", FILE, 5)]


def test_dbmate_statement_without_semicolon_ends_at_the_down_marker(tmp_path: Path) -> None:
    report = check(dbmate(tmp_path, """
        -- migrate:up
        DELETE FROM labels
        -- migrate:down
        DROP TABLE labels
    """))
    assert rules(report) == [("delete_without_where", FILE, 2)]


def test_plain_sql_files_are_not_migrations(tmp_path: Path) -> None:
    report = check(write(tmp_path, {"db/schema.sql": "DROP TABLE everything;\n",
                                    "queries/report.sql": "DELETE FROM x;\n"}))
    assert report.migrations == ()
    assert report.findings == ()
