"""Flyway SQL migrations: every ``V<version>__<desc>.sql`` needs its ``U<version>__<desc>.sql``.

Versions are compared as Flyway does: ``1.1``, ``1_1`` and ``1.01`` are the same version, so
the undo script may spell it differently; it must sit in the same folder. An undo script that
holds no SQL (only comments) is ``empty_rollback``; one without its versioned migration is an
``orphan_rollback`` warning. Repeatable ``R__`` scripts have no undo in Flyway: they are checked
for dangerous operations only.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from safeship.scanners.migrations.allow_comments import read_allows
from safeship.scanners.migrations.model import (
    Framework,
    Level,
    Migration,
    MigrationFinding,
    MigrationScan,
    Place,
    Scope,
    SqlDialect,
    SqlHalves,
)
from safeship.scanners.migrations.rules import Rule
from safeship.scanners.migrations.source_files import SourceFile
from safeship.scanners.migrations.sql_migration import read_up
from safeship.scanners.migrations.sql_statements import is_blank

_NAME = re.compile(
    r"^(?:(?P<kind>[VU])(?P<version>\d+(?:[._]\d+)*)|R)__(?P<description>.+)\.sql$")


@dataclass(frozen=True)
class _Script:
    source: SourceFile
    kind: str
    version: str
    key: tuple[int, ...]
    description: str

    @property
    def stem(self) -> str:
        return self.source.path.name.removesuffix(".sql")


def is_flyway_name(name: str) -> bool:
    """True for Flyway's ``V``/``U``/``R`` script names."""
    return _NAME.match(name) is not None


def flyway_partners(path: Path) -> list[Path]:
    """The undo scripts beside a ``V`` script (or the ``V`` scripts beside a ``U`` script)."""
    match = _NAME.match(path.name)
    if match is None or match.group("kind") is None:
        return []
    other = "U" if match.group("kind") == "V" else "V"
    key = version_key(match.group("version"))
    found = []
    for sibling in sorted(path.parent.glob(f"{other}*__*.sql")):
        partner = _NAME.match(sibling.name)
        if partner is not None and version_key(partner.group("version") or "0") == key:
            found.append(sibling)
    return found


def version_key(version: str) -> tuple[int, ...]:
    """A Flyway version as numbers, trailing zeros dropped (``1.0`` is ``1``)."""
    parts = [int(p) for p in re.split(r"[._]", version)]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def read_flyway(sources: Sequence[SourceFile], dialect: SqlDialect) -> list[MigrationScan]:
    """Pair and check the Flyway scripts among ``sources`` (other files are ignored)."""
    by_folder: dict[Path, list[_Script]] = defaultdict(list)
    for source in sources:
        match = _NAME.match(source.path.name)
        if match is None:
            continue
        kind, version = match.group("kind") or "R", match.group("version") or ""
        by_folder[source.path.parent].append(_Script(
            source, kind, version, version_key(version) if version else (),
            match.group("description").replace("_", " ")))
    scans: list[MigrationScan] = []
    for scripts in by_folder.values():
        scans.extend(_folder(scripts, dialect))
    return scans


def _folder(scripts: list[_Script], dialect: SqlDialect) -> list[MigrationScan]:
    undo = {s.key: s for s in scripts if s.kind == "U"}
    versioned = {s.key for s in scripts if s.kind == "V"}
    scans = [_migration(s, undo.get(s.key) if s.kind == "V" else None, dialect)
             for s in scripts if s.kind in ("V", "R")]
    scans.extend(_orphan(s) for s in scripts if s.kind == "U" and s.key not in versioned)
    return scans


def _migration(script: _Script, undo: _Script | None, dialect: SqlDialect) -> MigrationScan:
    source = script.source
    name = script.stem
    up = read_up(source.text, source.shown, name, dialect)
    findings = list(up.findings)
    if script.kind == "V" and undo is None:
        findings.append(MigrationFinding(
            Rule.MISSING_ROLLBACK, Place(source.shown), name,
            f"{source.path.name} has no undo script: add U{script.version}__"
            f"{source.path.name.split('__', 1)[1]} next to it with the statements that "
            "reverse it", scope=Scope.MIGRATION))
    elif undo is not None and up.statements and is_blank(undo.source.text, dialect):
        findings.append(MigrationFinding(
            Rule.EMPTY_ROLLBACK, Place(undo.source.shown), name,
            f"{undo.source.path.name} holds no SQL: write the statements that reverse "
            f"{source.path.name}", scope=Scope.MIGRATION))
    allows, problems = read_allows(source.text, source.shown, name)
    if undo is not None:
        undo_allows, undo_problems = read_allows(undo.source.text, undo.source.shown, name)
        allows.extend(undo_allows)
        problems.extend(undo_problems)
    migration = Migration(Framework.FLYWAY, name, script.version or "repeatable",
                          script.description, Place(source.shown),
                          Place(undo.source.shown) if undo else None)
    halves = SqlHalves(source.text, source.shown, undo.source.text if undo else None,
                       undo.source.shown if undo else None) if script.kind == "V" else None
    return MigrationScan(migration, (*findings, *problems), up.schema_change, tuple(allows),
                         sql=halves)


def _orphan(script: _Script) -> MigrationScan:
    source = script.source
    finding = MigrationFinding(
        Rule.ORPHAN_ROLLBACK, Place(source.shown), script.stem,
        f"{source.path.name} undoes version {script.version}, but there is no "
        f"V{script.version}__*.sql beside it: Flyway rejects an undo without its migration",
        level=Level.WARNING, scope=Scope.MIGRATION)
    migration = Migration(Framework.FLYWAY, script.stem, script.version, script.description,
                          Place(source.shown), Place(source.shown))
    return MigrationScan(migration, (finding,), listed=False)
