"""Fakes for the rollout controller's tests, and checks of the knobs they add.

The router and target are the shared ``safeship.testing`` fakes (which pass the family contract
suites), extended with what these tests need: stale read-backs and a router that forgets its
split, health checks that fail for some instances or for a while. Beside them: a clock that runs
scheduled actions, traffic counters split by the router's weights, scripted judges and smoke
testers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

import pytest

from safeship.engine.rollout_smoke import SmokeReport, SmokeResult
from safeship.metrics.interface import CounterSnapshot, MetricsProvider, TimeRange
from safeship.model.analysis import (
    AnalysisInput,
    AnalysisVerdict,
    Arm,
    Decision,
    Series,
)
from safeship.model.canary import CanaryMetric, Scope
from safeship.model.endpoints import Endpoint
from safeship.routers.interface import RouterRejected
from safeship.strategies.interface import SmokeCheck
from safeship.targets.interface import Artifact, InstanceHealth
from safeship.testing.fake_clock import FakeClock
from safeship.testing.fake_router import FakeRouter as SharedFakeRouter
from safeship.testing.fake_target import FakeTarget as SharedFakeTarget


class ScriptedClock(FakeClock):
    """A fake clock that runs scheduled callbacks when time passes them."""

    def __init__(self, start: datetime | None = None) -> None:
        super().__init__(start)
        self._due: list[tuple[float, int, Callable[[], None]]] = []

    def at(self, seconds: float, action: Callable[[], None]) -> None:
        """Run ``action`` once the clock reaches ``seconds`` after its start."""
        self._due.append((seconds, len(self._due), action))
        self._due.sort()

    def sleep(self, seconds: float) -> None:
        target = self.monotonic() + max(0.0, seconds)
        while self._due and self._due[0][0] <= target:
            when, _, action = self._due.pop(0)
            if when > self.monotonic():
                self.advance(when - self.monotonic())
            action()
        if target > self.monotonic():
            self.advance(target - self.monotonic())


class FakeRouter(SharedFakeRouter):
    """The shared fake router, plus knobs: stale read-backs, a lost split, call timing."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        super().__init__()
        self.clock = clock
        self.stale_reads = 0
        self._stale_left = 0
        self._before: dict[str, float] = {}
        self.reads = 0
        self.times: list[float] = []

    def set_weights(self, weights: Mapping[str, float]) -> None:
        before = super().weights()
        super().set_weights(weights)
        self._before = before
        self._stale_left = self.stale_reads
        self.times.append(self.clock.monotonic() if self.clock else 0.0)

    def weights(self) -> dict[str, float]:
        self.reads += 1
        if self._stale_left > 0:
            self._stale_left -= 1
            return dict(self._before)
        return super().weights()

    def forget(self) -> None:
        """Lose the split, like a router restarted without its state."""
        with self._lock:
            self._weights = {}

    def share(self, version: str) -> float:
        """The version's share in force now (no staleness)."""
        return super().weights().get(version, 0.0)

    def shares(self, version: str) -> list[float]:
        """The version's share in every split that took effect."""
        return [split.get(version, 0.0) for split in self.history]


class FakeTarget(SharedFakeTarget):
    """The shared fake target, plus health knobs that do not stop a deploy.

    ``unhealthy_above[v] = k``: instances of ``v`` at position ``k`` and beyond answer their
    health check with 503; ``unhealthy_until[v] = t``: every instance of ``v`` does until the
    clock reaches ``t``.
    """

    def __init__(self, clock: FakeClock | None = None) -> None:
        super().__init__()
        self.clock = clock
        self.unhealthy_above: dict[str, int] = {}
        self.unhealthy_until: dict[str, float] = {}

    def health(self, version: str) -> tuple[InstanceHealth, ...]:
        answers = super().health(version)
        limit = self.unhealthy_above.get(version)
        until = self.unhealthy_until.get(version)
        waking = until is not None and self.clock is not None and self.clock.monotonic() < until
        return tuple(
            InstanceHealth(a.instance, False, "GET /healthz answered 503")
            if waking or (limit is not None and position >= limit) else a
            for position, a in enumerate(answers))

    def artifact(self, version: str) -> Artifact | None:
        """The artifact of the last deploy of ``version``."""
        deploys = [call for call in self.calls_to("deploy") if call.version == version]
        return deploys[-1].artifact if deploys else None


