"""A harness that wires a rollout controller to fakes, a fake clock and a real SQLite store."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from safeship.config.canary_file import load_canary_file
from safeship.engine.rollout import (
    ControllerSettings,
    RolloutController,
    RolloutOutcome,
    RolloutSetup,
)
from safeship.engine.rollout_actions import ActionSettings
from safeship.engine.rollout_loop import AnalysisPolicy
from safeship.engine.webhooks import Notifier
from safeship.judge.interface import Judge
from safeship.metrics.interface import MetricsProvider
from safeship.model.canary import CanarySpec, JudgeName
from safeship.store.rollouts import RolloutStore, TransitionRecord
from safeship.strategies.blue_green import BlueGreenStrategy
from safeship.strategies.canary import CanaryStrategy
from safeship.strategies.interface import (
    ArtifactRef,
    RolloutRequest,
    StableVersion,
    Strategy,
)
from safeship.strategies.recreate import RecreateStrategy
from safeship.strategies.rolling import RollingStrategy
from safeship.strategies.undo import UndoStrategy
from tests.unit.engine.test_rollout_fakes import (
    FakeRouter,
    FakeSmoke,
    FakeTarget,
    NoMetrics,
    ScriptedClock,
    ScriptedJudge,
)

GUIDE = Path(__file__).parents[2] / "data" / "guide" / "canary-analysis.yaml"
NEW = ArtifactRef("dist/shop-2.tar.gz", "ab" * 32)
OLD = ArtifactRef("dist/shop-1.tar.gz", "cd" * 32)

STRATEGIES: dict[str, type[Any]] = {
    "canary": CanaryStrategy, "blue_green": BlueGreenStrategy, "rolling": RollingStrategy,
    "recreate": RecreateStrategy, "undo": UndoStrategy,
}


def strategy_for(name: str) -> Strategy:
    """The planner called ``name``."""
    return STRATEGIES[name]()  # type: ignore[no-any-return]


def guide_spec() -> CanarySpec:
    """The guide's canary-analysis.yaml (1 % 5 m, 5 % 5 m, 25 % 10 m, 100 % 30 m)."""
    return load_canary_file(GUIDE)


@dataclass
class Harness:
    """Everything a controller test needs; ``controller()`` builds a fresh controller."""

    store: RolloutStore
    clock: ScriptedClock = field(default_factory=ScriptedClock)
    router: FakeRouter = field(init=False)
    target: FakeTarget = field(init=False)
    judge: ScriptedJudge = field(default_factory=ScriptedJudge)
    metrics: MetricsProvider | None = field(default_factory=NoMetrics)
    smoke: FakeSmoke = field(default_factory=FakeSmoke)
    notifier: Notifier | None = None
    settings: ControllerSettings = field(default_factory=lambda: ControllerSettings(
        lease_ttl_s=30.0, idle_poll_s=1.0, rollback_backoff_s=0.5,
        actions=ActionSettings(readback_timeout_s=5.0, readback_poll_s=0.05,
                               health_poll_s=1.0)))
    real_judge: Judge | None = None

    def __post_init__(self) -> None:
        self.router = FakeRouter(self.clock)
        self.target = FakeTarget(self.clock)

    def run_v1(self, replicas: int = 4) -> None:
        """v1 serves everything, as a previous release left it."""
        self.target.deploy("v1", replicas, None)
        self.router.set_backends({"v1": [i.endpoint for i in self.target.instances("v1")]})
        self.router.set_weights({"v1": 100})

    def controller(self, holder: str = "ctl-A") -> RolloutController:
        """A controller over the harness's fakes."""
        judge = self.real_judge

        def judges(name: JudgeName) -> Judge:
            return judge if judge is not None else self.judge

        return RolloutController(
            self.store, self.router, self.target, clock=self.clock, holder=holder,
            strategies=strategy_for, judges=judges, metrics=self.metrics,
            notifier=self.notifier, smoke=self.smoke, settings=self.settings)

    def request(self, **changes: Any) -> RolloutRequest:
        """v1 -> v2 of 'shop', 4 replicas, the guide's steps."""
        base = RolloutRequest(service="shop", version="v2", replicas=4, artifact=NEW,
                              stable=StableVersion("v1", OLD, 4),
                              canary_steps=guide_spec().steps)
        return replace(base, **changes)

    def start(self, strategy: str = "canary", *, spec: CanarySpec | None = None,
              policy: AnalysisPolicy | None = None, holder: str = "ctl-A",
              **changes: Any) -> RolloutOutcome:
        """Run a rollout to its end."""
        return self.controller(holder).start(self.request(**changes), RolloutSetup(
            strategy, spec or guide_spec(), policy or AnalysisPolicy(scrape_interval_s=30.0),
            actor="test"))

    def events(self, release_id: str) -> list[TransitionRecord]:
        """Every transition of a release."""
        return self.store.transitions(release_id)


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    """A harness on a fresh store, in memory-backed /dev/shm when there is one (fast fsync)."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        folder = Path(tempfile.mkdtemp(prefix="safeship-rollout-", dir=shm))
    else:  # pragma: no cover - not Linux
        folder = tmp_path
    try:
        with RolloutStore.open(f"sqlite:///{folder}/state.db", folder) as store:
            yield Harness(store)
    finally:
        if folder != tmp_path:
            shutil.rmtree(folder, ignore_errors=True)


def started_and_completed(events: list[TransitionRecord], phase: str) -> tuple[list[int],
                                                                                list[int]]:
    """Step indexes with a step_started / step_completed transition in ``phase``."""
    # A rollback's first step is entered by the very write that starts the rollback.
    started = [e.step_index for e in events
               if (e.event == "step_started" or (e.event == "rollback_started"
                                                 and e.step_kind is not None))
               and e.phase == phase]
    completed = [e.step_index for e in events
                 if e.event == "step_completed" and e.phase == phase]
    return [i for i in started if i is not None], [i for i in completed if i is not None]


def test_harness_builds_a_controller(harness: Harness) -> None:
    assert harness.controller().holder == "ctl-A"
    assert strategy_for("canary").type_name == "canary"
