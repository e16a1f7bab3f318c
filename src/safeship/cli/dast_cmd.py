"""``safeship dast scan URL`` and ``safeship dast rules``: the ZAP-style baseline scan.

``scan`` crawls URL (bounded, same origin, plus an OpenAPI document's GET paths), applies the
passive rules and the safe GET probes, and reports by rule level. ``-H 'X-Safeship-Version:
canary'`` sends a header with every request, so the scan reaches only the canary through the
router's header route. ``rules`` lists the rules, or prints a ZAP-style rules file to edit.

Exit codes: 0 no FAIL rule alerted (WARN/INFO may have), 1 a FAIL rule alerted or the scan did
not finish, 2 bad input (URL, rules file, OpenAPI document), 3 the target was unreachable.
"""

from __future__ import annotations

import io
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from safeship._internal.http import default_client_factory
from safeship.cli.output import emit, stderr_console, stdout_console
from safeship.errors import ExitCode, UsageError
from safeship.scanners.dast import (
    RULES,
    Level,
    ScanConfig,
    ScanReport,
    load_rules_file,
    render_scan_json,
    render_scan_sarif,
    run_scan,
)

app = typer.Typer(help="Dynamic application security testing: a ZAP-style baseline scan.",
                  no_args_is_help=True)


class DastFormat(StrEnum):
    """Output formats of ``dast scan``."""

    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"


class RulesFormat(StrEnum):
    """Output formats of ``dast rules``."""

    TABLE = "table"
    TSV = "tsv"


def parse_headers(values: list[str]) -> dict[str, str]:
    """``Name: value`` strings as a header mapping; :class:`UsageError` when malformed."""
    headers: dict[str, str] = {}
    for value in values:
        name, sep, text = value.partition(":")
        name = name.strip()
        if not sep or not name or any(c in name for c in " \t\r\n") or any(
                c in text for c in "\r\n"):
            raise UsageError(f"--header {name or value!r}: expected 'Name: value'")
        headers[name] = text.strip()
    return headers


@app.command("scan")
def scan_command(
    url: Annotated[str, typer.Argument(help="the http(s) URL to scan, e.g. the router's")],
    openapi: Annotated[Path | None, typer.Option(
        "--openapi", help="an OpenAPI document whose GET paths are scanned too",
        dir_okay=False)] = None,
    rules: Annotated[Path | None, typer.Option(
        "--rules", help="rule levels: ZAP-style '<id>\\t<FAIL|WARN|INFO|IGNORE>' lines, or "
        "YAML", dir_okay=False)] = None,
    fmt: Annotated[DastFormat, typer.Option("--format", "-f", help="report format",
                                            case_sensitive=False)] = DastFormat.TABLE,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="write the report here instead of stdout", dir_okay=False)]
    = None,
    header: Annotated[list[str] | None, typer.Option(
        "--header", "-H", help="'Name: value' sent with every request, e.g. "
        "'X-Safeship-Version: canary' (repeatable)")] = None,
    max_pages: Annotated[int, typer.Option("--max-pages", min=1, max=1000,
                                           help="most pages to crawl")] = 50,
    max_seconds: Annotated[float, typer.Option("--max-seconds", min=0.1, max=3600,
                                               help="most seconds for the whole scan")] = 60.0,
    passive_only: Annotated[bool, typer.Option(
        "--passive-only", help="send no active probe (exposure probes still run)")] = False,
    assume_https: Annotated[bool, typer.Option(
        "--assume-https", help="judge HSTS and Secure cookies as on HTTPS (TLS proxy in "
        "front)")] = False,
    request_timeout: Annotated[float, typer.Option("--request-timeout", min=0.1, max=120,
                                                   help="seconds per request")] = 10.0,
) -> None:
    """Scan URL like the OWASP ZAP baseline: crawl, passive rules, safe probes.

    Exit codes: 0 no FAIL rule alerted, 1 a FAIL rule alerted (or the scan did not finish),
    2 bad input, 3 target unreachable.
    """
    levels = load_rules_file(rules) if rules is not None else None
    config = ScanConfig(
        target=url,
        headers=parse_headers(header or []),
        openapi=openapi,
        levels=levels.levels if levels else {},
        max_pages=max_pages,
        max_seconds=max_seconds,
        request_timeout_s=request_timeout,
        active=not passive_only,
        assume_https=assume_https,
    )
    report = run_scan(config, default_client_factory)
    if levels is not None and levels.not_implemented:
        stderr_console().print("note: rules this scanner does not check (ignored): "
                               + ", ".join(levels.not_implemented), markup=False)
    if fmt is DastFormat.JSON:
        emit(render_scan_json(report), output)
    elif fmt is DastFormat.SARIF:
        emit(render_scan_sarif(report), output)
    elif output is not None:
        buffer = io.StringIO()
        _print_table(report, Console(file=buffer, width=160, highlight=False, soft_wrap=True))
        emit(buffer.getvalue(), output)
    else:
        _print_table(report, stdout_console())
    raise typer.Exit(ExitCode.BLOCKED if report.failed else ExitCode.OK)


def _print_table(report: ScanReport, console: Console) -> None:
    table = Table(title=f"DAST baseline scan of {report.target}")
    for column in ("level", "rule", "name", "OWASP 2021", "instances", "example"):
        table.add_column(column)
    for result in report.results:
        first = result.alerts[0]
        cells = (result.level.value, result.rule.id, result.rule.name,
                 result.rule.owasp.split("-", 1)[0], str(result.instances),
                 f"{first.url}  ({first.evidence})")
        # Text, not markup: evidence from a server may hold "[...]" that Rich would interpret.
        table.add_row(*(Text(cell) for cell in cells))
    if report.results:
        console.print(table)
    counts = report.counts()
    console.print(
        f"{len(report.pages)} page(s), {report.requests} request(s) in {report.duration_s:g}s; "
        f"FAIL {counts['FAIL']}, WARN {counts['WARN']}, INFO {counts['INFO']}"
        + (f"; limits reached: {', '.join(report.limits_reached)}"
           if report.limits_reached else ""),
        markup=False,
    )
    for part in report.skipped:
        console.print(f"INCOMPLETE: {part}", markup=False)
    for error in report.errors[:10]:
        console.print(f"not fetched: {error}", markup=False)
    verdict = "FAILED" if report.failed else "PASSED"
    console.print(f"{verdict}", markup=False)


@app.command("rules")
def rules_command(
    fmt: Annotated[RulesFormat, typer.Option(
        "--format", "-f", help="table, or tsv: a ZAP-style rules file with the default levels",
        case_sensitive=False)] = RulesFormat.TABLE,
) -> None:
    """List the scan rules: id, name, OWASP Top 10 2021 category, kind and default level."""
    if fmt is RulesFormat.TSV:
        lines = ["# safeship dast rules: <id>\\t<FAIL|WARN|INFO|IGNORE>\\t(name)"]
        lines += [f"{rule.id}\t{rule.default_level.value}\t({rule.name})"
                  for rule in RULES.values()]
        emit("\n".join(lines), None)
        return
    table = Table(title="DAST rules")
    for column in ("id", "name", "OWASP 2021", "kind", "default"):
        table.add_column(column)
    for rule in RULES.values():
        table.add_row(*(Text(cell) for cell in (rule.id, rule.name, rule.owasp, rule.kind.value,
                                                 rule.default_level.value)))
    stdout_console().print(table)
    stdout_console().print(f"levels: {', '.join(level.value for level in Level)}", markup=False)
