"""``safeship recommend``: the deployment strategy a change calls for (the guide's table 3.2)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from safeship.cli.output import emit, stdout_console
from safeship.errors import UsageError
from safeship.recommend import (
    ChangeType,
    Recommendation,
    recommend_for_change_type,
    recommend_for_range,
    recommendation_document,
)


class RecommendFormat(StrEnum):
    """Formats of ``recommend``."""

    TABLE = "table"
    JSON = "json"


def recommend_command(
    change_type: Annotated[ChangeType | None, typer.Option(
        "--change-type", "-t", case_sensitive=False,
        help="the kind of change, when you know it")] = None,
    diff: Annotated[str | None, typer.Option(
        "--diff", metavar="BASE..HEAD",
        help="classify the change between two git revisions, e.g. main..HEAD")] = None,
    fmt: Annotated[RecommendFormat, typer.Option("--format", "-f")] = RecommendFormat.TABLE,
    project: Annotated[Path, typer.Option("--project", "-C", file_okay=False,
                                          help="the git repository (for --diff)")] = Path(),
) -> None:
    """Recommend a deployment strategy for a change, with the guide's reason."""
    if (change_type is None) == (diff is None):
        raise UsageError("give exactly one of --change-type and --diff",
                         hint="e.g. safeship recommend --diff main..HEAD")
    if change_type is not None:
        recommendation = recommend_for_change_type(change_type)
    else:
        assert diff is not None  # noqa: S101 - narrowed by the check above
        recommendation = recommend_for_range(project.resolve(), diff)
    if fmt is RecommendFormat.JSON:
        emit(json.dumps(recommendation_document(recommendation), indent=2, ensure_ascii=False),
             None)
    else:
        render_recommendation(recommendation, stdout_console())


def render_recommendation(recommendation: Recommendation, console: Console) -> None:
    """Print ``recommendation`` as a short summary, its signals and its notes."""
    guidance = recommendation.guidance
    rollback = recommendation.rollback
    summary = Table(show_header=False, box=None, pad_edge=False)
    summary.add_column(style="bold", no_wrap=True)
    summary.add_column()
    kind = guidance.change_type.value if guidance.change_type else "unclassified"
    summary.add_row("Strategy", Text(guidance.strategy_text, style="bold green"))
    summary.add_row("Change type", Text(f"{guidance.label} ({kind})"))
    summary.add_row("Why", Text(guidance.why))
    summary.add_row("Rollback", Text(f"{rollback.kind} ({rollback.speed.lower()}); needs: "
                                     f"{rollback.prerequisite.lower()}"))
    for profile in recommendation.profiles:
        summary.add_row("", Text(f"{profile.name}: risk {profile.risk.lower()}, "
                                 f"rollback {profile.rollback.lower()}, "
                                 f"best for {profile.best_for.lower()}", style="dim"))
    diff = recommendation.diff
    if diff is not None:
        summary.add_row("Range", Text(f"{diff.revision_range} ({diff.base[:10]}..{diff.head[:10]}"
                                      f", {diff.files_changed} files, {diff.commits} commits)"))
    console.print(summary)
    if recommendation.signals:
        signals = Table(title="Signals, most cautious first", title_justify="left")
        signals.add_column("Change type", no_wrap=True)
        signals.add_column("Signal")
        signals.add_column("Triggered by")
        for signal in recommendation.signals:
            signals.add_row(Text(signal.change_type.value), Text(signal.reason),
                            Text("\n".join(signal.evidence)))
        console.print(signals)
    for note in recommendation.notes:
        console.print(f"note: {note}", markup=False)
