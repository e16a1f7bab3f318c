"""The migration checker's vocabulary: frameworks, SQL dialects, migrations and findings.

A :class:`Migration` is one versioned schema change as its framework sees it (an Alembic
revision, a Flyway ``V`` script, a golang-migrate or dbmate pair, a Django migration) with the
places of its *up* and *down* halves. A :class:`MigrationFinding` is one thing a person must
look at, placed at a file and line, with the id of the rule that found it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from safeship.scanners.migrations.rules import Rule


class Framework(StrEnum):
    """Migration tools whose files are recognised."""

    ALEMBIC = "alembic"
    FLYWAY = "flyway"
    GOLANG_MIGRATE = "golang-migrate"
    DBMATE = "dbmate"
    DJANGO = "django"


class SqlDialect(StrEnum):
    """SQL dialects the dangerous-operation rules understand (names as sqlglot spells them)."""

    POSTGRES = "postgres"
    MYSQL = "mysql"
    SQLITE = "sqlite"


class Level(StrEnum):
    """How a finding counts: errors fail the check, warnings are shown, accepted are listed."""

    ERROR = "error"
    WARNING = "warning"
    ACCEPTED = "accepted"


class Scope(StrEnum):
    """Where an allow comment must sit to accept a finding."""

    STATEMENT = "statement"
    """On the statement's lines or in the comment block right above it."""
    MIGRATION = "migration"
    """Anywhere in a file of the migration (for findings about the migration as a whole)."""


@dataclass(frozen=True)
class Place:
    """A file (as shown to the user) and a 1-based line in it."""

    file: str
    line: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Migration:
    """One migration: its framework, identity and where its up and down halves are."""

    framework: Framework
    name: str
    """How people refer to it: a revision id, a file stem, ``app.0001_initial``."""
    version: str
    description: str
    up: Place
    down: Place | None
    """None when there is no rollback at all."""

    def to_json(self) -> dict[str, object]:
        """The JSON form used by ``safeship migrations check --format json``."""
        return {
            "framework": self.framework.value,
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "up": {"file": self.up.file, "line": self.up.line},
            "down": {"file": self.down.file, "line": self.down.line} if self.down else None,
        }


@dataclass(frozen=True)
class MigrationFinding:
    """One problem (or accepted risk) in one migration, placed at a file and line."""

    rule: Rule
    place: Place
    migration: str
    message: str
    level: Level = Level.ERROR
    scope: Scope = Scope.STATEMENT
    end_line: int | None = None
    """Last line of the statement the finding is about (allow comments on it count)."""
    start_line: int | None = None
    """First line of that statement when it starts before ``place.line`` (SQL inside a call)."""
    reason: str | None = None
    """Why a person accepted it (only for ``Level.ACCEPTED``)."""

    @property
    def blocks(self) -> bool:
        """True when this finding fails the check."""
        return self.level is Level.ERROR

    def accepted(self, reason: str) -> MigrationFinding:
        """This finding accepted by an allow comment giving ``reason``."""
        return replace(self, level=Level.ACCEPTED, reason=reason)

    def to_json(self) -> dict[str, object]:
        """The JSON form: id, level, file, line, migration, message (and reason if accepted)."""
        return {
            "id": self.rule.value,
            "level": self.level.value,
            "file": self.place.file,
            "line": self.place.line,
            "migration": self.migration,
            "message": self.message,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class AllowComment:
    """``-- safeship: allow RULE[,RULE] reason=...`` (or ``#`` in Python) at a line of a file."""

    file: str
    line: int
    rules: tuple[str, ...]
    reason: str
    block_end: int
    """Last line of the run of comment and blank lines the comment sits in."""


@dataclass(frozen=True)
class SqlHalves:
    """The SQL of a file-based migration, for the apply test; line numbers are the file's."""

    up: str
    up_file: str
    down: str | None
    down_file: str | None


@dataclass(frozen=True)
class MigrationScan:
    """What one framework reader found in one migration, before allow comments apply."""

    migration: Migration
    findings: tuple[MigrationFinding, ...] = ()
    schema_change: Place | None = None
    """The first statement that changes the schema (DDL), if any."""
    allows: tuple[AllowComment, ...] = field(default=())
    """The allow comments in the migration's files."""
    listed: bool = True
    """False for a stray rollback file: its findings count, but it is no migration to list."""
    sql: SqlHalves | None = None
    """The up and down SQL of a SQL-file migration (Flyway V/U, golang-migrate, dbmate)."""
