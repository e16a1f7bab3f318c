"""``safeship analyze``: judge recorded or Prometheus metrics of a canary, offline."""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from safeship import api
from safeship._internal.durations import DurationSyntaxError, parse_duration
from safeship._internal.prometheus_api import display_url
from safeship._internal.timestamps import TimestampSyntaxError, parse_timestamp
from safeship.cli.output import emit, is_interactive, stdout_console
from safeship.errors import ExitCode, UsageError
from safeship.metrics.file import FileOptions, FileProvider
from safeship.metrics.interface import MetricsProvider, TimeRange
from safeship.metrics.prometheus import PrometheusOptions, PrometheusProvider
from safeship.model.analysis import AnalysisReport, Decision
from safeship.model.canary import CanarySpec, JudgeName
from safeship.report import (
    render_analysis_html,
    render_analysis_json,
    render_analysis_plain,
    render_analysis_table,
)

# Recorded files carry their own timestamps; this window only bounds what is read.
FILE_WINDOW = TimeRange(0.0, 4_102_444_800.0, 10.0)

EXIT_BY_DECISION = {
    Decision.PROCEED: ExitCode.OK,
    Decision.ROLLBACK: ExitCode.BLOCKED,
    Decision.INSUFFICIENT_DATA: ExitCode.PENDING,
}


class AnalysisFormat(StrEnum):
    """Output formats of ``analyze``."""

    TABLE = "table"
    JSON = "json"
    HTML = "html"


def _seconds(text: str, option: str) -> float:
    try:
        seconds = parse_duration(text)
    except DurationSyntaxError as exc:
        raise UsageError(f"{option}: {exc}") from exc
    if seconds <= 0:
        raise UsageError(f"{option}: must be longer than zero")
    return seconds


def _provider(baseline: Path | None, canary: Path | None, prometheus: str | None,
              start: str | None, end: str | None, step_s: float) -> tuple[MetricsProvider,
                                                                          TimeRange, str]:
    files = baseline is not None or canary is not None
    if files and prometheus:
        raise UsageError("give either --baseline/--canary files or --prometheus, not both")
    if files:
        if baseline is None or canary is None:
            raise UsageError("--baseline and --canary go together")
        if start or end:
            raise UsageError("--start/--end apply to --prometheus; recorded files carry "
                             "their own timestamps")
        provider = FileProvider(FileOptions(baseline=str(baseline), canary=str(canary)))
        window = TimeRange(FILE_WINDOW.start, FILE_WINDOW.end, step_s)
        return provider, window, f"files {baseline} (baseline), {canary} (canary)"
    if not prometheus:
        raise UsageError("say where the metrics are: --baseline FILE --canary FILE, or "
                         "--prometheus URL --start T --end T")
    now = time.time()
    try:
        begin = parse_timestamp(start or "now-30m", now)
        finish = parse_timestamp(end or "now", now)
    except TimestampSyntaxError as exc:
        raise UsageError(str(exc)) from exc
    if finish <= begin:
        raise UsageError("--end must be after --start")
    try:
        options = PrometheusOptions(url=prometheus)
    except ValueError as exc:
        raise UsageError(f"--prometheus: {exc}") from exc
    return (PrometheusProvider(options), TimeRange(begin, finish, step_s),
            f"Prometheus at {display_url(prometheus)}")


def render_report(report: AnalysisReport, spec: CanarySpec, fmt: AnalysisFormat,
                  output: Path | None) -> None:
    """Write ``report`` in ``fmt`` to ``output`` or the terminal."""
    if fmt is AnalysisFormat.JSON:
        emit(render_analysis_json(report, spec), output)
    elif fmt is AnalysisFormat.HTML:
        emit(render_analysis_html(report, spec), output)
    elif output is None and is_interactive():
        render_analysis_table(report, spec, stdout_console())
    else:
        emit(render_analysis_plain(report, spec), output)


def analyze_command(
    config: Annotated[Path, typer.Option(
        "--config", "-c", help="canary-analysis file", dir_okay=False)]
    = Path(".pipeline/canary-analysis.yaml"),
    baseline: Annotated[Path | None, typer.Option(
        help="recorded metrics of the baseline (the file provider's JSON)",
        dir_okay=False)] = None,
    canary: Annotated[Path | None, typer.Option(
        help="recorded metrics of the canary (the file provider's JSON)",
        dir_okay=False)] = None,
    prometheus: Annotated[str | None, typer.Option(
        help="Prometheus base URL, e.g. http://127.0.0.1:9090")] = None,
    start: Annotated[str | None, typer.Option(
        help="with --prometheus: start (unix s, ISO 8601, now-30m); default now-30m")] = None,
    end: Annotated[str | None, typer.Option(
        help="with --prometheus: end; default now")] = None,
    step: Annotated[str, typer.Option(help="resolution of the series (scrape interval)")]
    = "10s",
    every: Annotated[str | None, typer.Option(
        help="how often the judge is evaluated while replaying (default: --step)")] = None,
    judge: Annotated[JudgeName | None, typer.Option(
        help="judge to use (default: the file's judge.name, else sequential)",
        case_sensitive=False)] = None,
    fmt: Annotated[AnalysisFormat, typer.Option(
        "--format", "-f", help="report format", case_sensitive=False)] = AnalysisFormat.TABLE,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="write the report to this file", dir_okay=False)] = None,
) -> None:
    """Compare canary with baseline and decide PROCEED, ROLLBACK or INSUFFICIENT_DATA.

    The judge is replayed over the evidence as the live rollout would run it, so the report
    shows when it would have decided. Exit codes: 0 PROCEED, 1 ROLLBACK, 4 INSUFFICIENT_DATA,
    2 bad input, 3 metrics provider unreachable.
    """
    spec = api.load_canary(config)
    step_s = _seconds(step, "--step")
    every_s = _seconds(every, "--every") if every else None
    provider, window, source = _provider(baseline, canary, prometheus, start, end, step_s)
    report = api.analyze(spec, provider, window, judge=judge, every_s=every_s, source=source)
    render_report(report, spec, fmt, output)
    raise typer.Exit(EXIT_BY_DECISION[report.final.decision])
