"""Terminal output: the Rich table, the plain text for logs, the verdict line and run history."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace

import pytest
from rich.console import Console

from safeship.model.enums import Outcome, RunStatus
from safeship.model.results import PipelineRun
from safeship.report import render_history, render_plain, render_table
from safeship.report._summary import verdict_line
from safeship.report.table import short_commit, short_id


def _console() -> Console:
    return Console(
        record=True, width=120, color_system="truecolor", force_terminal=True, file=io.StringIO()
    )


def _rows(text: str) -> list[list[str]]:
    """The cells of the header row and each body row, stripped."""
    return [
        [cell.strip() for cell in line.replace("┃", "│").strip().strip("│").split("│")]
        for line in text.splitlines()
        if line.startswith(("│", "┃"))
    ]


# --- plain text -------------------------------------------------------------------------------


def test_plain_full_run(full_run: PipelineRun) -> None:
    assert render_plain(full_run) == (
        "safeship run 7f3c9a2e41d84b0f9e6a5c3b2d1e0f99: service=shop commit=4b825dc risk=high "
        "status=blocked\n"
        "[blocked] pre_commit/lint: 2 errors (ruff)\n"
        "    src/shop/app.py:3:8: [F401] 'os' imported but unused\n"
        "    src/shop/ünïcode module.py:12: [E999] SyntaxError: unexpected token '<&>' near "
        "“ñandú”\n"
        "[blocked] pre_commit/secrets: 1 secret found\n"
        "    config/settings.py:41:5: [aws-access-key] AWS access key AKIA…MPLE found "
        "(entropy 100% above limit)\n"
        "        rotate it, then rewrite history\n"
        "[passed] pre_commit/compile: 31 files compiled\n"
        "[logged] build/coverage: line coverage 78.5% <= 80%\n"
        "    src/shop/cart.py: [coverage/file] src/shop/cart.py is 64.0% covered\n"
        "[warned] build/cve: 2 vulnerable packages (0 critical)\n"
        "    [CVE-2024-3772] pydantic 2.5.0: ReDoS in the e-mail validator\n"
        "    requirements.txt:7: [GHSA-9wx4-h78v-vm56] requests 2.31.0: certificate checks "
        "can be skipped\n"
        "[skipped] build/sbom: no dependency file changed\n"
        "[approved] pre_deploy/api_contract: 1 breaking change, approved by alice\n"
        "    api/a,b:c.yaml:1:1: [response-property-removed] GET /orders: removed "
        "'total'\\x1b[31m with a NUL \\x00 byte\n"
        "[error] pre_deploy/db_migration: squawk not found on PATH\n"
        "[pending_approval] pre_deploy/slo: error budget 3.2% remaining, needs > 5%\n"
        "[not_run] canary/dast\n"
        "[not_run] post_deploy: stage skipped\n"
        "BLOCKED by 2 gate(s); 1 more gate(s) could not run\n"
    )


def test_plain_caps_findings_per_gate(many_findings_run: PipelineRun) -> None:
    lines = render_plain(many_findings_run).splitlines()

    shown = [line for line in lines if line.startswith("    src/big.py:")]
    assert len(shown) == 20
    assert shown[0] == "    src/big.py:1: [E501] line too long (101 > 100)"
    assert shown[-1] == "    src/big.py:20: [E501] line too long (120 > 100)"
    assert lines[-2:] == ["    ... 5 more", "BLOCKED by 1 gate(s)"]


def test_plain_passing_run(passing_run: PipelineRun) -> None:
    assert render_plain(passing_run).splitlines() == [
        "safeship run 7f3c9a2e41d84b0f9e6a5c3b2d1e0f99: service=shop commit=4b825dc risk=high "
        "status=passed",
        "[passed] pre_commit/lint: no errors",
        "[warned] pre_commit/cve: 1 medium vulnerability",
        "    [CVE-2024-3772] pydantic 2.5.0: ReDoS in the e-mail validator",
        "PASSED with warnings from 1 gate(s)",
    ]


def test_plain_keeps_a_summary_on_one_line(single_gate_run: Callable[..., PipelineRun]) -> None:
    run = single_gate_run(Outcome.BLOCKED, RunStatus.BLOCKED, summary="two\nlines\r\x1b[2J")

    assert render_plain(run).splitlines()[1] == "[blocked] checks/only: two lines\\x0d\\x1b[2J"


# --- verdict ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "status", "expected"),
    [
        (Outcome.PASSED, RunStatus.PASSED, "PASSED"),
        (Outcome.APPROVED, RunStatus.APPROVED, "PASSED"),
        (Outcome.LOGGED, RunStatus.PASSED, "PASSED"),
        (Outcome.WARNED, RunStatus.PASSED, "PASSED with warnings from 1 gate(s)"),
        (Outcome.BLOCKED, RunStatus.BLOCKED, "BLOCKED by 1 gate(s)"),
        (Outcome.ERROR, RunStatus.ERROR, "ERROR: 1 gate(s) could not run"),
        (
            Outcome.PENDING_APPROVAL,
            RunStatus.PENDING_APPROVAL,
            "WAITING for approval: run `safeship approve 7f3c9a2e41d84b0f9e6a5c3b2d1e0f99 "
            "--by NAME --reason TEXT`",
        ),
        # Fail closed: a gate that never ran keeps a run from passing, whatever its status says.
        (Outcome.NOT_RUN, RunStatus.PASSED, "INCOMPLETE: 1 gate(s) did not run"),
        (Outcome.PASSED, RunStatus.INTERRUPTED, "INTERRUPTED: the run stopped before it finished"),
        (Outcome.PASSED, RunStatus.RUNNING, "RUNNING: the run has not finished yet"),
        (Outcome.PASSED, RunStatus.BLOCKED, "BLOCKED"),
        (Outcome.PASSED, RunStatus.ERROR, "ERROR: the run could not finish"),
    ],
)
def test_verdict_line(
    single_gate_run: Callable[..., PipelineRun],
    outcome: Outcome,
    status: RunStatus,
    expected: str,
) -> None:
    assert verdict_line(single_gate_run(outcome, status)) == expected


# --- Rich table -------------------------------------------------------------------------------


def test_table_rows_findings_and_verdict(full_run: PipelineRun) -> None:
    console = _console()
    render_table(full_run, console)
    text = console.export_text()

    assert text.splitlines()[0] == (
        "safeship run 7f3c9a2e41d84b0f9e6a5c3b2d1e0f99: service=shop commit=4b825dc risk=high "
        "status=blocked"
    )
    assert _rows(text) == [
        ["Stage", "Gate", "Outcome", "Duration", "Summary"],
        ["pre_commit", "lint", "blocked", "1s", "2 errors (ruff)"],
        ["pre_commit", "secrets", "blocked", "500ms", "1 secret found"],
        ["pre_commit", "compile", "passed", "250ms", "31 files compiled"],
        ["build", "coverage", "logged", "500ms", "line coverage 78.5% <= 80%"],
        ["build", "cve", "warned", "500ms", "2 vulnerable packages (0 critical)"],
        ["build", "sbom", "skipped", "0ms", "no dependency file changed"],
        ["pre_deploy", "api_contract", "approved", "500ms", "1 breaking change, approved by alice"],
        ["pre_deploy", "db_migration", "error", "10ms", "squawk not found on PATH"],
        [
            "pre_deploy",
            "slo",
            "pending_approval",
            "500ms",
            "error budget 3.2% remaining, needs > 5%",
        ],
        ["canary", "dast", "not_run", "0ms", ""],
        ["post_deploy", "-", "not_run", "-", "stage skipped"],
    ]
    after_table = text.split("┘\n", 1)[1].splitlines()
    assert after_table == [
        "blocked pre_commit/lint",
        "    src/shop/app.py:3:8: [F401] 'os' imported but unused",
        "    src/shop/ünïcode module.py:12: [E999] SyntaxError: unexpected token '<&>' near "
        "“ñandú”",
        "blocked pre_commit/secrets",
        "    config/settings.py:41:5: [aws-access-key] AWS access key AKIA…MPLE found (entropy "
        "100% above limit)",
        "        rotate it, then rewrite history",
        "logged build/coverage",
        "    src/shop/cart.py: [coverage/file] src/shop/cart.py is 64.0% covered",
        "warned build/cve",
        "    [CVE-2024-3772] pydantic 2.5.0: ReDoS in the e-mail validator",
        "    requirements.txt:7: [GHSA-9wx4-h78v-vm56] requests 2.31.0: certificate checks can be "
        "skipped",
        "approved pre_deploy/api_contract",
        "    api/a,b:c.yaml:1:1: [response-property-removed] GET /orders: removed "
        "'total'\\x1b[31m with a NUL \\x00 byte",
        "BLOCKED by 2 gate(s); 1 more gate(s) could not run",
    ]


def test_table_colours_outcomes_and_verdict(
    full_run: PipelineRun, passing_run: PipelineRun
) -> None:
    console = _console()
    render_table(full_run, console)
    styled = console.export_text(styles=True)

    # Table cells are padded inside their style, so only the opening is compared.
    assert "│ \x1b[1;31mblocked " in styled
    assert "│ \x1b[32mpassed " in styled
    assert "│ \x1b[33mwarned " in styled
    assert "│ \x1b[36mlogged " in styled
    assert "│ \x1b[31merror " in styled
    assert "│ \x1b[35mpending_approval" in styled
    assert "│ \x1b[2mnot_run " in styled
    assert "\x1b[1;31mblocked\x1b[0m pre_commit/lint\n" in styled
    assert "\x1b[1;31mBLOCKED by 2 gate(s); 1 more gate(s) could not run\x1b[0m" in styled

    console = _console()
    render_table(passing_run, console)
    assert "\x1b[1;32mPASSED with warnings from 1 gate(s)\x1b[0m" in console.export_text(
        styles=True
    )


def test_table_caps_findings_per_gate(many_findings_run: PipelineRun) -> None:
    console = _console()
    render_table(many_findings_run, console)
    lines = console.export_text().splitlines()

    assert sum(line.startswith("    src/big.py:") for line in lines) == 20
    assert lines[-2:] == ["    ... 5 more", "BLOCKED by 1 gate(s)"]


def test_table_never_reads_gate_text_as_markup(
    single_gate_run: Callable[..., PipelineRun],
) -> None:
    run = single_gate_run(Outcome.BLOCKED, RunStatus.BLOCKED, summary="[bold]x[/bold] [link=y]")
    console = _console()
    render_table(run, console)

    assert "[bold]x[/bold] [link=y]" in console.export_text()


def test_table_waiting_verdict(single_gate_run: Callable[..., PipelineRun]) -> None:
    console = _console()
    render_table(single_gate_run(Outcome.PENDING_APPROVAL, RunStatus.PENDING_APPROVAL), console)

    assert console.export_text().splitlines()[-1] == (
        "WAITING for approval: run `safeship approve 7f3c9a2e41d84b0f9e6a5c3b2d1e0f99 "
        "--by NAME --reason TEXT`"
    )


# --- history ----------------------------------------------------------------------------------


def test_history_table(
    full_run: PipelineRun, passing_run: PipelineRun, running_run: PipelineRun
) -> None:
    tagged = replace(passing_run, run_id="0b1c2d3e4f5a6b7c", commit="v1.4.2", service="cart")
    console = _console()
    render_history([full_run, tagged, running_run], console)

    assert _rows(console.export_text()) == [
        ["Run", "Service", "Commit", "Risk", "Status", "Started", "Duration"],
        ["7f3c9a2e", "shop", "4b825dc", "high", "blocked", "2025-03-14 09:26:53 UTC", "42s"],
        ["0b1c2d3e", "cart", "v1.4.2", "high", "passed", "2025-03-14 09:26:53 UTC", "42s"],
        ["r-1", "shop", "-", "high", "running", "2025-03-14 09:26:53 UTC", "-"],
    ]


def test_history_without_runs() -> None:
    console = _console()
    render_history([], console)

    assert console.export_text() == "no runs recorded yet\n"


def test_short_forms() -> None:
    assert short_id("7f3c9a2e41d84b0f") == "7f3c9a2e"
    assert short_id("r-1") == "r-1"
    assert short_commit("4b825dc642cb6eb9a060e54bf8d69288fbee4904") == "4b825dc"
    assert short_commit("v1.4.2") == "v1.4.2"
    assert short_commit("abc123") == "abc123"
    assert short_commit(None) == "-"
