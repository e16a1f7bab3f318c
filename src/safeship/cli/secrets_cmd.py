"""``safeship secrets scan`` and ``safeship secrets baseline``.

``scan [PATH] [--staged | --git-history [RANGE]] [--config FILE.toml] [--baseline FILE]
[--format table|json|sarif]`` finds passwords, keys and tokens in the files under PATH, in the
staged changes, or in every commit of RANGE (default: all refs). Put PATH before
``--git-history`` (or write ``--git-history=RANGE``): a word right after the option is its
RANGE.

Exit codes: 0 no findings, 1 findings remain after allowlists and the baseline, 2 bad input
(a rule file or baseline that does not parse, with file:line; a bad range), 3 git unavailable.
No output ever contains a secret: only its first characters and a fingerprint.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text
from typer.core import TyperCommand

from safeship._internal.subprocess import run_command
from safeship.cli.output import emit, is_interactive, stderr_console, stdout_console
from safeship.errors import ExitCode, UsageError
from safeship.report.secrets_sarif import render_secrets_sarif
from safeship.scanners.secrets import (
    DEFAULT_MAX_FILE_BYTES,
    ScanOptions,
    ScanReport,
    load_baseline,
    load_ruleset,
    render_baseline,
    scan_blobs,
    scan_paths,
)
from safeship.scanners.secrets.git_sources import history, staged

app = typer.Typer(help="Find passwords, keys and tokens in files, staged changes and history.",
                  no_args_is_help=True)

ALL_REFS = "<all refs>"
DEFAULT_BASELINE = Path(".pipeline") / "secrets-baseline.json"
# Control characters and bidi overrides in a file name could rewrite what the terminal shows.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class SecretsFormat(StrEnum):
    """Output formats of ``secrets scan``."""

    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"


class _OptionalRangeCommand(TyperCommand):
    """Lets ``--git-history`` stand alone: without a RANGE it means every ref.

    Click can make an option's value optional, but the Click that Typer ships cannot, so a bare
    ``--git-history`` (last, or followed by another option) gets its default value here.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        fixed: list[str] = []
        for index, arg in enumerate(args):
            fixed.append(arg)
            if arg == "--":
                fixed.extend(args[index + 1:])
                break
            if arg == "--git-history" and (index + 1 == len(args)
                                           or args[index + 1].startswith("-")):
                fixed.append(ALL_REFS)
        return super().parse_args(ctx, fixed)


PathArg = Annotated[Path, typer.Argument(help="directory or file to scan (default: .)")]
StagedOpt = Annotated[bool, typer.Option(
    "--staged", help="scan the staged changes (git diff --cached), as a pre-commit hook")]
HistoryOpt = Annotated[str | None, typer.Option(
    "--git-history", metavar="[RANGE]",
    help="scan what every commit in RANGE added (default: all refs)")]
ConfigOpt = Annotated[Path | None, typer.Option(
    "--config", "-c", dir_okay=False,
    help="gitleaks-style TOML rules ([extend] useDefault = true keeps the defaults)")]
BaselineOpt = Annotated[Path | None, typer.Option(
    "--baseline", "-b", dir_okay=False, help="accepted findings, by fingerprint")]
PatternOpt = Annotated[str | None, typer.Option(
    "--pattern", help="one more rule, e.g. '(?i)(password|secret|key).*=.+'")]
ExcludeOpt = Annotated[list[str] | None, typer.Option(
    "--exclude", "-x", help="glob of paths not to scan (repeatable)")]
MaxBytesOpt = Annotated[int, typer.Option(
    "--max-file-bytes", min=1, help="larger files are skipped (and listed)")]
JobsOpt = Annotated[int | None, typer.Option(
    "--jobs", "-j", min=1, help="worker processes (default: one per CPU)")]


def _scan(path: Path, staged_only: bool, git_range: str | None, config: Path | None,
          pattern: str | None, exclude: list[str] | None, max_file_bytes: int,
          jobs: int | None) -> ScanReport:
    if staged_only and git_range is not None:
        raise UsageError("--staged and --git-history cannot be used together")
    ruleset = load_ruleset(config, pattern)
    options = ScanOptions(max_file_bytes=max_file_bytes, exclude=tuple(exclude or ()),
                          jobs=jobs)
    if not staged_only and git_range is None:
        return scan_paths(path, ruleset, options)
    if not path.is_dir():
        raise UsageError(f"{path} is not a directory; --staged and --git-history scan a "
                         "git work tree")
    root = path.resolve()
    if staged_only:
        source = staged(run_command, root)
        kind = "staged"
    else:
        source = history(run_command, root, None if git_range == ALL_REFS else git_range)
        kind = "history"
    return scan_blobs(source.blobs, ruleset, options, skipped=source.skipped, source=kind)


def _safe(text: str) -> str:
    return _UNSAFE.sub("?", text)


def _where(file: str, line: int, column: int) -> str:
    place = _safe(file)
    if line:
        place += f":{line}"
        if column:
            place += f":{column}"
    return place


