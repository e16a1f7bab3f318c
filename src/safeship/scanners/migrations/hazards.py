"""Dangerous operations found in a migration's up direction, and what to do about each one.

Every reader (SQL through sqlglot, Alembic ``op.*`` calls, Django operations) reports a
:class:`Hazard` built by one of the functions here, so the same rule always says the same
actionable thing whichever framework it came from.

Operations on a table created earlier in the same migration are exempt
(:func:`without_new_tables`): a new table is empty and no running code depends on it, so
indexing it without ``CONCURRENTLY`` or adding a foreign key to it blocks nobody.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from safeship.scanners.migrations.model import MigrationFinding, Place, SqlDialect
from safeship.scanners.migrations.rules import Rule

UNKNOWN = "?"
"""Shown for a name the reader could not work out (a computed string, say)."""


@dataclass(frozen=True)
class Hazard:
    """One dangerous operation at a line (span) of a file."""

    rule: Rule
    line: int
    message: str
    end_line: int | None = None
    table: str | None = None
    """The table it acts on, when the exemption for new tables may apply."""
    start_line: int | None = None
    """Where the enclosing statement starts, when before ``line`` (SQL inside a Python call)."""

    def finding(self, file: str, migration: str) -> MigrationFinding:
        """This hazard as a finding of ``migration`` in ``file``."""
        return MigrationFinding(self.rule, Place(file, self.line), migration, self.message,
                                end_line=self.end_line, start_line=self.start_line)


def table_key(name: str) -> str:
    """How tables are compared: the last part of a dotted name, unquoted, lower-cased."""
    return name.rsplit(".", 1)[-1].strip('"`[]').lower()


def without_new_tables(hazards: Iterable[Hazard], created: Iterable[str]) -> list[Hazard]:
    """``hazards`` minus those on a table the same migration creates."""
    new = {table_key(name) for name in created}
    return [h for h in hazards if h.table is None or table_key(h.table) not in new]


def drop_column(line: int, table: str, column: str) -> Hazard:
    """A column is dropped."""
    return Hazard(
        Rule.DROP_COLUMN, line,
        f"drops column {table}.{column}: the running version may still read it and the data "
        "is gone for good; stop using the column in one release, then drop it in a later one",
        table=table)


def drop_table(line: int, name: str, kind: str = "table") -> Hazard:
    """A table (or a whole schema) is dropped."""
    return Hazard(
        Rule.DROP_TABLE, line,
        f"drops {kind} {name}: the running version may still use it and the data is gone for "
        "good; stop using it in one release, keep a backup, then drop it in a later one")


def rename_table(line: int, old: str, new: str) -> Hazard:
    """A table is renamed."""
    return Hazard(
        Rule.RENAME_TABLE, line,
        f"renames table {old} to {new}: the running version still queries {old} and fails "
        "until it is replaced; add the new name alongside (a new table or a view), move the "
        "code over, then drop the old name in a later release", table=old)


def rename_column(line: int, table: str, old: str, new: str) -> Hazard:
    """A column is renamed."""
    return Hazard(
        Rule.RENAME_COLUMN, line,
        f"renames column {table}.{old} to {new}: the running version still uses {old}; add "
        f"{new}, write both, backfill, switch reads, then drop {old} in a later release",
        table=table)


def add_column_not_null(line: int, table: str, column: str) -> Hazard:
    """A NOT NULL column without a default is added."""
    return Hazard(
        Rule.ADD_COLUMN_NOT_NULL, line,
        f"adds NOT NULL column {table}.{column} without a DEFAULT: it fails on a table that "
        "has rows, and INSERTs from the running version break; add it with a DEFAULT (or "
        "nullable), backfill, then set NOT NULL", table=table)


def set_not_null(line: int, table: str, column: str, dialect: SqlDialect) -> Hazard:
    """An existing column becomes NOT NULL."""
    if dialect is SqlDialect.POSTGRES:
        advice = (f"scans the whole table under an ACCESS EXCLUSIVE lock and fails if a row is "
                  f"NULL; add CHECK ({column} IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT in a "
                  "later migration, then SET NOT NULL")
    else:
        advice = ("rewrites or scans the table under a lock and fails if a row is NULL; "
                  "backfill first and make sure no running code still writes NULL")
    return Hazard(Rule.SET_NOT_NULL, line, f"makes {table}.{column} NOT NULL: {advice}",
                  table=table)


def change_column_type(line: int, table: str, column: str, new_type: str | None) -> Hazard:
    """A column's type changes (MySQL's MODIFY/CHANGE COLUMN count: they redefine it)."""
    to = f" to {new_type}" if new_type else ""
    return Hazard(
        Rule.CHANGE_COLUMN_TYPE, line,
        f"changes the type of {table}.{column}{to}: most type changes rewrite the table under "
        "an exclusive lock and can break the running version; add a new column, backfill it, "
        "switch the code, then drop the old column", table=table)


def create_index_not_concurrently(line: int, index: str, table: str) -> Hazard:
    """A PostgreSQL index is built without CONCURRENTLY."""
    return Hazard(
        Rule.CREATE_INDEX_NOT_CONCURRENTLY, line,
        f"creates index {index} on {table} without CONCURRENTLY, which blocks writes to "
        f"{table} while it builds: create the index with CONCURRENTLY (and outside a "
        "transaction) so writes are not blocked", table=table)


def foreign_key_without_not_valid(line: int, table: str, referenced: str) -> Hazard:
    """A PostgreSQL foreign key is added and validated in one step."""
    return Hazard(
        Rule.FOREIGN_KEY_WITHOUT_NOT_VALID, line,
        f"adds a foreign key from {table} to {referenced} without NOT VALID: checking every "
        "existing row locks both tables; add it NOT VALID, then VALIDATE CONSTRAINT in a "
        "separate migration", table=table)


def update_without_where(line: int, table: str) -> Hazard:
    """An UPDATE touches every row."""
    return Hazard(
        Rule.UPDATE_WITHOUT_WHERE, line,
        f"updates every row of {table} in one statement: a long transaction that holds row "
        "locks and bloats the table; backfill in batches (WHERE id BETWEEN ...) outside the "
        "schema migration", table=table)


def delete_without_where(line: int, table: str, *, truncate: bool = False) -> Hazard:
    """A DELETE (or TRUNCATE) removes every row."""
    what = (f"TRUNCATE removes every row of {table} under an exclusive lock" if truncate
            else f"deletes every row of {table} in one long transaction")
    return Hazard(
        Rule.DELETE_WITHOUT_WHERE, line,
        f"{what}: if that is really intended, delete in batches outside the schema migration "
        "and accept it with an allow comment giving the reason", table=table)


def unparseable_sql(line: int, detail: str, end_line: int | None = None) -> Hazard:
    """SQL that could not be parsed (or only partly): a person must look at it."""
    return Hazard(
        Rule.UNPARSEABLE_SQL, line,
        f"could not parse this SQL ({detail}); review it by hand, then accept it with "
        "`-- safeship: allow unparseable_sql reason=...`", end_line=end_line)
