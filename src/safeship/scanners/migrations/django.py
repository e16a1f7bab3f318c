"""Django migrations: irreversible operations, and dangerous ones, from the ``operations`` list.

A Django migration is a ``migrations/<name>.py`` holding ``class Migration(...Migration)``; it
is parsed with ``ast``, never imported. Django reverses its schema operations itself, so the
rollback check is about the two that it cannot reverse on its own:

* ``RunPython`` without ``reverse_code`` and ``RunSQL`` without ``reverse_sql``:
  ``irreversible_operation`` (``RunPython.noop`` / ``RunSQL.noop`` declare "nothing to undo" and
  pass).

Dangerous operations (up direction): ``RemoveField`` -> drop_column, ``DeleteModel`` ->
drop_table, ``RenameField`` -> rename_column, ``RenameModel`` -> rename_table, ``AddField`` of
a NOT NULL field without ``default``/``db_default`` -> add_column_not_null, ``AddIndex`` on
PostgreSQL -> create_index_not_concurrently (``AddIndexConcurrently`` passes), and the SQL of
``RunSQL`` through sqlglot. ``SeparateDatabaseAndState`` is read through its
``database_operations``. Operations on a model created in the same migration are exempt.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from safeship.scanners.migrations import hazards as hz
from safeship.scanners.migrations.allow_comments import read_allows
from safeship.scanners.migrations.hazards import Hazard, without_new_tables
from safeship.scanners.migrations.model import (
    Framework,
    Migration,
    MigrationFinding,
    MigrationScan,
    Place,
    SqlDialect,
)
from safeship.scanners.migrations.python_source import (
    argument,
    dotted_name,
    is_none,
    is_true,
    module_strings,
    string_of,
)
from safeship.scanners.migrations.rules import Rule
from safeship.scanners.migrations.sql_operations import analyze_sql

_NUMBER = re.compile(r"^(\d+)_?(.*)$")
# Field classes that never add a NOT NULL column needing a default.
_NO_COLUMN_DEFAULT_NEEDED = frozenset({"ManyToManyField", "AutoField", "BigAutoField",
                                       "SmallAutoField", "GeneratedField"})


def migration_class(module: ast.Module) -> ast.ClassDef | None:
    """The module's ``class Migration(...Migration)``, if it is a Django migration."""
    for node in module.body:
        if isinstance(node, ast.ClassDef) and node.name == "Migration" and any(
                dotted_name(base).rsplit(".", 1)[-1] == "Migration" for base in node.bases):
            return node
    return None


@dataclass
class _Facts:
    hazards: list[Hazard] = field(default_factory=list)
    irreversible: list[tuple[str, ast.Call]] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    schema_change_line: int | None = None

    def schema_change(self, line: int) -> None:
        if self.schema_change_line is None or line < self.schema_change_line:
            self.schema_change_line = line


def read_django(module: ast.Module, cls: ast.ClassDef, text: str, file: str, app: str,
                stem: str, dialect: SqlDialect) -> MigrationScan:
    """Check one Django migration (already parsed) shown to the user as ``file``."""
    name = f"{app}.{stem}" if app else stem
    number = _NUMBER.match(stem)
    version, description = (number.group(1), number.group(2) or stem) if number else (stem, stem)
    facts = _Facts()
    reader = _Reader(module_strings(module), dialect, facts)
    operations = _operations(cls)
    findings: list[MigrationFinding] = []
    if operations is None:
        findings.append(MigrationFinding(
            Rule.UNPARSEABLE_PYTHON, Place(file, cls.lineno), name,
            "Migration.operations is not a literal list, so its operations cannot be checked: "
            "review by hand"))
    else:
        reader.read_all(operations)
    findings.extend(h.finding(file, name) for h in without_new_tables(facts.hazards,
                                                                       facts.created))
    findings.extend(
        MigrationFinding(
            Rule.IRREVERSIBLE_OPERATION, Place(file, call.lineno), name,
            f"{kind} without {'reverse_code' if kind == 'RunPython' else 'reverse_sql'}: "
            f"`migrate {app or '<app>'} <previous>` cannot undo this migration; pass one "
            f"(migrations.{kind}.noop when there is truly nothing to undo)",
            end_line=call.end_lineno)
        for kind, call in facts.irreversible)
    allows, problems = read_allows(text, file, name)
    findings.extend(problems)
    migration = Migration(
        Framework.DJANGO, name, version, description, Place(file, cls.lineno),
        None if facts.irreversible else Place(file, cls.lineno))
    schema = Place(file, facts.schema_change_line) if facts.schema_change_line else None
    return MigrationScan(migration, tuple(findings), schema, tuple(allows))


def _operations(cls: ast.ClassDef) -> list[ast.expr] | None:
    for node in cls.body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else (
            node.target if isinstance(node, ast.AnnAssign) else None)
        if isinstance(target, ast.Name) and target.id == "operations":
            value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
            return list(value.elts) if isinstance(value, ast.List | ast.Tuple) else None
    return []


