"""``safeship contract diff OLD NEW``: breaking changes between two OpenAPI specs.

``safeship contract diff OLD NEW [--format table|json|markdown] [--fail-on ERR|WARN]`` loads
both specs (YAML or JSON, OpenAPI 3.0/3.1, local ``$ref``\\ s), validates them and lists every
change at ``--level`` (default WARN) or above, each with its oasdiff-compatible rule id, its
level (ERR breaking, WARN maybe breaking, INFO not), the operation, the message and the
lines in both files. ``safeship contract rules`` lists the rule catalogue.

Exit codes: 0 nothing at or above ``--fail-on`` (default ERR); 1 something is; 2 bad input (a
missing file, a spec that is not valid OpenAPI, a bad option).
"""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from safeship.cli.output import emit, is_interactive, stdout_console
from safeship.errors import ExitCode
from safeship.report.contract_diff import (
    render_contract_markdown,
    render_contract_plain,
    render_contract_table,
)
from safeship.scanners.openapi import RULES, DiffOptions, Level, diff_specs, load_spec

app = typer.Typer(
    help="Breaking changes between two OpenAPI specs.",
    no_args_is_help=True,
)


class DiffFormat(StrEnum):
    """Output formats of ``contract diff``."""

    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"


class FailOn(StrEnum):
    """The least serious level that makes ``contract diff`` exit 1."""

    ERR = "ERR"
    WARN = "WARN"


class ShowLevel(StrEnum):
    """The least serious level listed."""

    ERR = "ERR"
    WARN = "WARN"
    INFO = "INFO"


class RulesFormat(StrEnum):
    """Output formats of ``contract rules``."""

    TABLE = "table"
    JSON = "json"


def _day(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"'{value}' is not a date (YYYY-MM-DD)") from exc


@app.command("diff")
def diff_command(
    old: Annotated[Path, typer.Argument(help="the base spec: the previous release's API")],
    new: Annotated[Path, typer.Argument(help="the revision spec: the API about to ship")],
    fmt: Annotated[DiffFormat, typer.Option(
        "--format", "-f", help="output format", case_sensitive=False)] = DiffFormat.TABLE,
    fail_on: Annotated[FailOn, typer.Option(
        "--fail-on", help="exit 1 when a change at this level or above is found",
        case_sensitive=False)] = FailOn.ERR,
    level: Annotated[ShowLevel, typer.Option(
        "--level", help="list changes at this level or above (INFO lists everything)",
        case_sensitive=False)] = ShowLevel.WARN,
    today: Annotated[str | None, typer.Option(
        "--today", help="judge x-sunset dates as of this day, YYYY-MM-DD (default: today)",
        callback=_day)] = None,
    deprecation_days: Annotated[int, typer.Option(
        "--deprecation-days", min=0,
        help="least days between deprecation and sunset (0: no deprecation policy)")] = 0,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="write the report to this file", dir_okay=False)] = None,
) -> None:
    """Find breaking changes from OLD to NEW (OpenAPI 3.0/3.1, YAML or JSON).

    Rule ids are oasdiff's (see `safeship contract rules`). Removing an operation is allowed
    once it was deprecated and its x-sunset date has passed; draft/alpha operations
    (x-stability-level) may change freely.

    Exit codes: 0 nothing at or above --fail-on, 1 breaking changes found, 2 bad input.
    """
    day = today if isinstance(today, dt.date) else dt.date.today()
    base = load_spec(old)
    revision = load_spec(new)
    report = diff_specs(base, revision, DiffOptions(today=day, deprecation_days=deprecation_days))
    threshold, shown = Level(fail_on.value), Level(level.value)
    if fmt is DiffFormat.JSON:
        emit(json.dumps(report.to_json(threshold, shown), indent=2), output)
    elif fmt is DiffFormat.MARKDOWN:
        emit(render_contract_markdown(report, threshold, shown), output)
    elif output is not None or not is_interactive():
        emit(render_contract_plain(report, threshold, shown), output)
    else:
        render_contract_table(report, threshold, shown, stdout_console())
    raise typer.Exit(ExitCode.BLOCKED if report.breaking(threshold) else ExitCode.OK)


@app.command("rules")
def rules_command(
    level: Annotated[ShowLevel, typer.Option(
        "--level", help="list rules at this level or above", case_sensitive=False)]
    = ShowLevel.INFO,
    fmt: Annotated[RulesFormat, typer.Option(
        "--format", "-f", help="output format", case_sensitive=False)] = RulesFormat.TABLE,
) -> None:
    """List the rule catalogue: every change `contract diff` reports, with its level.

    Ids are oasdiff's except those marked `safeship`. Exit code 0.
    """
    least = Level(level.value)
    rules = [r for r in RULES.values() if r.level.at_least(least)]
    if fmt is RulesFormat.JSON:
        emit(json.dumps([{"id": r.id, "level": r.level.value, "description": r.description,
                          "origin": r.origin} for r in rules], indent=2), None)
        return
    table = Table(title=f"{len(rules)} rules")
    for column in ("id", "level", "what it means", "origin"):
        table.add_column(column)
    for r in rules:
        table.add_row(Text(r.id), r.level.value, Text(r.description), r.origin)
    stdout_console().print(table)
