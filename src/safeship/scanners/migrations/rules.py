"""The rule ids of the migration checker, what each one means, and which can be accepted.

The ids are public: they appear in reports, in ``--format json``, in allow comments
(``-- safeship: allow drop_column reason=...``) and in ``docs/db-migrations.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Rule(StrEnum):
    """Every rule id the checker reports."""

    # rollbacks
    MISSING_ROLLBACK = "missing_rollback"
    EMPTY_ROLLBACK = "empty_rollback"
    IRREVERSIBLE_OPERATION = "irreversible_operation"
    ORPHAN_ROLLBACK = "orphan_rollback"
    # dangerous operations (up direction only)
    DROP_COLUMN = "drop_column"
    DROP_TABLE = "drop_table"
    RENAME_TABLE = "rename_table"
    RENAME_COLUMN = "rename_column"
    ADD_COLUMN_NOT_NULL = "add_column_not_null"
    SET_NOT_NULL = "set_not_null"
    CHANGE_COLUMN_TYPE = "change_column_type"
    CREATE_INDEX_NOT_CONCURRENTLY = "create_index_not_concurrently"
    FOREIGN_KEY_WITHOUT_NOT_VALID = "foreign_key_without_not_valid"
    UPDATE_WITHOUT_WHERE = "update_without_where"
    DELETE_WITHOUT_WHERE = "delete_without_where"
    # what could not be checked
    UNPARSEABLE_SQL = "unparseable_sql"
    UNPARSEABLE_PYTHON = "unparseable_python"
    # the optional apply test
    APPLY_TEST_FAILED = "apply_test_failed"
    # policy and hygiene
    SCHEMA_CHANGE_AT_HIGH_RISK = "schema_change_at_high_risk"
    INVALID_ALLOW = "invalid_allow"
    UNUSED_ALLOW = "unused_allow"


@dataclass(frozen=True)
class RuleInfo:
    """A rule's one-line description and whether an allow comment may accept it."""

    summary: str
    acceptable: bool = True


RULES: dict[Rule, RuleInfo] = {
    Rule.MISSING_ROLLBACK: RuleInfo(
        "no rollback: no downgrade(), no U<ver>__ undo script, no .down.sql, no "
        "-- migrate:down section"),
    Rule.EMPTY_ROLLBACK: RuleInfo(
        "the rollback exists but does nothing (pass, docstring, ..., only comments, only raise)"),
    Rule.IRREVERSIBLE_OPERATION: RuleInfo(
        "Django RunPython without reverse_code, or RunSQL without reverse_sql"),
    Rule.ORPHAN_ROLLBACK: RuleInfo("a rollback script without the migration it undoes (warning)"),
    Rule.DROP_COLUMN: RuleInfo("drops a column"),
    Rule.DROP_TABLE: RuleInfo("drops a table (or a schema)"),
    Rule.RENAME_TABLE: RuleInfo("renames a table"),
    Rule.RENAME_COLUMN: RuleInfo("renames a column"),
    Rule.ADD_COLUMN_NOT_NULL: RuleInfo("adds a NOT NULL column without a default"),
    Rule.SET_NOT_NULL: RuleInfo("makes an existing column NOT NULL"),
    Rule.CHANGE_COLUMN_TYPE: RuleInfo("changes a column's type"),
    Rule.CREATE_INDEX_NOT_CONCURRENTLY: RuleInfo(
        "creates an index without CONCURRENTLY (PostgreSQL only)"),
    Rule.FOREIGN_KEY_WITHOUT_NOT_VALID: RuleInfo(
        "adds a foreign key to an existing table without NOT VALID (PostgreSQL only)"),
    Rule.UPDATE_WITHOUT_WHERE: RuleInfo("UPDATE of every row (no WHERE)"),
    Rule.DELETE_WITHOUT_WHERE: RuleInfo("DELETE of every row (no WHERE), or TRUNCATE"),
    Rule.UNPARSEABLE_SQL: RuleInfo("SQL that could not be parsed: review by hand"),
    Rule.UNPARSEABLE_PYTHON: RuleInfo("a Python migration that could not be parsed"),
    Rule.APPLY_TEST_FAILED: RuleInfo(
        "up -> down -> up on SQLite failed, or down did not restore the schema (--apply-test)"),
    Rule.SCHEMA_CHANGE_AT_HIGH_RISK: RuleInfo(
        "a schema change at high or critical risk: needs a human approval", acceptable=False),
    Rule.INVALID_ALLOW: RuleInfo(
        "an allow comment without reason=..., or naming an unknown rule", acceptable=False),
    Rule.UNUSED_ALLOW: RuleInfo("an allow comment that accepted nothing (warning)",
                                acceptable=False),
}

WARNING_RULES = frozenset({Rule.ORPHAN_ROLLBACK, Rule.UNUSED_ALLOW})
"""Rules reported as warnings: shown, but they do not fail the check."""

ROLLBACK_RULES = frozenset({Rule.MISSING_ROLLBACK, Rule.EMPTY_ROLLBACK,
                            Rule.IRREVERSIBLE_OPERATION, Rule.APPLY_TEST_FAILED})
"""Rules about rollbacks (as opposed to dangerous operations)."""
