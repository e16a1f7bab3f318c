"""What every report writer says the same way: outcome counts, the verdict line, finding lines.

Keeping these in one place means the table, the plain text, the GitHub annotations and the JUnit
file never disagree about whether a run passed, or how a finding is written.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from safeship.model.enums import Outcome, RunStatus, Severity
from safeship.model.results import Finding, GateResult, PipelineRun

#: Terminal writers show at most this many findings per gate; the machine formats show all.
MAX_FINDINGS_PER_GATE = 20

# C0/C1 control characters (except tab and newline) and the Unicode bidi overrides that
# "Trojan Source" uses: printed raw they can rewrite or reorder what a person sees in a terminal.
_UNSAFE_FOR_TERMINAL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


# The severity of a gate-level entry, by outcome; outcomes missing here produce no entry.
_GATE_LEVEL = {
    Outcome.BLOCKED: Severity.ERROR,
    Outcome.ERROR: Severity.ERROR,
    Outcome.PENDING_APPROVAL: Severity.WARNING,
    Outcome.WARNED: Severity.WARNING,
    Outcome.LOGGED: Severity.NOTE,
}


def outcome_counts(run: PipelineRun) -> dict[str, int]:
    """How many gates of ``run`` ended in each outcome; every outcome is present, zero or not."""
    counts = Counter(gate.outcome for gate in run.gates)
    return {outcome.value: counts.get(outcome, 0) for outcome in Outcome}


def run_duration_s(run: PipelineRun) -> float | None:
    """Wall-clock seconds of the run, or None while it has not finished."""
    if run.finished_at is None:
        return None
    return max(0.0, (run.finished_at - run.started_at).total_seconds())


def seconds(value: float) -> float:
    """A duration fit for output: finite, non-negative and rounded to the millisecond."""
    if not math.isfinite(value) or value < 0:
        return 0.0
    return round(value, 3)


def approve_hint(run: PipelineRun) -> str:
    """The command a person runs to let a run that waits for approval go on."""
    return f"safeship approve {run.run_id} --by NAME --reason TEXT"


def verdict_line(run: PipelineRun) -> str:
    """One line that says whether the change may go on, and why not.

    Gate outcomes decide first (blocked, then error, then pending approval); the run status only
    speaks when no gate explains it. "PASSED" is said only when nothing holds the change back:
    a gate that did not run keeps the run from passing (fail closed).
    """
    counts = Counter(gate.outcome for gate in run.gates)
    blocked = counts[Outcome.BLOCKED]
    errors = counts[Outcome.ERROR]
    pending = counts[Outcome.PENDING_APPROVAL]
    if blocked:
        line = f"BLOCKED by {blocked} gate(s)"
        if errors:
            line += f"; {errors} more gate(s) could not run"
        return line
    if errors:
        return f"ERROR: {errors} gate(s) could not run"
    if pending or run.status is RunStatus.PENDING_APPROVAL:
        return f"WAITING for approval: run `{approve_hint(run)}`"
    if run.status is RunStatus.BLOCKED:
        return "BLOCKED"
    if run.status is RunStatus.ERROR:
        return "ERROR: the run could not finish"
    if run.status is RunStatus.INTERRUPTED:
        return "INTERRUPTED: the run stopped before it finished"
    if run.status is RunStatus.RUNNING:
        return "RUNNING: the run has not finished yet"
    not_run = counts[Outcome.NOT_RUN]
    if not_run:
        return f"INCOMPLETE: {not_run} gate(s) did not run"
    warned = counts[Outcome.WARNED]
    if warned:
        return f"PASSED with warnings from {warned} gate(s)"
    return "PASSED"


def failed_without_findings(gate: GateResult) -> bool:
    """True for a gate that did not pass cleanly yet named no finding.

    Machine formats (SARIF, GitHub annotations) emit one gate-level entry for it so that nothing
    is silently dropped. Clean passes, approvals and gates that never ran are not entries.
    """
    return not gate.findings and gate.outcome in _GATE_LEVEL


def gate_level(gate: GateResult) -> Severity:
    """The severity of the gate-level entry of a gate that did not pass and named no finding."""
    return _GATE_LEVEL.get(gate.outcome, Severity.NOTE)


def finding_level(finding: Finding, gate: GateResult) -> Severity:
    """A finding's severity, capped at WARNING when its gate let the change through."""
    if gate.outcome.lets_through and finding.severity is Severity.ERROR:
        return Severity.WARNING
    return finding.severity


def posix_path(path: str) -> str:
    """A finding path with forward slashes and without a leading ``./``."""
    text = path.replace("\\", "/")
    while text.startswith("./"):
        text = text[2:]
    return text


def finding_line(finding: Finding) -> str:
    """``path:line:col: [rule] message``, or ``[rule] message`` for a finding without a place."""
    where = finding.where()
    if where:
        where = posix_path(where)
    prefix = f"{where}: " if where else ""
    return f"{prefix}[{finding.rule}] {finding.message}"


def for_terminal(text: str) -> str:
    """``text`` with control and bidi-override characters shown as escapes, newlines kept."""
    return _UNSAFE_FOR_TERMINAL.sub(_escape_char, text)


def one_line(text: str) -> str:
    """``text`` made safe for a terminal and folded onto a single line."""
    return for_terminal(text).replace("\n", " ").strip()


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
