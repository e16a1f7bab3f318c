"""The ``db_migration`` gate: every migration has a rollback, and no dangerous operation slips by.

The guide's row: *Integration / DB Migration / Rollback-script exists / Warn + require
approval*, hence ``default_action: require_approval`` (the engine then waits for
``safeship approve``). A gate entry::

    - type: db_migration
      path: [migrations/versions, db/migration]   # optional: one path or a list
      dialect: postgres                            # postgres (default) | mysql | sqlite
      allow_empty: false                           # default: finding nothing is an ERROR
      apply_test: false                            # up -> down -> up on SQLite (SQL files)

Without ``path:`` the project root is searched (see
:mod:`safeship.scanners.migrations.discovery`). Checks and rule ids:
:mod:`safeship.scanners.migrations` and ``docs/db-migrations.md``.

Verdicts:

* FAILED when a migration lacks a rollback (missing or empty), holds a dangerous operation, or
  holds SQL that could not be parsed, unless an allow comment with a reason accepted it.
* FAILED at high or critical risk when any migration changes the schema (DDL), even if all
  else is clean: "schema change at high risk needs approval".
* PASSED otherwise; warnings (a stray rollback file, an unused allow comment) and accepted
  findings are listed.
* No migration found at all is not a pass: the gate raises (ERROR) unless ``allow_empty:
  true`` says the project has none on purpose. A ``path:`` that does not exist raises too.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from safeship.errors import GateCannotRun, SafeshipError
from safeship.gates.interface import Gate, GateContext, GateOptions
from safeship.model.enums import FailAction, Severity, Verdict
from safeship.model.results import Finding, GateCheck
from safeship.scanners.migrations import (
    Level,
    MigrationFinding,
    MigrationReport,
    SqlDialect,
    check_migrations,
)

_SEVERITY = {Level.ERROR: Severity.ERROR, Level.WARNING: Severity.WARNING,
             Level.ACCEPTED: Severity.NOTE}


class DbMigrationOptions(GateOptions):
    """Options of ``type: db_migration``."""

    path: str | list[str] | None = Field(
        default=None,
        description="Migrations folder(s) or file(s), relative to the project root (default: "
        "search the project).")
    dialect: Literal["postgres", "mysql", "sqlite"] = Field(
        default="postgres", description="SQL dialect of the migrations.")
    allow_empty: bool = Field(
        default=False,
        description="Pass when no migration is found (default: that is an ERROR).")
    apply_test: bool = Field(
        default=False,
        description="Also apply up -> down -> up of the SQL migrations on a throwaway SQLite.")

    @field_validator("path")
    @classmethod
    def _not_empty(cls, value: str | list[str] | None) -> str | list[str] | None:
        if value is not None and (not value or any(not p.strip() for p in (
                [value] if isinstance(value, str) else value))):
            raise ValueError("give at least one non-empty path, or leave `path` out")
        return value

    def paths(self) -> list[str]:
        """The configured paths as a list (empty: search the project root)."""
        if self.path is None:
            return []
        return [self.path] if isinstance(self.path, str) else list(self.path)


def gate_finding(finding: MigrationFinding) -> Finding:
    """A checker finding as a gate finding (rule ``db_migration/<id>``)."""
    message = f"{finding.migration}: {finding.message}"
    if finding.level is Level.ACCEPTED:
        message += f" [accepted: {finding.reason}]"
    return Finding(f"db_migration/{finding.rule.value}", message, _SEVERITY[finding.level],
                   finding.place.file, finding.place.line)


class DbMigrationGate(Gate[DbMigrationOptions]):
    """Every migration has a rollback; dangerous operations need a fix or an accepted reason."""

    type_name: ClassVar[str] = "db_migration"
    default_action: ClassVar[FailAction] = FailAction.REQUIRE_APPROVAL
    checks: ClassVar[str] = "every migration has a rollback; no unaccepted dangerous operation"
    options_model: ClassVar[type[GateOptions]] = DbMigrationOptions

    def evaluate(self, ctx: GateContext) -> GateCheck:
        """Check the migrations; see the module docstring for the verdicts."""
        options = self.options
        paths = [ctx.resolve(p) for p in options.paths()] or [ctx.project_root]
        try:
            report = check_migrations(paths, dialect=SqlDialect(options.dialect),
                                      show=ctx.relative, risk=ctx.risk,
                                      apply_test=options.apply_test)
        except SafeshipError as exc:
            raise GateCannotRun(exc.message, hint=exc.hint) from exc
        if not report.migrations:
            if options.allow_empty:
                return GateCheck(Verdict.PASSED, f"{report.summary()} (allow_empty: true)",
                                 (), _metrics(report))
            raise GateCannotRun(
                f"{report.summary()}: nothing to check, so the gate cannot pass",
                hint="point `path:` at the migrations folder, or set `allow_empty: true` if "
                "the project has no database migrations")
        verdict = Verdict.PASSED if report.passed else Verdict.FAILED
        return GateCheck(verdict, report.summary(),
                         tuple(gate_finding(f) for f in report.findings), _metrics(report))


def _metrics(report: MigrationReport) -> dict[str, Any]:
    document = report.to_json()
    del document["summary"]  # the check's own summary line says it
    document.update(
        checked=len(report.migrations), errors=report.count(Level.ERROR),
        warnings=report.count(Level.WARNING), accepted=report.count(Level.ACCEPTED))
    return document
