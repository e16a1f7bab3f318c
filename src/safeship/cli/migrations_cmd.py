"""``safeship migrations check``: every migration needs a rollback; dangerous operations flagged.

``safeship migrations check [PATH] [--dialect postgres|mysql|sqlite] [--risk LEVEL]
[--format table|json]`` finds the Alembic, Flyway, golang-migrate, dbmate and Django migrations
under PATH (default: the current folder), checks that each one has a real rollback, and reads
the up direction for dangerous operations. It is the ``db_migration`` gate on the command line.

Exit codes: 0 passed (or no migrations found: a note says so; the gate, by contrast, refuses to
pass on nothing), 1 a rollback is missing or a dangerous operation is not accepted, 2 bad input
(PATH missing, unknown dialect).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from safeship.cli.output import emit, is_interactive, stderr_console, stdout_console
from safeship.errors import ExitCode
from safeship.model.enums import RiskLevel
from safeship.scanners.migrations import (
    Level,
    MigrationFinding,
    MigrationReport,
    SqlDialect,
    check_migrations,
)

app = typer.Typer(
    help="Database migrations: every one needs a rollback; dangerous operations flagged.",
    no_args_is_help=True,
)


class CheckFormat(StrEnum):
    """Output formats of ``migrations check``."""

    TABLE = "table"
    JSON = "json"


_STYLE = {Level.ERROR: "bold red", Level.WARNING: "yellow", Level.ACCEPTED: "dim"}


def _shown_relative_to(base: Path) -> Callable[[Path], str]:
    def show(path: Path) -> str:
        for root in (base, base.resolve()):
            try:
                return path.relative_to(root).as_posix() or "."
            except ValueError:
                continue
        return path.as_posix()

    return show


@app.callback()
def _group() -> None:
    """Database migrations: every one needs a rollback; dangerous operations flagged."""


_CHECK_HELP = (
    "Check that every migration has a rollback, and flag dangerous operations.\n\n"
    "Rollbacks: an Alembic downgrade() that does something (not just `pass`), a Flyway "
    "U<ver>__ undo script, a golang-migrate .down.sql, a dbmate `-- migrate:down` section, "
    "Django RunPython/RunSQL with their reverse.\n\n"
    "Dangerous, in the up direction only: dropping or renaming a table or column, NOT NULL "
    "without a default, changing a column type, CREATE INDEX without CONCURRENTLY and foreign "
    "keys without NOT VALID (PostgreSQL), UPDATE or DELETE without WHERE. SQL that cannot be "
    "parsed needs a review by hand.\n\n"
    "Accept a finding inside the migration with `-- safeship: allow RULE reason=...` (`#` in "
    "Python); it is then listed as accepted. Rule ids: docs/db-migrations.md.\n\n"
    "--apply-test also runs every SQL migration up, down and up again on an in-memory SQLite "
    "database and checks that down restores the schema.\n\n"
    "Exit codes: 0 passed (or no migrations found), 1 problems found, 2 bad input."
)


@app.command("check", help=_CHECK_HELP)
def check_command(
    path: Annotated[Path | None, typer.Argument(
        help="migrations folder or file (default: search the current folder)",
        show_default=False)] = None,
    dialect: Annotated[SqlDialect, typer.Option(
        "--dialect", "-d", help="SQL dialect of the migrations", case_sensitive=False)]
    = SqlDialect.POSTGRES,
    risk: Annotated[RiskLevel, typer.Option(
        "--risk", help="risk of the change: at high or critical any schema change needs an "
        "approval", case_sensitive=False)] = RiskLevel.MEDIUM,
    fmt: Annotated[CheckFormat, typer.Option(
        "--format", "-f", help="output format", case_sensitive=False)] = CheckFormat.TABLE,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="write the report to this file", dir_okay=False)] = None,
    apply_test: Annotated[bool, typer.Option(
        "--apply-test", help="also apply up -> down -> up of every SQL migration on a "
        "throwaway SQLite database (for SQL that SQLite understands)")] = False,
) -> None:
    """Check that every migration has a rollback and flag dangerous operations."""
    report = check_migrations([path if path is not None else Path()], dialect=dialect,
                              risk=risk, show=_shown_relative_to(Path.cwd()),
                              apply_test=apply_test)
    if fmt is CheckFormat.JSON:
        emit(json.dumps(report.to_json(), indent=2), output)
        console = stderr_console()
        for note in report.notes:
            console.print(f"note: {note}", markup=False)
        console.print(report.summary(), markup=False)
    else:
        _table(report, output)
    raise typer.Exit(ExitCode.OK if report.passed else ExitCode.BLOCKED)


def _line(finding: MigrationFinding) -> str:
    text = (f"{finding.level.value.upper():<8} {finding.place}  {finding.rule.value}  "
            f"{finding.migration}: {finding.message}")
    if finding.reason is not None:
        text += f" [accepted: {finding.reason}]"
    return text


def _table(report: MigrationReport, output: Path | None) -> None:
    if output is not None or not is_interactive():
        lines = [_line(f) for f in report.findings]
        lines.extend(f"note: {note}" for note in report.notes)
        lines.append(report.summary())
        emit("\n".join(lines), output)
        return
    console = stdout_console()
    if report.migrations:
        table = Table(title="migrations")
        for column in ("framework", "migration", "up", "rollback"):
            table.add_column(column)
        for m in report.migrations:
            table.add_row(m.framework.value, m.name, str(m.up),
                          str(m.down) if m.down else "-", style=None if m.down else "red")
        console.print(table)
    if report.findings:
        table = Table(title="findings")
        for column in ("level", "rule", "where", "migration", "what to do"):
            table.add_column(column, overflow="fold")
        for f in report.findings:
            message = f.message + (f" [accepted: {f.reason}]" if f.reason else "")
            table.add_row(f.level.value, f.rule.value, str(f.place), f.migration, message,
                          style=_STYLE[f.level])
        console.print(table)
    for note in report.notes:
        console.print(f"note: {note}", markup=False)
    console.print(report.summary(), markup=False,
                  style="bold green" if report.passed else "bold red")
