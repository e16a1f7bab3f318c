"""The gate pipeline: stages in file order, gates of a stage concurrently, fail actions applied.

The engine knows gates only through :class:`safeship.gates.interface.Gate`. It never lets a gate
that could not run pass: an exception, a timeout or a missing tool becomes ERROR. A blocking
stage stops the later ones unless ``keep_going`` is set, and their gates are recorded as NOT_RUN.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace
from typing import Any, Protocol

from safeship.engine.clock import Clock, SystemClock
from safeship.engine.risk_policy import (
    EXTENDED_CANARY_S,
    effective_action,
    missing_requirements,
    needs_canary,
    needs_extended_canary,
    needs_security_review,
)
from safeship.errors import SafeshipError
from safeship.gates.interface import Gate, GateContext
from safeship.model.enums import FailAction, Outcome, RiskLevel, RunStatus, Verdict
from safeship.model.results import (
    Finding,
    GateCheck,
    GateResult,
    PipelineRun,
    StageResult,
    worst_outcome,
)

log = logging.getLogger(__name__)

POLICY_STAGE = "risk_policy"
DEFAULT_GATE_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class PlannedGate:
    """A gate ready to run: its id, backend instance and the fail action it runs with."""

    stage: str
    gate_id: str
    gate_type: str
    gate: Gate[Any]
    action: FailAction
    mandatory: bool = False
    timeout_s: float = DEFAULT_GATE_TIMEOUT_S
    note: str | None = None


@dataclass(frozen=True)
class PlannedStage:
    """A stage and its gates."""

    name: str
    gates: tuple[PlannedGate, ...]


@dataclass(frozen=True)
class RunFacts:
    """Who runs what, for which service and commit, at which risk."""

    service: str
    commit: str | None
    actor: str
    risk: RiskLevel
    config_path: str | None = None
    canary_duration_s: float | None = None
    """Total duration of the canary analysis configured for the service, None when there is none."""
    full_run: bool = True
    """False when only some stages run (e.g. pre-commit): release-level demands are left out."""


class ApprovalLookup(Protocol):
    """Finds an earlier human decision on ``gate_id`` for this service and commit."""

    def __call__(self, gate_id: str) -> tuple[bool, str] | None:
        """``(approved, "by NAME: reason")`` or None when nobody has decided."""
        ...


class PipelineObserver(Protocol):
    """Receives progress as the pipeline runs (the CLI draws it)."""

    def stage_started(self, stage: PlannedStage) -> None:
        """A stage is about to run."""

    def gate_finished(self, result: GateResult) -> None:
        """A gate has a result."""

    def stage_finished(self, result: StageResult) -> None:
        """A stage is done (or was not run)."""


class _SilentObserver:
    def stage_started(self, stage: PlannedStage) -> None:
        return None

    def gate_finished(self, result: GateResult) -> None:
        return None

    def stage_finished(self, result: StageResult) -> None:
        return None


def _no_approvals(gate_id: str) -> tuple[bool, str] | None:
    return None


def apply_action(check: GateCheck, action: FailAction,
                 decision: tuple[bool, str] | None) -> tuple[Outcome, str]:
    """Turn a gate's verdict into an outcome under its fail action (and any human decision)."""
    if check.verdict is Verdict.PASSED:
        return Outcome.PASSED, check.summary
    if check.verdict is Verdict.SKIPPED:
        return Outcome.SKIPPED, check.summary
    if check.verdict is Verdict.ERROR:
        return Outcome.ERROR, check.summary
    if action.blocks:
        return Outcome.BLOCKED, check.summary
    if action is FailAction.WARN:
        return Outcome.WARNED, check.summary
    if action is FailAction.LOG:
        return Outcome.LOGGED, check.summary
    if decision is None:
        return Outcome.PENDING_APPROVAL, f"{check.summary} (needs approval)"
    approved, who = decision
    if approved:
        return Outcome.APPROVED, f"{check.summary} (approved {who})"
    return Outcome.BLOCKED, f"{check.summary} (rejected {who})"


