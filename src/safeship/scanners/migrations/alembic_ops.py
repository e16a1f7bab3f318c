"""Dangerous operations in an Alembic ``upgrade()``, read from its ``op.*`` calls with ``ast``.

Calls are read in ``upgrade()`` and in the module's own functions it calls (helpers), on
``op`` and on the ``batch_op`` of ``with op.batch_alter_table("t") as batch_op``. SQL handed to
``op.execute(...)`` (or any ``.execute``/``.exec_driver_sql`` call, as a string, a module
constant or ``sa.text(...)``) is parsed with sqlglot like a SQL migration. A SQLAlchemy Core
chain (``users.update().values(...)``, ``sa.table("t").delete().where(...)``) is judged by its
methods: an update or delete without ``.where(...)`` is flagged. Other SQL built at run time
cannot be checked and is reported for review by hand.

=========================================  ===============================================
call                                       rule
=========================================  ===============================================
``drop_column``                            drop_column
``drop_table``                             drop_table
``rename_table``                           rename_table
``alter_column(new_column_name=...)``      rename_column
``alter_column(type_=...)``                change_column_type
``alter_column(nullable=False)``           set_not_null (unless ``existing_nullable=False``)
``add_column(Column(..., nullable=False))``  add_column_not_null without ``server_default``
``create_index`` (PostgreSQL)              create_index_not_concurrently unless
                                           ``postgresql_concurrently=True``
``create_foreign_key`` (PostgreSQL)        foreign_key_without_not_valid unless
                                           ``postgresql_not_valid=True``
=========================================  ===============================================
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace

from safeship.scanners.migrations import hazards as hz
from safeship.scanners.migrations.hazards import Hazard
from safeship.scanners.migrations.model import SqlDialect
from safeship.scanners.migrations.python_source import (
    argument,
    dotted_name,
    is_false,
    is_none,
    is_true,
    string_of,
)
from safeship.scanners.migrations.sql_operations import analyze_sql

# op methods that do not change the schema by themselves.
_NOT_DDL = frozenset({"execute", "exec_driver_sql", "bulk_insert", "get_bind", "get_context",
                      "inline_literal", "f", "invoke", "run_async", "batch_alter_table",
                      "implementation_for", "register_operation"})
_SQL_RUNNERS = frozenset({"execute", "exec_driver_sql"})
_CORE_KINDS = frozenset({"insert", "select", "update", "delete"})
# Where the table argument sits in op.<method>(...); batch_op.<method>(...) leaves it out.
_TABLE_POSITION = {"drop_column": 0, "alter_column": 0, "add_column": 0, "create_index": 1,
                   "create_foreign_key": 1}
_MAX_FUNCTIONS = 100  # helpers followed from upgrade(); bounds the walk on odd files


@dataclass
class OpsFacts:
    """What ``upgrade()`` does: hazards, tables it creates, its first schema change."""

    hazards: list[Hazard] = field(default_factory=list)
    created_tables: list[str] = field(default_factory=list)
    schema_change_line: int | None = None

    def schema_change(self, line: int) -> None:
        """Remember ``line`` if it is the earliest schema change so far."""
        if self.schema_change_line is None or line < self.schema_change_line:
            self.schema_change_line = line


@dataclass(frozen=True)
class _Call:
    """One op call, normalised: its method, the table it acts on, its arguments shifted."""

    node: ast.Call
    method: str
    table: str | None
    """The batch's table for ``batch_op`` calls; None for ``op`` calls (table is an argument)."""

    def arg(self, position: int, name: str) -> ast.expr | None:
        """Argument ``name``, or at ``position`` in the ``op.`` signature (-1: keyword only).

        A batch call has no table argument, so later positions move up by one.
        """
        table_position = _TABLE_POSITION.get(self.method)
        if self.table is not None and table_position is not None and position >= table_position:
            position -= 1
        return argument(self.node, position if position >= 0 else None, name)


def analyze_upgrade(upgrade: ast.FunctionDef, functions: Mapping[str, ast.FunctionDef],
                    constants: Mapping[str, str], dialect: SqlDialect) -> OpsFacts:
    """Read every op call reachable from ``upgrade`` (see the module docstring)."""
    facts = OpsFacts()
    reader = _Reader(constants, dialect, facts)
    for function in _reachable(upgrade, functions):
        aliases = _batch_aliases(function, constants)
        calls = sorted((n for n in ast.walk(function) if isinstance(n, ast.Call)),
                       key=lambda n: (n.lineno, n.col_offset))
        for node in calls:
            reader.read(node, aliases)
    return facts