def _summary(report: ScanReport) -> str:
    count = len(report.findings)
    source = {"staged": " (staged changes)", "history": " (git history)"}.get(report.source, "")
    text = (f"{count} secret{'s' if count != 1 else ''} found in {report.files} "
            f"file{'s' if report.files != 1 else ''}{source} ({report.bytes} bytes, "
            f"{report.seconds:.2f} s, {report.rules} rules)")
    suppressed = {k: v for k, v in report.suppressed.items() if v}
    if suppressed:
        text += "; not reported: " + ", ".join(f"{v} {k}" for k, v in suppressed.items())
    if report.skipped:
        text += f"; {len(report.skipped)} not scanned"
    return text


def _plain(report: ScanReport) -> str:
    lines = []
    for f in report.findings:
        commit = f"  commit {f.commit[:12]}" if f.commit else ""
        shown = f.redacted or "(file name)"
        lines.append(f"{_where(f.file, f.line, f.column)}  {f.rule_id}  {shown}  "
                     f"fingerprint {f.fingerprint}{commit}  {f.description}")
    lines.extend(f"not scanned: {_safe(s.file)} ({s.reason})" for s in report.skipped)
    lines.append(_summary(report))
    return "\n".join(lines) + "\n"


def _table(report: ScanReport) -> None:
    console = stdout_console()
    if report.findings:
        table = Table(title="secrets found")
        for column in ("where", "rule", "secret", "fingerprint", "description"):
            table.add_column(column)
        for f in report.findings:
            where = _where(f.file, f.line, f.column)
            if f.commit:
                where += f" @{f.commit[:12]}"
            # Text cells: a file name like "[red]x" is shown, not interpreted as markup.
            table.add_row(Text(where), Text(f.rule_id), Text(f.redacted or "(file name)"),
                          Text(f.fingerprint), Text(f.description))
        console.print(table)
    for entry in report.skipped:
        console.print(f"not scanned: {_safe(entry.file)} ({entry.reason})", markup=False)
    style = "bold red" if report.findings else "green"
    console.print(_summary(report), style=style, markup=False)


def _render(report: ScanReport, fmt: SecretsFormat, output: Path | None) -> None:
    if fmt is SecretsFormat.JSON:
        emit(json.dumps(report.to_json(), indent=2) + "\n", output)
    elif fmt is SecretsFormat.SARIF:
        emit(render_secrets_sarif(report), output)
    elif output is not None or not is_interactive():
        emit(_plain(report), output)
    else:
        _table(report)
    if output is not None:
        stderr_console().print(f"report written to {output}", markup=False)


@app.command("scan", cls=_OptionalRangeCommand)
def scan_command(
    path: PathArg = Path(),
    staged_only: StagedOpt = False,
    git_history: HistoryOpt = None,
    config: ConfigOpt = None,
    baseline: BaselineOpt = None,
    fmt: Annotated[SecretsFormat, typer.Option(
        "--format", "-f", case_sensitive=False, help="report format")] = SecretsFormat.TABLE,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", dir_okay=False, help="write the report here instead of stdout")]
    = None,
    pattern: PatternOpt = None,
    exclude: ExcludeOpt = None,
    max_file_bytes: MaxBytesOpt = DEFAULT_MAX_FILE_BYTES,
    jobs: JobsOpt = None,
) -> None:
    """Scan for secrets. Exit 0: none; 1: found; 2: bad input; 3: git unavailable."""
    accepted = load_baseline(baseline) if baseline is not None else frozenset()
    report = _scan(path, staged_only, git_history, config, pattern, exclude, max_file_bytes,
                   jobs).without(accepted)
    _render(report, fmt, output)
    raise typer.Exit(ExitCode.BLOCKED if report.findings else ExitCode.OK)


@app.command("baseline", cls=_OptionalRangeCommand)
def baseline_command(
    path: PathArg = Path(),
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", dir_okay=False,
        help=f"where to write it (default: PATH/{DEFAULT_BASELINE.as_posix()})")] = None,
    staged_only: StagedOpt = False,
    git_history: HistoryOpt = None,
    config: ConfigOpt = None,
    pattern: PatternOpt = None,
    exclude: ExcludeOpt = None,
    max_file_bytes: MaxBytesOpt = DEFAULT_MAX_FILE_BYTES,
    jobs: JobsOpt = None,
) -> None:
    """Accept every current finding: write their fingerprints to a baseline file.

    Review the findings first (``safeship secrets scan``): a baseline says "these are known and
    not secret, or already rotated". Use it with ``scan --baseline FILE`` or the gate's
    ``baseline:`` option.
    """
    report = _scan(path, staged_only, git_history, config, pattern, exclude, max_file_bytes,
                   jobs)
    target = output or ((path if path.is_dir() else path.parent) / DEFAULT_BASELINE)
    emit(render_baseline(report), target)
    count = len({f.fingerprint for f in report.findings})
    stderr_console().print(
        f"baseline written to {target}: {count} accepted finding"
        f"{'s' if count != 1 else ''}", markup=False)
