"""``safeship demo``: gates from a failure to a pass, then canaries that roll back and promote.

Part one runs the gate pipeline on a sample service (it blocks on a lint error, then passes).
Part two (skipped with ``--no-canary``) runs the sample HTTP service behind the embedded router
under steady loopback load: v1 goes live, v2 (5 % errors, +80 ms) is caught by the judge and
rolled back automatically, v3 goes through 1/5/25/100 % and is promoted. See
:mod:`safeship.demo.canary_run`. ``--json FILE`` writes the releases' numbers.
``--prometheus`` reads the metrics from a real Prometheus scraping the router when
``/usr/bin/prometheus`` is installed (else it says so and uses the builtin provider).
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.live import Live
from rich.rule import Rule
from rich.text import Text

from safeship import api
from safeship._internal.subprocess import run_command
from safeship.cli.gates_cmd import EXIT_BY_STATUS, ReportFormat, render
from safeship.cli.output import is_interactive, stdout_console
from safeship.cli.progress import ConsoleProgress
from safeship.demo.budget_server import BudgetServer
from safeship.demo.canary_run import (
    LOAD_RATE_PER_S,
    STEP_PERCENTAGES,
    CanaryDemo,
    DemoStatus,
    ReleaseResult,
    step_duration_s,
)
from safeship.demo.prometheus_server import PROMETHEUS_BINARY, prometheus_binary
from safeship.demo.sample_service import fix_lint_error, write_sample
from safeship.errors import ExitCode, ToolUnavailable
from safeship.model.results import PipelineRun
from safeship.report import render_history


def _measure_coverage(root: Path) -> None:
    for argv in (
        [sys.executable, "-m", "coverage", "run", "--branch", "-m", "unittest", "discover",
         "-s", "tests", "-t", "."],
        [sys.executable, "-m", "coverage", "json", "-o", "coverage.json"],
    ):
        result = run_command(argv, cwd=root, timeout_s=120)
        if result.returncode != 0:
            raise ToolUnavailable(f"`{' '.join(argv[1:])}` failed in the demo project",
                                  hint=(result.stderr or result.stdout)[-500:])


def _run(root: Path, title: str) -> PipelineRun:
    console = stdout_console()
    console.print(Rule(title))
    project = api.load_project(root)
    store = api.open_store(root)
    live = is_interactive()
    try:
        with ConsoleProgress(console, live=live) as progress:
            run = api.run_gates(project, store=store, keep_going=True, actor="demo",
                                commit=None, observer=progress)
    finally:
        store.close()
    render(run, ReportFormat.TABLE, None)
    return run


def _status_text(status: DemoStatus) -> Text:
    split = ", ".join(f"{version} {share:g}%" for version, share in status.weights.items())
    line = f"{status.elapsed_s:5.1f}s  {status.phase}  |  router: {split or '-'}"
    load = status.load
    if load is not None:
        answers = ", ".join(f"{v} {n}" for v, n in sorted(load.by_version.items()))
        line += (f"  |  {load.sent} requests ({answers}), {load.app_errors} app errors, "
                 f"{load.routing_failures} routing failures")
    return Text(line)


def _print_release(console: Console, result: ReleaseResult) -> None:
    style = "red" if result.decision == "ROLLED_BACK" else "green"
    console.print(f"{result.version}: {result.decision} after {result.duration_seconds:.1f} s "
                  f"(max canary {result.max_canary_percent:g} %)", style=style, markup=False)
    for line in result.explanation:
        console.print(f"  {line}", markup=False)
    if result.rollback_seconds is not None:
        console.print(f"  rollback took {result.rollback_seconds:.3f} s from the ROLLBACK "
                      "decision to the router reporting 0 % on the canary", markup=False)
        console.print(f"  requests answered by {result.version} after the rollback: "
                      f"{result.canary_requests_after_rollback}", markup=False)
    console.print(f"  requests failed by routing during the weight changes: "
                  f"{result.failed_requests_during_weight_changes}", markup=False)


def _canary_phase(root: Path, prometheus: bool = False
                  ) -> tuple[list[ReleaseResult], Path | None, str]:
    """Run v1, v2 and v3 behind the embedded router; return the results, v2's report and where
    the metrics came from (``prometheus`` or ``builtin``)."""
    console = stdout_console()
    console.print(Rule("canary: v1 live, v2 bad (+5 % errors, +80 ms), v3 good"))
    binary = prometheus_binary() if prometheus else None
    if prometheus and binary is None:
        console.print(f"--prometheus: {PROMETHEUS_BINARY} is not installed; falling back to "
                      "the builtin metrics provider (the router's own counters)", markup=False)
    steps = "/".join(f"{p:g}" for p in STEP_PERCENTAGES)
    console.print(f"steps {steps} % of {step_duration_s(binary is not None):g} s each, steady "
                  f"load of {LOAD_RATE_PER_S:g} requests/s on 127.0.0.1", markup=False)
    results: list[ReleaseResult] = []
    report: Path | None = None
    live_view = is_interactive()
    shown_notes = 0
    with CanaryDemo(root / "canary", prometheus_binary=binary) as demo:
        def notes() -> None:
            nonlocal shown_notes
            for note in demo.notes[shown_notes:]:
                console.print(note, markup=False)
            shown_notes = len(demo.notes)

        notes()
        def show(text: str) -> None:
            if not live_view:
                console.print(text, markup=False)

        live = Live(get_renderable=lambda: _status_text(demo.status()), console=console,
                    refresh_per_second=4, transient=True) if live_view else None
        try:
            if live is not None:
                live.start()
            show("starting v1 behind the embedded router ...")
            first = demo.start_stable("v1")
            if live is not None:
                live.stop()
            notes()
            console.print(f"v1: {first.value}; load generator running", markup=False)
            for version in ("v2", "v3"):
                show(f"canary {version} ...")
                if live is not None:
                    live.start()
                result = demo.canary(version)
                if live is not None:
                    live.stop()
                notes()
                _print_release(console, result)
                results.append(result)
                if version == "v2":
                    report = demo.write_report("v2", root / "v2-analysis.html")
        finally:
            if live is not None:
                live.stop()
        source = demo.metrics_source
        console.print("the judge's metrics came from "
                      + ("Prometheus (PromQL over the router's scraped /metrics)"
                         if source == "prometheus" else
                         "the builtin provider (the router's own counters)"), markup=False)
    return results, report, source


def _write_json(path: Path, releases: list[ReleaseResult], duration_s: float,
                metrics_source: str | None = None) -> None:
    document: dict[str, object] = {"releases": [r.as_json() for r in releases],
                                   "duration_seconds": round(duration_s, 3)}
    if metrics_source is not None:
        document["metrics_source"] = metrics_source
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def _clean(root: Path, keep: Path | None) -> None:
    """Remove the demo's temp dir, except the file ``keep``."""
    if keep is None or not keep.exists():
        shutil.rmtree(root, ignore_errors=True)
        return
    for child in root.iterdir():
        if child == keep:
            continue
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def _expected(releases: list[ReleaseResult]) -> bool:
    decisions = {r.version: r.decision for r in releases}
    return decisions.get("v2") == "ROLLED_BACK" and decisions.get("v3") == "PROMOTED"


