"""``safeship slo``: service level objectives: error budgets, burn rates, alerting rules.

``safeship slo status [--service .pipeline/service.yaml] [--slo NAME] [--prometheus URL]
[--at TIME] [--format table|json|html] [--output FILE]`` answers "how much error budget is left,
and how fast is it burning?" for every SLO in service.yaml's ``slos:`` (or the ones named). The
figures come from Prometheus (``--prometheus``, else service.yaml's ``metrics:`` section of type
prometheus): the budget remaining over the SLO window and the burn rate over each window of the
multiwindow, multi-burn-rate alerting policy (see :mod:`safeship.slo.status`). ``--format html``
writes a self-contained page with a small plot per SLO.

Exit codes: 0 every SLO has budget left, 1 a budget is exhausted (remaining <= 0), 2 bad input,
3 Prometheus unreachable, 4 no data for an SLO (its budget is unknown, never "fine").
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from safeship._internal.timestamps import TimestampSyntaxError, parse_timestamp
from safeship.cli import slo_rules_cmd
from safeship.cli.output import emit, is_interactive, stderr_console, stdout_console
from safeship.errors import ExitCode, UsageError
from safeship.report.slo_html import render_slo_html
from safeship.slo.service_budgets import (
    DEFAULT_SERVICE_FILE,
    load_service,
    no_prometheus_hint,
    prometheus_endpoint,
    select_slos,
    status_source,
)
from safeship.slo.status import BURN_WINDOWS_S, SloState, SloStatus, describe, window_name

app = typer.Typer(
    help="Service level objectives: error budgets, burn rates, alerting rules.",
    no_args_is_help=True,
)
# `rules` and `import` live in their own module (generation, not measurement).
slo_rules_cmd.register(app)

STATUS_SCHEMA = "safeship.slo-status/v1"


class StatusFormat(StrEnum):
    """Output formats of ``slo status``."""

    TABLE = "table"
    JSON = "json"
    HTML = "html"


def exit_code(statuses: Sequence[SloStatus]) -> int:
    """1 when a budget is exhausted, else 4 when an SLO has no data, else 0."""
    states = {status.state for status in statuses}
    if SloState.EXHAUSTED in states:
        return ExitCode.BLOCKED
    if SloState.NO_DATA in states:
        return ExitCode.PENDING
    return ExitCode.OK


@app.command("status")
def status_command(
    service: Annotated[Path | None, typer.Option(
        "--service", "-s", help="service file with the `slos:` section (default: "
        f"{DEFAULT_SERVICE_FILE.as_posix()} under --project)", dir_okay=False)] = None,
    slo: Annotated[list[str] | None, typer.Option(
        "--slo", help="only this SLO (repeatable; default: all)")] = None,
    prometheus: Annotated[str | None, typer.Option(
        "--prometheus", help="Prometheus base URL (default: service.yaml's `metrics:` of "
        "type prometheus)")] = None,
    at: Annotated[str | None, typer.Option(
        "--at", help="evaluate at this time (unix s, ISO 8601, now-1h); default now")] = None,
    fmt: Annotated[StatusFormat, typer.Option(
        "--format", "-f", help="output format", case_sensitive=False)] = StatusFormat.TABLE,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="write the report to this file", dir_okay=False)] = None,
    project: Annotated[Path, typer.Option(
        "--project", "-C", help="project root", file_okay=False)] = Path(),
) -> None:
    """How much error budget is left, and how fast is it burning?

    For each SLO: the budget remaining over its window, and the burn rate over 5m, 30m, 1h,
    2h, 6h, 1d, 3d and the whole window (1x spends the budget exactly over the window),
    computed from Prometheus.

    Exit codes: 0 every SLO has budget left, 1 a budget is exhausted, 2 bad input,
    3 Prometheus unreachable, 4 no data for an SLO.
    """
    path = service if service is not None else project / DEFAULT_SERVICE_FILE
    spec = load_service(path)
    slos = select_slos(spec, slo or ())
    endpoint = prometheus_endpoint(spec, prometheus)
    if endpoint is None:
        raise UsageError("no Prometheus to read the error budgets from",
                         hint=no_prometheus_hint(spec))
    now = time.time()
    try:
        when = parse_timestamp(at, now) if at is not None else now
    except TimestampSyntaxError as exc:
        raise UsageError(f"--at: {exc}") from exc
    statuses = status_source(slos, endpoint, now=lambda: when).statuses()
    if fmt is StatusFormat.JSON:
        document = {"schema": STATUS_SCHEMA, "service": spec.name,
                    "prometheus": endpoint.shown, "at": when,
                    "exit_code": exit_code(statuses),
                    "slos": [status.to_json() for status in statuses]}
        emit(json.dumps(document, indent=2, allow_nan=False), output)
    elif fmt is StatusFormat.HTML:
        emit(render_slo_html(statuses, source=endpoint.shown), output)
    else:
        _table(statuses, output)
    if output is not None:
        stderr_console().print(f"report written to {output}", markup=False)
    if fmt is not StatusFormat.TABLE or output is not None:
        console = stderr_console()
        for status in statuses:
            console.print(describe(status), markup=False, highlight=False)
    raise typer.Exit(exit_code(statuses))


def _rate(value: float) -> str:
    return f"{value:.3g}x" if math.isfinite(value) else "no data"


def _percent(value: float) -> str:
    return f"{value * 100:.2f}%" if math.isfinite(value) else "no data"


def _objective(status: SloStatus) -> str:
    text = f"{status.slo.objective * 100:.4f}".rstrip("0").rstrip(".")
    return f"{text}% / {window_name(status.slo.window_s)}"


def _plain(status: SloStatus) -> list[str]:
    figures = status.budget
    lines = [f"{status.slo.name}  {_objective(status)}  {status.state.value.upper()}  "
             f"budget remaining {_percent(figures.remaining)} (consumed "
             f"{_percent(figures.consumed)})"]
    rates = "  ".join(f"{w.name} {_rate(w.burn.burn_rate)}" for w in status.windows)
    lines.append(f"  burn rate: {rates}")
    alerts = [f"{a.alert.label} {a.factor:.3g}x "
              f"{'no data' if a.firing is None else 'FIRING' if a.firing else 'quiet'}"
              for a in status.alerts]
    if alerts:
        lines.append(f"  alerts: {'; '.join(alerts)}")
    if figures.counts.note:
        lines.append(f"  note: {figures.counts.note}")
    return lines


def _table(statuses: Sequence[SloStatus], output: Path | None) -> None:
    if output is not None or not is_interactive():
        lines = [line for status in statuses for line in _plain(status)]
        emit("\n".join(lines), output)
        return
    table = Table(title="error budgets and burn rates")
    policy = [window_name(seconds) for seconds in BURN_WINDOWS_S]
    for column in ("SLO", "objective", "state", "budget left", *policy, "window"):
        table.add_column(column, justify="right" if column in policy else "left")
    styles = {SloState.EXHAUSTED: "bold red", SloState.NO_DATA: "yellow"}
    for status in statuses:
        by_name = {w.name: w for w in status.windows if not w.whole}
        whole = next(w for w in status.windows if w.whole)
        table.add_row(
            status.slo.name, _objective(status), status.state.value,
            _percent(status.budget.remaining),
            *[_rate(by_name[name].burn.burn_rate) if name in by_name else "-" for name in policy],
            _rate(whole.burn.burn_rate), style=styles.get(status.state))
    console = stdout_console()
    console.print(table)
    for status in statuses:
        console.print(describe(status), markup=False)
