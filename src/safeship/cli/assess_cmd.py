"""``safeship assess``: the guide's release-engineering maturity level of a repository.

``safeship assess [PATH] [--service FILE] [--format table|json] [--output FILE] [--no-history]``
reads PATH's ``.pipeline/`` files, its git state, its CI definitions and the service's rollout
history in the state store, and reports the level reached (0 Manual .. 4 Safe & Autonomous), the
evidence for each criterion, and the actions that reach the next level. The goal comes from the
service's risk level (low 1, medium 2, high 3, critical 4).

Exit codes: 0 the goal is met, 1 below the goal, 2 bad input (PATH missing, an invalid safeship
file), 3 git missing or the state store unreadable.
"""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from safeship import api
from safeship.assess.collect import assess_repository
from safeship.assess.levels import LEVELS, Assessment, level_name
from safeship.assess.summary import assessment_json, history_line, text_lines, verdict_line
from safeship.cli.output import emit, is_interactive, stderr_console, stdout_console
from safeship.errors import ExitCode


class AssessFormat(StrEnum):
    """Output formats of ``assess``."""

    TABLE = "table"
    JSON = "json"


def assess_command(
    path: Annotated[Path, typer.Argument(
        help="the repository to assess (default: the current folder)")] = Path(),
    service: Annotated[Path | None, typer.Option(
        "--service", "-s", dir_okay=False,
        help="the service file (default: PATH/.pipeline/service.yaml)")] = None,
    fmt: Annotated[AssessFormat, typer.Option(
        "--format", "-f", help="output format", case_sensitive=False)] = AssessFormat.TABLE,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="write the report to this file", dir_okay=False)] = None,
    no_history: Annotated[bool, typer.Option(
        "--no-history", help="do not read the rollout history from the state store")] = False,
) -> None:
    """Which maturity level (0-4) has this repository's deployment pipeline reached?

    Levels (the guide's section 1.3): 0 Manual, 1 Scripted, 2 CI/CD Pipeline,
    3 Progressive, 4 Safe & Autonomous. Shows the evidence for every criterion
    and the changes that reach the next level. The goal follows the service's
    risk: low 1, medium 2, high 3, critical 4.

    Exit codes: 0 goal met, 1 below the goal, 2 bad input,
    3 git or the state store unavailable.
    """
    assessment = assess_repository(
        path, service_file=service, database_url=os.environ.get(api.DATABASE_URL_ENV) or None,
        read_history=not no_history)
    if fmt is AssessFormat.JSON:
        emit(json.dumps(assessment_json(assessment), indent=2, ensure_ascii=False), output)
    elif output is not None or not is_interactive():
        emit("\n".join(text_lines(assessment)), output)
    else:
        _table(assessment)
    if output is not None:
        stderr_console().print(f"report written to {output}", markup=False)
    if fmt is AssessFormat.JSON or output is not None:
        stderr_console().print(verdict_line(assessment), markup=False, highlight=False)
    raise typer.Exit(ExitCode.OK if assessment.meets_goal else ExitCode.BLOCKED)


def _table(assessment: Assessment) -> None:
    console = stdout_console()
    evidence = assessment.evidence
    console.print(f"{evidence.root}: service '{evidence.service.name}', risk "
                  f"{assessment.goal.risk}", markup=False)
    table = Table(title="deployment-pipeline maturity (the guide's section 1.3)")
    for column in ("level", "criterion", "", "evidence", "to do"):
        table.add_column(column)
    for level in LEVELS[1:]:
        for criterion in (c for c in assessment.criteria if c.level == level.number):
            table.add_row(
                f"{level.number} {level.name}", criterion.title,
                Text("met", style="green") if criterion.met else Text("missing", style="red"),
                criterion.evidence, criterion.action or "")
    console.print(table)
    console.print(history_line(evidence.history), markup=False)
    style = "bold green" if assessment.meets_goal else "bold red"
    console.print(Text(verdict_line(assessment), style=style))
    if assessment.next_level is not None and assessment.next_level_missing:
        console.print(f"to reach level {assessment.next_level} "
                      f"({level_name(assessment.next_level)}):", markup=False)
        for criterion in assessment.next_level_missing:
            console.print(f"  - {criterion.action}", markup=False)
