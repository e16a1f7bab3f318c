"""The rollout controller with a fake clock, fake router, target and judge: every path."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from safeship.engine.rollout import undo_request
from safeship.engine.rollout_loop import AnalysisPolicy
from safeship.engine.rollout_state import InsufficientDataPolicy, RolloutStatus
from safeship.model.analysis import Decision
from safeship.strategies.interface import BlueGreenOptions, RollingOptions, SmokeCheck
from tests.unit.engine.test_rollout_fakes import BrokenMetrics
from tests.unit.engine.test_rollout_harness import (
    OLD,
    Harness,
    guide_spec,
    harness,
    started_and_completed,
)

__all__ = ["harness"]

GUIDE_TOTAL_S = 300 + 300 + 600 + 1800


# --------------------------------------------------------------------------- canary


def test_a_healthy_canary_is_promoted_step_by_step(harness: Harness) -> None:
    harness.run_v1()
    wall = time.monotonic()
    outcome = harness.start()
    assert time.monotonic() - wall < 30  # a 50-minute canary on a fake clock
    rec = outcome.release
    assert outcome.status is RolloutStatus.SUCCEEDED
    assert rec.decision == "promoted"
    assert rec.max_canary_percent == 100.0
    assert harness.router.weights() == {"v2": 100.0}
    assert harness.target.count("v1") == 0
    assert harness.target.count("v2") == 4
    artifact = harness.target.artifact("v2")
    assert artifact is not None
    assert artifact.sha256 == "ab" * 32
    # Every step started once and completed once, in order.
    events = harness.events(rec.release_id)
    started, completed = started_and_completed(events, "forward")
    assert started == completed == list(range(12))
    # Steps 1-3 advance at their first PROCEED; the 100 % step is verified its full 30 min.
    assert harness.router.shares("v2") == [0.0, 1.0, 5.0, 25.0, 100.0, 100.0]
    assert harness.router.history[-1] == {"v2": 100.0}  # v1 left the split when retired
    assert 1800 <= harness.clock.monotonic() < GUIDE_TOTAL_S
    assert harness.store.lease("shop") is None
    assert any(e.event == "finished" and e.to_status == "succeeded" for e in events)


@pytest.mark.parametrize(("percentage", "max_seen"), [(1.0, 1.0), (5.0, 5.0), (25.0, 25.0)])
def test_a_rollback_verdict_sends_everything_back_to_stable(
        harness: Harness, percentage: float, max_seen: float) -> None:
    harness.run_v1()
    harness.judge.by_percentage = {percentage: Decision.ROLLBACK}
    outcome = harness.start()
    rec = outcome.release
    assert outcome.status is RolloutStatus.ROLLED_BACK
    assert rec.decision == "rolled_back"
    assert "ROLLBACK verdict 1 of 1" in (rec.reason or "")
    assert rec.max_canary_percent == max_seen
    assert harness.router.weights() == {"v1": 100.0}
    assert harness.target.count("v2") == 0
    assert harness.target.count("v1") == 4
    assert rec.rollback_seconds is not None
    assert 0 <= rec.rollback_seconds < 1.0
    events = harness.events(rec.release_id)
    verdicts = [e for e in events if e.event == "verdict"]
    assert verdicts[-1].details["decision"] == "ROLLBACK"
    assert verdicts[-1].details["verdict"]["reasons"] == [
        f"scripted ROLLBACK at {percentage:g}%"]
    started, completed = started_and_completed(events, "rollback")
    assert started == completed == [0, 1]
    rollback = next(e for e in events if e.event == "rollback_started")
    assert rollback.weights == {"v1": 100.0, "v2": 0.0}
    assert any(e.event == "rollback_measured" for e in events)


def test_rollback_seconds_include_the_read_back_wait(harness: Harness) -> None:
    harness.run_v1()
    harness.judge.by_percentage = {5.0: Decision.ROLLBACK}
    harness.router.stale_reads = 4  # the router takes 4 polls to report a change
    rec = harness.start().release
    assert rec.rollback_seconds == pytest.approx(4 * 0.05)


def test_failure_count_threshold_tolerates_fewer_rollbacks(harness: Harness) -> None:
    harness.run_v1()
    seen: list[int] = []

    def script(data: object) -> Decision:
        seen.append(1)
        return Decision.ROLLBACK if len(seen) == 1 else Decision.PROCEED

    harness.judge.script = script  # type: ignore[assignment]
    spec = replace(guide_spec(), failure_count_threshold=2)
    assert harness.start(spec=spec).status is RolloutStatus.SUCCEEDED


def test_a_second_rollback_verdict_reaches_the_threshold(harness: Harness) -> None:
    harness.run_v1()
    harness.judge.default = Decision.ROLLBACK
    spec = replace(guide_spec(), failure_count_threshold=2)
    rec = harness.start(spec=spec).release
    assert rec.status == "rolled_back"
    assert "ROLLBACK verdict 2 of 2" in (rec.reason or "")


# --------------------------------------------------------------------------- INSUFFICIENT_DATA


def test_insufficient_data_rolls_back_when_the_step_ends(harness: Harness) -> None:
    harness.run_v1()
    harness.judge.default = Decision.INSUFFICIENT_DATA
    rec = harness.start().release
    assert rec.status == "rolled_back"
    assert "step ended without PROCEED" in (rec.reason or "")
    assert "fail closed" in (rec.reason or "")
    assert harness.clock.monotonic() >= 300  # it waited for the 1 % step's 5 minutes
    assert rec.max_canary_percent == 1.0


def test_insufficient_data_extends_once_then_proceeds(harness: Harness) -> None:
    harness.run_v1()
    harness.judge.script = (lambda data: Decision.INSUFFICIENT_DATA  # type: ignore[assignment]
                            if data.steps[-1].percentage == 1.0
                            and data.now - data.steps[-1].start < 400 else Decision.PROCEED)
    policy = AnalysisPolicy(scrape_interval_s=30.0,
                            on_insufficient_data=InsufficientDataPolicy.EXTEND)
    rec = harness.start(policy=policy).release
    assert rec.status == "succeeded"
    events = harness.events(rec.release_id)
    assert [e.step_index for e in events if e.event == "extended"] == [3]


def test_insufficient_data_extends_then_fails_closed(harness: Harness) -> None:
    harness.run_v1()
    harness.judge.default = Decision.INSUFFICIENT_DATA
    policy = AnalysisPolicy(scrape_interval_s=30.0,
                            on_insufficient_data=InsufficientDataPolicy.EXTEND)
    rec = harness.start(policy=policy).release
    assert rec.status == "rolled_back"
    assert "already extended 1 time(s)" in (rec.reason or "")
    assert harness.clock.monotonic() >= 600


def test_insufficient_data_holds_for_a_person(harness: Harness) -> None:
    harness.run_v1()
    harness.judge.default = Decision.INSUFFICIENT_DATA
    policy = AnalysisPolicy(scrape_interval_s=30.0,
                            on_insufficient_data=InsufficientDataPolicy.HOLD)
    seen: dict[str, str] = {}

    def look_then_abort() -> None:
        active = harness.store.active_release("shop")
        assert active is not None
        seen["status"] = active.status
        harness.store.set_command(active.release_id, "abort", by="ana",
                                  reason="no traffic today", at=harness.clock.now())

    harness.clock.at(3600, look_then_abort)
    rec = harness.start(policy=policy).release
    assert seen["status"] == "paused"
    assert rec.status == "aborted"
    assert rec.decision == "aborted"
    assert "aborted by ana: no traffic today" in (rec.reason or "")
    assert harness.router.weights() == {"v1": 100.0}


def test_a_held_rollout_can_be_promoted_by_a_person(harness: Harness) -> None:
    harness.run_v1()
    harness.judge.by_percentage = {1.0: Decision.INSUFFICIENT_DATA}
    policy = AnalysisPolicy(scrape_interval_s=30.0,
                            on_insufficient_data=InsufficientDataPolicy.HOLD)

    def promote() -> None:
        active = harness.store.active_release("shop")
        assert active is not None
        harness.store.set_command(active.release_id, "promote", by="ana",
                                  reason="low traffic hour, checked by hand",
                                  at=harness.clock.now())

    harness.clock.at(1000, promote)
    rec = harness.start(policy=policy).release
    assert rec.status == "succeeded"
    events = [e.event for e in harness.events(rec.release_id)]
    assert "held" in events
    assert "promote" in events
    assert "step_skipped" in events


def test_missing_metrics_never_promote(harness: Harness) -> None:
    harness.run_v1()
    harness.metrics = BrokenMetrics()
    rec = harness.start().release
    assert rec.status == "rolled_back"
    verdict = harness.store.last_transition(rec.release_id, "verdict")
    assert verdict is not None
    assert "metrics unavailable" in verdict.reason


def test_rollback_on_failure_false_holds_instead(harness: Harness) -> None:
    harness.run_v1()
    harness.judge.by_percentage = {5.0: Decision.ROLLBACK}
    spec = replace(guide_spec(), rollback_on_failure=False)

    def abort() -> None:
        active = harness.store.active_release("shop")
        assert active is not None
        assert active.status == "paused"
        harness.store.set_command(active.release_id, "abort", by="ana", reason="confirmed",
                                  at=harness.clock.now())

    harness.clock.at(2000, abort)
    rec = harness.start(spec=spec).release
    assert rec.status == "aborted"


# --------------------------------------------------------------------------- blue/green


def _bg(harness: Harness) -> dict[str, object]:
    return {"blue_green": BlueGreenOptions((SmokeCheck("/healthz"),), 1800.0)}


def test_blue_green_passes_smoke_tests_flips_monitors_and_retires_blue(
        harness: Harness) -> None:
    harness.run_v1()
    rec = harness.start("blue_green", **_bg(harness)).release
    assert rec.status == "succeeded"
    assert harness.router.weights() == {"v2": 100.0}
    assert harness.target.count("v1") == 0
    assert harness.smoke.seen == [("v2", {"X-Safeship-Version": "v2"})]
    assert harness.clock.monotonic() >= 1800  # the full monitor


def test_blue_green_smoke_failure_destroys_green_and_keeps_blue(harness: Harness) -> None:
    harness.run_v1()
    harness.smoke.passes = False
    rec = harness.start("blue_green", **_bg(harness)).release
    assert rec.status == "rolled_back"
    assert "smoke test of 'v2' failed" in (rec.reason or "")
    assert harness.target.count("v2") == 0
    assert harness.target.count("v1") == 4
    assert set(harness.router.shares("v2")) == {0.0}  # no user ever reached v2
    assert rec.rollback_seconds is None  # nothing to flip back


def test_blue_green_monitor_failure_flips_back_to_blue(harness: Harness) -> None:
    harness.run_v1()
    harness.judge.by_percentage = {100.0: Decision.ROLLBACK}
    rec = harness.start("blue_green", **_bg(harness)).release
    assert rec.status == "rolled_back"
    assert harness.router.weights() == {"v1": 100.0}
    assert harness.target.count("v2") == 0
    assert harness.target.count("v1") == 4
    assert rec.rollback_seconds is not None


def test_blue_green_without_a_smoke_tester_fails_closed(harness: Harness) -> None:
    harness.run_v1()
    harness.smoke = None  # type: ignore[assignment]
    rec = harness.start("blue_green", **_bg(harness)).release
    assert rec.status == "rolled_back"
    assert "no smoke tester configured" in (rec.reason or "")


# --------------------------------------------------------------------------- rolling / recreate


def test_rolling_replaces_batch_by_batch(harness: Harness) -> None:
    harness.run_v1()
    rec = harness.start("rolling", rolling=RollingOptions(1, 0)).release
    assert rec.status == "succeeded"
    assert harness.router.shares("v2") == [0.0, 25.0, 50.0, 75.0, 100.0, 100.0]
    assert harness.target.count("v1") == 0


def test_a_rolling_batch_failure_brings_back_the_previous_artifact(harness: Harness) -> None:
    harness.run_v1()
    harness.target.unhealthy_above["v2"] = 2  # the third instance never gets healthy
    rec = harness.start("rolling", rolling=RollingOptions(1, 0), health_timeout_s=30).release
    assert rec.status == "rolled_back"
    assert "health gate: only 2 of 3 instances of 'v2' healthy" in (rec.reason or "")
    assert harness.target.count("v1") == 4
    artifact = harness.target.artifact("v1")
    assert artifact is not None
    assert artifact.sha256 == "cd" * 32  # by digest
    assert harness.target.count("v2") == 0
    assert harness.router.weights() == {"v1": 100.0}


def test_recreate_measures_its_downtime(harness: Harness) -> None:
    harness.run_v1()
    harness.target.unhealthy_until["v2"] = 7
    rec = harness.start("recreate").release
    assert rec.status == "succeeded"
    assert rec.downtime_seconds == pytest.approx(7.0, abs=1.0)
    assert harness.router.weights() == {"v2": 100.0}


def test_a_target_failure_rolls_back(harness: Harness) -> None:
    harness.run_v1()
    harness.target.crashing_versions.add("v2")
    rec = harness.start().release
    assert rec.status == "rolled_back"
    assert "deploy failed: instance v2-0 of version 'v2' exited" in (rec.reason or "")


# --------------------------------------------------------------------------- commands


def _command(harness: Harness, at: float, command: str, by: str = "ana") -> None:
    def send() -> None:
        active = harness.store.active_release("shop")
        assert active is not None
        harness.store.set_command(active.release_id, command, by=by, reason=command,
                                  at=harness.clock.now())

    harness.clock.at(at, send)


def test_pause_holds_the_step_and_resume_continues(harness: Harness) -> None:
    harness.run_v1()
    harness.judge.after_s = 60  # PROCEED once the 1 % step ran a minute
    _command(harness, 30, "pause")
    _command(harness, 5000, "resume")
    rec = harness.start().release
    assert rec.status == "succeeded"
    events = harness.events(rec.release_id)
    paused = next(e for e in events if e.event == "paused")
    resumed = next(e for e in events if e.event == "resumed")
    assert paused.to_status == "paused"
    assert resumed.to_status == "running"
    # While paused, PROCEED verdicts did not advance the 1 % step.
    during = [e for e in events if e.event == "verdict" and paused.at < e.at < resumed.at]
    assert during
    assert {e.step_index for e in during} == {3}
    assert harness.clock.monotonic() > 5000


def test_a_paused_rollout_still_rolls_back(harness: Harness) -> None:
    harness.run_v1()
    harness.judge.by_percentage = {1.0: Decision.INSUFFICIENT_DATA}
    harness.judge.script = (lambda data: Decision.ROLLBACK  # type: ignore[assignment]
                            if data.now - data.steps[-1].start > 100
                            else Decision.INSUFFICIENT_DATA)
    _command(harness, 20, "pause")
    rec = harness.start().release
    assert rec.status == "rolled_back"


def test_abort_rolls_back_and_is_recorded_as_aborted(harness: Harness) -> None:
    harness.run_v1()
    harness.judge.after_s = 10_000
    _command(harness, 100, "abort", by="oncall")
    rec = harness.start().release
    assert rec.status == "aborted"
    assert rec.decision == "aborted"
    assert harness.router.weights() == {"v1": 100.0}
    assert "aborted by oncall" in (rec.reason or "")


def test_promote_skips_the_rest_of_the_current_analysis(harness: Harness) -> None:
    harness.run_v1()
    harness.judge.default = Decision.INSUFFICIENT_DATA
    harness.judge.by_percentage = {5.0: Decision.PROCEED, 25.0: Decision.PROCEED,
                                   100.0: Decision.PROCEED}
    _command(harness, 100, "promote")
    rec = harness.start().release
    assert rec.status == "succeeded"


def test_promote_full_skips_every_remaining_analysis(harness: Harness) -> None:
    harness.run_v1()
    harness.judge.default = Decision.INSUFFICIENT_DATA
    _command(harness, 60, "promote_full")
    rec = harness.start().release
    assert rec.status == "succeeded"
    judged = {share for share, _ in harness.judge.calls}
    assert judged == {1.0}
    events = harness.events(rec.release_id)
    skipped = [e.step_kind for e in events if e.event == "step_skipped"]
    assert skipped == ["analyze", "set_weights", "analyze", "set_weights", "analyze",
                       "analyze"]
    assert harness.router.shares("v2") == [0.0, 1.0, 100.0, 100.0]


def test_commands_during_a_rollback_are_ignored(harness: Harness) -> None:
    harness.run_v1()
    harness.judge.default = Decision.ROLLBACK
    harness.router.stale_reads = 3

    def pause_mid_rollback() -> None:
        active = harness.store.active_release("shop")
        if active is not None and active.phase == "rollback":
            harness.store.set_command(active.release_id, "pause", by="ana", reason="x",
                                      at=harness.clock.now())

    harness.clock.at(10.05, pause_mid_rollback)
    rec = harness.start().release
    assert rec.status == "rolled_back"


# --------------------------------------------------------------------------- drift, undo


def test_a_router_that_lost_its_split_is_corrected(harness: Harness) -> None:
    harness.run_v1()
    harness.judge.after_s = 60
    harness.clock.at(30, harness.router.forget)
    rec = harness.start().release
    assert rec.status == "succeeded"
    assert any(e.event == "drift_corrected" for e in harness.events(rec.release_id))


def test_undo_goes_back_to_the_previous_stable_by_digest(harness: Harness) -> None:
    # v1 first (a first release), then v2 by canary, then undo.
    first = harness.start(version="v1", artifact=OLD, stable=None)
    assert first.status is RolloutStatus.SUCCEEDED
    assert harness.start().status is RolloutStatus.SUCCEEDED
    assert harness.target.count("v1") == 0
    request = undo_request(harness.store, "shop")
    assert request.version == "v1"
    assert request.stable is not None
    assert request.stable.version == "v2"
    from safeship.engine.rollout import RolloutSetup

    outcome = harness.controller().start(request, RolloutSetup("undo", actor="oncall"))
    assert outcome.status is RolloutStatus.SUCCEEDED
    assert harness.router.weights() == {"v1": 100.0}
    assert harness.target.count("v2") == 0
    artifact = harness.target.artifact("v1")
    assert artifact is not None
    assert artifact.sha256 == "cd" * 32
    assert not any(e.event == "verdict" for e in harness.events(outcome.release.release_id))
