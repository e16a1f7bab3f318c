"""The ``haproxy`` router against a real HAProxy (Debian package) on 127.0.0.1.

Each test gets its own HAProxy (free ports, temp dir, stopped by PID afterwards) in front of
small backend apps that answer their version's name. What is checked is what infra.md
(section 2) measured as reliable: the split is exact per request, a runtime weight change
applies to the very next request, weight changes under load fail no request, and runtime
weights are lost on reload until safeship re-applies them. Every loop is bounded in count and
time; nothing asserts a duration.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from safeship.model.endpoints import Endpoint
from safeship.routers.haproxy import HaproxyOptions, HaproxyRouter
from safeship.routers.interface import PIN_HEADER, RouterRejected, RouterUnavailable
from tests.integration.router_backends import Client, VersionBackends, free_port
from tests.integration.router_process_factories import managed_haproxy
from tests.requirements import require_binary

pytestmark = pytest.mark.haproxy

REQUESTS = 2000
TOLERANCE = REQUESTS // 100  # ±1 % of the requests


@pytest.fixture(scope="module")
def backends() -> Iterator[VersionBackends]:
    """v1 and v2, two instances each (tests take one or both)."""
    with VersionBackends(("v1", "v2"), instances=2) as running:
        yield running


def one_each(backends: VersionBackends) -> dict[str, list[Endpoint]]:
    """One endpoint per version."""
    return {version: endpoints[:1] for version, endpoints in backends.endpoints().items()}


@pytest.fixture
def haproxy(tmp_path: Path, backends: VersionBackends) -> Iterator[HaproxyRouter]:
    """A started HAProxy router with v1 and v2 declared (one endpoint each), no split yet."""
    with managed_haproxy(tmp_path) as router:
        router.set_backends(one_each(backends))
        yield router


def wait_for_new_worker(router: HaproxyRouter, before: int) -> int:
    """Poll (bounded) until a worker other than ``before`` answers the socket."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            current = router.worker_pid()
        except RouterUnavailable:
            current = before
        if current != before:
            return current
        time.sleep(0.01)
    pytest.fail("HAProxy did not reload")


@pytest.mark.parametrize("keep_alive", [True, False], ids=["keep-alive", "new-connection"])
def test_split_is_exact_and_read_back_from_haproxy(haproxy: HaproxyRouter,
                                                   keep_alive: bool) -> None:
    haproxy.set_weights({"v1": 90, "v2": 10})
    counts = Client(haproxy.url, keep_alive=keep_alive).split(REQUESTS, concurrency=10)
    assert set(counts) == {"v1", "v2"}, counts
    assert abs(counts["v1"] - 1800) <= TOLERANCE, counts
    assert abs(counts["v2"] - 200) <= TOLERANCE, counts
    assert haproxy.weights() == {"v1": 90.0, "v2": 10.0}
    assert haproxy.server_weights() == {"v1-1": 90, "v2-1": 10}


def test_a_version_is_spread_over_its_servers(haproxy: HaproxyRouter,
                                              backends: VersionBackends) -> None:
    endpoints = backends.endpoints()
    haproxy.set_backends({"v1": endpoints["v1"], "v2": endpoints["v2"][:1]})
    haproxy.set_weights({"v1": 90, "v2": 10})
    assert haproxy.server_weights() == {"v1-1": 45, "v1-2": 45, "v2-1": 10}
    before = {row.server: row.total_sessions for row in haproxy.server_stats()}
    counts = Client(haproxy.url, keep_alive=True).split(REQUESTS, concurrency=10)
    after = {row.server: row.total_sessions for row in haproxy.server_stats()}
    assert abs(counts["v1"] - 1800) <= TOLERANCE, counts
    assert abs(counts["v2"] - 200) <= TOLERANCE, counts
    served = {server: after[server] - before.get(server, 0) for server in after}
    assert abs(served["v1-1"] - served["v1-2"]) <= TOLERANCE, served
    assert haproxy.weights() == {"v1": 90.0, "v2": 10.0}


def test_no_split_until_the_first_set_weights(haproxy: HaproxyRouter) -> None:
    assert haproxy.weights() == {}
    assert Client(haproxy.url, keep_alive=False).get() == "status:503"


def test_pin_header_routes_whatever_the_weights(haproxy: HaproxyRouter) -> None:
    haproxy.set_weights({"v1": 100, "v2": 0})
    client = Client(haproxy.url, keep_alive=True)
    assert client.split(50, concurrency=5, headers=haproxy.pin_headers("v2")) == Counter(v2=50)
    assert client.split(50, concurrency=5) == Counter(v1=50)
    assert client.get(headers={PIN_HEADER: "v9"}) == "status:503"


