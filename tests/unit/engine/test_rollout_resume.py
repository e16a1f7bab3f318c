"""Crash safety: one rollout per service, takeover of a dead controller's lease, resume."""

from __future__ import annotations

from typing import Any

import pytest

from safeship.engine.rollout import RolloutController, RolloutSetup, send_command
from safeship.engine.rollout_loop import AnalysisPolicy
from safeship.engine.rollout_state import Command, RolloutStatus
from safeship.errors import NotFound, UsageError
from safeship.model.analysis import Decision
from safeship.store.rollouts import LeaseHeld, LeaseLost, ReleaseInProgress
from tests.unit.engine.test_rollout_harness import (
    Harness,
    guide_spec,
    harness,
    started_and_completed,
)

__all__ = ["harness"]


class Crash(BaseException):
    """Stands for kill -9: nothing after it runs, no cleanup, no lease released."""


def killable(harness: Harness, holder: str = "ctl-A") -> RolloutController:
    """A controller that, when it dies, leaves everything as a killed process would."""
    controller = harness.controller(holder)

    def no_cleanup(*args: Any, **kwargs: Any) -> None:
        return None

    controller._interrupted = no_cleanup  # type: ignore[method-assign]
    controller._give_up_lease = no_cleanup  # type: ignore[method-assign]
    return controller


def crash_at(harness: Harness, seconds: float) -> None:
    harness.judge.after_s = 200  # the 1 % step lasts past the crash

    def die() -> None:
        raise Crash

    harness.clock.at(seconds, die)


def setup(policy: AnalysisPolicy | None = None) -> RolloutSetup:
    return RolloutSetup("canary", guide_spec(), policy or AnalysisPolicy(scrape_interval_s=30),
                        actor="test")


def test_a_second_rollout_is_refused_while_one_runs(harness: Harness) -> None:
    harness.run_v1()
    refused: list[BaseException] = []

    def try_second() -> None:
        with pytest.raises(LeaseHeld) as err:
            harness.controller("ctl-B").start(harness.request(version="v3"), setup())
        refused.append(err.value)

    harness.clock.at(100, try_second)
    assert harness.start().status is RolloutStatus.SUCCEEDED
    [error] = refused
    assert "locked by controller ctl-A" in str(error)
    assert error.exit_code == 4  # type: ignore[attr-defined]


def test_a_killed_controller_is_taken_over_after_its_lease_expires(harness: Harness) -> None:
    harness.run_v1()
    crash_at(harness, 100)  # during the 1 % analysis
    with pytest.raises(Crash):
        killable(harness).start(harness.request(), setup())
    active = harness.store.active_release("shop")
    assert active is not None
    assert active.status == "running"
    other = harness.controller("ctl-B")
    with pytest.raises(LeaseHeld):  # the dead controller's lease is still live
        other.resume("shop")
    harness.clock.advance(31)  # the 30 s lease expires
    with pytest.raises(ReleaseInProgress, match="already has rollout"):
        other.start(harness.request(version="v3"), setup())
    outcome = other.resume("shop")
    assert outcome.status is RolloutStatus.SUCCEEDED
    events = harness.events(active.release_id)
    started, completed = started_and_completed(events, "forward")
    assert started == completed == list(range(12))  # nothing lost, nothing recorded twice
    taken = next(e for e in events if e.event == "taken_over")
    assert "controller ctl-B takes over" in taken.reason
    assert taken.details["unwatched_s"] == pytest.approx(41.0)
    resumed = [e for e in events if e.event == "step_resumed"]
    assert [e.step_index for e in resumed] == [3]
    assert "lengthened" in resumed[0].reason
    assert harness.store.lease("shop") is None


def test_a_dead_local_controller_can_be_stolen_from_at_once(harness: Harness) -> None:
    harness.run_v1()
    crash_at(harness, 100)
    with pytest.raises(Crash):
        killable(harness).start(harness.request(), setup())
    outcome = harness.controller("ctl-B").resume("shop", steal_from="ctl-A")
    assert outcome.status is RolloutStatus.SUCCEEDED
    taken = harness.store.last_transition(outcome.release.release_id, "taken_over")
    assert taken is not None
    assert "from ctl-A" in taken.reason


def test_an_analysis_interrupted_beyond_policy_rolls_back(harness: Harness) -> None:
    harness.run_v1()
    crash_at(harness, 100)
    with pytest.raises(Crash):
        killable(harness).start(harness.request(), setup())
    harness.clock.advance(600)  # max_interruption is 300 s
    outcome = harness.controller("ctl-B").resume("shop")
    assert outcome.status is RolloutStatus.ROLLED_BACK
    assert "analysis interrupted for" in (outcome.release.reason or "")
    assert harness.router.weights() == {"v1": 100.0}


def test_resume_reasserts_the_desired_state(harness: Harness) -> None:
    harness.run_v1()
    crash_at(harness, 100)
    with pytest.raises(Crash):
        killable(harness).start(harness.request(), setup())
    # The world drifted while nobody watched: the router restarted, the canary died.
    harness.router.forget()
    harness.target.retire("v2")
    harness.clock.advance(40)
    splits_before = len(harness.router.history)
    deploys_before = len(harness.target.calls_to("deploy"))
    outcome = harness.controller("ctl-B").resume("shop")
    assert outcome.status is RolloutStatus.SUCCEEDED
    # The first things the new controller did: the canary back to 4, then the 1 % split.
    redeploys = harness.target.calls_to("deploy")[deploys_before:deploys_before + 2]
    assert ("v2", 4) in [(call.version, call.replicas) for call in redeploys]
    assert harness.router.history[splits_before] == {"v1": 99.0, "v2": 1.0}


