"""The apply test: up, down, up again for every SQL migration, on a throwaway SQLite database.

For each folder of SQL-file migrations (Flyway ``V``/``U``, golang-migrate, dbmate), in version
order, on one in-memory SQLite database: apply the migration's up SQL, then its down SQL, and
check that the schema is back to what it was; then apply the up SQL again, which fails when the
down left something behind (rows a unique key refuses twice, say). That shows the rollback
really reverses the migration, which reading the files alone cannot.

Statements are translated from the chosen dialect to SQLite by sqlglot (``CONCURRENTLY`` and
index null ordering, which do not change the schema, are dropped). SQL that SQLite cannot run
(``ALTER COLUMN ... TYPE``, ``ADD CONSTRAINT``...) fails the test at that statement: the test is
meant for SQL that SQLite understands. The first failure in a folder stops that folder (the
database is then in an unknown state). Alembic and Django migrations are Python and are not
applied.
"""

from __future__ import annotations

import re
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from contextlib import closing
from pathlib import PurePosixPath

from sqlglot import exp

from safeship.scanners.migrations.model import (
    MigrationFinding,
    MigrationScan,
    Place,
    SqlDialect,
    SqlHalves,
)
from safeship.scanners.migrations.rules import Rule
from safeship.scanners.migrations.sql_statements import (
    SqlTokenError,
    Statement,
    parse_statements,
)

_SCHEMA = ("SELECT type, name, tbl_name FROM sqlite_master "
           "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")
_COLUMNS = 'SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?) ORDER BY name'
_MAX_SHOWN = 5


class _Failure(Exception):
    def __init__(self, file: str, line: int, message: str) -> None:
        super().__init__(message)
        self.file = file
        self.line = line
        self.message = message


def run_apply_test(scans: Sequence[MigrationScan],
                   dialect: SqlDialect) -> dict[int, MigrationFinding]:
    """The apply-test failure of each folder, keyed by the index of the failing scan."""
    folders: dict[tuple[str, str], list[tuple[int, SqlHalves]]] = defaultdict(list)
    for index, scan in enumerate(scans):
        if scan.sql is not None and scan.listed:
            folder = str(PurePosixPath(scan.sql.up_file).parent)
            folders[(scan.migration.framework.value, folder)].append((index, scan.sql))
    failures: dict[int, MigrationFinding] = {}
    for members in folders.values():
        members.sort(key=lambda member: _natural(scans[member[0]].migration.version))
        with closing(sqlite3.connect(":memory:", isolation_level=None)) as connection:
            for index, sql in members:
                scan = scans[index]
                try:
                    _round_trip(connection, sql, dialect)
                except _Failure as failure:
                    failures[index] = MigrationFinding(
                        Rule.APPLY_TEST_FAILED, Place(failure.file, failure.line),
                        scan.migration.name, failure.message)
                    break
    return failures


def _round_trip(connection: sqlite3.Connection, sql: SqlHalves, dialect: SqlDialect) -> None:
    before = _schema(connection)
    _apply(connection, sql.up, sql.up_file, dialect, "up")
    if sql.down is None or sql.down_file is None:
        return  # no rollback: already reported as missing_rollback
    _apply(connection, sql.down, sql.down_file, dialect, "down")
    restored = _schema(connection)
    if restored != before:
        raise _Failure(sql.down_file, _first_line(sql.down),
                       "apply test: after up then down the schema is not what it was before "
                       f"up ({_difference(before, restored)}); make the down script reverse "
                       "every change of the up script")
    # Up again: a down that leaves rows behind (a seed row, say) makes this fail.
    _apply(connection, sql.up, sql.up_file, dialect, "up (again, after down)")


def _apply(connection: sqlite3.Connection, text: str, file: str, dialect: SqlDialect,
           direction: str) -> None:
    try:
        statements = parse_statements(text, dialect)
    except SqlTokenError as exc:
        raise _Failure(file, exc.line, f"apply test: the {direction} SQL cannot be split into "
                       f"statements ({exc.detail})") from exc
    for statement in statements:
        sql = _for_sqlite(statement)
        try:
            connection.execute(sql)
        except sqlite3.Error as exc:
            raise _Failure(
                file, statement.line,
                f"apply test: SQLite could not run this {direction} statement ({exc}): "
                f"{_short(sql)}; fix it, or if only SQLite lacks the feature, accept it with "
                "`-- safeship: allow apply_test_failed reason=...`") from exc


def _for_sqlite(statement: Statement) -> str:
    tree = statement.expression
    if tree is None or isinstance(tree, exp.Command):
        return statement.text
    tree = tree.copy()
    if isinstance(tree, exp.Create | exp.Drop):
        tree.set("concurrently", False)  # no effect on the schema; SQLite has no such thing
    for ordered in list(tree.find_all(exp.Ordered)):
        if isinstance(ordered.parent, exp.IndexParameters) and not ordered.args.get("desc"):
            ordered.replace(ordered.this)
    try:
        return tree.sql(dialect="sqlite")
    except Exception:  # an expression sqlglot cannot write for SQLite: run it as written
        return statement.text


def _schema(connection: sqlite3.Connection) -> dict[str, str]:
    objects: dict[str, str] = {}
    for kind, name, table in connection.execute(_SCHEMA).fetchall():
        if kind == "table":
            columns = connection.execute(_COLUMNS, (name,)).fetchall()
            objects[f"table {name}"] = ", ".join(
                f"{c[0]} {c[1]}{' not null' if c[2] else ''}"
                f"{f' default {c[3]}' if c[3] is not None else ''}{' pk' if c[4] else ''}"
                for c in columns)
        else:
            objects[f"{kind} {name}"] = f"on {table}"
    return objects


def _difference(expected: dict[str, str], actual: dict[str, str]) -> str:
    parts = [f"{key} left behind" for key in actual if key not in expected]
    parts += [f"{key} missing" for key in expected if key not in actual]
    parts += [f"{key} is ({actual[key]}), was ({expected[key]})"
              for key in expected if key in actual and actual[key] != expected[key]]
    shown = parts[:_MAX_SHOWN]
    if len(parts) > _MAX_SHOWN:
        shown.append(f"{len(parts) - _MAX_SHOWN} more")
    return "; ".join(shown)


def _first_line(text: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("--"):
            return number
    return 1


def _short(sql: str) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= 120 else flat[:117] + "..."


def _natural(version: str) -> list[int | str]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", version)]