def test_weight_zero_takes_a_server_out_of_rotation_but_keeps_it_checked(
        haproxy: HaproxyRouter) -> None:
    haproxy.set_weights({"v1": 100, "v2": 0})
    before = {row.server: row.total_sessions for row in haproxy.server_stats()}
    counts = Client(haproxy.url, keep_alive=True).split(500, concurrency=10)
    stats = {row.server: row for row in haproxy.server_stats()}
    assert counts == Counter(v1=500)
    assert stats["v2-1"].total_sessions == before["v2-1"]
    assert stats["v2-1"].weight == 0
    # Still health-checked, ready to take traffic ("UP 1/3" while the first checks come in).
    assert stats["v2-1"].status.startswith("UP"), stats["v2-1"]


@pytest.mark.parametrize("keep_alive", [True, False], ids=["keep-alive", "new-connection"])
def test_a_flip_applies_to_the_very_next_request(haproxy: HaproxyRouter,
                                                 keep_alive: bool) -> None:
    client = Client(haproxy.url, keep_alive=keep_alive)
    stale = 0
    try:
        for _ in range(20):
            haproxy.set_weights({"v1": 100, "v2": 0})
            stale += client.get() != "v1"
            haproxy.set_weights({"v1": 0, "v2": 100})
            stale += client.get() != "v2"
    finally:
        client.close()
    assert stale == 0


@pytest.mark.parametrize("keep_alive", [True, False], ids=["keep-alive", "new-connection"])
def test_no_request_fails_while_weights_change_every_50ms(haproxy: HaproxyRouter,
                                                          keep_alive: bool) -> None:
    splits = [{"v1": 100, "v2": 0}, {"v1": 0, "v2": 100}, {"v1": 90, "v2": 10},
              {"v1": 50, "v2": 50}, {"v1": 10, "v2": 90}]
    haproxy.set_weights(splits[0])
    flips = 0
    with Client(haproxy.url, keep_alive=keep_alive).load(
            concurrency=8, max_requests=40_000, max_seconds=60) as run:
        assert run.wait_for_more(100), "the load never got going"
        for flips in range(1, 61):
            haproxy.set_weights(splits[flips % len(splits)])
            if run.stop.wait(0.05):
                break
        assert run.wait_for_more(100), "traffic stalled"
    assert flips == 60
    assert run.failures == []
    assert set(run.counts) == {"v1", "v2"}, run.counts


def test_runtime_weights_are_lost_on_reload_and_ensure_restores_them(
        haproxy: HaproxyRouter) -> None:
    # The config file was rendered before any split (every weight 0); the split is runtime.
    haproxy.set_weights({"v1": 90, "v2": 10})
    master = haproxy.master_pid
    assert master is not None
    before = haproxy.worker_pid()
    os.kill(master, signal.SIGUSR2)  # a reload safeship did not do (an operator's, say)
    wait_for_new_worker(haproxy, before)
    assert haproxy.weights() == {}  # HAProxy now serves the file's weights: nothing
    assert haproxy.desired_weights() == {"v1": 90.0, "v2": 10.0}

    haproxy.ensure()

    assert haproxy.weights() == {"v1": 90.0, "v2": 10.0}
    counts = Client(haproxy.url, keep_alive=True).split(REQUESTS, concurrency=10)
    assert abs(counts["v1"] - 1800) <= TOLERANCE, counts
    assert abs(counts["v2"] - 200) <= TOLERANCE, counts


def test_safeships_own_reload_keeps_the_split(haproxy: HaproxyRouter,
                                              backends: VersionBackends) -> None:
    haproxy.set_weights({"v1": 90, "v2": 10})
    before = haproxy.worker_pid()
    haproxy.reload()
    assert haproxy.worker_pid() != before
    assert haproxy.weights() == {"v1": 90.0, "v2": 10.0}
    # A new endpoint is a config change (reload) too; the split survives it.
    before = haproxy.worker_pid()
    haproxy.set_backends({"v1": backends.endpoints()["v1"], "v2": one_each(backends)["v2"]})
    assert haproxy.worker_pid() != before
    assert haproxy.weights() == {"v1": 90.0, "v2": 10.0}
    counts = Client(haproxy.url, keep_alive=False).split(REQUESTS, concurrency=10)
    assert abs(counts["v2"] - 200) <= TOLERANCE, counts


def test_a_config_haproxy_refuses_changes_nothing(haproxy: HaproxyRouter) -> None:
    haproxy.set_weights({"v1": 90, "v2": 10})
    config_before = haproxy.config_path.read_text()
    worker_before = haproxy.worker_pid()
    with pytest.raises(RouterRejected, match="could not resolve address"):
        haproxy.set_backends({"v1": [Endpoint("no-such-host.invalid", 80)],
                              "v2": [Endpoint("no-such-host.invalid", 81)]})
    assert haproxy.config_path.read_text() == config_before
    assert haproxy.worker_pid() == worker_before
    assert haproxy.weights() == {"v1": 90.0, "v2": 10.0}
    counts = Client(haproxy.url, keep_alive=True).split(1000, concurrency=10)
    assert abs(counts["v2"] - 100) <= 10, counts


