"""``safeship history``, ``safeship approve`` and ``safeship reject``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from safeship import api
from safeship.cli.output import emit, stdout_console
from safeship.report import render_history, render_runs_json


class HistoryFormat(StrEnum):
    """Formats of ``history``."""

    TABLE = "table"
    JSON = "json"


def history_command(
    service: Annotated[str | None, typer.Option("--service", help="only this service")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=10_000,
                                       help="how many runs, newest first")] = 20,
    fmt: Annotated[HistoryFormat, typer.Option("--format", "-f")] = HistoryFormat.TABLE,
    project: Annotated[Path, typer.Option("--project", "-C", file_okay=False)] = Path(),
) -> None:
    """Show recorded pipeline runs, newest first."""
    store = api.open_store(project.resolve())
    try:
        runs = store.list_runs(service=service, limit=limit)
    finally:
        store.close()
    if fmt is HistoryFormat.JSON:
        emit(render_runs_json(runs), None)
    else:
        render_history(runs, stdout_console())


def _decide(run_id: str, by: str, reason: str, gate: str | None, project: Path,
            approve: bool) -> None:
    store = api.open_store(project.resolve())
    try:
        decided = api.decide(store, run_id, approve=approve, by=by, reason=reason, gate_id=gate)
    finally:
        store.close()
    console = stdout_console()
    verb = "approved" if approve else "rejected"
    for approval in decided:
        console.print(f"{verb}: run {approval.run_id[:12]} gate {approval.gate_id} by "
                      f"{approval.decided_by}: {approval.decision_reason}", markup=False)
    if approve:
        console.print("re-run `safeship gates run` for this commit to pass the approved gates",
                      markup=False)


def approve_command(
    run_id: Annotated[str, typer.Argument(help="run id (or a unique prefix of 6+ characters)")],
    by: Annotated[str, typer.Option("--by", help="who approves")],
    reason: Annotated[str, typer.Option("--reason", help="why it is safe")],
    gate: Annotated[str | None, typer.Option("--gate", help="approve only this gate")] = None,
    project: Annotated[Path, typer.Option("--project", "-C", file_okay=False)] = Path(),
) -> None:
    """Approve the pending approvals of a run (recorded with who and why)."""
    _decide(run_id, by, reason, gate, project, approve=True)


def reject_command(
    run_id: Annotated[str, typer.Argument(help="run id (or a unique prefix of 6+ characters)")],
    by: Annotated[str, typer.Option("--by", help="who rejects")],
    reason: Annotated[str, typer.Option("--reason", help="why it is not safe")],
    gate: Annotated[str | None, typer.Option("--gate", help="reject only this gate")] = None,
    project: Annotated[Path, typer.Option("--project", "-C", file_okay=False)] = Path(),
) -> None:
    """Reject the pending approvals of a run; the run is then blocked."""
    _decide(run_id, by, reason, gate, project, approve=False)
