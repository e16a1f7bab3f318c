"""Terminal canary-analysis reports: a Rich table for people at a TTY, plain lines for logs.

``render_analysis_table`` prints a headline (config, judge, source), one row per metric of the
final verdict (metric, verdict in colour, classification, baseline, canary, detail), then the
decision in one bold line (``ROLLBACK: error_rate 2.4x baseline ...``), the reasons, and the
judge, score and time of the decision. ``render_analysis_plain`` says the same without colour
or boxes, one ``[verdict] metric: ...`` line per metric.

Metrics of the canary-analysis file that the final verdict does not mention are listed as "not
judged": fail closed means a silent gap is shown, never hidden. Every text that came from a
judge or the config is shown with control characters escaped and is never read as Rich markup.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime

from rich.console import Console
from rich.table import Table
from rich.text import Text

from safeship.model.analysis import AnalysisReport, AnalysisVerdict, Decision, MetricOutcome
from safeship.model.canary import CanarySpec
from safeship.report._summary import one_line

OUTCOME_STYLES: dict[MetricOutcome, str] = {
    MetricOutcome.PASS: "green",
    MetricOutcome.FAIL: "bold red",
    MetricOutcome.NODATA: "yellow",
    MetricOutcome.INCONCLUSIVE: "magenta",
}

DECISION_STYLES: dict[Decision, str] = {
    Decision.PROCEED: "bold green",
    Decision.ROLLBACK: "bold red",
    Decision.INSUFFICIENT_DATA: "bold yellow",
}

_INDENT = "    "


def render_analysis_table(report: AnalysisReport, spec: CanarySpec, console: Console) -> None:
    """Print the analysis: headline, a table of metric verdicts, the decision, reasons, score."""
    console.print(Text(_headline(report)), soft_wrap=True)
    table = Table()
    table.add_column("Metric", no_wrap=True)
    table.add_column("Verdict", no_wrap=True)
    table.add_column("Classification", no_wrap=True)
    table.add_column("Baseline", justify="right", no_wrap=True)
    table.add_column("Canary", justify="right", no_wrap=True)
    table.add_column("Detail", overflow="fold")
    for metric in report.final.metrics:
        table.add_row(
            Text(one_line(metric.name)),
            Text(metric.outcome.value, style=OUTCOME_STYLES.get(metric.outcome, "")),
            Text(_classification(metric.classification.value, critical=metric.critical)),
            Text(format_number(metric.baseline)),
            Text(format_number(metric.canary)),
            Text(one_line(metric.detail)),
        )
    console.print(table)
    missing = not_judged(report, spec)
    if missing:
        console.print(Text(_not_judged_line(missing), style="yellow"), soft_wrap=True)
    final = report.final
    console.print(
        Text(one_line(decision_headline(final)), style=DECISION_STYLES.get(final.decision, "")),
        soft_wrap=True,
    )
    for line in _reason_lines(final):
        console.print(Text(line), soft_wrap=True)
    console.print(Text(_judge_line(report)), soft_wrap=True)


def render_analysis_plain(report: AnalysisReport, spec: CanarySpec) -> str:
    """The analysis as plain text for logs and pipes, one line per metric, then the decision."""
    lines = [_headline(report)]
    for metric in report.final.metrics:
        classification = _classification(metric.classification.value, critical=metric.critical)
        line = (
            f"[{metric.outcome.value}] {one_line(metric.name)}: {classification}, "
            f"baseline {format_number(metric.baseline)}, canary {format_number(metric.canary)}"
        )
        detail = one_line(metric.detail)
        lines.append(f"{line}: {detail}" if detail else line)
    missing = not_judged(report, spec)
    if missing:
        lines.append(_not_judged_line(missing))
    lines.append(one_line(decision_headline(report.final)))
    lines.extend(_reason_lines(report.final))
    lines.append(_judge_line(report))
    return "\n".join(lines) + "\n"


def decision_headline(verdict: AnalysisVerdict) -> str:
    """The decision and its first reason in one line: ``ROLLBACK: error_rate 2.4x baseline``.

    Without reasons, the first metric that did not pass explains the decision; a decision that
    nothing explains is said alone.
    """
    decision = verdict.decision.value
    if verdict.reasons:
        return f"{decision}: {verdict.reasons[0]}"
    for metric in verdict.metrics:
        if metric.outcome is not MetricOutcome.PASS and metric.detail:
            return f"{decision}: {metric.name}: {metric.detail}"
    return decision


def not_judged(report: AnalysisReport, spec: CanarySpec) -> tuple[str, ...]:
    """Names of the spec's metrics that the final verdict says nothing about, in spec order."""
    judged = {metric.name for metric in report.final.metrics}
    return tuple(metric.name for metric in spec.metrics if metric.name not in judged)


def format_number(value: float | None) -> str:
    """A measurement for people: six significant digits, ``-`` when missing or not finite."""
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.6g}"


def format_time(timestamp: float | None) -> str:
    """Unix seconds as ``YYYY-MM-DD HH:MM:SS UTC``, ``-`` when missing or not finite."""
    if timestamp is None or not math.isfinite(timestamp):
        return "-"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _headline(report: AnalysisReport) -> str:
    source = one_line(report.source) or "-"
    return (
        f"safeship canary analysis {one_line(report.config_name)}: "
        f"judge={one_line(report.judge)} source={source}"
    )


def _classification(classification: str, *, critical: bool) -> str:
    return f"{classification} (critical)" if critical else classification


def _not_judged_line(names: Iterable[str]) -> str:
    return "not judged: " + ", ".join(one_line(name) for name in names)


def _reason_lines(verdict: AnalysisVerdict) -> list[str]:
    if not verdict.reasons:
        return []
    return ["reasons:", *(f"{_INDENT}- {one_line(reason)}" for reason in verdict.reasons)]


def _judge_line(report: AnalysisReport) -> str:
    final = report.final
    return (
        f"judge {one_line(report.judge)}, score {format_number(final.score)}, "
        f"decided at {format_time(final.evaluated_at)}"
    )
