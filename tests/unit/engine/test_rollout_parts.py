"""The controller's parts: state machine, codec, actions, smoke tests, lease ids."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import httpx
import pytest

from safeship._internal.http import client_factory_with_transport
from safeship.engine.rollout_actions import Actuator, same_split
from safeship.engine.rollout_codec import decode, decode_plan, decode_step, encode, encode_plan
from safeship.engine.rollout_lease import (
    holder_is_dead_here,
    holder_pid_on_this_host,
    new_holder_id,
)
from safeship.engine.rollout_smoke import HttpSmokeTester, SmokeReport
from safeship.engine.rollout_state import RolloutStatus, check_transition
from safeship.errors import InternalError
from safeship.model.analysis import (
    AnalysisVerdict,
    Classification,
    Decision,
    MetricOutcome,
    MetricVerdict,
)
from safeship.model.canary import CanarySpec
from safeship.routers.interface import RouterUnavailable
from safeship.strategies.canary import CanaryStrategy
from safeship.strategies.interface import RolloutRequest, SmokeCheck
from tests.unit.engine.test_rollout_fakes import FakeRouter, FakeTarget, ScriptedClock
from tests.unit.engine.test_rollout_harness import Harness, guide_spec


def test_the_state_machine_refuses_illegal_moves() -> None:
    check_transition(RolloutStatus.RUNNING, RolloutStatus.PAUSED)
    check_transition(RolloutStatus.PAUSED, RolloutStatus.ROLLING_BACK)
    with pytest.raises(InternalError, match="succeeded -> running"):
        check_transition(RolloutStatus.SUCCEEDED, RolloutStatus.RUNNING)
    with pytest.raises(InternalError):
        check_transition(RolloutStatus.ROLLING_BACK, RolloutStatus.SUCCEEDED)
    assert {s for s in RolloutStatus if s.terminal} == {
        RolloutStatus.SUCCEEDED, RolloutStatus.ROLLED_BACK, RolloutStatus.ABORTED}


def test_everything_a_release_stores_round_trips() -> None:
    spec = guide_spec()
    assert decode(CanarySpec, encode(spec)) == spec
    request = Harness.request(Harness.__new__(Harness))
    assert decode(RolloutRequest, encode(request)) == request
    plan = CanaryStrategy().plan(request)
    assert decode_plan(encode_plan(plan)) == plan
    assert decode_plan(None) == ()
    verdict = AnalysisVerdict(Decision.ROLLBACK, "sequential", (MetricVerdict(
        "error_rate", MetricOutcome.FAIL, Classification.HIGH, True, 0.01, 0.2, "20x",
        {"e_value": float("inf"), "cs_upper": None}),), ("error rate 20x",), 87.5, 12.0)
    assert decode(AnalysisVerdict, encode(verdict)) == verdict
    with pytest.raises(InternalError, match="unknown kind"):
        decode_step({"kind": "teleport"})


def _actuator(timeout: float = 1.0) -> tuple[Actuator, FakeRouter, FakeTarget]:
    from safeship.engine.rollout_actions import ActionSettings

    clock = ScriptedClock()
    router, target = FakeRouter(clock), FakeTarget()
    return (Actuator(router, target, clock, settings=ActionSettings(
        readback_timeout_s=timeout, readback_poll_s=0.1, health_poll_s=0.5)), router, target)


def test_set_weights_reads_back_until_the_router_reports_the_split() -> None:
    act, router, _ = _actuator()
    act.deploy("v1", 1, None, ["v1"], {})
    router.stale_reads = 3
    assert act.set_weights({"v1": 100}) == {"v1": 100.0}
    assert router.reads == 4
    router.stale_reads = 1000
    act.deploy("v2", 1, None, ["v1"], {"v1": 100})
    with pytest.raises(RouterUnavailable, match="after 1 s"):
        act.set_weights({"v1": 50, "v2": 50})


def test_retire_refuses_a_version_with_traffic() -> None:
    act, _, target = _actuator()
    act.deploy("v1", 2, None, ["v1"], {})
    act.set_weights({"v1": 100})
    with pytest.raises(InternalError, match="still sends it 100% of traffic"):
        act.retire("v1", ["v1"], {"v1": 100})
    assert target.count("v1") == 2


def test_a_version_with_traffic_but_no_instance_stays_declared() -> None:
    act, router, target = _actuator()
    act.deploy("v1", 1, None, ["v1"], {})
    act.set_weights({"v1": 100})
    declared = router.backends()
    target.retire("v1")  # a recreate stopped it; its share is still 100 %
    act.sync_backends(["v1", "v2"], {"v1": 100.0})
    assert router.backends() == declared
    assert act.routable({"v1": 100.0})
    assert not act.routable({"v3": 100.0})


def test_health_gate_waits_then_times_out() -> None:
    act, _, target = _actuator()
    target.deploy("v2", 2)
    target.unhealthy_above["v2"] = 0
    result = act.health_gate("v2", 2, 3.0)
    assert not result.passed
    assert "only 0 of 2 instances of 'v2' healthy after 3 s" in result.detail
    assert "503" in result.detail
    target.unhealthy_above.clear()
    assert act.health_gate("v2", 2, 3.0).passed


def test_same_split_treats_missing_as_zero() -> None:
    assert same_split({"v1": 100.0}, {"v1": 100.0, "v2": 0.0})
    assert not same_split({"v1": 99.0, "v2": 1.0}, {"v1": 100.0})


def test_the_http_smoke_tester_pins_every_request() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/down":
            raise httpx.ConnectError("refused", request=request)
        if request.url.path == "/teapot":
            return httpx.Response(418)
        return httpx.Response(200, text="ok: green")

    tester = HttpSmokeTester("http://127.0.0.1:8080/", client_factory=
                             client_factory_with_transport(httpx.MockTransport(handler)))
    report = tester.run("v2", (SmokeCheck("/healthz"), SmokeCheck("api", contains="green")),
                        {"X-Safeship-Version": "v2"})
    assert report.passed
    assert report.summary() == "2 smoke check(s) passed"
    assert [r.url.path for r in seen] == ["/healthz", "/api"]
    assert {r.headers["X-Safeship-Version"] for r in seen} == {"v2"}
    bad = tester.run("v2", (SmokeCheck("/teapot"), SmokeCheck("/down"),
                            SmokeCheck("/", contains="blue")), {})
    assert not bad.passed
    assert "GET /teapot: HTTP 418, expected 200" in bad.summary()
    assert "ConnectError" in bad.summary()
    assert "body lacks 'blue'" in bad.summary()
    assert not SmokeReport(()).passed
    assert SmokeReport(()).summary() == "no smoke checks ran"


def test_holder_ids_and_dead_controllers() -> None:
    holder = new_holder_id()
    assert holder_pid_on_this_host(holder) == os.getpid()
    assert not holder_is_dead_here(holder)  # this very process
    assert not holder_is_dead_here("elsewhere:1:abc")
    assert holder_pid_on_this_host("no-pid") is None
    assert holder_pid_on_this_host(f"{socket.gethostname()}:x:abc") is None
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert holder_is_dead_here(f"{socket.gethostname()}:{child.pid}:abc")
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        import time

        for _ in range(100):  # let it exit without reaping it
            if holder_is_dead_here(f"{socket.gethostname()}:{zombie.pid}:abc"):
                break
            time.sleep(0.02)
        assert holder_is_dead_here(f"{socket.gethostname()}:{zombie.pid}:abc")
    finally:
        zombie.wait()


def test_fixed_length_tuples_decode_by_position() -> None:
    from safeship.strategies.interface import SetWeights

    step = decode_step({"kind": "set_weights", "weights": [["v1", 95], ["v2", 5]]})
    assert step == SetWeights((("v1", 95.0), ("v2", 5.0)))
    assert isinstance(step, SetWeights)
    assert all(isinstance(share, float) for _, share in step.weights)
