"""``type: blue_green``: the guide's section 3.3 diagram, both failure branches."""

from __future__ import annotations

from safeship.model.canary import JudgeName
from safeship.strategies.blue_green import BlueGreenStrategy
from safeship.strategies.interface import (
    DEFAULT_MONITOR_S,
    Analyze,
    BlueGreenOptions,
    Deploy,
    HealthGate,
    MarkStable,
    Retire,
    SetWeights,
    SmokeCheck,
    SmokeTest,
    redeploy_stable,
)
from tests.unit.strategies.requests import NEW, request


def test_the_plan_follows_the_diagram() -> None:
    req = request()
    plan = BlueGreenStrategy().plan(req)
    assert plan == (
        Deploy("v2", 4, NEW),
        HealthGate("v2", 4, req.health_timeout_s),
        SmokeTest("v2", (SmokeCheck(),)),
        SetWeights.of({"v1": 0.0, "v2": 100.0}),
        Analyze(100.0, DEFAULT_MONITOR_S, JudgeName.SEQUENTIAL, verification=True),
        Retire("v1"),
        MarkStable("v2"),
    )
    assert DEFAULT_MONITOR_S == 30 * 60


def test_monitor_time_and_smoke_checks_come_from_the_options() -> None:
    checks = (SmokeCheck("/healthz"), SmokeCheck("/api/cart", expect_status=401))
    plan = BlueGreenStrategy().plan(request(blue_green=BlueGreenOptions(checks, 600.0)))
    assert plan[2] == SmokeTest("v2", checks)
    assert isinstance(plan[4], Analyze)
    assert plan[4].duration_s == 600.0


def test_failure_before_the_flip_destroys_green_and_keeps_blue() -> None:
    req = request()
    for reached in (0, 1, 2):  # deploy, health, smoke tests
        assert BlueGreenStrategy().rollback_plan(req, reached) == (Retire("v2"),)


def test_failure_after_the_flip_flips_back_to_blue() -> None:
    req = request()
    for reached in (3, 4):  # the flip itself, the monitor
        assert BlueGreenStrategy().rollback_plan(req, reached) == (
            SetWeights.of({"v1": 100.0, "v2": 0.0}), Retire("v2"))


def test_once_blue_is_retired_it_is_redeployed() -> None:
    req = request()
    assert BlueGreenStrategy().rollback_plan(req, 5) == redeploy_stable(req)
    assert BlueGreenStrategy().rollback_plan(req, 6) == redeploy_stable(req)