def _reachable(upgrade: ast.FunctionDef,
               functions: Mapping[str, ast.FunctionDef]) -> list[ast.FunctionDef]:
    seen = {upgrade.name, "downgrade"}
    order = [upgrade]
    index = 0
    while index < len(order) and len(order) < _MAX_FUNCTIONS:
        for node in ast.walk(order[index]):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                name = node.func.id
                if name in functions and name not in seen:
                    seen.add(name)
                    order.append(functions[name])
        index += 1
    return order


def _batch_aliases(function: ast.FunctionDef, constants: Mapping[str, str]) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for node in ast.walk(function):
        if not isinstance(node, ast.With | ast.AsyncWith):
            continue
        for item in node.items:
            call = item.context_expr
            if (isinstance(call, ast.Call) and dotted_name(call.func) == "op.batch_alter_table"
                    and isinstance(item.optional_vars, ast.Name)):
                table = string_of(argument(call, 0, "table_name"), constants) or hz.UNKNOWN
                aliases[item.optional_vars.id] = table
    return aliases


class _Reader:
    def __init__(self, constants: Mapping[str, str], dialect: SqlDialect,
                 facts: OpsFacts) -> None:
        self.constants = constants
        self.dialect = dialect
        self.facts = facts
        self.handlers: dict[str, Callable[[_Call, int], Iterator[Hazard]]] = {
            "drop_column": self._drop_column,
            "drop_table": self._drop_table,
            "rename_table": self._rename_table,
            "alter_column": self._alter_column,
            "add_column": self._add_column,
            "create_index": self._create_index,
            "create_foreign_key": self._create_foreign_key,
            "create_table": self._create_table,
        }

    def read(self, node: ast.Call, aliases: Mapping[str, str]) -> None:
        if not isinstance(node.func, ast.Attribute):
            return
        method = node.func.attr
        receiver = dotted_name(node.func.value)
        if receiver == "op" or receiver in aliases:
            call = _Call(node, method, aliases.get(receiver) if receiver != "op" else None)
            if method not in _NOT_DDL:
                self.facts.schema_change(node.lineno)
            handler = self.handlers.get(method)
            if handler is not None:
                # The whole call is the statement: an allow comment on any of its lines counts.
                self.facts.hazards.extend(replace(h, end_line=node.end_lineno)
                                          for h in handler(call, node.lineno))
        if method in _SQL_RUNNERS:
            self._execute(node)

    def _text(self, node: ast.expr | None) -> str:
        value = string_of(node, self.constants)
        if value is not None:
            return value
        return ast.unparse(node) if node is not None else hz.UNKNOWN

    def _table(self, call: _Call, position: int, name: str) -> str:
        return call.table if call.table is not None else self._text(call.arg(position, name))

    def _drop_column(self, call: _Call, line: int) -> Iterator[Hazard]:
        yield hz.drop_column(line, self._table(call, 0, "table_name"),
                             self._text(call.arg(1, "column_name")))

    def _drop_table(self, call: _Call, line: int) -> Iterator[Hazard]:
        yield hz.drop_table(line, self._text(call.arg(0, "table_name")))

    def _rename_table(self, call: _Call, line: int) -> Iterator[Hazard]:
        yield hz.rename_table(line, self._text(call.arg(0, "old_table_name")),
                              self._text(call.arg(1, "new_table_name")))

    def _create_table(self, call: _Call, line: int) -> Iterator[Hazard]:
        self.facts.created_tables.append(self._text(call.arg(0, "table_name")))
        yield from ()

    def _alter_column(self, call: _Call, line: int) -> Iterator[Hazard]:
        table = self._table(call, 0, "table_name")
        column = self._text(call.arg(1, "column_name"))
        new_name = call.arg(-1, "new_column_name")
        if not is_none(new_name):
            yield hz.rename_column(line, table, column, self._text(new_name))
        new_type = call.arg(-1, "type_")
        if not is_none(new_type):
            yield hz.change_column_type(line, table, column, self._text(new_type))
        if is_false(call.arg(-1, "nullable")) and not is_false(call.arg(-1, "existing_nullable")):
            yield hz.set_not_null(line, table, column, self.dialect)

    def _add_column(self, call: _Call, line: int) -> Iterator[Hazard]:
        column = call.arg(1, "column")
        if not (isinstance(column, ast.Call) and dotted_name(column.func).endswith("Column")):
            return
        nullable = argument(column, None, "nullable")
        primary = is_true(argument(column, None, "primary_key"))
        not_null = is_false(nullable) or (primary and nullable is None)
        generated = any(isinstance(a, ast.Call) and dotted_name(a.func).rsplit(".", 1)[-1] in (
            "Identity", "Computed") for a in column.args)
        if not_null and is_none(argument(column, None, "server_default")) and not generated:
            yield hz.add_column_not_null(line, self._table(call, 0, "table_name"),
                                         self._text(argument(column, 0, "name")))

    def _create_index(self, call: _Call, line: int) -> Iterator[Hazard]:
        if self.dialect is not SqlDialect.POSTGRES or is_true(
                call.arg(-1, "postgresql_concurrently")):
            return
        yield hz.create_index_not_concurrently(
            line, self._text(call.arg(0, "index_name")), self._table(call, 1, "table_name"))

    def _create_foreign_key(self, call: _Call, line: int) -> Iterator[Hazard]:
        if self.dialect is not SqlDialect.POSTGRES or is_true(
                call.arg(-1, "postgresql_not_valid")):
            return
        yield hz.foreign_key_without_not_valid(
            line, self._table(call, 1, "source_table"), self._text(call.arg(2, "referent_table")))

    def _execute(self, node: ast.Call) -> None:
        statement = argument(node, 0, "sqltext") or argument(node, None, "statement")
        sql, first_line = _sql_argument(statement, self.constants)
        end = node.end_lineno or node.lineno
        if sql is None and isinstance(statement, ast.Call):
            core = _core_statement(statement, self.constants)
            if core is not None:
                kind, table = core
                if kind == "update":
                    self.facts.hazards.append(hz.update_without_where(node.lineno, table))
                elif kind == "delete":
                    self.facts.hazards.append(hz.delete_without_where(node.lineno, table))
                return
        if sql is None:
            self.facts.schema_change(node.lineno)  # unknown SQL may change the schema
            self.facts.hazards.append(replace(
                hz.unparseable_sql(node.lineno, f"{ast.unparse(node.func)}() gets SQL that is "
                                   "built at run time, so it cannot be checked"), end_line=end))
            return
        facts = analyze_sql(sql, self.dialect, first_line=first_line or node.lineno)
        for hazard in facts.hazards:
            # SQL read from a constant defined elsewhere is placed at the call.
            line = hazard.line if first_line is not None else node.lineno
            self.facts.hazards.append(replace(
                hazard, line=line, start_line=node.lineno,
                end_line=max(end, hazard.end_line or line)))
        self.facts.created_tables.extend(facts.created_tables)
        if facts.schema_change_line is not None:
            self.facts.schema_change(
                facts.schema_change_line if first_line is not None else node.lineno)


