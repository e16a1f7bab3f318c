"""The crash-safe rollout controller: a persisted state machine over a strategy's plan.

**Persist before acting.** For every step the controller first writes a transition (the step
index, its kind and the desired router weights) and only then touches the router or the target.
Every action is idempotent (:mod:`safeship.engine.rollout_actions`), so a controller killed at
any instant, even between the write and the action, is resumed by repeating the step it was in:
no step is lost, and no step is recorded twice (a repeated step is recorded as *resumed*).

**One rollout per service.** The controller acts under the service's lease
(:class:`~safeship.store.rollouts.RolloutStore`), renewed while it waits; every write checks the
lease in the same transaction, so a controller that lost it can no longer act.

**Resume.** :meth:`RolloutController.resume` takes the lease over, re-reads the release, records
the takeover, re-asserts the desired state (every version the plan has deployed so far, their
endpoints, the desired split read back from the router) and carries on from the stored step. An
analysis step whose controller was gone longer than ``max_interruption`` rolls back; a shorter
gap lengthens the step by the unwatched time.

**Error budget first.** With an :class:`~safeship.engine.rollout_slo_guard.SloGuard`, a new
rollout (not an undo) starts only when every SLO has more than 5 % of its error budget left; a
refusal is recorded as an aborted release that never ran (and, when the budgets could not be
read, the error is raised after recording it: fail closed).

**Rollback.** A ROLLBACK decision (or a failed step, or an abort) computes the strategy's
rollback plan, records it, and runs it. For a canary the first rollback step is the split
``{stable: 100}``; ``rollback_seconds`` is measured on the monotonic clock from the decision to
the moment the router *reports* the canary at 0 %, and stored with the release. Rollback steps
are retried a bounded number of times; if they still fail, the controller stops with the
release in ``rolling_back`` so that ``resume`` finishes it. An undo is a rollback too: its
``rollback_seconds`` run from the undo's start until the router reports 0 % on the version it
leaves (for a flag, the flag off: :mod:`safeship.engine.rollout_flags`).

**Flag rollouts** (:mod:`safeship.strategies.feature_flag`) change a flag, not the version:
their releases never become the stable version, and a router that records why it changes
something is told which release it acts for.

Time comes only from the injected clock. Webhook notifications never block the rollout.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from safeship.engine.clock import Clock
from safeship.engine.rollout_actions import ActionSettings, Actuator, same_split
from safeship.engine.rollout_codec import decode, decode_plan, encode, encode_plan
from safeship.engine.rollout_flags import bind_release, version_changing
from safeship.engine.rollout_loop import (
    AnalysisPolicy,
    TickAction,
    decide_tick,
    evaluate,
    scoped_spec,
)
from safeship.engine.rollout_slo_guard import GuardVerdict, SloGuard
from safeship.engine.rollout_smoke import SmokeTester
from safeship.engine.rollout_state import (
    Command,
    Decision,
    Event,
    Phase,
    ReleaseKind,
    RolloutStatus,
    check_transition,
)
from safeship.engine.webhooks import Notification, NotificationKind, Notifier
from safeship.errors import ExitCode, NotFound, SafeshipError, StoreUnavailable, UsageError
from safeship.judge.interface import Judge
from safeship.metrics.interface import MetricsProvider
from safeship.model.analysis import StepWindow
from safeship.model.canary import CanarySpec, JudgeName
from safeship.routers.interface import Router
from safeship.store.rollouts import (
    LeaseLost,
    NewTransition,
    ReleaseRecord,
    RolloutStore,
)
from safeship.strategies.interface import (
    Analyze,
    ArtifactRef,
    Deploy,
    HealthGate,
    MarkStable,
    PlanError,
    Retire,
    RolloutRequest,
    Scale,
    SetWeights,
    SmokeTest,
    StableVersion,
    Step,
    Strategy,
)
from safeship.targets.interface import Target

log = logging.getLogger(__name__)

StrategyResolver = Callable[[str], Strategy]
JudgeResolver = Callable[[JudgeName], Judge]


@dataclass(frozen=True)
class ControllerSettings:
    """Lease, polling and retry bounds of a controller."""

    lease_ttl_s: float = 30.0
    idle_poll_s: float = 1.0
    rollback_attempts: int = 3
    rollback_backoff_s: float = 1.0
    actions: ActionSettings = field(default_factory=ActionSettings)


@dataclass(frozen=True)
class RolloutSetup:
    """What a rollout needs besides the request: how to plan, judge and pace it."""

    strategy: str
    canary: CanarySpec | None = None
    policy: AnalysisPolicy = field(default_factory=AnalysisPolicy)
    actor: str = "unknown"
    kind: ReleaseKind = ReleaseKind.ROLLOUT


@dataclass(frozen=True)
class RolloutOutcome:
    """Where a release stands when the controller returns."""

    release: ReleaseRecord

    @property
    def status(self) -> RolloutStatus:
        """The release's status."""
        return RolloutStatus(self.release.status)


class _StepResult(StrEnum):
    DONE = "done"
    FAILED = "failed"
    ABORTED = "aborted"


@dataclass(frozen=True)
class _Outcome:
    result: _StepResult
    reason: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)
    decided_at: float | None = None  # monotonic time of a ROLLBACK decision


_DONE = _Outcome(_StepResult.DONE)


@dataclass
class _Run:
    """One release as the controller drives it (decoded from the store, kept in step)."""

    rec: ReleaseRecord
    request: RolloutRequest
    spec: CanarySpec | None
    policy: AnalysisPolicy
    strategy: Strategy
    plan: tuple[Step, ...]
    rollback: tuple[Step, ...]
    progress: dict[str, Any]
    entered: set[tuple[str, int]] = field(default_factory=set)
    rollback_t0: float | None = None
    downtime_t0: float | None = None
    unwatched_s: float | None = None  # set on takeover: how long nobody drove the release

    @property
    def phase(self) -> Phase:
        return Phase(self.rec.phase)

    @property
    def steps(self) -> tuple[Step, ...]:
        return self.plan if self.phase is Phase.FORWARD else self.rollback

    @property
    def versions(self) -> list[str]:
        stable = self.request.stable.version if self.request.stable is not None else None
        return [v for v in (stable, self.request.version) if v is not None]