def test_a_controller_killed_mid_rollback_is_finished_by_resume(harness: Harness) -> None:
    harness.run_v1()
    harness.judge.by_percentage = {5.0: Decision.ROLLBACK}
    original = harness.router.set_weights
    calls: list[dict[str, float]] = []

    def dying_set_weights(weights: Any) -> None:
        calls.append(dict(weights))
        original(weights)
        if dict(weights) == {"v1": 100.0, "v2": 0.0}:
            harness.router.set_weights = original  # type: ignore[method-assign]
            raise Crash  # the router applied it, then the controller died

    harness.router.set_weights = dying_set_weights  # type: ignore[method-assign]
    with pytest.raises(Crash):
        killable(harness).start(harness.request(), setup())
    active = harness.store.active_release("shop")
    assert active is not None
    assert active.status == "rolling_back"
    harness.clock.advance(31)
    outcome = harness.controller("ctl-B").resume("shop")
    assert outcome.status is RolloutStatus.ROLLED_BACK
    assert outcome.release.rollback_seconds is not None
    events = harness.events(active.release_id)
    measured = next(e for e in events if e.event == "rollback_measured")
    assert "across a controller restart" in measured.reason
    started, completed = started_and_completed(events, "rollback")
    assert started == [0, 1]
    assert completed == [0, 1]


def test_a_controller_that_lost_its_lease_stops_acting(harness: Harness) -> None:
    harness.run_v1()

    def steal() -> None:
        harness.store.acquire_lease("shop", "ctl-X", at=harness.clock.now(), ttl_s=30,
                                    steal_from="ctl-A")

    harness.clock.at(100, steal)
    harness.judge.after_s = 200
    with pytest.raises(LeaseLost):
        harness.start()
    assert harness.router.weights() == {"v1": 99.0, "v2": 1.0}  # it stopped where it was
    lease = harness.store.lease("shop")
    assert lease is not None
    assert lease.holder == "ctl-X"


def test_a_rollback_step_that_keeps_failing_leaves_the_release_to_resume(
        harness: Harness) -> None:
    harness.run_v1()
    harness.judge.default = Decision.ROLLBACK

    def stuck_retire(version: str) -> None:
        from safeship.targets.interface import TargetUnavailable

        raise TargetUnavailable(f"cannot stop {version}")

    harness.target.retire = stuck_retire  # type: ignore[method-assign]
    with pytest.raises(Exception, match="cannot stop v2"):
        harness.start()
    active = harness.store.active_release("shop")
    assert active is not None
    assert active.status == "rolling_back"
    assert harness.router.share("v1") == 100.0  # traffic is safe already
    retries = harness.store.transitions(active.release_id, event="action_retry")
    assert len(retries) == 2
    assert harness.store.lease("shop") is None  # released for `resume`
    del harness.target.retire
    outcome = harness.controller("ctl-B").resume("shop")
    assert outcome.status is RolloutStatus.ROLLED_BACK


def test_interrupting_the_controller_records_it_and_frees_the_lease(harness: Harness) -> None:
    harness.run_v1()

    def interrupt() -> None:
        raise KeyboardInterrupt

    harness.clock.at(100, interrupt)
    with pytest.raises(KeyboardInterrupt):
        harness.start()
    active = harness.store.active_release("shop")
    assert active is not None
    last = harness.store.last_transition(active.release_id)
    assert last is not None
    assert last.event == "interrupted"
    assert "safeship rollout resume shop" in last.reason
    assert harness.store.lease("shop") is None


def test_commands_need_an_active_rollout(harness: Harness) -> None:
    with pytest.raises(NotFound):
        send_command(harness.store, "shop", Command.PAUSE, by="a", reason="b",
                     clock=harness.clock)
    with pytest.raises(NotFound):
        harness.controller().resume("shop")


def test_only_abort_reaches_a_rollback_and_is_ignored_there(harness: Harness) -> None:
    harness.run_v1()
    harness.judge.default = Decision.ROLLBACK
    original = harness.router.set_weights

    def dying_set_weights(weights: Any) -> None:
        original(weights)
        if dict(weights) == {"v1": 100.0, "v2": 0.0}:
            harness.router.set_weights = original  # type: ignore[method-assign]
            raise Crash

    harness.router.set_weights = dying_set_weights  # type: ignore[method-assign]
    with pytest.raises(Crash):
        killable(harness).start(harness.request(), setup())
    for command in (Command.PAUSE, Command.PROMOTE):
        with pytest.raises(UsageError, match="is rolling back"):
            send_command(harness.store, "shop", command, by="a", reason="b",
                         clock=harness.clock)
    send_command(harness.store, "shop", Command.ABORT, by="a", reason="b", clock=harness.clock)
    outcome = harness.controller("ctl-B").resume("shop", steal_from="ctl-A")
    assert outcome.status is RolloutStatus.ROLLED_BACK
    ignored = [e for e in harness.events(outcome.release.release_id) if "ignored" in e.reason]
    assert len(ignored) == 1
