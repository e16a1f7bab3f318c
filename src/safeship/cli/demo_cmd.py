"""``safeship demo``: a real gate pipeline on a sample service, from a failure to a pass."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.rule import Rule

from safeship import api
from safeship._internal.subprocess import run_command
from safeship.cli.gates_cmd import EXIT_BY_STATUS, ReportFormat, render
from safeship.cli.output import is_interactive, stdout_console
from safeship.cli.progress import ConsoleProgress
from safeship.demo.budget_server import BudgetServer
from safeship.demo.sample_service import fix_lint_error, write_sample
from safeship.errors import ToolUnavailable
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


def demo_command(
    keep: Annotated[bool, typer.Option("--keep", help="keep the sample project afterwards")]
    = False,
) -> None:
    """Run the gate pipeline on a sample service: it blocks on a lint error, then passes.

    Everything runs on this machine: ruff, the compiler, coverage.py and an error-budget
    endpoint on 127.0.0.1. Results go to the sample's own state store.
    """
    console = stdout_console()
    root = Path(tempfile.mkdtemp(prefix="safeship-demo-"))
    try:
        with BudgetServer(budget_remaining=0.42) as budget:
            write_sample(root, budget.url)
            console.print(f"sample service written to {root}", markup=False)
            console.print("measuring test coverage with coverage.py ...", markup=False)
            _measure_coverage(root)
            first = _run(root, "run 1: the sample as written (it has a lint error)")
            console.print(f"fix: {fix_lint_error(root)}", markup=False)
            second = _run(root, "run 2: after the fix")
        console.print(Rule("history (safeship history)"))
        store = api.open_store(root)
        try:
            render_history(store.list_runs(limit=5), console)
        finally:
            store.close()
        console.print(
            f"run 1 ended {first.status.value}, run 2 ended {second.status.value}. "
            "Try it on your repository: safeship init && safeship gates run", markup=False)
    finally:
        if keep:
            console.print(f"kept {root}", markup=False)
        else:
            shutil.rmtree(root, ignore_errors=True)
    raise typer.Exit(EXIT_BY_STATUS[second.status])
