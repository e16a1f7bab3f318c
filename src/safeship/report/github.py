"""GitHub Actions workflow commands: one annotation per finding, then a one-line summary.

Each finding becomes ``::error file=F,line=L,col=C,title=T::message`` (``warning`` or ``notice``
by severity; a finding of a gate that let the change through is at most a warning). A gate that
did not pass yet named no finding gets one annotation without a file. GitHub's escaping is
applied: in the message ``%``, ``\\r`` and ``\\n`` become ``%25``, ``%0D`` and ``%0A``; property
values additionally escape ``:`` and ``,`` as ``%3A`` and ``%2C``. A message therefore can never
end the command early or smuggle in a second one.
"""

from __future__ import annotations

from collections.abc import Iterable

from safeship.model.enums import Severity
from safeship.model.results import Finding, GateResult, PipelineRun
from safeship.report._summary import (
    failed_without_findings,
    finding_level,
    for_terminal,
    gate_level,
    one_line,
    outcome_counts,
    posix_path,
    verdict_line,
)

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def render_github(run: PipelineRun) -> str:
    """The run as GitHub workflow commands, one per line, ending with a summary line."""
    lines: list[str] = []
    for gate in run.gates:
        lines.extend(_finding_command(finding, gate) for finding in gate.findings)
        if failed_without_findings(gate):
            summary = gate.summary or gate.outcome.value
            lines.append(_command(gate_level(gate), _title(gate), (), f"{gate.outcome}: {summary}"))
    lines.append(_summary(run))
    return "\n".join(lines) + "\n"


def escape_data(text: str) -> str:
    """Escape a command's message the way the Actions runner unescapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a command property value (``file``, ``title``...) for the Actions runner."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _finding_command(finding: Finding, gate: GateResult) -> str:
    properties: list[tuple[str, str]] = []
    if finding.path:
        properties.append(("file", posix_path(finding.path)))
        if finding.line is not None and finding.line >= 1:
            properties.append(("line", str(finding.line)))
            if finding.column is not None and finding.column >= 1:
                properties.append(("col", str(finding.column)))
    title = f"{_title(gate)} [{finding.rule}]"
    return _command(finding_level(finding, gate), title, properties, finding.message)


def _title(gate: GateResult) -> str:
    return f"safeship {gate.stage}/{gate.gate_id}"


def _command(
    level: Severity, title: str, properties: Iterable[tuple[str, str]], message: str
) -> str:
    pairs = [*properties, ("title", title)]
    rendered = ",".join(f"{key}={escape_property(_visible(value))}" for key, value in pairs)
    return f"::{_COMMAND[level]} {rendered}::{escape_data(_visible(message))}"


def _visible(text: str) -> str:
    # Control characters (an ANSI escape in a tool's output, say) are shown, not obeyed; CR and
    # LF are left for GitHub's own %0D/%0A escaping, which the runner turns back into line breaks.
    return "\r".join(for_terminal(part) for part in text.split("\r"))


def _summary(run: PipelineRun) -> str:
    counts = ", ".join(f"{n} {outcome}" for outcome, n in outcome_counts(run).items() if n)
    gates = len(run.gates)
    detail = f"{gates} gate(s): {counts}" if counts else "no gates"
    # A plain log line, not a command; folded onto one line so no name can start a command.
    line = f"safeship {run.service} run {run.run_id}: {verdict_line(run)} ({detail})"
    return one_line(line)
