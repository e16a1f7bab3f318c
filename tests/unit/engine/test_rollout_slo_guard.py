"""The controller's error-budget check before step 1, with a fake budget source."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from safeship.engine.rollout import RolloutController, RolloutSetup, undo_request
from safeship.engine.rollout_loop import AnalysisPolicy
from safeship.engine.rollout_slo_guard import (
    MIN_BUDGET_REMAINING,
    OnUnavailable,
    SloGuard,
    SloGuardSettings,
)
from safeship.engine.rollout_state import Event, ReleaseKind, RolloutStatus
from safeship.engine.webhooks import Notification, Notifier
from safeship.errors import MetricsUnavailable
from safeship.model.slo import SloDefinition
from safeship.slo.budget import EventCounts, event_counts, no_data
from safeship.slo.status import EventCountReader, SloStatus, slo_status
from tests.unit.engine.test_rollout_harness import (
    OLD,
    Harness,
    guide_spec,
    harness,
    strategy_for,
)
from tests.unit.slo.prometheus_fake import Traffic, availability, steady

__all__ = ["harness"]

AT = 1_800_000_000.0


@dataclass
class _Reader(EventCountReader):
    traffic: Traffic
    missing: bool = False

    def counts(self, slo: SloDefinition, window_s: float, at: float) -> EventCounts:
        if self.missing:
            return no_data("no series for the total events")
        total, bad = self.traffic.counts(window_s)
        return event_counts(slo.sli.kind, bad, total)


@dataclass
class FakeBudgets:
    """Budgets of fixed SLOs from scripted traffic, or an outage; counts its reads."""

    traffic: dict[str, Traffic]
    down: bool = False
    missing: bool = False
    where: str = "http://prom.test:9090"
    reads: int = 0

    def statuses(self) -> Sequence[SloStatus]:
        self.reads += 1
        if self.down:
            raise MetricsUnavailable(f"{self.where}: cannot connect (ConnectError) after 3 "
                                     "attempts")
        return tuple(slo_status(availability(name=name), _Reader(traffic, self.missing), AT)
                     for name, traffic in self.traffic.items())


@dataclass
class Recorder(Notifier):
    sent: list[Notification] = field(default_factory=list)

    def notify(self, notification: Notification) -> None:
        self.sent.append(notification)


def controller(h: Harness, guard: SloGuard | None,
               notifier: Notifier | None = None) -> RolloutController:
    return RolloutController(
        h.store, h.router, h.target, clock=h.clock, holder="ctl-A", strategies=strategy_for,
        judges=lambda name: h.judge, metrics=h.metrics, notifier=notifier, smoke=h.smoke,
        settings=h.settings, slo_guard=guard)


def setup() -> RolloutSetup:
    return RolloutSetup("canary", guide_spec(), AnalysisPolicy(scrape_interval_s=30.0),
                        actor="test")


def test_the_guide_floor_is_five_percent() -> None:
    assert MIN_BUDGET_REMAINING == 0.05
    assert SloGuardSettings().on_unavailable is OnUnavailable.BLOCK


def test_budget_left_lets_the_rollout_start_and_records_the_check(harness: Harness) -> None:
    harness.run_v1()
    budgets = FakeBudgets({"availability": steady(0.0002), "latency": steady(0.0005)})
    outcome = controller(harness, SloGuard(budgets)).start(harness.request(), setup())
    assert outcome.status is RolloutStatus.SUCCEEDED
    assert budgets.reads == 1
    events = harness.events(outcome.release.release_id)
    checked = [e for e in events if e.event == Event.SLO_CHECKED.value]
    assert len(checked) == 1
    assert "error budgets above 5%" in checked[0].reason
    assert "availability (99.9% over 30d): 80.00% of the error budget left" in checked[0].reason
    assert [s["slo"] for s in checked[0].details["slos"]] == ["availability", "latency"]
    assert checked[0].details["source"] == "http://prom.test:9090"
    # The check comes before any step.
    first_step = next(i for i, e in enumerate(events) if e.event == "step_started")
    assert events.index(checked[0]) < first_step


def test_a_spent_budget_refuses_the_rollout_and_records_why(harness: Harness) -> None:
    harness.run_v1()
    notifier = Recorder()
    budgets = FakeBudgets({"availability": steady(0.0002), "latency": steady(0.00096)})
    outcome = controller(harness, SloGuard(budgets), notifier).start(harness.request(),
                                                                     setup())
    rec = outcome.release
    assert outcome.status is RolloutStatus.ABORTED
    assert rec.decision == "aborted"
    assert rec.finished_at is not None
    assert "error budget at or below 5%" in (rec.reason or "")
    assert "latency (99.9% over 30d): 4.00% of the error budget left" in (rec.reason or "")
    assert "availability" not in (rec.reason or "")
    # Nothing was deployed or routed; the lease is free; no release is left active.
    assert harness.router.weights() == {"v1": 100.0}
    assert harness.target.count("v2") == 0
    assert harness.store.lease("shop") is None
    assert harness.store.active_release("shop") is None
    [event] = harness.events(rec.release_id)
    assert event.event == Event.REFUSED.value
    assert event.to_status == "aborted"
    assert event.details["slo_check"]["min_budget_remaining"] == 0.05
    assert [n.kind.value for n in notifier.sent] == ["aborted"]
    # A later rollout is not blocked by the recorded refusal itself.
    budgets.traffic["latency"] = steady(0.0001)
    again = controller(harness, SloGuard(budgets)).start(harness.request(), setup())
    assert again.status is RolloutStatus.SUCCEEDED


def test_exactly_the_floor_refuses(harness: Harness) -> None:
    harness.run_v1()
    budgets = FakeBudgets({"availability": steady(0.00095)})
    outcome = controller(harness, SloGuard(budgets)).start(harness.request(), setup())
    assert outcome.status is RolloutStatus.ABORTED


def test_the_floor_is_a_setting(harness: Harness) -> None:
    harness.run_v1()
    budgets = FakeBudgets({"availability": steady(0.0005)})  # half the budget left
    strict = SloGuard(budgets, SloGuardSettings(min_budget_remaining=0.6))
    outcome = controller(harness, strict).start(harness.request(), setup())
    assert outcome.status is RolloutStatus.ABORTED
    assert "at or below 60%" in (outcome.release.reason or "")


def test_unreachable_prometheus_fails_closed_after_recording(harness: Harness) -> None:
    harness.run_v1()
    budgets = FakeBudgets({"availability": steady(0.0)}, down=True)
    with pytest.raises(MetricsUnavailable, match="cannot connect") as caught:
        controller(harness, SloGuard(budgets)).start(harness.request(), setup())
    assert caught.value.exit_code == 3
    assert caught.value.message.startswith("the error budgets could not be checked, so the "
                                           "rollout does not start (fail closed)")
    assert "rollout undo" in (caught.value.hint or "")
    [rec] = harness.store.list_releases("shop")
    assert rec.status == "aborted"
    assert "could not be checked" in (rec.reason or "")
    assert "fail closed" in (rec.reason or "")
    assert harness.target.count("v2") == 0
    assert harness.store.lease("shop") is None


def test_warn_starts_an_unchecked_rollout_and_says_unsafe(harness: Harness) -> None:
    harness.run_v1()
    budgets = FakeBudgets({"availability": steady(0.0)}, down=True)
    guard = SloGuard(budgets, SloGuardSettings(on_unavailable=OnUnavailable.WARN))
    outcome = controller(harness, guard).start(harness.request(), setup())
    assert outcome.status is RolloutStatus.SUCCEEDED
    [checked] = harness.store.transitions(outcome.release.release_id,
                                          event=Event.SLO_CHECKED.value)
    assert checked.reason.startswith("UNSAFE: the error budgets could not be checked")
    assert checked.details["checked"] is False


def test_no_data_refuses_even_with_warn(harness: Harness) -> None:
    harness.run_v1()
    budgets = FakeBudgets({"availability": steady(0.0)}, missing=True)
    guard = SloGuard(budgets, SloGuardSettings(on_unavailable=OnUnavailable.WARN))
    with pytest.raises(MetricsUnavailable, match="no data to judge the error budget"):
        controller(harness, guard).start(harness.request(), setup())
    [rec] = harness.store.list_releases("shop")
    assert rec.status == "aborted"
    assert "no data" in (rec.reason or "")


def test_an_undo_is_never_held_back_by_the_budget(harness: Harness) -> None:
    # v1 (a first release), then v2, then the budget burns and v2 is undone.
    assert harness.start(version="v1", artifact=OLD, stable=None).status is (
        RolloutStatus.SUCCEEDED)
    assert harness.start().status is RolloutStatus.SUCCEEDED
    budgets = FakeBudgets({"availability": steady(0.01)})  # ten times the budget
    request = undo_request(harness.store, "shop")
    outcome = controller(harness, SloGuard(budgets)).start(request, RolloutSetup(
        "undo", actor="oncall", kind=ReleaseKind.UNDO))
    assert outcome.status is RolloutStatus.SUCCEEDED
    assert harness.router.weights() == {"v1": 100.0}
    assert budgets.reads == 0


def test_without_a_guard_nothing_is_checked(harness: Harness) -> None:
    harness.run_v1()
    outcome = controller(harness, None).start(harness.request(), setup())
    assert outcome.status is RolloutStatus.SUCCEEDED
    assert not harness.store.transitions(outcome.release.release_id,
                                         event=Event.SLO_CHECKED.value)
