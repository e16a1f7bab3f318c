"""Database-migration checks: rollback pairing per framework and dangerous operations in SQL.

:func:`check_migrations` finds the migrations under some paths (Alembic, Flyway,
golang-migrate, dbmate, Django), checks that each has a real rollback, reads the up direction
for dangerous operations (SQL through sqlglot, Alembic ``op.*`` and Django operations through
``ast``), applies the allow comments people wrote, and returns a :class:`MigrationReport`.
The rule ids are in :mod:`.rules`; user documentation is ``docs/db-migrations.md``.
"""

from __future__ import annotations

from safeship.scanners.migrations.check import MigrationReport, check_migrations
from safeship.scanners.migrations.model import (
    Framework,
    Level,
    Migration,
    MigrationFinding,
    Place,
    SqlDialect,
)
from safeship.scanners.migrations.rules import RULES, Rule

__all__ = [
    "RULES",
    "Framework",
    "Level",
    "Migration",
    "MigrationFinding",
    "MigrationReport",
    "Place",
    "Rule",
    "SqlDialect",
    "check_migrations",
]
