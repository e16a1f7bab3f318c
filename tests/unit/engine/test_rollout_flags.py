"""Flag rollouts through the real controller: ramp, rollback to off, undo, and the helpers.

The controller drives the ``feature_flag`` router over a real SQLite flag store (the same
database as the rollout store) with the :class:`NoDeployTarget`, a fake clock and a scripted
judge; "off" is checked with the part-1 evaluator, as every connected evaluator would see it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from safeship.engine.rollout import (
    ControllerSettings,
    RolloutController,
    RolloutOutcome,
    RolloutSetup,
    stable_of,
    undo_request,
)
from safeship.engine.rollout_actions import ActionSettings
from safeship.engine.rollout_flags import (
    NoDeployTarget,
    bind_release,
    switch_off_measured,
    version_changing,
)
from safeship.engine.rollout_loop import AnalysisPolicy
from safeship.engine.rollout_state import ReleaseKind
from safeship.flags import EvaluationContext, evaluate
from safeship.flags import changes as change
from safeship.flags.changes import FlagAction
from safeship.judge.interface import Judge
from safeship.model.analysis import Decision
from safeship.model.canary import JudgeName
from safeship.routers.feature_flag import FeatureFlagOptions, FeatureFlagRouter
from safeship.routers.interface import RouterUnavailable
from safeship.store.flags import FlagStore
from safeship.store.rollouts import RolloutStore
from safeship.strategies.feature_flag import (
    FeatureFlagStrategy,
    FeatureFlagUndoStrategy,
    flag_reference,
)
from safeship.strategies.interface import ArtifactRef, RolloutRequest, StableVersion, Strategy
from safeship.strategies.undo import UndoStrategy
from tests.unit.engine.test_rollout_fakes import FakeRouter, NoMetrics, ScriptedClock, ScriptedJudge
from tests.unit.engine.test_rollout_harness import guide_spec

FLAG = "new-checkout"
ENV = "production"
STRATEGIES: dict[str, type[Any]] = {"feature_flag": FeatureFlagStrategy,
                                    "feature_flag_undo": FeatureFlagUndoStrategy,
                                    "undo": UndoStrategy}


@dataclass
class FlagWorld:
    """A rollout store and a flag store on one database, a flag router, a clock, a judge."""

    store: RolloutStore
    flags: FlagStore
    clock: ScriptedClock
    judge: ScriptedJudge
    on_rollback: str = "disable"

    def router(self) -> FeatureFlagRouter:
        return FeatureFlagRouter(
            FeatureFlagOptions.model_validate({"flag": FLAG, "environment": ENV,
                                               "on_rollback": self.on_rollback}),
            flags=self.flags, now=self.clock.now)

    def controller(self, router: FeatureFlagRouter | None = None) -> RolloutController:
        judge = self.judge

        def judges(name: JudgeName) -> Judge:
            return judge

        def strategies(name: str) -> Strategy:
            return STRATEGIES[name]()  # type: ignore[no-any-return]

        return RolloutController(
            self.store, router or self.router(), NoDeployTarget(), clock=self.clock,
            holder="ctl-flag", strategies=strategies, judges=judges, metrics=NoMetrics(),
            settings=ControllerSettings(lease_ttl_s=30.0, actions=ActionSettings(
                readback_timeout_s=2.0, readback_poll_s=0.05)))

    def request(self, **changes: Any) -> RolloutRequest:
        base: dict[str, Any] = {
            "service": "shop", "version": "on", "replicas": 1,
            "artifact": ArtifactRef(flag_reference(FLAG, ENV)), "stable": StableVersion("off"),
            "canary_steps": guide_spec().steps}
        base.update(changes)
        return RolloutRequest(**base)

    def ramp(self, router: FeatureFlagRouter | None = None) -> RolloutOutcome:
        return self.controller(router).start(self.request(), RolloutSetup(
            "feature_flag", guide_spec(), AnalysisPolicy(scrape_interval_s=30.0),
            actor="test"))

    def served(self, keys: int = 1000) -> Counter[str]:
        flag = self.flags.get(FLAG).flag
        return Counter(str(evaluate(flag, EvaluationContext(f"u{i}"), ENV).variant)
                       for i in range(keys))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[FlagWorld]:
    url = f"sqlite:///{tmp_path}/state.db"
    with RolloutStore.open(url, tmp_path) as store, FlagStore.open(url, tmp_path) as flags:
        clock = ScriptedClock()
        flags.create(change.new_flag(FLAG, environments=(ENV,)), actor="dev",
                     reason="ships off", at=clock.now())
        yield FlagWorld(store, flags, clock, ScriptedJudge())


def test_a_clean_ramp_ends_with_the_flag_on_for_everyone(world: FlagWorld) -> None:
    rec = world.ramp().release
    assert rec.status == "succeeded"
    assert rec.max_canary_percent == 100.0
    assert world.served() == Counter({"on": 1000})
    history = world.flags.history(FLAG)
    ramps = [h for h in history if h.action == "rollout"]
    assert [h.after["environments"][ENV]["default"]["rollout"][0]["weight"]  # type: ignore[index]
            for h in ramps] == ["1%", "5%", "25%", "100%"]
    assert all(h.actor == "safeship-rollout" for h in ramps)
    assert all(h.reason.startswith(f"release {rec.release_id}: ") for h in ramps)
    assert rec.artifact_reference == "flag:new-checkout@production"


def test_a_flag_release_never_becomes_the_stable_version(world: FlagWorld) -> None:
    world.ramp()
    assert stable_of(world.store, "shop") is None


def test_a_rollback_verdict_switches_the_flag_off_for_everyone(world: FlagWorld) -> None:
    world.judge.by_percentage = {5.0: Decision.ROLLBACK}
    rec = world.ramp().release
    assert rec.status == "rolled_back"
    assert rec.max_canary_percent == 5.0
    assert world.served() == Counter({"off": 1000})
    env = world.flags.get(FLAG).flag.environment(ENV)
    assert env is not None
    assert not env.enabled
    assert rec.rollback_seconds is not None
    assert rec.rollback_seconds >= 0
    events = [e.event for e in world.store.transitions(rec.release_id)]
    assert "rollback_measured" in events
    last = world.flags.history(FLAG)[-1]
    assert (last.action, last.actor) == ("disable", "safeship-rollout")
    assert last.reason == f"release {rec.release_id}: switched off: disabled"


def test_on_rollback_kill_throws_the_kill_switch(world: FlagWorld) -> None:
    world.on_rollback = "kill"
    world.judge.by_percentage = {25.0: Decision.ROLLBACK}
    rec = world.ramp().release
    assert rec.status == "rolled_back"
    assert world.flags.get(FLAG).flag.killed
    assert world.served() == Counter({"off": 1000})


def test_a_person_switching_the_flag_off_mid_ramp_rolls_the_release_back(
        world: FlagWorld) -> None:
    # 1 % passes at once; 5 % keeps analysing (no decision yet) when, 100 s in, a person
    # disables the flag.
    world.judge.by_percentage = {5.0: Decision.INSUFFICIENT_DATA}
    world.clock.at(100.0, lambda: world.flags.update(
        FLAG, lambda f: change.disable(f, ENV), action=FlagAction.DISABLE, actor="oncall",
        reason="INC-9: checkout errors", at=world.clock.now()))
    rec = world.ramp().release
    assert rec.status == "rolled_back"
    assert "does not turn it back on" in (rec.reason or "")
    assert world.served() == Counter({"off": 1000})
    assert [h.actor for h in world.flags.history(FLAG)][-2:] == ["oncall", "safeship-rollout"]


def test_the_flag_undo_is_recorded_with_its_seconds(world: FlagWorld) -> None:
    world.ramp()
    outcome = world.controller().start(
        world.request(version="off", stable=StableVersion("on"), canary_steps=()),
        RolloutSetup("feature_flag_undo", actor="oncall", kind=ReleaseKind.UNDO))
    rec = outcome.release
    assert (rec.status, rec.kind, rec.strategy) == ("succeeded", "undo", "feature_flag_undo")
    assert world.served() == Counter({"off": 1000})
    assert rec.rollback_seconds is not None
    measured = world.store.last_transition(rec.release_id, "rollback_measured")
    assert measured is not None
    assert "0% on 'on'" in measured.reason
    assert stable_of(world.store, "shop") is None  # still no version release


def test_a_version_undo_now_records_its_seconds_too(tmp_path: Path) -> None:
    # v1 then v2 recorded as releases; the undo flips the fake router back to v1.
    from tests.unit.engine.test_rollout_harness import Harness

    with RolloutStore.open(f"sqlite:///{tmp_path}/s.db", tmp_path) as store:
        harness = Harness(store)
        harness.start("canary", stable=None, version="v1")
        harness.start("canary")
        outcome = harness.controller().start(undo_request(store, "shop"), RolloutSetup(
            "undo", actor="oncall", kind=ReleaseKind.UNDO))
        assert outcome.release.status == "succeeded"
        assert outcome.release.rollback_seconds is not None
        assert harness.router.weights() == {"v1": 100.0}


def test_switch_off_measured_times_from_the_decision(world: FlagWorld) -> None:
    router = world.router()
    router.set_weights({"off": 75.0, "on": 25.0})
    started = world.clock.monotonic()
    world.clock.advance(0.25)  # the undo spent a quarter second before the toggle
    toggle = switch_off_measured(router, world.clock, off_variant="off", started=started,
                                 actor="oncall", reason="undo")
    assert toggle.changed
    assert toggle.seconds == pytest.approx(0.25)
    assert toggle.weights == {"on": 0.0, "off": 100.0}
    again = switch_off_measured(router, world.clock, off_variant="off",
                                started=world.clock.monotonic(), actor="oncall", reason="undo")
    assert not again.changed


class _Stuck:
    """A switch whose read-back never shows it off."""

    def __init__(self) -> None:
        self.ticks = 0

    def switch_off(self, *, actor: str | None = None, reason: str | None = None) -> bool:
        return True

    def weights(self) -> dict[str, float]:
        return {"on": 5.0, "off": 95.0}


def test_switch_off_measured_gives_up_after_its_timeout(world: FlagWorld) -> None:
    stuck = _Stuck()

    def tick() -> None:
        stuck.ticks += 1

    with pytest.raises(RouterUnavailable, match="still reports"):
        switch_off_measured(stuck, world.clock, off_variant="off", started=0.0, actor="a",
                            reason="r", timeout_s=1.0, poll_s=0.1, tick=tick)
    assert 9 <= stuck.ticks <= 11


def test_the_no_deploy_target_ensures_nothing() -> None:
    target = NoDeployTarget()
    assert target.deploy("on", 1) == ()
    assert target.scale("on", 2) == ()
    assert target.instances("on") == ()
    assert target.health("on") == ()
    assert target.retire("on") is None


def test_only_routers_that_ask_are_told_the_release(world: FlagWorld) -> None:
    plain = FakeRouter()
    bind_release(plain, "r1")  # no such method: nothing happens
    router = world.router()
    bind_release(router, "r2")
    router.set_weights({"off": 90.0, "on": 10.0})
    assert world.flags.history(FLAG)[-1].reason.startswith("release r2: ")


def test_only_flag_strategies_leave_the_version_alone() -> None:
    assert not version_changing("feature_flag")
    assert not version_changing("feature_flag_undo")
    assert all(version_changing(name) for name in ("canary", "undo", "rolling"))
