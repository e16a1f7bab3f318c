"""Renders an OpenAPI diff (:class:`~safeship.scanners.openapi.DiffReport`) for people.

``render_contract_table`` prints a Rich table on a console; ``render_contract_plain`` says the
same in plain lines (logs, files, CI); ``render_contract_markdown`` writes a Markdown section
for a pull-request comment. All three end with the same verdict line. Text from the specs
(paths, property names, messages) is never read as Rich markup.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from safeship.scanners.openapi import Change, DiffReport, Level

_STYLES = {Level.ERR: "bold red", Level.WARN: "yellow", Level.INFO: "dim"}


def verdict_line(report: DiffReport, fail_on: Level) -> str:
    """``BREAKING: 2 ERR, 1 WARN, 4 INFO (failing on ERR)`` or ``OK: ...``."""
    counts = report.counts()
    text = ", ".join(f"{counts[level]} {level.value}" for level in Level)
    head = "BREAKING" if report.breaking(fail_on) else "OK"
    return f"{head}: {text} from {report.base} to {report.revision} (failing on {fail_on.value})"


def _where(change: Change) -> str:
    return f"line {change.revision_line}" if change.revision_line else ""


def render_contract_plain(report: DiffReport, fail_on: Level, min_level: Level) -> str:
    """One line per change at ``min_level`` or above, then the verdict line."""
    lines = []
    for c in report.at_least(min_level):
        where = f" ({report.revision}:{c.revision_line})" if c.revision_line else ""
        operation = f"{c.operation}: " if c.operation else ""
        lines.append(f"{c.level.value:<4} {c.id}  {operation}{c.message}{where}")
    lines.append(verdict_line(report, fail_on))
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_contract_markdown(report: DiffReport, fail_on: Level, min_level: Level) -> str:
    """A Markdown section: verdict, then a table of the changes at ``min_level`` or above."""
    changes = report.at_least(min_level)
    lines = [f"## API contract: `{report.base}` → `{report.revision}`", "",
             f"**{verdict_line(report, fail_on)}**", ""]
    if not changes:
        lines.append(f"No change at {min_level.value} or above.")
        return "\n".join(lines)
    lines += ["| Level | Rule | Operation | Change | Line |", "|---|---|---|---|---|"]
    lines.extend(
        f"| {c.level.value} | `{c.id}` | {f'`{_cell(c.operation)}`' if c.operation else ''} | "
        f"{_cell(c.message)} | {c.revision_line or ''} |" for c in changes)
    return "\n".join(lines)


def render_contract_table(report: DiffReport, fail_on: Level, min_level: Level,
                          console: Console) -> None:
    """Print the changes at ``min_level`` or above as a table, then the verdict."""
    changes = report.at_least(min_level)
    if changes:
        table = Table(title=f"API changes {report.base} -> {report.revision}")
        for column in ("level", "rule", "operation", "change", "line"):
            table.add_column(column)
        for c in changes:
            table.add_row(Text(c.level.value, style=_STYLES[c.level]), Text(c.id),
                          Text(c.operation), Text(c.message), Text(_where(c)))
        console.print(table)
    console.print(Text(verdict_line(report, fail_on),
                       style="bold red" if report.breaking(fail_on) else "green"))