def _sql_argument(node: ast.expr | None,
                  constants: Mapping[str, str]) -> tuple[str | None, int | None]:
    """The SQL text of an execute() argument and the file line of its first line (when the
    text is a literal in the call), else ``(text or None, None)``."""
    while (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
           and node.func.attr in ("bindparams", "columns", "execution_options")):
        node = node.func.value  # text("...").bindparams(...) is still that text
    if isinstance(node, ast.Call) and len(node.args) == 1 and dotted_name(
            node.func).rsplit(".", 1)[-1] == "text":
        node = node.args[0]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value, node.lineno
    return string_of(node, constants), None


def _core_statement(node: ast.Call, constants: Mapping[str, str]) -> tuple[str, str] | None:
    """A SQLAlchemy Core statement built as a chain (``table.update().where(...).values(...)``):
    ``("insert" | "select" | "update" | "delete" | "safe", table)``, where an update or delete
    with a ``.where(...)`` is ``"safe"``; None when the expression is not such a chain."""
    calls: list[ast.Call] = []
    current: ast.expr = node
    while (isinstance(current, ast.Call) and isinstance(current.func, ast.Attribute)
           and current.func.attr not in ("table", "Table")):  # sa.table("t") is the base
        calls.append(current)
        current = current.func.value
    methods = [call.func.attr for call in calls if isinstance(call.func, ast.Attribute)]
    kind = next((m for m in reversed(methods) if m in _CORE_KINDS), None)
    if kind is None:
        return None
    if kind in ("update", "delete") and "where" in methods:
        kind = "safe"
    # sa.update(accounts) names the table as an argument; accounts.update() as the receiver.
    made_by = calls[len(methods) - 1 - methods[::-1].index(kind)] if kind in methods else None
    target = made_by.args[0] if made_by is not None and made_by.args else current
    return kind, _table_name(target, constants)


def _table_name(node: ast.expr, constants: Mapping[str, str]) -> str:
    if isinstance(node, ast.Call) and dotted_name(node.func).rsplit(".", 1)[-1] in (
            "table", "Table"):
        return string_of(argument(node, 0, "name"), constants) or hz.UNKNOWN
    if isinstance(node, ast.Name):
        return node.id
    return hz.UNKNOWN
