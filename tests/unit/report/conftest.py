"""Realistic finished pipeline runs for the report writers' tests.

``full_run`` has one gate for every ``Outcome``, findings with and without a file or line, a
Windows path with non-ASCII letters and a space, XML metacharacters, a message with a newline
and ``%``, control characters, a NaN metric and a skipped stage without gates.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from safeship.model.enums import FailAction, Outcome, RiskLevel, RunStatus, Severity, Verdict
from safeship.model.results import Finding, GateResult, PipelineRun, StageResult

T0 = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)
RUN_ID = "7f3c9a2e41d84b0f9e6a5c3b2d1e0f99"
COMMIT = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

F_UNUSED_IMPORT = Finding(
    "F401", "'os' imported but unused", Severity.ERROR, "src/shop/app.py", 3, 8
)
F_SYNTAX = Finding(
    "E999",
    "SyntaxError: unexpected token '<&>' near “ñandú”",
    Severity.ERROR,
    "src\\shop\\ünïcode module.py",
    12,
)
F_SECRET = Finding(
    "aws-access-key",
    "AWS access key AKIA…MPLE found (entropy 100% above limit)\nrotate it, then rewrite history",
    Severity.ERROR,
    "./config/settings.py",
    41,
    5,
)
F_COVERAGE = Finding(
    "coverage/file", "src/shop/cart.py is 64.0% covered", Severity.NOTE, "src/shop/cart.py"
)
F_CVE_NO_PLACE = Finding(
    "CVE-2024-3772", "pydantic 2.5.0: ReDoS in the e-mail validator", Severity.WARNING
)
F_CVE_HIGH = Finding(
    "GHSA-9wx4-h78v-vm56",
    "requests 2.31.0: certificate checks can be skipped",
    Severity.ERROR,
    "requirements.txt",
    7,
)
F_CONTRACT = Finding(
    "response-property-removed",
    "GET /orders: removed 'total'\x1b[31m with a NUL \x00 byte",
    Severity.ERROR,
    "api/a,b:c.yaml",
    1,
    1,
)


def gate(
    stage: str,
    gate_id: str,
    gate_type: str,
    outcome: Outcome,
    summary: str,
    findings: tuple[Finding, ...] = (),
    *,
    verdict: Verdict = Verdict.FAILED,
    action: FailAction = FailAction.BLOCK,
    duration_s: float = 0.5,
    metrics: dict[str, object] | None = None,
    mandatory: bool = False,
) -> GateResult:
    """A gate result with the dull fields filled in."""
    return GateResult(
        stage=stage,
        gate_id=gate_id,
        gate_type=gate_type,
        verdict=verdict,
        action=action,
        outcome=outcome,
        summary=summary,
        findings=findings,
        duration_s=duration_s,
        metrics=dict(metrics or {}),
        mandatory=mandatory,
    )


def make_run(
    stages: tuple[StageResult, ...],
    status: RunStatus,
    *,
    finished: bool = True,
    run_id: str = RUN_ID,
    commit: str | None = COMMIT,
    service: str = "shop",
) -> PipelineRun:
    """A run of ``service`` started at T0 and, when finished, 42.5 s later."""
    return PipelineRun(
        run_id=run_id,
        service=service,
        commit=commit,
        actor="ci-bot",
        risk=RiskLevel.HIGH,
        started_at=T0,
        finished_at=T0 + timedelta(seconds=42.5) if finished else None,
        status=status,
        stages=stages,
        config_path=".pipeline/gates.yaml",
    )


@pytest.fixture
def full_run() -> PipelineRun:
    """A blocked run with one gate of every outcome."""
    pre_commit = StageResult(
        "pre_commit",
        (
            gate(
                "pre_commit",
                "lint",
                "lint",
                Outcome.BLOCKED,
                "2 errors (ruff)",
                (F_UNUSED_IMPORT, F_SYNTAX),
                duration_s=1.2345,
                mandatory=True,
                metrics={"errors": 2, "files": 31},
            ),
            gate(
                "pre_commit",
                "secrets",
                "secret_scan",
                Outcome.BLOCKED,
                "1 secret found",
                (F_SECRET,),
                mandatory=True,
            ),
            gate(
                "pre_commit",
                "compile",
                "compile",
                Outcome.PASSED,
                "31 files compiled",
                verdict=Verdict.PASSED,
                duration_s=0.25,
                metrics={"files": 31},
            ),
        ),
    )
    build = StageResult(
        "build",
        (
            gate(
                "build",
                "coverage",
                "coverage",
                Outcome.LOGGED,
                "line coverage 78.5% <= 80%",
                (F_COVERAGE,),
                action=FailAction.LOG,
                metrics={"line_rate": 78.5, "threshold": 80.0, "branch_rate": float("nan")},
            ),
            gate(
                "build",
                "cve",
                "cve_check",
                Outcome.WARNED,
                "2 vulnerable packages (0 critical)",
                (F_CVE_NO_PLACE, F_CVE_HIGH),
                action=FailAction.WARN,
                metrics={"by_severity": {"high": 1, "medium": 1}, "ids": ("a", "b")},
            ),
            gate(
                "build",
                "sbom",
                "sbom",
                Outcome.SKIPPED,
                "no dependency file changed",
                verdict=Verdict.SKIPPED,
                duration_s=0.0,
            ),
        ),
    )
    pre_deploy = StageResult(
        "pre_deploy",
        (
            gate(
                "pre_deploy",
                "api_contract",
                "api_contract",
                Outcome.APPROVED,
                "1 breaking change, approved by alice",
                (F_CONTRACT,),
                action=FailAction.REQUIRE_APPROVAL,
            ),
            gate(
                "pre_deploy",
                "db_migration",
                "db_migration",
                Outcome.ERROR,
                "squawk not found on PATH",
                verdict=Verdict.ERROR,
                duration_s=0.01,
            ),
            gate(
                "pre_deploy",
                "slo",
                "slo_check",
                Outcome.PENDING_APPROVAL,
                "error budget 3.2% remaining, needs > 5%",
                action=FailAction.REQUIRE_APPROVAL,
                metrics={"budget_remaining": 0.032},
            ),
        ),
    )
    canary = StageResult(
        "canary",
        (
            gate(
                "canary",
                "dast",
                "dast",
                Outcome.NOT_RUN,
                "",
                verdict=Verdict.SKIPPED,
                duration_s=0.0,
            ),
        ),
    )
    post_deploy = StageResult("post_deploy", (), skipped=True)
    return make_run((pre_commit, build, pre_deploy, canary, post_deploy), RunStatus.BLOCKED)


@pytest.fixture
def passing_run() -> PipelineRun:
    """A run in which every gate passed, one with a warning."""
    stage = StageResult(
        "pre_commit",
        (
            gate(
                "pre_commit",
                "lint",
                "lint",
                Outcome.PASSED,
                "no errors",
                verdict=Verdict.PASSED,
                duration_s=0.75,
            ),
            gate(
                "pre_commit",
                "cve",
                "cve_check",
                Outcome.WARNED,
                "1 medium vulnerability",
                (F_CVE_NO_PLACE,),
                action=FailAction.WARN,
                duration_s=2.0,
            ),
        ),
    )
    return make_run((stage,), RunStatus.PASSED)


def _single_gate_run(outcome: Outcome, status: RunStatus, summary: str = "summary") -> PipelineRun:
    verdict = {
        Outcome.PASSED: Verdict.PASSED,
        Outcome.ERROR: Verdict.ERROR,
        Outcome.SKIPPED: Verdict.SKIPPED,
        Outcome.NOT_RUN: Verdict.SKIPPED,
    }.get(outcome, Verdict.FAILED)
    only = gate("checks", "only", "lint", outcome, summary, verdict=verdict)
    return make_run((StageResult("checks", (only,)),), status)


@pytest.fixture
def single_gate_run() -> Callable[..., PipelineRun]:
    """Factory: ``single_gate_run(outcome, status, summary="summary")``, a one-gate run."""
    return _single_gate_run


@pytest.fixture
def many_findings_run() -> PipelineRun:
    """A blocked run whose lint gate found 25 problems, more than a terminal shows."""
    findings = tuple(
        Finding("E501", f"line too long ({100 + n} > 100)", Severity.ERROR, "src/big.py", n)
        for n in range(1, 26)
    )
    stage = StageResult(
        "pre_commit", (gate("pre_commit", "lint", "lint", Outcome.BLOCKED, "25 errors", findings),)
    )
    return make_run((stage,), RunStatus.BLOCKED)


@pytest.fixture
def running_run() -> PipelineRun:
    """A run that has not finished: no end time, no commit, a short non-hex id."""
    stage = StageResult(
        "pre_commit",
        (gate("pre_commit", "lint", "lint", Outcome.PASSED, "ok", verdict=Verdict.PASSED),),
    )
    return make_run((stage,), RunStatus.RUNNING, finished=False, run_id="r-1", commit=None)
