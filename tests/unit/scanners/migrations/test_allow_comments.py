"""Allow comments: a reason is required, placement decides what they cover, leftovers warn."""

from __future__ import annotations

from pathlib import Path

import pytest

from safeship.model.enums import RiskLevel
from safeship.scanners.migrations import Level
from safeship.scanners.migrations.allow_comments import read_allows

from .migration_files import check, rules, write

V1 = "db/migration/V1__cleanup.sql"


def flyway(tmp_path: Path, up: str, undo: str | None = "SELECT 1;\n") -> Path:
    files = {V1: up}
    if undo is not None:
        files["db/migration/U1__cleanup.sql"] = undo
    return write(tmp_path, files)


def test_comment_above_the_statement_accepts_it_and_keeps_it_listed(tmp_path: Path) -> None:
    report = check(flyway(tmp_path, """
        -- safeship: allow drop_table reason=sessions moved to redis in v40 (OPS-12)
        -- (a second comment line between is fine)

        DROP TABLE sessions;
    """))
    assert report.passed
    (finding,) = report.findings
    assert (finding.rule.value, finding.level, finding.place.line) == ("drop_table",
                                                                       Level.ACCEPTED, 4)
    assert finding.reason == "sessions moved to redis in v40 (OPS-12)"
    assert finding.to_json()["level"] == "accepted"
    assert finding.to_json()["reason"] == finding.reason


def test_trailing_comment_on_the_statement_line_and_several_rules(tmp_path: Path) -> None:
    report = check(flyway(tmp_path, (
        "ALTER TABLE users DROP COLUMN a, RENAME TO people; "
        '-- safeship: allow drop_column, rename_table reason="both agreed"\n'
        "DELETE FROM logs;\n")))
    assert [(f.rule.value, f.level) for f in report.findings] == [
        ("drop_column", Level.ACCEPTED), ("rename_table", Level.ACCEPTED),
        ("delete_without_where", Level.ERROR)]
    assert report.findings[0].reason == "both agreed"


def test_a_comment_does_not_reach_past_the_next_statement(tmp_path: Path) -> None:
    report = check(flyway(tmp_path, """
        -- safeship: allow drop_table reason=only the first one
        DROP TABLE a;
        DROP TABLE b;
    """))
    assert [(f.place.line, f.level) for f in report.findings] == [(2, Level.ACCEPTED),
                                                                   (3, Level.ERROR)]


def test_a_comment_for_another_rule_accepts_nothing_and_warns(tmp_path: Path) -> None:
    report = check(flyway(tmp_path, """
        -- safeship: allow drop_column reason=wrong rule
        DROP TABLE a;
    """))
    assert rules(report, None) == [("unused_allow", V1, 1), ("drop_table", V1, 2)]
    assert report.findings[0].level is Level.WARNING
    assert not report.passed


@pytest.mark.parametrize(("comment", "problem"), [
    ("-- safeship: allow drop_table", "has no reason"),
    ("-- safeship: allow drop_table reason=", "has no reason"),
    ("-- safeship: allow drop_table reason=  \"\"", "has no reason"),
    ("-- safeship: allow reason=because", "names no rule"),
    ("-- safeship: allow drop_tabel reason=typo", "unknown rule(s) drop_tabel"),
    ("-- safeship: allow schema_change_at_high_risk reason=no", "needs an approval"),
])
def test_malformed_comments_are_findings_and_accept_nothing(tmp_path: Path, comment: str,
                                                            problem: str) -> None:
    report = check(flyway(tmp_path, f"{comment}\nDROP TABLE a;\n"))
    assert rules(report) == [("invalid_allow", V1, 1), ("drop_table", V1, 2)]
    assert problem in report.findings[0].message


def test_migration_level_findings_accept_a_comment_anywhere_in_its_files(
        tmp_path: Path) -> None:
    report = check(flyway(tmp_path, """
        CREATE TABLE audit (id int);
        INSERT INTO audit VALUES (1);
        -- safeship: allow missing_rollback reason=append-only audit table, never rolled back
    """, undo=None))
    assert report.passed
    assert [(f.rule.value, f.level) for f in report.findings] == [
        ("missing_rollback", Level.ACCEPTED)]


def test_an_empty_down_file_can_carry_the_comment(tmp_path: Path) -> None:
    report = check(write(tmp_path, {
        "m/1_a.up.sql": "CREATE TABLE a (id int);\n",
        "m/1_a.down.sql": "-- safeship: allow empty_rollback reason=table kept on rollback\n",
    }))
    assert report.passed
    assert [f.level for f in report.findings] == [Level.ACCEPTED]


def test_high_risk_approval_cannot_be_waived_by_a_comment(tmp_path: Path) -> None:
    report = check(flyway(tmp_path, """
        -- safeship: allow drop_table reason=agreed
        DROP TABLE a;
    """), risk=RiskLevel.CRITICAL)
    assert [(f.rule.value, f.level) for f in report.findings] == [
        ("drop_table", Level.ACCEPTED), ("schema_change_at_high_risk", Level.ERROR)]
    assert "rated critical" in report.findings[1].message


def test_read_allows_records_block_ends() -> None:
    text = "-- safeship: allow drop_table reason=a\n--\n\nX;\nY; -- safeship: allow drop_table " \
        "reason=b\n"
    allows, problems = read_allows(text, "f.sql", "m")
    assert problems == []
    assert [(a.line, a.block_end, a.rules, a.reason) for a in allows] == [
        (1, 3, ("drop_table",), "a"), (5, 4, ("drop_table",), "b")]
