"""``safeship gates run`` and ``safeship gates list``."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from safeship import api
from safeship.cli.output import emit, is_interactive, stderr_console, stdout_console
from safeship.cli.progress import ConsoleProgress
from safeship.errors import ExitCode
from safeship.model.enums import RiskLevel, RunStatus
from safeship.model.results import PipelineRun
from safeship.registry import gate_catalogue
from safeship.report import (
    render_github,
    render_json,
    render_junit,
    render_plain,
    render_sarif,
    render_table,
)

app = typer.Typer(help="Run and inspect the gate pipeline of .pipeline/gates.yaml.",
                  no_args_is_help=True)


class ReportFormat(StrEnum):
    """Output formats of ``gates run``."""

    TABLE = "table"
    JSON = "json"
    JUNIT = "junit"
    SARIF = "sarif"
    GITHUB = "github"


EXIT_BY_STATUS = {
    RunStatus.PASSED: ExitCode.OK,
    RunStatus.APPROVED: ExitCode.OK,
    RunStatus.BLOCKED: ExitCode.BLOCKED,
    RunStatus.ERROR: ExitCode.DEPENDENCY,
    RunStatus.PENDING_APPROVAL: ExitCode.PENDING,
    RunStatus.INTERRUPTED: ExitCode.INTERRUPTED,
    RunStatus.RUNNING: ExitCode.INTERNAL,
}


def render(run: PipelineRun, fmt: ReportFormat, output: Path | None) -> None:
    """Write ``run`` in ``fmt`` to ``output`` or the terminal."""
    if fmt is ReportFormat.TABLE:
        if output is not None:
            emit(render_plain(run), output)
        elif is_interactive():
            render_table(run, stdout_console())
        else:
            emit(render_plain(run), None)
        if os.environ.get("GITHUB_ACTIONS") == "true":
            emit(render_github(run), None)
        return
    writers = {
        ReportFormat.JSON: render_json,
        ReportFormat.JUNIT: render_junit,
        ReportFormat.SARIF: render_sarif,
        ReportFormat.GITHUB: render_github,
    }
    emit(writers[fmt](run), output)


@app.command("run")
def run_command(
    config: Annotated[Path | None, typer.Option(
        "--config", "-c", help="gates file (default: .pipeline/gates.yaml, or the one "
        "service.yaml names)", dir_okay=False)] = None,
    stage: Annotated[list[str] | None, typer.Option(
        "--stage", "-s", help="run only this stage (repeatable)")] = None,
    risk: Annotated[RiskLevel | None, typer.Option(
        help="risk level; decides the mandatory gates (default: service.yaml, else medium)",
        case_sensitive=False)] = None,
    fmt: Annotated[ReportFormat, typer.Option(
        "--format", "-f", help="report format", case_sensitive=False)] = ReportFormat.TABLE,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="write the report to this file instead of stdout",
        dir_okay=False)] = None,
    keep_going: Annotated[bool, typer.Option(
        "--keep-going", help="run every stage even after one blocks")] = False,
    project: Annotated[Path, typer.Option(
        "--project", "-C", help="project root", file_okay=False)] = Path(),
    actor: Annotated[str | None, typer.Option(help="who runs this (default: CI user or "
                                              "$USER)")] = None,
    commit: Annotated[str | None, typer.Option(help="commit id (default: git HEAD)")] = None,
    no_store: Annotated[bool, typer.Option(
        "--no-store", help="do not record the run in the state store")] = False,
) -> None:
    """Run the gates stage by stage and report.

    Exit codes: 0 passed, 1 blocked by policy, 2 bad config or arguments, 3 a gate could not
    run, 4 waiting for approval.
    """
    root = project.resolve()
    loaded = api.load_project(root, config.resolve() if config else None)
    store = None if no_store else api.open_store(root)
    live = is_interactive() and fmt is ReportFormat.TABLE and output is None
    show_progress = live or (stderr_console().is_terminal and fmt is not ReportFormat.TABLE)
    console = stdout_console() if live else stderr_console()
    try:
        with ConsoleProgress(console, live=live) as progress:
            run = api.run_gates(loaded, store=store, risk=risk, stages=stage or (),
                                keep_going=keep_going, actor=actor, commit=commit,
                                observer=progress if show_progress else None)
    finally:
        if store is not None:
            store.close()
    render(run, fmt, output)
    if output is not None:
        stderr_console().print(f"report written to {output}", markup=False)
    raise typer.Exit(EXIT_BY_STATUS[run.status])


@app.command("list")
def list_command() -> None:
    """List every gate type with its default fail action and what it checks."""
    table = Table(title="gate types")
    table.add_column("type")
    table.add_column("default action")
    table.add_column("checks")
    table.add_column("available")
    for name, action, checks, available in gate_catalogue():
        table.add_row(name, action.value, checks, "yes" if available else "not yet")
    stdout_console().print(table)
