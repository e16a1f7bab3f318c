"""Flyway: V scripts pair with U scripts by version; empty and stray undo scripts."""

from __future__ import annotations

from pathlib import Path

import pytest

from safeship.scanners.migrations import Framework, Level
from safeship.scanners.migrations.flyway import is_flyway_name, version_key

from .migration_files import check, rules, write

CREATE = "CREATE TABLE users (id int);\n"
DROP = "DROP TABLE users;\n"


def test_a_versioned_script_with_its_undo_passes(tmp_path: Path) -> None:
    report = check(write(tmp_path, {"db/migration/V1__users.sql": CREATE,
                                    "db/migration/U1__users.sql": DROP}))
    assert report.passed
    (migration,) = report.migrations
    assert migration.framework is Framework.FLYWAY
    assert (migration.name, migration.version, migration.description) == (
        "V1__users", "1", "users")
    assert migration.down is not None
    assert migration.down.file == "db/migration/U1__users.sql"


def test_a_versioned_script_without_undo_is_a_missing_rollback(tmp_path: Path) -> None:
    report = check(write(tmp_path, {"db/migration/V2__users.sql": CREATE}))
    assert rules(report) == [("missing_rollback", "db/migration/V2__users.sql", 1)]
    assert "U2__users.sql" in report.findings[0].message
    assert report.migrations[0].down is None


def test_an_undo_script_without_sql_is_an_empty_rollback(tmp_path: Path) -> None:
    report = check(write(tmp_path, {"db/migration/V3__users.sql": CREATE,
                                    "db/migration/U3__users.sql": "-- TODO\n\n"}))
    assert rules(report) == [("empty_rollback", "db/migration/U3__users.sql", 1)]


def test_the_undo_may_spell_the_version_differently(tmp_path: Path) -> None:
    report = check(write(tmp_path, {"sql/V1.1__users.sql": CREATE,
                                    "sql/U1_1__users_undo.sql": DROP,
                                    "sql/V2.0__more.sql": "SELECT 1;\n",
                                    "sql/U2__more.sql": "SELECT 1;\n"}))
    assert report.passed
    assert [m.version for m in report.migrations] == ["1.1", "2.0"]


def test_undo_scripts_pair_only_within_their_folder(tmp_path: Path) -> None:
    report = check(write(tmp_path, {"a/V1__x.sql": CREATE, "b/U1__x.sql": DROP}))
    assert rules(report, None) == [("missing_rollback", "a/V1__x.sql", 1),
                                   ("orphan_rollback", "b/U1__x.sql", 1)]


def test_a_stray_undo_is_a_warning_and_not_a_migration(tmp_path: Path) -> None:
    report = check(write(tmp_path, {"db/migration/U7__gone.sql": DROP}))
    (finding,) = report.findings
    assert (finding.rule.value, finding.level) == ("orphan_rollback", Level.WARNING)
    assert report.migrations == ()
    assert report.passed


def test_repeatable_scripts_need_no_undo_but_are_checked(tmp_path: Path) -> None:
    report = check(write(tmp_path, {"db/migration/R__views.sql":
                                    "CREATE OR REPLACE VIEW v AS SELECT 1;\nDROP TABLE t;\n"}))
    assert rules(report) == [("drop_table", "db/migration/R__views.sql", 2)]
    assert report.migrations[0].version == "repeatable"


def test_dangerous_sql_is_read_only_in_the_versioned_script(tmp_path: Path) -> None:
    report = check(write(tmp_path, {
        "db/migration/V4__drop.sql": "-- clean up\nALTER TABLE users DROP COLUMN nick;\n",
        "db/migration/U4__drop.sql": "ALTER TABLE users ADD COLUMN nick text;\nDROP TABLE x;\n",
    }))
    assert rules(report) == [("drop_column", "db/migration/V4__drop.sql", 2)]


def test_an_empty_versioned_script_may_have_an_empty_undo(tmp_path: Path) -> None:
    report = check(write(tmp_path, {"db/migration/V5__noop.sql": "-- nothing\n",
                                    "db/migration/U5__noop.sql": ""}))
    assert report.passed


@pytest.mark.parametrize(("name", "matches"), [
    ("V1__init.sql", True), ("V1.2.3__x.sql", True), ("V20240101_1__x.sql", True),
    ("U12__x.sql", True), ("R__views.sql", True), ("v1__lower.sql", False),
    ("V__noversion.sql", False), ("V1_x.sql", False), ("V1__x.txt", False),
])
def test_script_names(name: str, matches: bool) -> None:
    assert is_flyway_name(name) is matches


def test_version_keys_compare_as_flyway_does() -> None:
    assert version_key("1.1") == version_key("1_1") == version_key("1.01")
    assert version_key("2.0") == version_key("2")
    assert version_key("1.10") > version_key("1.9")