def encode_request(request: RolloutRequest, canary: CanarySpec | None,
                   policy: AnalysisPolicy) -> dict[str, Any]:
    """What a release stores to be resumed without its config files."""
    return {"request": encode(request), "canary": encode(canary) if canary else None,
            "policy": encode(policy)}


def stable_of(store: RolloutStore, service: str) -> StableVersion | None:
    """The service's stable version: its latest release that succeeded."""
    done = succeeded_releases(store, service)
    return stable_from(done[0]) if done else None


def succeeded_releases(store: RolloutStore, service: str, limit: int = 500
                       ) -> list[ReleaseRecord]:
    """The service's releases that succeeded, the one that finished last first."""
    done = [rec for rec in store.list_releases(service, limit=limit,
                                               status=RolloutStatus.SUCCEEDED.value)
            if version_changing(rec.strategy)]  # a flag release leaves the version as it was
    return sorted(done, key=lambda rec: (rec.finished_at or rec.started_at, rec.started_at),
                  reverse=True)


def stable_from(rec: ReleaseRecord) -> StableVersion:
    """A stored release as the stable version to come back to."""
    artifact = (ArtifactRef(rec.artifact_reference, rec.artifact_sha256)
                if rec.artifact_reference else None)
    replicas = rec.request.get("request", {}).get("replicas")
    return StableVersion(rec.version, artifact, int(replicas) if replicas else None)