class _Reader:
    def __init__(self, constants: Mapping[str, str], dialect: SqlDialect, facts: _Facts) -> None:
        self.constants = constants
        self.dialect = dialect
        self.facts = facts

    def read_all(self, operations: list[ast.expr]) -> None:
        for operation in operations:
            if isinstance(operation, ast.Call):
                self.read(operation)

    def _text(self, node: ast.expr | None) -> str:
        value = string_of(node, self.constants)
        return value if value is not None else (ast.unparse(node) if node else hz.UNKNOWN)

    def read(self, call: ast.Call) -> None:
        before = len(self.facts.hazards)
        self._read(call)
        # The whole operation is the statement: an allow comment on any of its lines counts.
        for index in range(before, len(self.facts.hazards)):
            hazard = self.facts.hazards[index]
            self.facts.hazards[index] = replace(
                hazard, end_line=max(hazard.end_line or hazard.line, call.end_lineno or 0))

    def _read(self, call: ast.Call) -> None:
        kind = dotted_name(call.func).rsplit(".", 1)[-1]
        line = call.lineno
        if kind not in ("RunPython", "RunSQL", "SeparateDatabaseAndState"):
            self.facts.schema_change(line)
        if kind == "RunPython":
            if is_none(argument(call, 1, "reverse_code")):
                self.facts.irreversible.append((kind, call))
        elif kind == "RunSQL":
            self._run_sql(call)
        elif kind == "SeparateDatabaseAndState":
            database = argument(call, 1, "database_operations")
            if isinstance(database, ast.List | ast.Tuple):
                self.read_all(list(database.elts))
        elif kind == "CreateModel":
            self.facts.created.append(self._text(argument(call, 0, "name")))
        elif kind == "DeleteModel":
            self.facts.hazards.append(hz.drop_table(line, self._text(argument(call, 0, "name"))))
        elif kind == "RemoveField":
            self.facts.hazards.append(hz.drop_column(
                line, self._model(call), self._text(argument(call, 1, "name"))))
        elif kind == "RenameField":
            self.facts.hazards.append(hz.rename_column(
                line, self._model(call), self._text(argument(call, 1, "old_name")),
                self._text(argument(call, 2, "new_name"))))
        elif kind == "RenameModel":
            self.facts.hazards.append(hz.rename_table(
                line, self._text(argument(call, 0, "old_name")),
                self._text(argument(call, 1, "new_name"))))
        elif kind == "AddField":
            self._add_field(call)
        elif kind == "AddIndex" and self.dialect is SqlDialect.POSTGRES:
            index = argument(call, 1, "index")
            index_name = argument(index, None, "name") if isinstance(index, ast.Call) else None
            self.facts.hazards.append(hz.create_index_not_concurrently(
                line, self._text(index_name), self._model(call)))

    def _model(self, call: ast.Call) -> str:
        return self._text(argument(call, 0, "model_name"))

    def _add_field(self, call: ast.Call) -> None:
        definition = argument(call, 2, "field")
        if not isinstance(definition, ast.Call):
            return
        if dotted_name(definition.func).rsplit(".", 1)[-1] in _NO_COLUMN_DEFAULT_NEEDED:
            return
        if is_true(argument(definition, None, "null")) or is_true(
                argument(definition, None, "primary_key")):
            return
        if any(argument(definition, None, key) is not None for key in ("default", "db_default")):
            return
        self.facts.hazards.append(hz.add_column_not_null(
            call.lineno, self._model(call), self._text(argument(call, 1, "name"))))

    def _run_sql(self, call: ast.Call) -> None:
        if is_none(argument(call, 1, "reverse_sql")):
            self.facts.irreversible.append(("RunSQL", call))
        for text, first_line in _sql_texts(argument(call, 0, "sql"), self.constants):
            if text is None:
                self.facts.schema_change(call.lineno)  # unknown SQL may change the schema
                self.facts.hazards.append(replace(hz.unparseable_sql(
                    call.lineno, "RunSQL gets SQL that is built at run time, so it cannot be "
                    "checked"), end_line=call.end_lineno))
                continue
            facts = analyze_sql(text, self.dialect, first_line=first_line or call.lineno)
            self.facts.hazards.extend(
                replace(h, line=h.line if first_line else call.lineno, start_line=call.lineno,
                        end_line=max(call.end_lineno or call.lineno, h.end_line or h.line))
                for h in facts.hazards)
            self.facts.created.extend(facts.created_tables)
            if facts.schema_change_line is not None:
                self.facts.schema_change(call.lineno)


def _sql_texts(node: ast.expr | None,
               constants: Mapping[str, str]) -> list[tuple[str | None, int | None]]:
    """The SQL strings of ``RunSQL(sql=...)``: a string, or a list of strings or (sql, params)."""
    if isinstance(node, ast.List | ast.Tuple):
        found: list[tuple[str | None, int | None]] = []
        for item in node.elts:
            if isinstance(item, ast.Tuple | ast.List) and item.elts:
                item = item.elts[0]  # (sql, params)
            found.extend(_sql_texts(item, constants))
        return found
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [(node.value, node.lineno)]
    return [(string_of(node, constants), None)]
