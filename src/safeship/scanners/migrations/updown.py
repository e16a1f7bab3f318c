"""Up/down SQL migrations: golang-migrate file pairs and dbmate sections.

* golang-migrate: ``<version>_<title>.up.sql`` needs ``<version>_<title>.down.sql`` in the same
  folder (paired by version). A down file without SQL is ``empty_rollback``; a down file
  without its up file is an ``orphan_rollback`` warning.
* dbmate: one ``<version>_<name>.sql`` with a ``-- migrate:up`` section and a
  ``-- migrate:down`` section. No down section is ``missing_rollback``; a down section without
  SQL is ``empty_rollback``.

An empty rollback is fine when the up direction holds no SQL either (nothing to undo).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
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
from safeship.scanners.migrations.sql_migration import only_lines, read_up
from safeship.scanners.migrations.sql_statements import is_blank

_GOLANG = re.compile(r"^(?P<version>\d+)(?:_(?P<title>.*?))?\.(?P<direction>up|down)\.sql$")
_DBMATE_UP = re.compile(r"^[ \t]*--[ \t]*migrate:up\b", re.MULTILINE)
_DBMATE_DOWN = re.compile(r"^[ \t]*--[ \t]*migrate:down\b", re.MULTILINE)
_LEADING_NUMBER = re.compile(r"^(\d+)_?(.*)$")


def is_golang_migrate_name(name: str) -> bool:
    """True for ``<version>_<title>.up.sql`` / ``.down.sql``."""
    return _GOLANG.match(name) is not None


def golang_migrate_partners(path: Path) -> list[Path]:
    """The ``.down.sql`` beside an ``.up.sql`` of the same version, or the other way round."""
    match = _GOLANG.match(path.name)
    if match is None:
        return []
    other = "down" if match.group("direction") == "up" else "up"
    version = int(match.group("version"))
    found = []
    for sibling in sorted(path.parent.glob(f"*.{other}.sql")):
        partner = _GOLANG.match(sibling.name)
        if partner is not None and int(partner.group("version")) == version:
            found.append(sibling)
    return found


def is_dbmate(text: str) -> bool:
    """True when the SQL has dbmate's ``-- migrate:up`` marker."""
    return _DBMATE_UP.search(text) is not None


def read_golang_migrate(sources: Sequence[SourceFile],
                        dialect: SqlDialect) -> list[MigrationScan]:
    """Pair and check the golang-migrate files among ``sources``."""
    pairs: dict[tuple[Path, str], dict[str, SourceFile]] = defaultdict(dict)
    for source in sources:
        match = _GOLANG.match(source.path.name)
        if match is not None:
            key = (source.path.parent, str(int(match.group("version"))))
            pairs[key][match.group("direction")] = source
    return [_pair(files, dialect) for files in pairs.values()]


def _pair(files: dict[str, SourceFile], dialect: SqlDialect) -> MigrationScan:
    up, down = files.get("up"), files.get("down")
    if up is None:  # a pair is made from at least one file, so this is a lone down file
        return _orphan(down or next(iter(files.values())))
    name = up.path.name.removesuffix(".up.sql")
    match = _GOLANG.match(up.path.name)
    version = match.group("version") if match else name
    direction = read_up(up.text, up.shown, name, dialect)
    findings = list(direction.findings)
    if down is None:
        findings.append(MigrationFinding(
            Rule.MISSING_ROLLBACK, Place(up.shown), name,
            f"{up.path.name} has no {name}.down.sql: `migrate down` cannot undo it; add the "
            "down file with the statements that reverse it", scope=Scope.MIGRATION))
    elif direction.statements and is_blank(down.text, dialect):
        findings.append(MigrationFinding(
            Rule.EMPTY_ROLLBACK, Place(down.shown), name,
            f"{down.path.name} holds no SQL: write the statements that reverse {up.path.name}",
            scope=Scope.MIGRATION))
    allows, problems = read_allows(up.text, up.shown, name)
    if down is not None:
        down_allows, down_problems = read_allows(down.text, down.shown, name)
        allows.extend(down_allows)
        problems.extend(down_problems)
    title = (match.group("title") if match else None) or name
    migration = Migration(Framework.GOLANG_MIGRATE, name, version, title.replace("_", " "),
                          Place(up.shown), Place(down.shown) if down else None)
    halves = SqlHalves(up.text, up.shown, down.text if down else None,
                       down.shown if down else None)
    return MigrationScan(migration, (*findings, *problems), direction.schema_change,
                         tuple(allows), sql=halves)


def _orphan(down: SourceFile) -> MigrationScan:
    name = down.path.name.removesuffix(".down.sql")
    finding = MigrationFinding(
        Rule.ORPHAN_ROLLBACK, Place(down.shown), name,
        f"{down.path.name} has no {name}.up.sql beside it: a rollback without its migration",
        level=Level.WARNING, scope=Scope.MIGRATION)
    migration = Migration(Framework.GOLANG_MIGRATE, name, name, name, Place(down.shown),
                          Place(down.shown))
    return MigrationScan(migration, (finding,), listed=False)


def read_dbmate(source: SourceFile, dialect: SqlDialect) -> MigrationScan:
    """Check one dbmate migration file (it has a ``-- migrate:up`` marker)."""
    text = source.text
    name = source.path.name.removesuffix(".sql")
    number = _LEADING_NUMBER.match(name)
    version, description = (number.group(1), number.group(2) or name) if number else (name, name)
    up_marker = _line_of(_DBMATE_UP.search(text), text) or 1
    down_match = _DBMATE_DOWN.search(text)
    down_marker = _line_of(down_match, text)
    last_line = text.count("\n") + 1
    if down_marker is not None and down_marker > up_marker:
        up_text, down_text = (only_lines(text, up_marker + 1, down_marker - 1),
                              only_lines(text, down_marker + 1, last_line))
    elif down_marker is not None:  # down section written first
        next_up = up_marker - 1
        up_text = only_lines(text, up_marker + 1, last_line)
        down_text = only_lines(text, down_marker + 1, next_up)
    else:
        up_text, down_text = only_lines(text, up_marker + 1, last_line), ""
    direction = read_up(up_text, source.shown, name, dialect)
    findings = list(direction.findings)
    if down_marker is None:
        findings.append(MigrationFinding(
            Rule.MISSING_ROLLBACK, Place(source.shown, up_marker), name,
            f"{source.path.name} has no `-- migrate:down` section: `dbmate rollback` cannot "
            "undo it; add one with the statements that reverse the up section",
            scope=Scope.MIGRATION))
    elif direction.statements and is_blank(down_text, dialect):
        findings.append(MigrationFinding(
            Rule.EMPTY_ROLLBACK, Place(source.shown, down_marker), name,
            f"the `-- migrate:down` section of {source.path.name} holds no SQL: write the "
            "statements that reverse the up section", scope=Scope.MIGRATION))
    allows, problems = read_allows(text, source.shown, name)
    migration = Migration(
        Framework.DBMATE, name, version, description.replace("_", " "),
        Place(source.shown, up_marker),
        Place(source.shown, down_marker) if down_marker is not None else None)
    halves = SqlHalves(up_text, source.shown, down_text if down_marker is not None else None,
                       source.shown)
    return MigrationScan(migration, (*findings, *problems), direction.schema_change,
                         tuple(allows), sql=halves)


def _line_of(match: re.Match[str] | None, text: str) -> int | None:
    return text.count("\n", 0, match.start()) + 1 if match is not None else None
