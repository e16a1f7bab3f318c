"""GitHub workflow commands: one per finding, GitHub's escaping, and a closing summary line."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from safeship.model.enums import Outcome, RunStatus
from safeship.model.results import PipelineRun
from safeship.report import render_github
from safeship.report.github import escape_data, escape_property


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("plain", "plain"),
        ("100%", "100%25"),
        ("a\nb", "a%0Ab"),
        ("a\r\nb", "a%0D%0Ab"),
        ("%0A is not a newline", "%250A is not a newline"),
        ("a: b, c", "a: b, c"),
    ],
)
def test_escape_data(raw: str, escaped: str) -> None:
    assert escape_data(raw) == escaped


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("src/app.py", "src/app.py"),
        ("a,b:c.yaml", "a%2Cb%3Ac.yaml"),
        ("50%\n", "50%25%0A"),
        ("x\ry", "x%0Dy"),
    ],
)
def test_escape_property(raw: str, escaped: str) -> None:
    assert escape_property(raw) == escaped


def test_full_run_annotations(full_run: PipelineRun) -> None:
    lines = render_github(full_run).splitlines()

    assert lines == [
        "::error file=src/shop/app.py,line=3,col=8,title=safeship pre_commit/lint [F401]"
        "::'os' imported but unused",
        "::error file=src/shop/ünïcode module.py,line=12,title=safeship pre_commit/lint [E999]"
        "::SyntaxError: unexpected token '<&>' near “ñandú”",
        "::error file=config/settings.py,line=41,col=5,"
        "title=safeship pre_commit/secrets [aws-access-key]"
        "::AWS access key AKIA…MPLE found (entropy 100%25 above limit)"
        "%0Arotate it, then rewrite history",
        "::notice file=src/shop/cart.py,title=safeship build/coverage [coverage/file]"
        "::src/shop/cart.py is 64.0%25 covered",
        "::warning title=safeship build/cve [CVE-2024-3772]"
        "::pydantic 2.5.0: ReDoS in the e-mail validator",
        "::warning file=requirements.txt,line=7,title=safeship build/cve [GHSA-9wx4-h78v-vm56]"
        "::requests 2.31.0: certificate checks can be skipped",
        "::warning file=api/a%2Cb%3Ac.yaml,line=1,col=1,"
        "title=safeship pre_deploy/api_contract [response-property-removed]"
        "::GET /orders: removed 'total'\\x1b[31m with a NUL \\x00 byte",
        "::error title=safeship pre_deploy/db_migration::error: squawk not found on PATH",
        "::warning title=safeship pre_deploy/slo"
        "::pending_approval: error budget 3.2%25 remaining, needs > 5%25",
        "safeship shop run 7f3c9a2e41d84b0f9e6a5c3b2d1e0f99: BLOCKED by 2 gate(s); "
        "1 more gate(s) could not run (10 gate(s): 1 passed, 2 blocked, 1 warned, 1 logged, "
        "1 pending_approval, 1 approved, 1 error, 1 skipped, 1 not_run)",
    ]


def test_no_command_spans_lines_or_carries_raw_controls(full_run: PipelineRun) -> None:
    text = render_github(full_run)
    lines = text.splitlines()

    assert text.endswith("\n")
    assert all(line.startswith("::") for line in lines[:-1])
    assert not lines[-1].startswith("::")
    assert "\x1b" not in text
    assert "\x00" not in text
    assert "\r" not in text


def test_message_cannot_inject_a_second_command(
    single_gate_run: Callable[..., PipelineRun],
) -> None:
    run = single_gate_run(Outcome.BLOCKED, RunStatus.BLOCKED, summary="x\n::set-env name=A::1")

    lines = render_github(run).splitlines()
    assert lines[0] == "::error title=safeship checks/only::blocked: x%0A::set-env name=A::1"
    assert len(lines) == 2


@pytest.mark.parametrize(
    ("outcome", "status", "expected"),
    [
        (Outcome.BLOCKED, RunStatus.BLOCKED, "::error title=safeship checks/only::blocked: why"),
        (Outcome.ERROR, RunStatus.ERROR, "::error title=safeship checks/only::error: why"),
        (
            Outcome.PENDING_APPROVAL,
            RunStatus.PENDING_APPROVAL,
            "::warning title=safeship checks/only::pending_approval: why",
        ),
        (Outcome.WARNED, RunStatus.PASSED, "::warning title=safeship checks/only::warned: why"),
        (Outcome.LOGGED, RunStatus.PASSED, "::notice title=safeship checks/only::logged: why"),
    ],
)
def test_gate_without_findings_gets_one_annotation_without_file(
    single_gate_run: Callable[..., PipelineRun], outcome: Outcome, status: RunStatus, expected: str
) -> None:
    lines = render_github(single_gate_run(outcome, status, summary="why")).splitlines()

    assert lines[0] == expected
    assert len(lines) == 2


@pytest.mark.parametrize(
    "outcome", [Outcome.PASSED, Outcome.SKIPPED, Outcome.NOT_RUN, Outcome.APPROVED]
)
def test_gates_that_hold_nothing_back_and_found_nothing_are_silent(
    single_gate_run: Callable[..., PipelineRun], outcome: Outcome
) -> None:
    lines = render_github(single_gate_run(outcome, RunStatus.PASSED)).splitlines()

    assert len(lines) == 1
    assert lines[0].startswith("safeship shop run ")


def test_passing_run_summary(passing_run: PipelineRun) -> None:
    lines = render_github(passing_run).splitlines()

    assert lines == [
        "::warning title=safeship pre_commit/cve [CVE-2024-3772]"
        "::pydantic 2.5.0: ReDoS in the e-mail validator",
        "safeship shop run 7f3c9a2e41d84b0f9e6a5c3b2d1e0f99: PASSED with warnings from 1 gate(s) "
        "(2 gate(s): 1 passed, 1 warned)",
    ]
