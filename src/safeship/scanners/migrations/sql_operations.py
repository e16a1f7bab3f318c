"""Dangerous operations in SQL, read from sqlglot's syntax trees; dialect-aware.

:func:`analyze_sql` turns the up direction's SQL into hazards (see :mod:`.hazards` and the rule
list in ``docs/db-migrations.md``), the tables it creates (whose later operations are exempt) and
the line of its first schema change.

PostgreSQL-only rules: ``CREATE INDEX`` without ``CONCURRENTLY`` and foreign keys without
``NOT VALID`` (MySQL builds indexes online, SQLite has no concurrent writers to block).

sqlglot reads some valid statements only as a generic ``Command`` (``ALTER TABLE ... VALIDATE
CONSTRAINT``, ``CREATE EXTENSION``...). Such a statement is let through when none of its words
could mean a dangerous operation, and reported as ``unparseable_sql`` (review by hand) when one
could: failing closed without burying people in noise.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlglot import exp

from safeship.scanners.migrations import hazards as hz
from safeship.scanners.migrations.hazards import Hazard
from safeship.scanners.migrations.model import SqlDialect
from safeship.scanners.migrations.sql_statements import SqlTokenError, Statement, parse_statements

_DDL_WORDS = frozenset({"CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE", "REINDEX"})
_DROPPED_CONTAINERS = {"TABLE": "table", "SCHEMA": "schema", "DATABASE": "database"}
_HAS_DEFAULT = (exp.DefaultColumnConstraint, exp.GeneratedAsIdentityColumnConstraint,
                exp.ComputedColumnConstraint, exp.AutoIncrementColumnConstraint)
_SERIAL = frozenset({exp.DataType.Type.SERIAL, exp.DataType.Type.BIGSERIAL,
                     exp.DataType.Type.SMALLSERIAL})


@dataclass(frozen=True)
class SqlFacts:
    """What a piece of up-direction SQL does."""

    hazards: tuple[Hazard, ...] = ()
    created_tables: tuple[str, ...] = ()
    schema_change_line: int | None = None
    statements: int = 0


def analyze_sql(text: str, dialect: SqlDialect, *, first_line: int = 1) -> SqlFacts:
    """Hazards, created tables and first schema change of ``text``.

    ``first_line`` is the file line of the text's first line (for SQL inside Python strings).
    """
    offset = first_line - 1
    try:
        statements = parse_statements(text, dialect)
    except SqlTokenError as exc:
        hazard = hz.unparseable_sql(exc.line + offset, f"cannot split it into statements: "
                                    f"{exc.detail}", end_line=offset + text.count("\n") + 1)
        return SqlFacts((hazard,), (), hazard.line, 1)
    found: list[Hazard] = []
    created: list[str] = []
    schema_line: int | None = None
    for statement in statements:
        facts = _statement(statement, dialect)
        found.extend(replace(hazard, line=hazard.line + offset,
                             end_line=(hazard.end_line or statement.end_line) + offset)
                     for hazard in facts.hazards)
        created.extend(facts.created_tables)
        if facts.schema_change_line is not None and schema_line is None:
            schema_line = facts.schema_change_line + offset
    return SqlFacts(tuple(found), tuple(created), schema_line, len(statements))


def _statement(statement: Statement, dialect: SqlDialect) -> SqlFacts:
    tree = statement.expression
    line = statement.line
    if tree is None:
        return SqlFacts((hz.unparseable_sql(line, statement.error or "unknown error"),),
                        schema_change_line=line)
    if isinstance(tree, exp.Command):
        return _command(statement, dialect)
    if isinstance(tree, exp.Create):
        return _create(tree, line, dialect)
    if isinstance(tree, exp.Drop):
        kind = _DROPPED_CONTAINERS.get(str(tree.args.get("kind") or "").upper())
        dropped = tuple(hz.drop_table(line, _name(t), kind) for t in _dropped(tree)) if kind else ()
        return SqlFacts(dropped, schema_change_line=line)
    if isinstance(tree, exp.Alter):
        return _alter(tree, line, dialect)
    if isinstance(tree, exp.Update) and tree.args.get("where") is None:
        return SqlFacts((hz.update_without_where(line, _name(tree.this)),))
    if isinstance(tree, exp.Delete) and tree.args.get("where") is None:
        return SqlFacts((hz.delete_without_where(line, _name(tree.this)),))
    if isinstance(tree, exp.TruncateTable):
        return SqlFacts(tuple(hz.delete_without_where(line, _name(t), truncate=True)
                              for t in tree.expressions))
    return SqlFacts()


def _create(tree: exp.Create, line: int, dialect: SqlDialect) -> SqlFacts:
    kind = str(tree.args.get("kind") or "").upper()
    if kind == "TABLE":
        return SqlFacts(created_tables=(_name(tree.this),), schema_change_line=line)
    if kind == "INDEX" and dialect is SqlDialect.POSTGRES and not tree.args.get("concurrently"):
        index = tree.this
        table = _name(index.args.get("table")) if isinstance(index, exp.Index) else hz.UNKNOWN
        name = index.name if isinstance(index, exp.Index) and index.name else "(unnamed)"
        return SqlFacts((hz.create_index_not_concurrently(line, name, table),),
                        schema_change_line=line)
    return SqlFacts(schema_change_line=line)


def _alter(tree: exp.Alter, line: int, dialect: SqlDialect) -> SqlFacts:
    if str(tree.args.get("kind") or "").upper() != "TABLE":
        return SqlFacts(schema_change_line=line)
    table = _name(tree.this)
    found: list[Hazard] = []
    for action in tree.args.get("actions") or []:
        found.extend(_alter_action(action, table, line, dialect, bool(tree.args.get("not_valid"))))
    return SqlFacts(tuple(found), schema_change_line=line)


def _alter_action(action: exp.Expr, table: str, line: int, dialect: SqlDialect,
                  not_valid: bool) -> list[Hazard]:
    if isinstance(action, exp.Drop):
        if str(action.args.get("kind") or "").upper() == "COLUMN":
            return [hz.drop_column(line, table, _name(c)) for c in _dropped(action)]
        return []
    if isinstance(action, exp.AlterRename):
        return [hz.rename_table(line, table, _name(action.this))]
    if isinstance(action, exp.RenameColumn):
        return [hz.rename_column(line, table, _name(action.this), _name(action.args.get("to")))]
    if isinstance(action, exp.ColumnDef):
        return _add_column(action, table, line, dialect)
    if isinstance(action, exp.AlterColumn):
        column = _name(action.this)
        found = []
        dtype = action.args.get("dtype")
        if dtype is not None:
            found.append(hz.change_column_type(line, table, column, dtype.sql()))
        if action.args.get("allow_null") is False:
            found.append(hz.set_not_null(line, table, column, dialect))
        return found
    if isinstance(action, exp.ModifyColumn):
        return _modify_column(action, table, line, dialect)
    if isinstance(action, exp.AddConstraint) and dialect is SqlDialect.POSTGRES and not not_valid:
        return [hz.foreign_key_without_not_valid(line, table, _referenced(fk))
                for fk in action.find_all(exp.ForeignKey)]
    return []


def _add_column(column: exp.ColumnDef, table: str, line: int,
                dialect: SqlDialect) -> list[Hazard]:
    kinds = [c.args.get("kind") for c in column.args.get("constraints") or []]
    found = []
    not_null = any(isinstance(k, exp.NotNullColumnConstraint) and not k.args.get("allow_null")
                   for k in kinds)
    dtype = column.args.get("kind")
    serial = isinstance(dtype, exp.DataType) and dtype.this in _SERIAL
    if not_null and not serial and not any(isinstance(k, _HAS_DEFAULT) for k in kinds):
        found.append(hz.add_column_not_null(line, table, column.name))
    if dialect is SqlDialect.POSTGRES:
        found.extend(hz.foreign_key_without_not_valid(line, table, _referenced(k))
                     for k in kinds if isinstance(k, exp.Reference))
    return found


def _modify_column(action: exp.ModifyColumn, table: str, line: int,
                   dialect: SqlDialect) -> list[Hazard]:
    definition = action.this
    column = _name(definition)
    found = []
    renamed_from = action.args.get("rename_from")
    if renamed_from is not None:
        found.append(hz.rename_column(line, table, _name(renamed_from), column))
    dtype = definition.args.get("kind") if isinstance(definition, exp.ColumnDef) else None
    found.append(hz.change_column_type(
        line, table, column, dtype.sql() if isinstance(dtype, exp.Expr) else None))
    return found


def _command(statement: Statement, dialect: SqlDialect) -> SqlFacts:
    words = statement.keywords
    schema_line = statement.line if words and words[0] in _DDL_WORDS else None
    risky = _risky_words(words, dialect)
    if risky is None:
        return SqlFacts(schema_change_line=schema_line)
    hazard = hz.unparseable_sql(
        statement.line, f"sqlglot reads it only as a generic command, and it contains {risky}")
    return SqlFacts((hazard,), schema_change_line=schema_line or statement.line)


def _risky_words(words: tuple[str, ...], dialect: SqlDialect) -> str | None:
    """The first word sequence in a partly parsed statement that may be a dangerous operation."""
    pairs = list(zip(words, (*words[1:], ""), strict=True))
    postgres = dialect is SqlDialect.POSTGRES
    checks: list[tuple[bool, str]] = [
        (words[:1] in (("UPDATE",), ("DELETE",)), words[0] if words else ""),
        ("DROP" in words, "DROP"),
        ("TRUNCATE" in words, "TRUNCATE"),
        (any(a == "RENAME" and b != "CONSTRAINT" for a, b in pairs), "RENAME"),
        ("TYPE" in words and "COLUMN" in words, "COLUMN ... TYPE"),
        (("NOT", "NULL") in pairs, "NOT NULL"),
        ("MODIFY" in words or "CHANGE" in words, "MODIFY/CHANGE"),
        (postgres and any(b == "INDEX" and a != "USING" for a, b in pairs), "INDEX"),
        (postgres and ("FOREIGN" in words or "REFERENCES" in words), "FOREIGN KEY"),
    ]
    return next((word for hit, word in checks if hit), None)


def _dropped(tree: exp.Expr) -> list[exp.Expr]:
    tables = tree.args.get("tables")
    if tables:
        return list(tables)
    return [tree.this] if tree.this is not None else []


def _referenced(node: exp.Expr) -> str:
    table = node.find(exp.Table)
    return _name(table) if table is not None else hz.UNKNOWN


def _name(node: object) -> str:
    """A node's name as written (schema-qualified tables keep their schema)."""
    if isinstance(node, exp.Table):
        return ".".join(part.name for part in node.parts) or hz.UNKNOWN
    if isinstance(node, exp.Schema):
        return _name(node.this)
    if isinstance(node, exp.Expr):
        return node.name or node.sql() or hz.UNKNOWN
    return hz.UNKNOWN