def run_status(results: Sequence[GateResult]) -> RunStatus:
    """A run's status from all its gate results: blocked, then error, then pending."""
    worst = worst_outcome(r.outcome for r in results)
    if worst is Outcome.BLOCKED:
        return RunStatus.BLOCKED
    if worst in (Outcome.ERROR, Outcome.NOT_RUN):
        return RunStatus.ERROR
    if worst is Outcome.PENDING_APPROVAL:
        return RunStatus.PENDING_APPROVAL
    return RunStatus.PASSED


class PipelineEngine:
    """Runs planned stages against a project and returns the whole run."""

    def __init__(
        self,
        ctx: GateContext,
        *,
        clock: Clock | None = None,
        max_workers: int = 4,
        approvals: ApprovalLookup = _no_approvals,
        observer: PipelineObserver | None = None,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self.ctx = ctx
        self.clock = clock or SystemClock()
        self.max_workers = max(1, max_workers)
        self.approvals = approvals
        self.observer = observer or _SilentObserver()
        self.new_id = new_id

    def run(self, stages: Sequence[PlannedStage], facts: RunFacts, *,
            keep_going: bool = False,
            configured_types: set[str] | None = None) -> PipelineRun:
        """Run ``stages`` in order and apply the risk policy of ``facts.risk``."""
        started = self.clock.now()
        results: list[StageResult] = []
        stopped_by: str | None = None
        for stage in stages:
            if stopped_by is not None:
                skipped = self._not_run(stage, stopped_by)
                results.append(skipped)
                self.observer.stage_finished(skipped)
                continue
            self.observer.stage_started(stage)
            result = self._run_stage(stage)
            results.append(result)
            self.observer.stage_finished(result)
            if not keep_going and result.outcome in (Outcome.BLOCKED, Outcome.ERROR):
                stopped_by = stage.name
        types = configured_types if configured_types is not None else {
            g.gate_type for s in stages for g in s.gates
        }
        policy = self._policy_results(facts, types)
        if policy:
            stage_result = StageResult(POLICY_STAGE, tuple(policy))
            for policy_result in policy:
                self.observer.gate_finished(policy_result)
            results.append(stage_result)
            self.observer.stage_finished(stage_result)
        all_gates = [g for s in results for g in s.gates]
        return PipelineRun(
            run_id=self.new_id(), service=facts.service, commit=facts.commit, actor=facts.actor,
            risk=facts.risk, started_at=started, finished_at=self.clock.now(),
            status=run_status(all_gates), stages=tuple(results), config_path=facts.config_path,
        )

    def _run_stage(self, stage: PlannedStage) -> StageResult:
        if not stage.gates:
            return StageResult(stage.name, ())
        pool = ThreadPoolExecutor(max_workers=min(self.max_workers, len(stage.gates)),
                                  thread_name_prefix=f"gate-{stage.name}")
        try:
            futures = [(planned, self.clock.monotonic(), pool.submit(self._check, planned))
                       for planned in stage.gates]
            results = []
            for planned, began, future in futures:
                result = self._collect(planned, began, future)
                self.observer.gate_finished(result)
                results.append(result)
        finally:
            # A gate past its timeout may still be running: do not wait for it.
            pool.shutdown(wait=False, cancel_futures=True)
        return StageResult(stage.name, tuple(results))

    def _check(self, planned: PlannedGate) -> GateCheck:
        return planned.gate.evaluate(self.ctx)

    def _collect(self, planned: PlannedGate, began: float,
                 future: Future[GateCheck]) -> GateResult:
        remaining = max(0.0, planned.timeout_s - (self.clock.monotonic() - began))
        try:
            check = future.result(timeout=remaining)
        except FutureTimeout:
            check = GateCheck(Verdict.ERROR,
                              f"did not finish within {planned.timeout_s:g}s; treated as an error")
        except SafeshipError as exc:
            check = GateCheck(Verdict.ERROR, "; ".join(exc.diagnostics()))
        except Exception as exc:
            log.exception("gate %s raised", planned.gate_id)
            check = GateCheck(
                Verdict.ERROR,
                f"internal error in the {planned.gate_type} gate: {type(exc).__name__}: {exc}",
            )
        if not isinstance(check, GateCheck):
            check = GateCheck(Verdict.ERROR, f"the {planned.gate_type} gate returned no result")
        elif check.verdict is Verdict.FAILED and not check.findings:
            check = replace(check, findings=(Finding(planned.gate_type, check.summary),))
        decision = (self.approvals(planned.gate_id)
                    if planned.action is FailAction.REQUIRE_APPROVAL
                    and check.verdict is Verdict.FAILED else None)
        outcome, summary = apply_action(check, planned.action, decision)
        if planned.note:
            summary = f"{summary} [{planned.note}]"
        return GateResult(
            stage=planned.stage, gate_id=planned.gate_id, gate_type=planned.gate_type,
            verdict=check.verdict, action=planned.action, outcome=outcome, summary=summary,
            findings=check.findings, duration_s=max(0.0, self.clock.monotonic() - began),
            metrics=check.metrics, mandatory=planned.mandatory,
        )

    def _not_run(self, stage: PlannedStage, stopped_by: str) -> StageResult:
        gates = tuple(
            GateResult(stage=stage.name, gate_id=g.gate_id, gate_type=g.gate_type,
                       verdict=Verdict.SKIPPED, action=g.action, outcome=Outcome.NOT_RUN,
                       summary=f"not run: stage '{stopped_by}' blocked the pipeline "
                               "(use --keep-going to run every stage)",
                       mandatory=g.mandatory)
            for g in stage.gates
        )
        return StageResult(stage.name, gates, skipped=True)

    def _policy_results(self, facts: RunFacts, configured: set[str]) -> list[GateResult]:
        risk = facts.risk
        results = [
            self._policy_failure(
                f"mandatory:{requirement.any_of[0]}", FailAction.BLOCK,
                f"risk '{risk}' requires the {requirement.name} gate, which gates.yaml lacks",
                requirement.advice())
            for requirement in missing_requirements(risk, configured)
        ]
        if not facts.full_run:
            return results
        if needs_canary(risk) and facts.canary_duration_s is None:
            results.append(self._policy_failure(
                "mandatory:canary", FailAction.BLOCK_DEPLOY,
                f"risk '{risk}' requires a canary analysis, and none is configured",
                "add .pipeline/canary-analysis.yaml (safeship init writes one)"))
        elif (needs_extended_canary(risk) and facts.canary_duration_s is not None
              and facts.canary_duration_s < EXTENDED_CANARY_S):
            hours = facts.canary_duration_s / 3600
            results.append(self._policy_failure(
                "mandatory:extended_canary", FailAction.BLOCK_DEPLOY,
                f"risk 'critical' requires an extended canary of at least 24h; the configured "
                f"analysis lasts {hours:.1f}h",
                "lengthen the steps of canary-analysis.yaml to 24h in total"))
        if needs_security_review(risk):
            check = GateCheck.failed("risk 'critical' requires a security review by a person",
                                     (Finding("security_review",
                                              "a security reviewer must approve this change"),))
            decision = self.approvals("security_review")
            outcome, summary = apply_action(check, FailAction.REQUIRE_APPROVAL, decision)
            results.append(GateResult(
                stage=POLICY_STAGE, gate_id="security_review", gate_type="approval",
                verdict=check.verdict, action=FailAction.REQUIRE_APPROVAL, outcome=outcome,
                summary=summary, findings=check.findings, mandatory=True))
        return results

    @staticmethod
    def _policy_failure(gate_id: str, action: FailAction, message: str,
                        advice: str) -> GateResult:
        return GateResult(
            stage=POLICY_STAGE, gate_id=gate_id, gate_type="risk_policy",
            verdict=Verdict.FAILED, action=action, outcome=Outcome.BLOCKED,
            summary=f"{message}; {advice}",
            findings=(Finding("risk_policy", f"{message}; {advice}"),), mandatory=True,
        )


def plan_gate(stage: str, gate_id: str, gate_type: str, gate: Gate[Any],
              override: FailAction | None, risk: RiskLevel, mandatory: bool,
              timeout_s: float | None) -> PlannedGate:
    """Decide the fail action a configured gate runs with at ``risk``."""
    action = effective_action(gate_type, gate.default_action, override, risk)
    note = None
    if override is not None and action is not override:
        note = f"on_fail: {override} ignored: the gate is mandatory at risk '{risk}'"
    return PlannedGate(stage, gate_id, gate_type, gate, action, mandatory,
                       timeout_s or DEFAULT_GATE_TIMEOUT_S, note)