def test_stats_page_and_prometheus_exporter(haproxy: HaproxyRouter) -> None:
    haproxy.set_weights({"v1": 75, "v2": 25})
    Client(haproxy.url, keep_alive=True).split(100, concurrency=4)
    assert haproxy.stats_url is not None
    with httpx.Client(timeout=10, trust_env=False) as http:
        metrics = http.get(f"{haproxy.stats_url}/metrics").text
        csv = http.get(f"{haproxy.stats_url}/stats;csv").text
    assert 'haproxy_server_weight{proxy="safeship",server="v1-1"} 75' in metrics
    assert 'haproxy_server_weight{proxy="safeship",server="v2-1"} 25' in metrics
    assert "safeship,v2-1," in csv
    stats = {row.server: row for row in haproxy.server_stats()}
    assert stats["v1-1"].responses_2xx + stats["v2-1"].responses_2xx >= 100
    assert stats["v1-1"].check_status == "L7OK"


def test_close_stops_haproxy_and_refuses_later_calls(haproxy: HaproxyRouter) -> None:
    master = haproxy.master_pid
    assert master is not None
    haproxy.close()
    assert haproxy.master_pid is None
    with pytest.raises(RouterUnavailable):
        haproxy.set_weights({"v1": 100, "v2": 0})
    haproxy.close()  # idempotent


@pytest.fixture
def own_haproxy(tmp_path: Path) -> Iterator[tuple[HaproxyRouter, subprocess.Popen[bytes]]]:
    """``manage_process: false``: the test starts HAProxy itself, without the master CLI."""
    binary = require_binary("haproxy", "the haproxy router drives a real HAProxy")
    socket_dir = Path(tempfile.mkdtemp(prefix="ss-hx-"))
    router = HaproxyRouter(HaproxyOptions(
        config_dir=tmp_path / "own", socket=socket_dir / "admin.sock",
        listen=f"127.0.0.1:{free_port()}", haproxy_binary=binary))
    router.write_config()
    log = (tmp_path / "haproxy.log").open("wb")
    process = subprocess.Popen(
        [binary, "-W", "-db", "-p", str(router.pid_path), "-f", str(router.config_path)],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while router.master_pid is None or not _answers(router):
            assert process.poll() is None, (tmp_path / "haproxy.log").read_text()
            assert time.monotonic() < deadline, "HAProxy did not come up"
            time.sleep(0.01)
        yield router, process
    finally:
        router.close()  # not managed: leaves the process alone
        process.terminate()
        process.wait(timeout=15)
        log.close()
        shutil.rmtree(socket_dir, ignore_errors=True)


def _answers(router: HaproxyRouter) -> bool:
    try:
        router.worker_pid()
    except RouterUnavailable:
        return False
    return True


def test_an_haproxy_run_by_someone_else_is_driven_and_reloaded_by_signal(
        own_haproxy: tuple[HaproxyRouter, subprocess.Popen[bytes]],
        backends: VersionBackends) -> None:
    router, process = own_haproxy
    assert router.master_status() is None  # started without -S: reloads fall back to SIGUSR2
    first = router.worker_pid()
    router.set_backends(one_each(backends))
    second = router.worker_pid()
    assert second != first
    # At once again: a SIGUSR2 this close to the last reload can be lost; the router resends.
    router.set_backends(backends.endpoints())
    assert router.worker_pid() not in (first, second)
    router.set_weights({"v1": 90, "v2": 10})
    assert router.server_weights() == {"v1-1": 45, "v1-2": 45, "v2-1": 5, "v2-2": 5}
    counts = Client(router.url, keep_alive=True).split(REQUESTS, concurrency=10)
    assert abs(counts["v1"] - 1800) <= TOLERANCE, counts
    router.close()
    assert process.poll() is None  # close() never stops an HAProxy it does not manage


def test_an_unmanaged_router_without_haproxy_is_unavailable_and_writes_nothing(
        tmp_path: Path, backends: VersionBackends) -> None:
    binary = require_binary("haproxy", "the haproxy router checks configs with haproxy -c")
    router = HaproxyRouter(HaproxyOptions(config_dir=tmp_path, haproxy_binary=binary))
    with pytest.raises(RouterUnavailable, match="not running"):
        router.set_backends(one_each(backends))
    assert not router.config_path.exists()
    with pytest.raises(RouterUnavailable):
        router.weights()