class RolloutController:
    """Drives releases of services through router and target interfaces."""

    def __init__(self, store: RolloutStore, router: Router, target: Target, *, clock: Clock,
                 holder: str, strategies: StrategyResolver, judges: JudgeResolver,
                 metrics: MetricsProvider | None = None, notifier: Notifier | None = None,
                 smoke: SmokeTester | None = None,
                 settings: ControllerSettings | None = None,
                 slo_guard: SloGuard | None = None) -> None:
        self.store = store
        self.clock = clock
        self.holder = holder
        self.strategies = strategies
        self.judges = judges
        self.metrics = metrics
        self.notifier = notifier or Notifier()
        self.settings = settings or ControllerSettings()
        self.slo_guard = slo_guard
        self.actuator = Actuator(router, target, clock, smoke=smoke,
                                 settings=self.settings.actions)
        self._renewed: float | None = None

    # public -------------------------------------------------------------------------------

    def start(self, request: RolloutRequest, setup: RolloutSetup) -> RolloutOutcome:
        """Plan ``request``, record the release under the service's lease, and drive it.

        With an SLO guard, a rollout (not an undo) whose error budgets are spent is refused
        before step 1: the refusal is recorded as an aborted release and returned.

        Raises:
            LeaseHeld / ReleaseInProgress: another rollout of the service is in progress.
            PlanError: the strategy cannot plan the request.
            DependencyUnavailable: the SLO guard could not read the budgets (recorded first).
        """
        decided = self.clock.monotonic()  # an undo's rollback time runs from here
        strategy = self.strategies(setup.strategy)
        plan = strategy.plan(request)
        if any(isinstance(step, Analyze) for step in plan):
            if setup.canary is None:
                raise PlanError(f"strategy '{setup.strategy}' analyses traffic and needs "
                                "canary-analysis.yaml")
            if self.metrics is None:
                raise PlanError(f"strategy '{setup.strategy}' analyses traffic and needs a "
                                "metrics provider (metrics: in service.yaml)")
        # Read the budgets before taking the lease: the queries may take a while.
        verdict = (self.slo_guard.check()
                   if self.slo_guard is not None and setup.kind is ReleaseKind.ROLLOUT else None)
        if verdict is not None and not verdict.allowed:
            return self._refuse(request, setup, plan, verdict)
        now = self.clock.now()
        self.store.acquire_lease(request.service, self.holder, at=now,
                                 ttl_s=self.settings.lease_ttl_s)
        self._renewed = self.clock.monotonic()
        try:
            rec = self._create(request, setup, plan, now)
        except BaseException:
            self.store.release_lease(request.service, self.holder)
            raise
        self.store.renew_lease(request.service, self.holder, at=now,
                               ttl_s=self.settings.lease_ttl_s, release_id=rec.release_id)
        self._notify(rec, NotificationKind.STARTED, f"{setup.strategy} rollout started")
        run = self._load(rec)
        if setup.kind is ReleaseKind.UNDO:
            run.rollback_t0 = decided
        if verdict is not None:
            self._write(run, transition=NewTransition(Event.SLO_CHECKED, verdict.reason,
                                                      details=verdict.details))
        # Learn where the running versions listen before the first step changes anything.
        self.actuator.sync_backends(run.versions, {})
        return self._drive(run)

    def resume(self, service: str, *, steal_from: str | None = None) -> RolloutOutcome:
        """Take over the active release of ``service`` and drive it to its end.

        Raises:
            NotFound: no rollout of the service is in progress.
            LeaseHeld: a live controller drives it (``steal_from`` names one known dead).
        """
        active = self.store.active_release(service)
        if active is None:
            raise NotFound(f"service '{service}' has no rollout in progress",
                           hint="`safeship rollout list` shows recent rollouts")
        previous = self.store.lease(service)
        now = self.clock.now()
        self.store.acquire_lease(service, self.holder, at=now, ttl_s=self.settings.lease_ttl_s,
                                 release_id=active.release_id, steal_from=steal_from)
        self._renewed = self.clock.monotonic()
        run = self._load(self.store.get_release(active.release_id))
        gap = self._unwatched_s(run, now)
        run.unwatched_s = gap
        who = previous.holder if previous is not None else "nobody"
        self._write(run, transition=NewTransition(
            Event.TAKEN_OVER, f"controller {self.holder} takes over from {who} after "
                              f"{gap:.1f} s without a heartbeat",
            details={"previous_holder": who, "unwatched_s": gap}))
        self._reassert(run)
        return self._drive(run)

    def drive(self, release_id: str) -> RolloutOutcome:
        """Run the release (whose lease this controller holds) until it ends."""
        return self._drive(self._load(self.store.get_release(release_id)))

    def _refuse(self, request: RolloutRequest, setup: RolloutSetup, plan: tuple[Step, ...],
                verdict: GuardVerdict) -> RolloutOutcome:
        """Record a rollout the SLO guard refused (aborted, nothing deployed) and return it."""
        now = self.clock.now()
        self.store.acquire_lease(request.service, self.holder, at=now,
                                 ttl_s=self.settings.lease_ttl_s)
        try:
            rec = self._create(request, setup, plan, now, refused=verdict)
        finally:
            self.store.release_lease(request.service, self.holder)
        log.warning("rollout of %s %s refused: %s", request.service, request.version,
                    verdict.reason)
        self._notify(rec, NotificationKind.ABORTED, verdict.reason)
        if verdict.error is not None:
            raise verdict.error
        return RolloutOutcome(rec)

    # the loop -----------------------------------------------------------------------------

    def _drive(self, run: _Run) -> RolloutOutcome:
        try:
            while run.rec.active:
                outcome = self._apply_command(run, in_analysis=False)
                if not run.rec.active:
                    break
                if outcome is None and run.rec.paused and run.phase is Phase.FORWARD \
                        and not self._in_analysis(run):
                    self._idle(run)
                    continue
                if outcome is None:
                    outcome = self._next_step(run)
                if outcome is None:
                    continue
                if outcome.result is not _StepResult.DONE:
                    self._fail(run, outcome)
        except KeyboardInterrupt:
            self._interrupted(run, "the controller was interrupted (Ctrl-C)")
            raise
        except LeaseLost:
            raise
        except BaseException as exc:
            if not isinstance(exc, StoreUnavailable):
                self._interrupted(run, f"the controller stopped: {type(exc).__name__}: {exc}")
            else:
                self._give_up_lease(run)
            raise
        return RolloutOutcome(run.rec)

    def _next_step(self, run: _Run) -> _Outcome | None:
        index = run.rec.step_index
        if index >= len(run.steps):
            self._finish(run)
            return None
        step = run.steps[index]
        if run.phase is Phase.FORWARD and self._skippable(run, index, step):
            self._write(run, changes={"step_index": index + 1}, transition=NewTransition(
                Event.STEP_SKIPPED, f"promote --full: {step.kind.value} skipped",
                step_index=index, step_kind=step.kind.value))
            return None
        entered = self._enter(run, index, step)
        if entered is not None:
            return entered
        outcome = self._act(run, step)
        if outcome.result is _StepResult.DONE:
            self._complete(run, index, step)
            return None
        return outcome

    def _act(self, run: _Run, step: Step) -> _Outcome:
        if run.phase is Phase.ROLLBACK:
            return self._act_with_retries(run, step)
        try:
            return self._perform(run, step)
        except (StoreUnavailable, LeaseLost, KeyboardInterrupt):
            raise
        except Exception as exc:  # any failed action rolls the release back (fail closed)
            log.warning("step %s of %s failed", step.kind.value, run.rec.release_id,
                        exc_info=True)
            text = exc.message if isinstance(exc, SafeshipError) else f"{type(exc).__name__}: {exc}"
            return _Outcome(_StepResult.FAILED, f"{step.kind.value} failed: {text}",
                            decided_at=self.clock.monotonic())

    def _act_with_retries(self, run: _Run, step: Step) -> _Outcome:
        attempts = max(1, self.settings.rollback_attempts)
        for attempt in range(1, attempts + 1):
            try:
                outcome = self._perform(run, step)
            except (StoreUnavailable, LeaseLost, KeyboardInterrupt):
                raise
            except Exception as exc:
                if attempt >= attempts:
                    raise
                text = exc.message if isinstance(exc, SafeshipError) else str(exc)
                self._write(run, transition=NewTransition(
                    Event.ACTION_RETRY, f"rollback {step.kind.value} attempt {attempt} of "
                                        f"{attempts} failed: {text}",
                    step_kind=step.kind.value))
                self._sleep(run, self.settings.rollback_backoff_s * attempt)
                continue
            if outcome.result is _StepResult.DONE or attempt >= attempts:
                if outcome.result is not _StepResult.DONE:
                    raise _RollbackStuck(outcome.reason)
                return outcome
            self._sleep(run, self.settings.rollback_backoff_s * attempt)
        raise _RollbackStuck("rollback step did not complete")  # pragma: no cover

    def _perform(self, run: _Run, step: Step) -> _Outcome:
        act = self.actuator
        weights = run.rec.desired_weights
        tick = self._ticker(run)
        if isinstance(step, Deploy):
            act.deploy(step.version, step.replicas, step.artifact, run.versions, weights)
        elif isinstance(step, Scale):
            act.scale(step.version, step.replicas, run.versions, weights)
        elif isinstance(step, HealthGate):
            gate = act.health_gate(step.version, step.min_healthy, step.timeout_s, tick)
            if not gate.passed:
                return _Outcome(_StepResult.FAILED, f"health gate: {gate.detail}",
                                decided_at=self.clock.monotonic())
            if step.ends_downtime:
                self._record_downtime(run)
        elif isinstance(step, SetWeights):
            reported = act.set_weights(step.as_dict(), tick)
            self._observed(run, reported)
            if run.phase is Phase.ROLLBACK or run.rec.kind == ReleaseKind.UNDO.value:
                self._measure_rollback(run, reported)
        elif isinstance(step, SmokeTest):
            gate = act.smoke_test(step.version, step.checks)
            if not gate.passed:
                return _Outcome(_StepResult.FAILED, f"smoke test of '{step.version}' failed: "
                                                    f"{gate.detail}",
                                decided_at=self.clock.monotonic())
        elif isinstance(step, Analyze):
            return self._analyze(run, step)
        elif isinstance(step, Retire):
            if step.starts_downtime:
                self.actuator.target.retire(step.version)
                act.sync_backends([v for v in run.versions if v != step.version], weights)
            else:
                act.retire(step.version, run.versions, weights)
                if weights:
                    self._observed(run, act.set_weights(weights, tick))
        elif isinstance(step, MarkStable):
            pass  # the release becomes the stable one when it finishes as SUCCEEDED
        return _DONE

    # steps --------------------------------------------------------------------------------

    def _enter(self, run: _Run, index: int, step: Step) -> _Outcome | None:
        """Record that ``step`` starts (or resumes) before anything is done for it."""
        key = (run.phase.value, index)
        if key in run.entered:
            return None
        run.entered.add(key)
        started = run.progress.setdefault("started", {}).setdefault(run.phase.value, [])
        now = self.clock.now()
        changes: dict[str, Any] = {}
        if isinstance(step, SetWeights):
            changes["desired_weights"] = step.as_dict()
            if run.phase is Phase.FORWARD:
                share = step.as_dict().get(run.request.version, 0.0)
                changes["max_canary_percent"] = max(run.rec.max_canary_percent, share)
        if isinstance(step, Retire) and step.starts_downtime:
            run.progress["downtime_started_at"] = now.timestamp()
            run.downtime_t0 = self.clock.monotonic()
        elif isinstance(step, Retire) and step.version in run.rec.desired_weights:
            remaining = {v: w for v, w in run.rec.desired_weights.items() if v != step.version}
            if remaining and run.rec.desired_weights[step.version] <= 0:
                changes["desired_weights"] = remaining  # a retired version leaves the split
        if index in started:
            return self._resume_step(run, index, step, now, changes)
        started.append(index)
        if isinstance(step, Analyze):
            deadline = now + timedelta(seconds=step.duration_s)
            changes.update(step_started_at=now, step_deadline_at=deadline)
            windows = run.progress.setdefault("windows", [])
            windows.append({"index": index, "start": now.timestamp(),
                            "end": deadline.timestamp(), "percentage": step.percentage})
            run.progress.setdefault("analysis_start", now.timestamp())
        else:
            changes.update(step_started_at=now, step_deadline_at=None)
        weights = changes.get("desired_weights")
        self._write(run, changes=changes, transition=NewTransition(
            Event.STEP_STARTED, describe_step(step), step_index=index, step_kind=step.kind.value,
            weights=weights, details={"step": encode(step)}))
        return None

    def _resume_step(self, run: _Run, index: int, step: Step, now: datetime,
                     changes: dict[str, Any]) -> _Outcome | None:
        gap = run.unwatched_s if run.unwatched_s is not None else self._unwatched_s(run, now)
        run.unwatched_s = None
        reason = f"step resumed after {gap:.1f} s without a controller"
        if isinstance(step, Analyze) and run.phase is Phase.FORWARD:
            if gap > run.policy.max_interruption_s:
                self._write(run, changes=changes, transition=NewTransition(
                    Event.STEP_RESUMED, reason, step_index=index, step_kind=step.kind.value))
                return _Outcome(_StepResult.FAILED,
                                f"analysis interrupted for {gap:.0f} s, more than "
                                f"max_interruption {run.policy.max_interruption_s:g} s",
                                decided_at=self.clock.monotonic())
            deadline = (run.rec.step_deadline_at or now) + timedelta(seconds=gap)
            changes["step_deadline_at"] = deadline
            self._set_window_end(run, index, deadline.timestamp())
            reason += f"; the step is lengthened by the unwatched {gap:.1f} s"
        self._write(run, changes=changes, transition=NewTransition(
            Event.STEP_RESUMED, reason, step_index=index, step_kind=step.kind.value,
            weights=changes.get("desired_weights"), details={"unwatched_s": gap}))
        return None

    def _complete(self, run: _Run, index: int, step: Step) -> None:
        self._write(run, changes={"step_index": index + 1}, transition=NewTransition(
            Event.STEP_COMPLETED, f"{describe_step(step)}: done", step_index=index,
            step_kind=step.kind.value))
        if run.phase is Phase.FORWARD:
            self._notify(run.rec, NotificationKind.STEP, describe_step(step), index=index,
                         step_kind=step.kind.value)

    def _skippable(self, run: _Run, index: int, step: Step) -> bool:
        if not run.progress.get("skip_analysis"):
            return False
        if isinstance(step, Analyze | SmokeTest):
            return True
        following = run.plan[index + 1] if index + 1 < len(run.plan) else None
        return (isinstance(step, SetWeights) and isinstance(following, Analyze)
                and following.percentage < 100.0)

    def _in_analysis(self, run: _Run) -> bool:
        index = run.rec.step_index
        return (run.phase is Phase.FORWARD and index < len(run.plan)
                and isinstance(run.plan[index], Analyze))

    # analysis -----------------------------------------------------------------------------

    def _analyze(self, run: _Run, step: Analyze) -> _Outcome:
        if run.spec is None:
            return _Outcome(_StepResult.FAILED, "no canary analysis configured",
                            decided_at=self.clock.monotonic())
        judge = self.judges(step.judge)
        index = run.rec.step_index
        interval = run.policy.scrape_interval_s
        while True:
            outcome = self._apply_command(run, in_analysis=True)
            if outcome is not None:
                return outcome
            if run.progress.pop("promote_pending", False) or run.progress.get("skip_analysis"):
                self._write(run, transition=NewTransition(
                    Event.STEP_SKIPPED, "promoted by a person: the rest of this analysis is "
                                        "skipped", step_index=index, step_kind=step.kind.value))
                return _DONE
            now_dt = self.clock.now()
            now = now_dt.timestamp()
            verdict = evaluate(self.metrics, judge, step.judge.value, run.spec,
                               start=float(run.progress.get("analysis_start", now)), now=now,
                               windows=self._windows(run), interval_s=interval)
            decided_at = self.clock.monotonic()
            deadline = run.rec.step_deadline_at or now_dt
            failures = int(run.progress.get("failures", 0))
            extensions = int(run.progress.get("extensions", {}).get(str(index), 0))
            decision = decide_tick(
                verdict, failures=failures, threshold=run.spec.failure_count_threshold,
                rollback_on_failure=run.spec.rollback_on_failure,
                verification=step.verification, paused=run.rec.paused,
                time_up=now_dt >= deadline, extensions=extensions, policy=run.policy)
            run.progress["failures"] = decision.failures
            observed = self._check_split(run)
            self._write(run, changes={"observed_weights": observed, "observed_at": now_dt},
                        transition=NewTransition(
                            Event.VERDICT, f"{verdict.decision.value}: {decision.reason}",
                            step_index=index, step_kind=step.kind.value, weights=observed,
                            details={"decision": verdict.decision.value,
                                     "action": decision.action.value,
                                     "verdict": encode(verdict)}))
            if decision.action is TickAction.ADVANCE:
                return _DONE
            if decision.action is TickAction.ROLLBACK:
                return _Outcome(_StepResult.FAILED, decision.reason,
                                {"verdict": encode(verdict)}, decided_at=decided_at)
            if decision.action is TickAction.EXTEND:
                self._extend(run, index, step, extensions, decision.reason)
            elif decision.action is TickAction.HOLD:
                self._hold(run, decision.reason)
            self._wait_tick(run, interval)

    def _windows(self, run: _Run) -> tuple[StepWindow, ...]:
        return tuple(StepWindow(float(w["start"]), float(w["end"]), float(w["percentage"]))
                     for w in run.progress.get("windows", ()))

    def _set_window_end(self, run: _Run, index: int, end: float) -> None:
        for window in run.progress.get("windows", ()):
            if window["index"] == index:
                window["end"] = end

    def _extend(self, run: _Run, index: int, step: Analyze, used: int, reason: str) -> None:
        deadline = (run.rec.step_deadline_at or self.clock.now()) + timedelta(
            seconds=step.duration_s)
        run.progress.setdefault("extensions", {})[str(index)] = used + 1
        self._set_window_end(run, index, deadline.timestamp())
        self._write(run, changes={"step_deadline_at": deadline}, transition=NewTransition(
            Event.EXTENDED, reason, step_index=index, step_kind=step.kind.value))

    def _hold(self, run: _Run, reason: str) -> None:
        run.progress["paused_at"] = self.clock.now().timestamp()
        self._set_status(run, RolloutStatus.PAUSED, Event.HELD, reason, paused=True)

    def _check_split(self, run: _Run) -> dict[str, float]:
        """Read the split back; re-assert the desired one if the router drifted from it."""
        reported = self.actuator.router.weights()
        desired = run.rec.desired_weights
        if desired and not same_split(reported, desired):
            self._write(run, transition=NewTransition(
                Event.DRIFT, f"the router reported {reported}, not the desired {desired}; "
                             "setting it again", weights=desired))
            reported = self.actuator.set_weights(desired, self._ticker(run))
        return reported

    # commands -----------------------------------------------------------------------------

    def _apply_command(self, run: _Run, *, in_analysis: bool) -> _Outcome | None:
        """Carry out a person's pending command, recording it first."""
        self._poll(run)
        command_text = run.rec.command
        if command_text is None:
            return None
        command = Command(command_text)
        by = run.rec.command_by or "someone"
        why = run.rec.command_reason or ""
        if run.phase is Phase.ROLLBACK:
            self._write(run, clear_command=True, transition=NewTransition(
                Event.RESUMED if command is Command.RESUME else Event.PAUSED,
                f"{command.value} by {by} ignored: a rollback runs to its end"))
            return None
        if command is Command.ABORT:
            self._write(run, clear_command=True, transition=NewTransition(
                Event.ABORT, f"abort requested by {by}: {why}"))
            return _Outcome(_StepResult.ABORTED, f"aborted by {by}: {why}",
                            decided_at=self.clock.monotonic())
        if command is Command.PAUSE:
            if run.rec.paused:
                self._write(run, clear_command=True)
                return None
            run.progress["paused_at"] = self.clock.now().timestamp()
            self._set_status(run, RolloutStatus.PAUSED, Event.PAUSED,
                             f"paused by {by}: {why}", paused=True, clear_command=True)
            return None
        if command is Command.RESUME:
            self._unpause(run, f"resumed by {by}: {why}", clear_command=True)
            return None
        full = command is Command.PROMOTE_FULL
        if full:
            run.progress["skip_analysis"] = True
        else:
            run.progress["promote_pending"] = True
        self._write(run, clear_command=True, transition=NewTransition(
            Event.PROMOTE, f"{'full ' if full else ''}promotion by {by}: {why}"
            + (" (analysis and smoke tests skipped)" if full else "")))
        if run.rec.paused:
            self._unpause(run, f"unpaused by the promotion of {by}", clear_command=False)
        return None

    def _unpause(self, run: _Run, reason: str, *, clear_command: bool) -> None:
        if not run.rec.paused:
            self._write(run, clear_command=clear_command)
            return
        now = self.clock.now()
        paused_at = float(run.progress.pop("paused_at", now.timestamp()))
        changes: dict[str, Any] = {}
        if self._in_analysis(run) and run.rec.step_deadline_at is not None:
            held = max(0.0, now.timestamp() - paused_at)
            remaining = run.rec.step_deadline_at.timestamp() - paused_at
            if remaining <= 0:  # held after its time ran out: give the step another run
                step = run.plan[run.rec.step_index]
                remaining = step.duration_s if isinstance(step, Analyze) else 0.0
            deadline = now + timedelta(seconds=remaining)
            changes["step_deadline_at"] = deadline
            self._set_window_end(run, run.rec.step_index, deadline.timestamp())
            reason += f" after {held:.0f} s paused"
        self._set_status(run, RolloutStatus.RUNNING, Event.RESUMED, reason, paused=False,
                         extra=changes, clear_command=clear_command)

    # rollback and the end -----------------------------------------------------------------

    def _fail(self, run: _Run, outcome: _Outcome) -> None:
        if run.phase is Phase.ROLLBACK:  # pragma: no cover - rollback failures raise
            raise _RollbackStuck(outcome.reason)
        decision = Decision.ABORTED if outcome.result is _StepResult.ABORTED \
            else Decision.ROLLED_BACK
        reached = run.rec.step_index
        plan = run.strategy.rollback_plan(run.request, reached)
        run.rollback = plan
        run.rollback_t0 = outcome.decided_at
        run.progress["reached"] = reached
        run.progress["rollback_started_at"] = self.clock.now().timestamp()
        run.progress.setdefault("started", {})[Phase.ROLLBACK.value] = [0] if plan else []
        first = plan[0] if plan else None
        weights = first.as_dict() if isinstance(first, SetWeights) else run.rec.desired_weights
        check_transition(RolloutStatus(run.rec.status), RolloutStatus.ROLLING_BACK)
        self._write(run, changes={
            "status": RolloutStatus.ROLLING_BACK.value, "phase": Phase.ROLLBACK.value,
            "step_index": 0, "rollback_plan": encode_plan(plan), "decision": decision.value,
            "reason": outcome.reason, "desired_weights": weights, "paused": False,
            "step_started_at": self.clock.now(), "step_deadline_at": None,
        }, transition=NewTransition(
            Event.ROLLBACK_STARTED, outcome.reason, step_index=0,
            step_kind=first.kind.value if first is not None else None, weights=weights,
            details={"reached": reached, "decision": decision.value,
                     "plan": encode_plan(plan)["steps"], **dict(outcome.details)}))
        run.entered.add((Phase.ROLLBACK.value, 0))
        self._notify(run.rec, NotificationKind.ROLLBACK, outcome.reason)

    def _measure_rollback(self, run: _Run, reported: Mapping[str, float]) -> None:
        # A rollback leaves the new version; an undo (a rollback of a finished release) leaves
        # the version serving when it started.
        leaving = (run.request.stable.version if run.phase is Phase.FORWARD
                   and run.request.stable is not None else run.request.version)
        if run.rec.rollback_seconds is not None:
            return
        if reported.get(leaving, 0.0) > 0.0:
            return
        if run.rollback_t0 is not None:
            seconds = self.clock.monotonic() - run.rollback_t0
            how = "monotonic clock, decision to read-back"
        else:  # resumed mid-rollback: only wall-clock times survive a restart
            started = float(run.progress.get("rollback_started_at",
                                              run.rec.started_at.timestamp()))
            seconds = self.clock.now().timestamp() - started
            how = "wall clock across a controller restart"
        self._write(run, changes={"rollback_seconds": seconds}, transition=NewTransition(
            Event.ROLLBACK_MEASURED, f"the router reports 0% on '{leaving}' "
                                     f"{seconds:.3f} s after the decision ({how})",
            weights=dict(reported), details={"rollback_seconds": seconds, "measured_by": how}))

    def _record_downtime(self, run: _Run) -> None:
        started = run.progress.pop("downtime_started_at", None)
        if started is None:
            return
        if run.downtime_t0 is not None:
            seconds = self.clock.monotonic() - run.downtime_t0
        else:
            seconds = self.clock.now().timestamp() - float(started)
        self._write(run, changes={"downtime_seconds": seconds}, transition=NewTransition(
            Event.DOWNTIME, f"no version served traffic for {seconds:.3f} s",
            details={"downtime_seconds": seconds}))

    def _finish(self, run: _Run) -> None:
        if run.phase is Phase.FORWARD:
            status, decision = RolloutStatus.SUCCEEDED, Decision.PROMOTED
            kind, reason = NotificationKind.PROMOTED, f"'{run.request.version}' is stable"
        else:
            decided = Decision(run.rec.decision or Decision.ROLLED_BACK.value)
            status = (RolloutStatus.ABORTED if decided is Decision.ABORTED
                      else RolloutStatus.ROLLED_BACK)
            decision = decided
            kind = (NotificationKind.ABORTED if decided is Decision.ABORTED
                    else NotificationKind.ROLLED_BACK)
            reason = run.rec.reason or "rolled back"
        check_transition(RolloutStatus(run.rec.status), status)
        self._write(run, changes={
            "status": status.value, "decision": decision.value, "finished_at": self.clock.now(),
            "paused": False, "step_deadline_at": None, "command": None, "command_by": None,
            "command_reason": None, "command_at": None,
        }, transition=NewTransition(Event.FINISHED, reason, to_status=status.value))
        self.store.release_lease(run.rec.service, self.holder)
        self._notify(run.rec, kind, reason)

    # plumbing -----------------------------------------------------------------------------

    def _create(self, request: RolloutRequest, setup: RolloutSetup, plan: tuple[Step, ...],
                now: datetime, *, refused: GuardVerdict | None = None) -> ReleaseRecord:
        artifact = request.artifact
        status = RolloutStatus.ABORTED if refused is not None else RolloutStatus.RUNNING
        record = ReleaseRecord(
            release_id=uuid.uuid4().hex, service=request.service, version=request.version,
            kind=setup.kind.value, artifact_reference=artifact.reference if artifact else None,
            artifact_sha256=artifact.sha256 if artifact else None, strategy=setup.strategy,
            status=status.value,
            decision=Decision.ABORTED.value if refused is not None else None,
            reason=refused.reason if refused is not None else None,
            stable_version=request.stable.version if request.stable else None,
            max_canary_percent=0.0, rollback_seconds=None, downtime_seconds=None,
            actor=setup.actor, started_at=now,
            finished_at=now if refused is not None else None, phase=Phase.FORWARD.value,
            step_index=0, paused=False, step_started_at=None, step_deadline_at=None,
            heartbeat_at=now,
            # Before the first step, the stable version is assumed to take all traffic.
            desired_weights={request.stable.version: 100.0} if request.stable else {},
            observed_weights=None, observed_at=None,
            plan=encode_plan(plan), rollback_plan=None,
            request=encode_request(request, setup.canary, setup.policy),
            progress={"started": {}}, command=None, command_by=None, command_reason=None,
            command_at=None,
        )
        if refused is not None:
            first = NewTransition(Event.REFUSED, refused.reason, to_status=status.value,
                                  details={"slo_check": refused.details,
                                           "plan": encode_plan(plan)["steps"]})
        else:
            first = NewTransition(
                Event.CREATED, f"{setup.kind.value} of '{request.version}' with "
                               f"{setup.strategy} ({len(plan)} steps) by {setup.actor}",
                to_status=status.value, details={"plan": encode_plan(plan)["steps"]})
        return self.store.create_release(record, holder=self.holder, first=first)

    def _load(self, rec: ReleaseRecord) -> _Run:
        stored = rec.request
        request = decode(RolloutRequest, stored["request"])
        canary = decode(CanarySpec, stored["canary"]) if stored.get("canary") else None
        policy = decode(AnalysisPolicy, stored.get("policy") or {})
        if canary is not None and request.stable is not None:
            canary = scoped_spec(canary, request.stable.version, request.version)
        strategy = self.strategies(rec.strategy)
        bind_release(self.actuator.router, rec.release_id)
        return _Run(rec=rec, request=request, spec=canary, policy=policy, strategy=strategy,
                    plan=decode_plan(rec.plan), rollback=decode_plan(rec.rollback_plan),
                    progress=_copy(rec.progress))

    def _write(self, run: _Run, *, changes: Mapping[str, Any] | None = None,
               transition: NewTransition | None = None, clear_command: bool = False) -> None:
        """Persist ``changes`` (and the progress) with ``transition``, renewing the lease."""
        now = self.clock.now()
        values = dict(changes or {})
        values["progress"] = _copy(run.progress)
        values["heartbeat_at"] = now
        clear_at = run.rec.command_at if clear_command else None
        self.store.update_release(run.rec.release_id, holder=self.holder, at=now,
                                  changes=values, transition=transition,
                                  renew_ttl_s=self.settings.lease_ttl_s,
                                  clear_command_at=clear_at)
        if clear_at is not None:
            values.update(command=None, command_by=None, command_reason=None, command_at=None)
        run.rec = replace(run.rec, **values)
        self._renewed = self.clock.monotonic()

    def _set_status(self, run: _Run, status: RolloutStatus, event: Event, reason: str, *,
                    paused: bool, extra: Mapping[str, Any] | None = None,
                    clear_command: bool = False) -> None:
        check_transition(RolloutStatus(run.rec.status), status)
        changes = {**dict(extra or {}), "status": status.value, "paused": paused}
        self._write(run, changes=changes, clear_command=clear_command,
                    transition=NewTransition(event, reason, to_status=status.value))

    def _observed(self, run: _Run, reported: Mapping[str, float]) -> None:
        self._write(run, changes={"observed_weights": dict(reported),
                                  "observed_at": self.clock.now()})

    def _reassert(self, run: _Run) -> None:
        """Make the world match the store: versions deployed so far, endpoints, the split."""
        replicas, artifacts = _deployed(run)
        weights = run.rec.desired_weights
        for version, count in replicas.items():
            if count > 0:
                self.actuator.deploy(version, count, artifacts.get(version), run.versions,
                                     weights)
        self.actuator.sync_backends(run.versions, weights)
        if weights and not self.actuator.routable(weights):
            # A recreate resumed between stopping the old version and routing to the new one:
            # nothing can serve that split; the next set_weights step routes to the new one.
            self._write(run, transition=NewTransition(
                Event.DRIFT, f"the split {weights} names a version with no running instance; "
                             "left to the next step", weights=weights))
        elif weights:
            reported = self.actuator.set_weights(weights, self._ticker(run))
            self._observed(run, reported)
            if run.phase is Phase.ROLLBACK:
                self._measure_rollback(run, reported)

    def _unwatched_s(self, run: _Run, now: datetime) -> float:
        last = run.rec.heartbeat_at or run.rec.step_started_at or run.rec.started_at
        return max(0.0, (now - last).total_seconds())

    def _refresh(self, run: _Run) -> None:
        state = self.store.poll_release(run.rec.release_id)
        run.rec = replace(run.rec, **{f.name: getattr(state, f.name) for f in fields(state)})

    def _poll(self, run: _Run) -> None:
        """Re-read the release (for a person's commands) and renew the lease when due."""
        self._refresh(run)
        self._renew(run)

    def _renew(self, run: _Run) -> None:
        now = self.clock.monotonic()
        if self._renewed is not None and now - self._renewed < self.settings.lease_ttl_s / 2:
            return
        self.store.renew_lease(run.rec.service, self.holder, at=self.clock.now(),
                               ttl_s=self.settings.lease_ttl_s, release_id=run.rec.release_id)
        self._renewed = now

    def _ticker(self, run: _Run) -> Callable[[], None]:
        def tick() -> None:
            self._renew(run)
        return tick

    def _wait_tick(self, run: _Run, seconds: float) -> None:
        deadline = run.rec.step_deadline_at
        now = self.clock.now()
        wait = seconds
        if deadline is not None and now < deadline:
            wait = min(seconds, (deadline - now).total_seconds())
        self._sleep(run, max(wait, 0.0))

    def _sleep(self, run: _Run, seconds: float) -> None:
        """Sleep in slices short enough to keep the lease."""
        remaining = seconds
        slice_s = max(0.001, self.settings.lease_ttl_s / 3)
        while remaining > 0:
            step = min(slice_s, remaining)
            self.clock.sleep(step)
            remaining -= step
            self._renew(run)

    def _idle(self, run: _Run) -> None:
        self._sleep(run, self.settings.idle_poll_s)

    def _interrupted(self, run: _Run, reason: str) -> None:
        try:
            self._write(run, transition=NewTransition(Event.INTERRUPTED, reason + "; run "
                                                      f"`safeship rollout resume "
                                                      f"{run.rec.service}` to continue"))
        except SafeshipError:
            log.warning("could not record the interruption of %s", run.rec.release_id)
        self._give_up_lease(run)

    def _give_up_lease(self, run: _Run) -> None:
        try:
            self.store.release_lease(run.rec.service, self.holder)
        except SafeshipError:
            log.warning("could not release the lease of %s", run.rec.service)

    def _notify(self, rec: ReleaseRecord, kind: NotificationKind, reason: str, *,
                index: int | None = None, step_kind: str | None = None) -> None:
        try:
            self.notifier.notify(Notification(
                kind, rec.service, rec.release_id, rec.version, rec.status, self.clock.now(),
                reason, index, step_kind, rec.desired_weights or None))
        except Exception:  # notifications never break a rollout
            log.warning("notification %s of %s failed", kind.value, rec.release_id,
                        exc_info=True)


