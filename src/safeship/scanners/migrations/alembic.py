"""Alembic revisions: a real ``downgrade()`` for every revision, and what ``upgrade()`` does.

A revision file is recognised by a top-level ``revision = "..."`` and an ``upgrade()`` (or a
``down_revision``). It is parsed with ``ast`` and never imported.

* No ``downgrade()`` at all: ``missing_rollback``.
* A ``downgrade()`` that does nothing (``pass``, a docstring, ``...``; what Alembic's template
  writes when autogenerate finds nothing) or only raises: ``empty_rollback``. When
  ``upgrade()`` is empty too (a merge revision), there is nothing to undo and that is fine.
* ``upgrade()`` is read for dangerous operations by :mod:`.alembic_ops`.
"""

from __future__ import annotations

import ast

from safeship.scanners.migrations.alembic_ops import analyze_upgrade
from safeship.scanners.migrations.allow_comments import read_allows
from safeship.scanners.migrations.hazards import without_new_tables
from safeship.scanners.migrations.model import (
    Framework,
    Migration,
    MigrationFinding,
    MigrationScan,
    Place,
    Scope,
    SqlDialect,
)
from safeship.scanners.migrations.python_source import (
    assigned_names,
    first_docstring_line,
    is_empty_body,
    module_functions,
    module_strings,
    only_raises,
)
from safeship.scanners.migrations.rules import Rule


def is_alembic_revision(module: ast.Module) -> bool:
    """True when the module looks like an Alembic revision file."""
    names = assigned_names(module)
    return "revision" in names and ("down_revision" in names
                                    or "upgrade" in module_functions(module))


def read_alembic(module: ast.Module, text: str, file: str, stem: str,
                 dialect: SqlDialect) -> MigrationScan:
    """Check one revision file (already parsed) shown to the user as ``file``."""
    constants = module_strings(module)
    revision = constants.get("revision") or stem
    functions = module_functions(module)
    upgrade, downgrade = functions.get("upgrade"), functions.get("downgrade")
    up_line = upgrade.lineno if upgrade else 1
    findings: list[MigrationFinding] = []
    if downgrade is None:
        findings.append(MigrationFinding(
            Rule.MISSING_ROLLBACK, Place(file, up_line), revision,
            f"revision {revision} has no downgrade(), so `alembic downgrade` cannot undo it: "
            "write a downgrade() that reverses upgrade()", scope=Scope.MIGRATION))
    elif upgrade is not None and not is_empty_body(upgrade.body):
        problem = ("does nothing (only pass, a docstring or ...)" if is_empty_body(downgrade.body)
                   else "only raises" if only_raises(downgrade.body) else None)
        if problem is not None:
            findings.append(MigrationFinding(
                Rule.EMPTY_ROLLBACK, Place(file, downgrade.lineno), revision,
                f"downgrade() of revision {revision} {problem}: write the statements that "
                "undo upgrade()", scope=Scope.MIGRATION))
    schema_change = None
    if upgrade is not None:
        facts = analyze_upgrade(upgrade, functions, constants, dialect)
        findings.extend(h.finding(file, revision)
                        for h in without_new_tables(facts.hazards, facts.created_tables))
        if facts.schema_change_line is not None:
            schema_change = Place(file, facts.schema_change_line)
    allows, problems = read_allows(text, file, revision)
    findings.extend(problems)
    migration = Migration(
        Framework.ALEMBIC, revision, revision,
        first_docstring_line(module) or stem.removeprefix(revision).strip("_- ") or stem,
        Place(file, up_line), Place(file, downgrade.lineno) if downgrade else None)
    return MigrationScan(migration, tuple(findings), schema_change, tuple(allows))
