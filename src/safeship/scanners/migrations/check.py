"""``check_migrations``: find every migration under some paths, check it, and report.

The steps: :mod:`.discovery` lists candidate files; each framework reader (:mod:`.alembic`,
:mod:`.django`, :mod:`.flyway`, :mod:`.updown`) checks the rollback and the up direction; allow
comments (:mod:`.allow_comments`) mark what people accepted; at high or critical risk every
migration that changes the schema gets a ``schema_change_at_high_risk`` finding, which no
comment can accept: it needs an approval. The report passes when no finding is an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from safeship.model.enums import RiskLevel
from safeship.scanners.migrations.alembic import is_alembic_revision, read_alembic
from safeship.scanners.migrations.allow_comments import apply_allows, unused_allow_findings
from safeship.scanners.migrations.apply_test import run_apply_test
from safeship.scanners.migrations.discovery import find_candidates
from safeship.scanners.migrations.django import migration_class, read_django
from safeship.scanners.migrations.flyway import is_flyway_name, read_flyway
from safeship.scanners.migrations.model import (
    Framework,
    Level,
    Migration,
    MigrationFinding,
    MigrationScan,
    Place,
    SqlDialect,
)
from safeship.scanners.migrations.python_source import PythonSyntaxError, parse_module
from safeship.scanners.migrations.rules import ROLLBACK_RULES, Rule
from safeship.scanners.migrations.source_files import SourceFile, read_source
from safeship.scanners.migrations.updown import (
    is_dbmate,
    is_golang_migrate_name,
    read_dbmate,
    read_golang_migrate,
)

_LOOKS_ALEMBIC = re.compile(r"^revision\s*[:=]", re.MULTILINE)
_LOOKS_DJANGO = re.compile(r"^class\s+Migration\s*\(", re.MULTILINE)
_FRAMEWORK_ORDER = list(Framework)


@dataclass(frozen=True)
class MigrationReport:
    """Every migration found, every finding, and whether the check passed."""

    migrations: tuple[Migration, ...]
    findings: tuple[MigrationFinding, ...]
    dialect: SqlDialect
    risk: RiskLevel
    searched: tuple[str, ...]
    notes: tuple[str, ...] = ()
    applied: bool = False
    """True when the apply test ran."""

    @property
    def passed(self) -> bool:
        """True when no finding is an error (warnings and accepted findings do not fail)."""
        return not any(f.blocks for f in self.findings)

    def count(self, level: Level) -> int:
        """How many findings have ``level``."""
        return sum(1 for f in self.findings if f.level is level)

    def summary(self) -> str:
        """One line: what was checked and what it found."""
        if not self.migrations:
            return f"no migrations found under {', '.join(self.searched)}"
        frameworks = ", ".join(
            f"{sum(1 for m in self.migrations if m.framework is fw)} {fw.value}"
            for fw in Framework if any(m.framework is fw for m in self.migrations))
        errors = [f for f in self.findings if f.blocks]
        rollbacks = sum(1 for f in errors if f.rule in ROLLBACK_RULES)
        parts = [f"{len(self.migrations)} migration{'s' if len(self.migrations) != 1 else ''} "
                 f"({frameworks}), dialect {self.dialect.value}, risk {self.risk.value}"]
        if errors:
            parts.append(f"{len(errors)} problem{'s' if len(errors) != 1 else ''} "
                         f"({rollbacks} about rollbacks, {len(errors) - rollbacks} other)")
        else:
            parts.append("no problem")
        parts.extend(f"{self.count(level)} {level.value}"
                     for level in (Level.WARNING, Level.ACCEPTED) if self.count(level))
        return "; ".join(parts)

    def to_json(self) -> dict[str, object]:
        """The ``--format json`` document."""
        return {
            "migrations": [m.to_json() for m in self.migrations],
            "findings": [f.to_json() for f in self.findings],
            "passed": self.passed,
            "dialect": self.dialect.value,
            "risk": self.risk.value,
            "searched": list(self.searched),
            "apply_test": self.applied,
            "notes": list(self.notes),
            "summary": self.summary(),
        }


def check_migrations(paths: Sequence[Path], *, dialect: SqlDialect,
                     show: Callable[[Path], str], risk: RiskLevel = RiskLevel.MEDIUM,
                     apply_test: bool = False) -> MigrationReport:
    """Find and check the migrations under ``paths``; ``show`` names files in the report.

    ``apply_test`` also runs up -> down -> up of the SQL migrations on SQLite
    (:mod:`.apply_test`).

    Raises :class:`~safeship.errors.NotFound` or :class:`~safeship.errors.UsageError` for a
    path that does not exist or is not a migration file.
    """
    candidates = find_candidates(paths)
    scans: list[MigrationScan] = []
    for path in candidates.python:
        scan = _python(read_source(path, show(path)), dialect)
        if scan is not None:
            scans.append(scan)
    scans.extend(_sql(candidates.sql, show, dialect))
    applied = run_apply_test(scans, dialect) if apply_test else {}
    findings: list[MigrationFinding] = []
    for index, scan in enumerate(scans):
        if index in applied:
            scan = replace(scan, findings=(*scan.findings, applied[index]))
        findings.extend(_decided(scan))
        if risk.rank >= RiskLevel.HIGH.rank and scan.schema_change is not None:
            findings.append(_high_risk(scan.migration.name, scan.schema_change, risk))
    migrations = sorted((s.migration for s in scans if s.listed), key=_migration_order)
    findings.sort(key=lambda f: (f.place.file, f.place.line, f.rule.value))
    searched = tuple(show(p) for p in paths)
    notes = list(candidates.notes)
    if not migrations:
        notes.append(f"no migrations found under {', '.join(searched)} (looked for Alembic "
                     "revisions, Flyway V/U scripts, golang-migrate .up/.down.sql, dbmate "
                     "-- migrate:up files and Django migrations)")
    return MigrationReport(tuple(migrations), tuple(findings), dialect, risk, searched,
                           tuple(notes), apply_test)


def _python(source: SourceFile, dialect: SqlDialect) -> MigrationScan | None:
    stem = source.path.stem
    try:
        module = parse_module(source.text, source.shown)
    except PythonSyntaxError as exc:
        return _unparseable(source, exc)
    if is_alembic_revision(module):
        return read_alembic(module, source.text, source.shown, stem, dialect)
    cls = migration_class(module)
    if cls is not None:
        folder = source.path.parent
        app = folder.parent.name if folder.name == "migrations" else ""
        return read_django(module, cls, source.text, source.shown, app, stem, dialect)
    return None


def _unparseable(source: SourceFile, error: PythonSyntaxError) -> MigrationScan | None:
    if _LOOKS_ALEMBIC.search(source.text):
        framework = Framework.ALEMBIC
    elif _LOOKS_DJANGO.search(source.text):
        framework = Framework.DJANGO
    else:
        return None  # some other Python file that happens to sit in a migrations folder
    name = source.path.stem
    finding = MigrationFinding(
        Rule.UNPARSEABLE_PYTHON, Place(source.shown, error.line), name,
        f"this {framework.value} migration is not valid Python ({error.detail}), so neither "
        "its rollback nor its operations can be checked: fix it")
    migration = Migration(framework, name, name, name, Place(source.shown, 1), None)
    return MigrationScan(migration, (finding,))


def _sql(paths: Sequence[Path], show: Callable[[Path], str],
         dialect: SqlDialect) -> list[MigrationScan]:
    flyway: list[SourceFile] = []
    golang: list[SourceFile] = []
    scans: list[MigrationScan] = []
    for path in paths:
        source = read_source(path, show(path))
        if is_flyway_name(path.name):
            flyway.append(source)
        elif is_golang_migrate_name(path.name):
            golang.append(source)
        elif is_dbmate(source.text):
            scans.append(read_dbmate(source, dialect))
    scans.extend(read_flyway(flyway, dialect))
    scans.extend(read_golang_migrate(golang, dialect))
    return scans


def _decided(scan: MigrationScan) -> list[MigrationFinding]:
    """The scan's findings with allow comments applied, plus warnings for unused comments."""
    decided, used = apply_allows(scan.findings, scan.allows)
    return [*decided, *unused_allow_findings(scan.allows, used, scan.migration.name)]


def _high_risk(migration: str, place: Place, risk: RiskLevel) -> MigrationFinding:
    return MigrationFinding(
        Rule.SCHEMA_CHANGE_AT_HIGH_RISK, place, migration,
        f"schema change at high risk needs approval: {migration} changes the schema and the "
        f"change is rated {risk.value}; a person must approve it (`safeship approve`) before "
        "it ships")


def _migration_order(migration: Migration) -> tuple[int, str, list[int | str], str]:
    # Natural order of versions: 2 before 10, 1 before 1.1.
    version = [int(part) if part.isdigit() else part
               for part in re.split(r"(\d+)", migration.version)]
    return (_FRAMEWORK_ORDER.index(migration.framework), str(Path(migration.up.file).parent),
            version, migration.up.file)