@dataclass
class TrafficSource:
    """Counters of requests the router would have sent each version (a CounterSource).

    ``rps`` requests per second are split by the router's weights; each version fails
    ``error_rate`` of its requests; ``slow`` of them take over 100 ms and ``very_slow`` over
    500 ms. Counts are whole numbers.
    """

    router: FakeRouter
    clock: FakeClock
    rps: float = 1000.0
    error_rate: dict[str, float] = field(default_factory=dict)
    slow: dict[str, float] = field(default_factory=dict)
    very_slow: dict[str, float] = field(default_factory=dict)
    _last: float | None = None
    _totals: dict[str, list[float]] = field(default_factory=dict)

    def _advance(self) -> None:
        now = self.clock.monotonic()
        if self._last is not None and now > self._last:
            elapsed = now - self._last
            for version, share in self.router.weights().items():
                totals = self._totals.setdefault(version, [0.0, 0.0, 0.0, 0.0])
                requests = self.rps * elapsed * share / 100.0
                totals[0] += requests
                totals[1] += requests * self.error_rate.get(version, 0.0)
                totals[2] += requests * (1.0 - self.slow.get(version, 0.05))
                totals[3] += requests * (1.0 - self.very_slow.get(version, 0.001))
        self._last = now

    def snapshot(self, version: str) -> CounterSnapshot:
        self._advance()
        requests, errors, fast, ok = (math.floor(v) for v in
                                      self._totals.get(version, [0.0, 0.0, 0.0, 0.0]))
        return CounterSnapshot(self.clock.monotonic(), float(requests), float(errors),
                               {0.1: float(fast), 0.5: float(ok), math.inf: float(requests)})


class NoMetrics(MetricsProvider):
    """A provider whose answers are empty: for tests where a scripted judge decides."""

    type_name: ClassVar[str] = "none"

    def __init__(self) -> None:
        self.queries = 0

    def query_range(self, metric: CanaryMetric, arm: Arm, scope: Scope,
                    window: TimeRange) -> Series:
        self.queries += 1
        return Series()


class BrokenMetrics(NoMetrics):
    """A provider that cannot be reached."""

    def query_range(self, metric: CanaryMetric, arm: Arm, scope: Scope,
                    window: TimeRange) -> Series:
        from safeship.errors import MetricsUnavailable

        raise MetricsUnavailable("prometheus at 127.0.0.1:9 refused the connection")


@dataclass
class ScriptedJudge:
    """Decides from the step's percentage (and the time since the step began)."""

    by_percentage: dict[float, Decision] = field(default_factory=dict)
    default: Decision = Decision.PROCEED
    after_s: float = 0.0
    script: Callable[[AnalysisInput], Decision] | None = None
    calls: list[tuple[float, float]] = field(default_factory=list)

    def __call__(self, data: AnalysisInput, spec: Any) -> AnalysisVerdict:
        step = data.steps[-1]
        self.calls.append((step.percentage, data.now - step.start))
        if self.script is not None:
            decision = self.script(data)
        elif data.now - step.start < self.after_s:
            decision = Decision.INSUFFICIENT_DATA
        else:
            decision = self.by_percentage.get(step.percentage, self.default)
        return AnalysisVerdict(decision, "scripted", (),
                               (f"scripted {decision.value} at {step.percentage:g}%",))


@dataclass
class FakeSmoke:
    """A smoke tester with a fixed answer that remembers the headers it was given."""

    passes: bool = True
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def run(self, version: str, checks: Sequence[SmokeCheck],
            headers: Mapping[str, str]) -> SmokeReport:
        self.seen.append((version, dict(headers)))
        return SmokeReport(tuple(SmokeResult(check, self.passes,
                                             "HTTP 200" if self.passes else "HTTP 500")
                                 for check in checks))


# --------------------------------------------------------------------------- the fakes' own tests


def test_fake_router_reads_back_what_was_set_and_refuses_unknown_versions() -> None:
    router = FakeRouter()
    router.set_backends({"v1": [Endpoint("127.0.0.1", 1)]})
    router.set_weights({"v1": 100})
    assert router.weights() == {"v1": 100.0}
    with pytest.raises(RouterRejected):
        router.set_weights({"v1": 50, "v2": 50})
    with pytest.raises(RouterRejected):
        router.set_weights({"v1": 50})
    router.stale_reads = 1
    router.set_backends({"v1": [Endpoint("127.0.0.1", 1)], "v2": [Endpoint("127.0.0.1", 2)]})
    router.set_weights({"v1": 50, "v2": 50})
    assert router.weights() == {"v1": 100.0}
    assert router.weights() == {"v1": 50.0, "v2": 50.0}
    assert router.shares("v2") == [0.0, 50.0]


def test_fake_target_health_knobs() -> None:
    clock = ScriptedClock()
    target = FakeTarget(clock)
    target.deploy("v1", 3, Artifact("a", "b"))
    target.unhealthy_above["v1"] = 2
    assert [a.healthy for a in target.health("v1")] == [True, True, False]
    target.unhealthy_until["v1"] = 5
    assert not any(a.healthy for a in target.health("v1"))
    assert target.artifact("v1") == Artifact("a", "b")
    assert target.artifact("v9") is None


def test_scripted_clock_runs_actions_in_order() -> None:
    clock = ScriptedClock()
    seen: list[float] = []
    clock.at(5, lambda: seen.append(clock.monotonic()))
    clock.at(2, lambda: seen.append(clock.monotonic()))
    clock.sleep(10)
    assert seen == [2.0, 5.0]
    assert clock.monotonic() == 10.0