def demo_command(
    keep: Annotated[bool, typer.Option("--keep", help="keep the sample project afterwards")]
    = False,
    json_file: Annotated[Path | None, typer.Option(
        "--json", dir_okay=False, help="write the canary releases' numbers to this file")]
    = None,
    no_canary: Annotated[bool, typer.Option("--no-canary", help="run the gates part only")]
    = False,
    prometheus: Annotated[bool, typer.Option(
        "--prometheus", help="read the canary metrics from a real Prometheus scraping the "
                             "router (needs /usr/bin/prometheus; else the builtin provider)")]
    = False,
) -> None:
    """Gates on a sample service (block, then pass), then canaries: v2 rolls back, v3 promotes.

    Everything runs on this machine: ruff, the compiler, coverage.py and an error-budget
    endpoint on 127.0.0.1; then the sample HTTP service behind the embedded router under a
    steady loopback load. Results go to the sample's own state stores.
    """
    console = stdout_console()
    began = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="safeship-demo-"))
    project = root / "shop"
    project.mkdir()
    releases: list[ReleaseResult] = []
    report: Path | None = None
    source: str | None = None
    try:
        with BudgetServer(budget_remaining=0.42) as budget:
            write_sample(project, budget.url)
            console.print(f"sample service written to {project}", markup=False)
            console.print("measuring test coverage with coverage.py ...", markup=False)
            _measure_coverage(project)
            first = _run(project, "run 1: the sample as written (it has a lint error)")
            console.print(f"fix: {fix_lint_error(project)}", markup=False)
            second = _run(project, "run 2: after the fix")
        console.print(Rule("history (safeship history)"))
        store = api.open_store(project)
        try:
            render_history(store.list_runs(limit=5), console)
        finally:
            store.close()
        console.print(
            f"run 1 ended {first.status.value}, run 2 ended {second.status.value}. "
            "Try it on your repository: safeship init && safeship gates run", markup=False)
        if not no_canary and EXIT_BY_STATUS[second.status] == ExitCode.OK:
            releases, report, source = _canary_phase(root, prometheus)
        duration = time.monotonic() - began
        if json_file is not None:
            _write_json(json_file, releases, duration, source)
        console.print(f"demo took {duration:.1f} s", markup=False)
        if report is not None:
            console.print(f"HTML report of v2's analysis: {report}", markup=False)
    finally:
        if keep:
            console.print(f"kept {root}", markup=False)
        else:
            _clean(root, report)
    code = EXIT_BY_STATUS[second.status]
    if code == ExitCode.OK and releases and not _expected(releases):
        console.print("the canary part did not end as expected (v2 rolled back, v3 promoted)",
                      style="red", markup=False)
        code = ExitCode.BLOCKED
    raise typer.Exit(code)
