"""Terminal reports: a Rich table for people at a TTY, plain lines for logs, and run history.

``render_table`` prints one row per gate (stage, gate, outcome in colour, duration, summary),
then the findings of every gate that did not simply pass (at most 20 per gate, then
"... N more"), then the verdict line: "PASSED", "BLOCKED by N gate(s)", "ERROR: N gate(s) could
not run" or "WAITING for approval: run `safeship approve <id> --by NAME --reason TEXT`".

``render_plain`` says the same without colour or boxes, one ``[outcome] stage/gate: summary``
line per gate with its findings indented below. All text that came from a gate or a finding is
shown with control characters escaped and is never read as Rich markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from rich.console import Console
from rich.table import Table
from rich.text import Text

from safeship._internal.durations import format_duration
from safeship.model.enums import Outcome, RunStatus
from safeship.model.results import GateResult, PipelineRun
from safeship.report._summary import (
    MAX_FINDINGS_PER_GATE,
    finding_line,
    for_terminal,
    one_line,
    run_duration_s,
    seconds,
    verdict_line,
)

OUTCOME_STYLES: dict[Outcome, str] = {
    Outcome.PASSED: "green",
    Outcome.APPROVED: "green",
    Outcome.WARNED: "yellow",
    Outcome.LOGGED: "cyan",
    Outcome.PENDING_APPROVAL: "magenta",
    Outcome.BLOCKED: "bold red",
    Outcome.ERROR: "red",
    Outcome.SKIPPED: "dim",
    Outcome.NOT_RUN: "dim",
}

STATUS_STYLES: dict[RunStatus, str] = {
    RunStatus.PASSED: "green",
    RunStatus.APPROVED: "green",
    RunStatus.BLOCKED: "bold red",
    RunStatus.ERROR: "red",
    RunStatus.PENDING_APPROVAL: "magenta",
    RunStatus.RUNNING: "cyan",
    RunStatus.INTERRUPTED: "yellow",
}

_INDENT = "    "
_FULL_SHA = re.compile(r"[0-9a-f]{12,64}")
# Gates whose findings are not worth a person's attention below the table.
_QUIET = frozenset({Outcome.PASSED, Outcome.SKIPPED, Outcome.NOT_RUN})


def render_table(run: PipelineRun, console: Console) -> None:
    """Print the run as a Rich table, the findings that matter, and the verdict line."""
    console.print(Text(one_line(_headline(run))), soft_wrap=True)
    table = Table()
    table.add_column("Stage", no_wrap=True)
    table.add_column("Gate", no_wrap=True)
    table.add_column("Outcome", no_wrap=True)
    table.add_column("Duration", justify="right", no_wrap=True)
    table.add_column("Summary", overflow="fold")
    for stage in run.stages:
        if stage.skipped and not stage.gates:
            table.add_row(
                Text(one_line(stage.name)),
                Text("-"),
                _outcome_text(stage.outcome),
                Text("-"),
                Text("stage skipped"),
            )
        for gate in stage.gates:
            table.add_row(
                Text(one_line(stage.name)),
                Text(one_line(gate.gate_id)),
                _outcome_text(gate.outcome),
                Text(format_duration(seconds(gate.duration_s))),
                Text(one_line(gate.summary)),
            )
    console.print(table)
    for gate in run.gates:
        if gate.findings and gate.outcome not in _QUIET:
            console.print(
                Text.assemble(
                    _outcome_text(gate.outcome), " ", one_line(f"{gate.stage}/{gate.gate_id}")
                )
            )
            for line in _finding_lines(gate):
                console.print(Text(line), soft_wrap=True)
    console.print(Text(verdict_line(run), style=_verdict_style(run)))


def render_plain(run: PipelineRun) -> str:
    """The run as plain text for logs and pipes, one line per gate, ending with the verdict."""
    lines = [one_line(_headline(run))]
    for stage in run.stages:
        if stage.skipped and not stage.gates:
            lines.append(f"[{stage.outcome}] {one_line(stage.name)}: stage skipped")
        for gate in stage.gates:
            line = f"[{gate.outcome}] {one_line(f'{gate.stage}/{gate.gate_id}')}"
            summary = one_line(gate.summary)
            lines.append(f"{line}: {summary}" if summary else line)
            if gate.outcome not in _QUIET:
                lines.extend(_finding_lines(gate))
    lines.append(verdict_line(run))
    return "\n".join(lines) + "\n"


def render_history(runs: Sequence[PipelineRun], console: Console) -> None:
    """Print past runs as a table: short id, service, short commit, risk, status, start, time."""
    if not runs:
        console.print(Text("no runs recorded yet"))
        return
    table = Table()
    for name in ("Run", "Service", "Commit", "Risk", "Status", "Started"):
        table.add_column(name, no_wrap=True)
    table.add_column("Duration", justify="right", no_wrap=True)
    for run in runs:
        duration = run_duration_s(run)
        table.add_row(
            Text(one_line(short_id(run.run_id))),
            Text(one_line(run.service)),
            Text(one_line(short_commit(run.commit))),
            Text(run.risk.value),
            Text(run.status.value, style=STATUS_STYLES.get(run.status, "")),
            Text(_when(run.started_at)),
            Text(format_duration(duration) if duration is not None else "-"),
        )
    console.print(table)


def short_id(run_id: str) -> str:
    """The first eight characters of a run id, enough to tell runs apart in a list."""
    return run_id[:8]


def short_commit(commit: str | None) -> str:
    """A full hexadecimal commit hash cut to seven characters; anything else as it is."""
    if commit is None:
        return "-"
    return commit[:7] if _FULL_SHA.fullmatch(commit) else commit


def _headline(run: PipelineRun) -> str:
    return (
        f"safeship run {run.run_id}: service={run.service} commit={short_commit(run.commit)} "
        f"risk={run.risk} status={run.status}"
    )


def _finding_lines(gate: GateResult) -> Iterable[str]:
    shown = gate.findings[:MAX_FINDINGS_PER_GATE]
    for finding in shown:
        first, *rest = for_terminal(finding_line(finding)).split("\n")
        yield _INDENT + first
        # A multi-line message keeps its shape, indented under its first line.
        yield from (_INDENT * 2 + more for more in rest)
    hidden = len(gate.findings) - len(shown)
    if hidden > 0:
        yield f"{_INDENT}... {hidden} more"


def _outcome_text(outcome: Outcome) -> Text:
    return Text(outcome.value, style=OUTCOME_STYLES.get(outcome, ""))


def _verdict_style(run: PipelineRun) -> str:
    verdict = verdict_line(run)
    if verdict.startswith("PASSED"):
        return "bold green"
    if verdict.startswith("WAITING"):
        return "bold magenta"
    return "bold red"


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