class _RollbackStuck(SafeshipError):
    """A rollback step failed after every retry; ``resume`` finishes the rollback."""

    exit_code = ExitCode.DEPENDENCY


def _deployed(run: _Run) -> tuple[dict[str, int], dict[str, ArtifactRef | None]]:
    """Instances per version that the steps completed so far have asked for."""
    replicas: dict[str, int] = {}
    artifacts: dict[str, ArtifactRef | None] = {run.request.version: run.request.artifact}
    if run.request.stable is not None:
        replicas[run.request.stable.version] = run.request.stable_replicas
        artifacts[run.request.stable.version] = run.request.stable.artifact
    if run.phase is Phase.FORWARD:
        done = list(run.plan[:run.rec.step_index])
    else:
        done = [*run.plan[:int(run.progress.get("reached", 0))],
                *run.rollback[:run.rec.step_index]]
    for step in done:
        if isinstance(step, Deploy):
            replicas[step.version] = step.replicas
            if step.artifact is not None:
                artifacts[step.version] = step.artifact
        elif isinstance(step, Scale):
            replicas[step.version] = step.replicas
        elif isinstance(step, Retire):
            replicas[step.version] = 0
    return replicas, artifacts


def describe_step(step: Step) -> str:
    """One line saying what a step does."""
    if isinstance(step, SetWeights):
        split = ", ".join(f"{v} {w:g}%" for v, w in step.weights)
        return f"set weights {split}"
    if isinstance(step, Analyze):
        what = "verify" if step.verification else "analyse"
        return f"{what} {step.percentage:g}% for {step.duration_s:g} s ({step.judge.value})"
    if isinstance(step, Deploy | Scale):
        return f"{step.kind.value} '{step.version}' x{step.replicas}"
    if isinstance(step, HealthGate):
        return f"health gate '{step.version}' ({step.min_healthy} healthy)"
    if isinstance(step, SmokeTest):
        return f"smoke test '{step.version}' ({len(step.checks)} checks)"
    return f"{step.kind.value} '{step.version}'"


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def send_command(store: RolloutStore, service: str, command: Command, *, by: str,
                 reason: str, clock: Clock) -> ReleaseRecord:
    """Ask the controller of ``service``'s active release to carry out ``command``."""
    active = store.active_release(service)
    if active is None:
        raise NotFound(f"service '{service}' has no rollout in progress",
                       hint="`safeship rollout list` shows recent rollouts")
    if active.phase == Phase.ROLLBACK.value and command is not Command.ABORT:
        raise UsageError(f"rollout {active.release_id} of '{service}' is rolling back; "
                         f"it cannot {command.value}")
    return store.set_command(active.release_id, command.value, by=by, reason=reason,
                             at=clock.now())


def undo_request(store: RolloutStore, service: str, *, to_version: str | None = None,
                 health_timeout_s: float | None = None) -> RolloutRequest:
    """The request that brings back ``to_version`` (default: the stable before the current).

    Only a version that was once stable can be returned to: its artifact and digest are in the
    store, and it has already survived production.
    """
    current = stable_of(store, service)
    if current is None:
        raise NotFound(f"service '{service}' has no stable release to undo")
    history = succeeded_releases(store, service)
    if to_version is not None:
        candidates = [rec for rec in history if rec.version == to_version]
        if not candidates:
            raise NotFound(f"version '{to_version}' of '{service}' was never stable",
                           hint="`safeship rollout history` lists the versions that were")
    else:
        candidates = [rec for rec in history if rec.version != current.version]
        if not candidates:
            raise NotFound(f"service '{service}' has no earlier stable version to go back to")
    target = stable_from(candidates[0])
    replicas = target.replicas or current.replicas or 1
    extra: dict[str, Any] = {}
    if health_timeout_s is not None:
        extra["health_timeout_s"] = health_timeout_s
    return RolloutRequest(service=service, version=target.version, replicas=replicas,
                          artifact=target.artifact, stable=current, **extra)
