"""The whole check on the sample trees: verdicts, the JSON document, order, risk, the rule list."""

from __future__ import annotations

import json
from pathlib import Path

from safeship.model.enums import RiskLevel
from safeship.scanners.migrations import RULES, Framework, Level, Rule

from .migration_files import DATA, check, rule_ids

DOCS = Path(__file__).resolve().parents[4] / "docs" / "db-migrations.md"


def test_the_clean_tree_passes_with_every_framework() -> None:
    report = check(DATA / "clean")
    assert report.passed
    assert report.findings == ()
    assert {m.framework for m in report.migrations} == set(Framework)
    assert all(m.down is not None for m in report.migrations)
    assert report.summary().startswith(f"{len(report.migrations)} migrations (2 alembic, "
                                       "3 flyway, 1 golang-migrate, 1 dbmate, 2 django)")


def test_migrations_are_listed_in_framework_and_version_order() -> None:
    report = check(DATA / "clean")
    flyway = [m.version for m in report.migrations if m.framework is Framework.FLYWAY]
    assert flyway == ["1", "1.1", "2"]
    frameworks = [m.framework for m in report.migrations]
    assert frameworks == sorted(frameworks, key=list(Framework).index)


def test_the_unsafe_tree_fails_with_every_rule_family() -> None:
    report = check(DATA / "unsafe")
    assert not report.passed
    ids = set(rule_ids(report))
    assert {"missing_rollback", "empty_rollback", "irreversible_operation", "drop_column",
            "drop_table", "rename_table", "rename_column", "add_column_not_null",
            "set_not_null", "change_column_type", "create_index_not_concurrently",
            "foreign_key_without_not_valid", "update_without_where", "delete_without_where",
            "unparseable_sql"} <= ids
    assert rule_ids(report, Level.WARNING) == ["orphan_rollback"]
    places = [(f.place.file, f.place.line) for f in report.findings]
    assert places == sorted(places)


def test_json_document_shape() -> None:
    report = check(DATA / "unsafe")
    document = json.loads(json.dumps(report.to_json()))
    assert set(document) >= {"migrations", "findings", "passed"}
    assert document["passed"] is False
    for migration in document["migrations"]:
        assert set(migration) == {"framework", "name", "version", "description", "up", "down"}
        assert set(migration["up"]) == {"file", "line"}
        assert migration["down"] is None or set(migration["down"]) == {"file", "line"}
    for finding in document["findings"]:
        assert set(finding) == {"id", "level", "file", "line", "migration", "message", "reason"}
        assert finding["level"] in {"error", "warning", "accepted"}
        assert isinstance(finding["line"], int)
        assert finding["line"] >= 1
        assert finding["message"]
    names = {m["name"] for m in document["migrations"]}
    assert {f["migration"] for f in document["findings"]} - names == {"U7__orphan"}


def test_high_risk_adds_one_approval_finding_per_schema_changing_migration() -> None:
    medium = check(DATA / "clean")
    high = check(DATA / "clean", risk=RiskLevel.HIGH)
    assert medium.passed
    assert not high.passed
    approvals = [f for f in high.findings if f.rule is Rule.SCHEMA_CHANGE_AT_HIGH_RISK]
    # Every migration of the clean tree changes the schema (the Django backfill adds fields).
    assert sorted(f.migration for f in approvals) == sorted(m.name for m in high.migrations)
    assert all("schema change at high risk needs approval" in f.message for f in approvals)
    assert high.risk is RiskLevel.HIGH
    assert high.to_json()["risk"] == "high"


def test_data_only_migration_needs_no_approval_at_high_risk(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "1_fill.up.sql").write_text(
        "INSERT INTO plans VALUES (1);\nUPDATE t SET a = 1 WHERE id = 2;\n")
    (tmp_path / "m" / "1_fill.down.sql").write_text("DELETE FROM plans WHERE id = 1;\n")
    assert check(tmp_path, risk=RiskLevel.CRITICAL).passed


def test_nothing_found_is_reported_as_a_note(tmp_path: Path) -> None:
    report = check(tmp_path)
    assert report.migrations == ()
    assert report.passed  # the CLI's view; the gate refuses to pass on nothing
    assert report.summary() == "no migrations found under ."
    assert "no migrations found" in report.notes[-1]


def test_every_rule_is_described_and_documented() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for rule in Rule:
        assert RULES[rule].summary
        assert f"`{rule.value}`" in docs, f"{rule.value} missing from {DOCS.name}"
