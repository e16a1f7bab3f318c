"""The up direction of a SQL migration file: its findings and its first schema change.

Shared by the file-based frameworks (Flyway, golang-migrate, dbmate). Only the up direction is
checked for dangerous operations: dropping a table in a down script is what rollbacks do.
"""

from __future__ import annotations

from dataclasses import dataclass

from safeship.scanners.migrations.hazards import without_new_tables
from safeship.scanners.migrations.model import MigrationFinding, Place, SqlDialect
from safeship.scanners.migrations.sql_operations import analyze_sql


@dataclass(frozen=True)
class UpDirection:
    """What the up SQL of one migration does."""

    findings: tuple[MigrationFinding, ...]
    schema_change: Place | None
    statements: int


def read_up(text: str, file: str, migration: str, dialect: SqlDialect) -> UpDirection:
    """Check ``text`` (whose lines are the file's lines) as the up direction of ``migration``."""
    facts = analyze_sql(text, dialect)
    findings = tuple(h.finding(file, migration)
                     for h in without_new_tables(facts.hazards, facts.created_tables))
    schema = Place(file, facts.schema_change_line) if facts.schema_change_line else None
    return UpDirection(findings, schema, facts.statements)


def only_lines(text: str, first: int, last: int) -> str:
    """``text`` with every line outside ``first..last`` (1-based) blanked, so that line numbers
    of what is left stay those of the file."""
    lines = text.splitlines(keepends=True)
    return "".join(line if first <= number <= last else "\n"
                   for number, line in enumerate(lines, start=1))
