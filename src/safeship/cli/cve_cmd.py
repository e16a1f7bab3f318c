"""``safeship cve scan`` and ``safeship cve db update``: offline vulnerability checks.

``safeship cve scan [-r requirements.txt | --sbom sbom.json | --environment] [--db PATH]
[--format table|json|sarif]`` matches pinned dependencies against a local OSV database (default
``.safeship/osv/PyPI-all.zip`` under ``--project``); with no input named it reads the project's
own dependency file. The severity policy is the ``cve_check`` gate's (critical blocks, high
warns, unknown warns by default) and can be changed per level.

``safeship cve db update`` downloads the OSV PyPI export (needs network; offline it fails with
exit code 3 and says how to bring a database in by hand).

Exit codes: 0 pass (warnings allowed), 1 blocked by policy, 2 bad input, 3 database unavailable.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from safeship._internal.http import default_client_factory
from safeship.cli.output import emit, is_interactive, stderr_console, stdout_console
from safeship.errors import ExitCode
from safeship.gates.cve_check import (
    CveCheckOptions,
    CveScan,
    decide,
    findings_of,
    load_ignores,
    read_inventories,
    run_scan,
    summary_of,
)
from safeship.model.enums import FailAction, Outcome, RiskLevel, RunStatus, Verdict
from safeship.model.results import GateResult, PipelineRun, StageResult
from safeship.report import render_sarif
from safeship.scanners.osv import DEFAULT_DB_PATH, OSV_PYPI_EXPORT, Decision, download_database

app = typer.Typer(help="Known vulnerabilities in dependencies, matched offline against OSV.",
                  no_args_is_help=True)
db_app = typer.Typer(help="Manage the local OSV advisory database.", no_args_is_help=True)
app.add_typer(db_app, name="db")


class ScanFormat(StrEnum):
    """Output formats of ``cve scan``."""

    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"


class Action(StrEnum):
    """What a severity level means for the change."""

    BLOCK = "block"
    WARN = "warn"
    PASS = "pass"  # noqa: S105 - a decision, not a password


def _relative_to(root: Path) -> Callable[[str], str]:
    def relative(path: str) -> str:
        candidate = Path(path)
        for base in (root, root.resolve(), Path.cwd()):
            try:
                return candidate.relative_to(base).as_posix()
            except ValueError:
                continue
        return candidate.as_posix()

    return relative


@app.command("scan")
def scan_command(
    requirements: Annotated[list[Path] | None, typer.Option(
        "--requirements", "-r", help="requirements file to scan (repeatable)",
        dir_okay=False)] = None,
    sbom: Annotated[Path | None, typer.Option(
        "--sbom", help="CycloneDX JSON SBOM to scan", dir_okay=False)] = None,
    environment: Annotated[bool, typer.Option(
        "--environment", help="scan the packages installed for this Python")] = False,
    db: Annotated[Path | None, typer.Option(
        "--db", help="OSV database: folder of JSON/YAML records, or a zip (default: "
        f"{DEFAULT_DB_PATH.as_posix()} under --project)")] = None,
    ignore: Annotated[Path | None, typer.Option(
        "--ignore", help="ignore list (YAML or TOML: id, reason, expires)",
        dir_okay=False)] = None,
    fmt: Annotated[ScanFormat, typer.Option(
        "--format", "-f", help="output format", case_sensitive=False)] = ScanFormat.TABLE,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="write the report to this file", dir_okay=False)] = None,
    project: Annotated[Path, typer.Option(
        "--project", "-C", help="project root", file_okay=False)] = Path(),
    critical: Annotated[Action, typer.Option("--critical-severity")] = Action.BLOCK,
    high: Annotated[Action, typer.Option("--high-severity")] = Action.WARN,
    medium: Annotated[Action, typer.Option("--medium-severity")] = Action.PASS,
    low: Annotated[Action, typer.Option("--low-severity")] = Action.PASS,
    unknown: Annotated[Action, typer.Option(
        "--unknown-severity", help="for advisories with no CVSS vector or label")] = Action.WARN,
    unpinned: Annotated[Action, typer.Option(
        "--unpinned", help="for dependencies without an exact version")] = Action.WARN,
    max_db_age_days: Annotated[int | None, typer.Option(
        "--max-db-age-days", min=1, help="refuse a database older than this")] = None,
) -> None:
    """Scan dependencies for known vulnerabilities.

    Exit codes: 0 pass, 1 blocked by policy, 2 bad input, 3 database unavailable.
    """
    root = project
    relative = _relative_to(root)
    options = CveCheckOptions(
        critical_severity=critical.value, high_severity=high.value,
        medium_severity=medium.value, low_severity=low.value,
        unknown_severity=unknown.value, unpinned=unpinned.value,
    )
    inventories = read_inventories(root, requirements=requirements or [], sbom=sbom,
                                   environment=environment)
    ignores = load_ignores(root, str(ignore) if ignore else None, relative)
    result = run_scan(root, db=db or root / DEFAULT_DB_PATH, inventories=inventories,
                      policy=options.policy(), ignores=ignores, today=dt.date.today(),
                      relative=relative, max_db_age_days=max_db_age_days)
    decision = decide(result, Decision(unpinned.value))
    if fmt is ScanFormat.JSON:
        data = {**result.report.to_json(), "decision": decision.value,
                "sources": list(result.sources),
                "notes": [*result.report.notes, *result.notes]}
        emit(json.dumps(data, indent=2), output)
    elif fmt is ScanFormat.SARIF:
        emit(render_sarif(_as_run(result, decision, Decision(unpinned.value))), output)
    else:
        _table(result, decision, output)
    if fmt is not ScanFormat.TABLE or output is not None:
        console = stderr_console()
        for note in (*result.report.notes, *result.notes):
            console.print(f"note: {note}", markup=False, highlight=False)
        console.print(summary_of(result, decision), markup=False, highlight=False)
    raise typer.Exit(ExitCode.BLOCKED if decision is Decision.BLOCK else ExitCode.OK)


def _table(result: CveScan, decision: Decision, output: Path | None) -> None:
    report = result.report
    if output is not None or not is_interactive():
        lines = []
        for f in report.findings:
            score = f"{f.severity.score:.1f}" if f.severity.score is not None else "-"
            where = f"{f.path}:{f.line}" if f.path and f.line else (f.path or "")
            lines.append(
                f"{f.decision.value.upper():<8} {f.package} {f.version}  {f.id}  "
                f"{f.severity.level.value} {score}  fixed in: {', '.join(f.fixed_in) or '-'}"
                f"  {where}".rstrip())
        if output is None:
            lines.extend(f"note: {note}" for note in (*report.notes, *result.notes))
            lines.append(summary_of(result, decision))
        emit("\n".join(lines) if lines else summary_of(result, decision), output)
        return
    console = stdout_console()
    if report.findings:
        table = Table(title="known vulnerabilities")
        for column in ("decision", "package", "version", "id", "aliases", "severity", "score",
                       "fixed in", "declared at"):
            table.add_column(column)
        styles = {Decision.BLOCK: "bold red", Decision.WARN: "yellow"}
        for f in report.findings:
            table.add_row(
                f.decision.value, f.package, f.version, f.id, ", ".join(f.aliases),
                f.severity.level.value,
                f"{f.severity.score:.1f}" if f.severity.score is not None else "-",
                ", ".join(f.fixed_in) or "-",
                f"{f.path}:{f.line}" if f.path and f.line else (f.path or ""),
                style=styles.get(f.decision),
            )
        console.print(table)
    for note in (*report.notes, *result.notes):
        console.print(f"note: {note}", markup=False)
    console.print(summary_of(result, decision), markup=False)


def _as_run(result: CveScan, decision: Decision, unpinned: Decision) -> PipelineRun:
    """The scan as a one-gate pipeline run, so the project's SARIF writer can render it."""
    now = dt.datetime.now(dt.UTC)
    outcome = {Decision.BLOCK: Outcome.BLOCKED, Decision.WARN: Outcome.WARNED}.get(
        decision, Outcome.PASSED)
    gate = GateResult(
        stage="cve", gate_id="cve_check", gate_type="cve_check",
        verdict=Verdict.FAILED if decision is Decision.BLOCK else Verdict.PASSED,
        action=FailAction.FAIL, outcome=outcome, summary=summary_of(result, decision),
        findings=findings_of(result, unpinned),
    )
    return PipelineRun(
        run_id=uuid.uuid4().hex, service="cve-scan", commit=None, actor="safeship cve scan",
        risk=RiskLevel.MEDIUM, started_at=now, finished_at=now,
        status=RunStatus.BLOCKED if decision is Decision.BLOCK else RunStatus.PASSED,
        stages=(StageResult("cve", (gate,)),),
    )


@db_app.command("update")
def db_update_command(
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help=f"where to write (default: {DEFAULT_DB_PATH.as_posix()} under "
        "--project)", dir_okay=False)] = None,
    url: Annotated[str, typer.Option("--url", help="the OSV export to download")]
    = OSV_PYPI_EXPORT,
    timeout: Annotated[float, typer.Option("--timeout", min=1.0,
                                           help="seconds before giving up")] = 300.0,
    project: Annotated[Path, typer.Option(
        "--project", "-C", help="project root", file_okay=False)] = Path(),
) -> None:
    """Download the OSV PyPI advisory export (needs network).

    Exit codes: 0 written, 2 bad arguments, 3 download failed (offline, HTTP error, bad zip).
    """
    dest = output or project / DEFAULT_DB_PATH
    console = stderr_console()
    console.print(f"downloading {url} ...", markup=False)
    result = download_database(dest, default_client_factory, url=url, timeout_s=timeout)
    console.print(f"{result.path} written: {result.records} advisories "
                  f"({result.withdrawn} withdrawn), {result.bytes} bytes", markup=False)
