"""Realistic pipeline runs and schema checks shared by the SQLite and PostgreSQL store tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from safeship.model.enums import FailAction, Outcome, RiskLevel, RunStatus, Severity, Verdict
from safeship.model.results import Finding, GateResult, PipelineRun, StageResult
from safeship.store.migrate import current_revision, downgrade, head_revision, upgrade
from safeship.store.tables import Base

#: The tables migration 0001 creates.
STORE_TABLES = frozenset({"runs", "stage_results", "gate_results", "findings", "approvals"})

#: A fixed instant with microseconds, for runs whose time does not matter.
T0 = datetime(2025, 3, 14, 9, 26, 53, 589793, tzinfo=UTC)
# A non-UTC offset: the store must hand back the same instant (in UTC).
_CET = timezone(timedelta(hours=1), "CET")


def _gate(stage: str, gate_id: str, gate_type: str, **fields: Any) -> GateResult:
    values: dict[str, Any] = {
        "verdict": Verdict.PASSED,
        "action": FailAction.FAIL,
        "outcome": Outcome.PASSED,
        "summary": f"{gate_id}: ok",
    }
    values.update(fields)
    if "metrics" in values:
        values["metrics"] = MappingProxyType(dict(values["metrics"]))
    return GateResult(stage=stage, gate_id=gate_id, gate_type=gate_type, **values)


def realistic_run(
    run_id: str = "3f9a1c7e5b2d4a6081e4",
    *,
    service: str = "shop",
    started_at: datetime = T0,
    status: RunStatus = RunStatus.PENDING_APPROVAL,
) -> PipelineRun:
    """A run with four stages: findings with and without places, metrics, a skipped stage."""
    pre_commit = StageResult(
        "pre-commit",
        (
            _gate(
                "pre-commit", "lint", "lint",
                verdict=Verdict.FAILED, action=FailAction.WARN, outcome=Outcome.WARNED,
                summary="3 lint problems",
                findings=(
                    Finding("E501", "line too long (104 > 100)", Severity.WARNING,
                            "src/shop/cart.py", 12, 101),
                    Finding("F401", "'os' imported but unused", Severity.ERROR,
                            "src/shop/api.py", 3),
                    Finding("CFG1", "no lint config found, using defaults", Severity.NOTE),
                    Finding("W605", "invalid escape sequence '\\d' (ünïcødé)", Severity.WARNING,
                            "src/shop/ä b.py", 1, 1),
                ),
                duration_s=0.734,
                metrics={"problems": 3, "files_checked": 41},
            ),
            _gate(
                "pre-commit", "secrets", "secret_scan",
                action=FailAction.BLOCK, duration_s=0.1 + 0.2, mandatory=True,
                metrics={"files": 41, "entropy_threshold": 4.5, "detectors": ["aws", "pem"]},
            ),
        ),
    )  # fmt: skip
    build = StageResult(
        "build",
        (
            _gate("build", "compile", "compile", duration_s=12.5),
            _gate(
                "build", "coverage", "coverage",
                verdict=Verdict.FAILED, action=FailAction.REQUIRE_APPROVAL,
                outcome=Outcome.PENDING_APPROVAL, summary="line coverage 81.3% < 85%",
                findings=(Finding("coverage", "src/shop/cart.py is 40% covered",
                                  path="src/shop/cart.py"),),
                duration_s=3.0,
                metrics={
                    "line_rate": 0.8134,
                    "threshold": 0.85,
                    "per_file": {"src/shop/cart.py": 0.4, "src/shop/api.py": 1.0},
                    "missing": None,
                    "ok": False,
                },
            ),
        ),
    )  # fmt: skip
    deploy = StageResult("deploy", (), skipped=True)
    verify = StageResult("verify", ())
    return PipelineRun(
        run_id=run_id,
        service=service,
        commit="9fceb02d0ae598e95dc970b74767f19372d61af8",
        actor="ci@example.com",
        risk=RiskLevel.HIGH,
        started_at=started_at.astimezone(_CET),
        finished_at=started_at + timedelta(seconds=17, microseconds=250),
        status=status,
        stages=(pre_commit, build, deploy, verify),
        config_path=".pipeline/gates.yaml",
    )


def simple_run(run_id: str, service: str, started_at: datetime) -> PipelineRun:
    """A small finished run, for listing and lookup tests."""
    return PipelineRun(
        run_id=run_id,
        service=service,
        commit=None,
        actor="dev",
        risk=RiskLevel.LOW,
        started_at=started_at,
        finished_at=None,
        status=RunStatus.PASSED,
        stages=(StageResult("pre-commit", (_gate("pre-commit", "lint", "lint"),)),),
    )


def shrunk(run: PipelineRun) -> PipelineRun:
    """``run`` re-recorded with fewer stages, gates and findings and a final status."""
    first = run.stages[0]
    lint = replace(first.gates[0], findings=first.gates[0].findings[:1], summary="1 problem")
    return replace(
        run,
        status=RunStatus.APPROVED,
        finished_at=run.started_at + timedelta(minutes=5),
        stages=(replace(first, gates=(lint,)),),
    )


def store_tables(engine: Engine) -> set[str]:
    """The store's tables present in the database behind ``engine``."""
    return set(inspect(engine).get_table_names()) & STORE_TABLES


def schema_differences(engine: Engine) -> list[Any]:
    """What Alembic autogenerate would change to make the database match the ORM tables."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def check_migration_cycle(engine: Engine) -> None:
    """Upgrade to head, downgrade to base (every table gone), then upgrade to head again."""
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert store_tables(engine) == STORE_TABLES
    assert schema_differences(engine) == []

    downgrade(engine, "base")
    assert current_revision(engine) is None
    assert store_tables(engine) == set()
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert store_tables(engine) == STORE_TABLES
    assert schema_differences(engine) == []
