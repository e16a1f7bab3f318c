"""The ``nginx`` router against a real NGINX (Debian package) on 127.0.0.1.

Each test gets its own NGINX (free port, temp dirs, stopped by PID afterwards) in front of small
backend apps that answer their version's name. NGINX changes weights by reload, so what is
asserted is what infra.md (section 3) measured as reliable: the split is exact, and with **a new
connection per request** reloads fail no request and a flip reaches new connections within the
reload window. Keep-alive clients can meet a request raced against an old worker closing its
idle connection; no test here asserts anything about that case. Every loop is bounded in count
and time; nothing asserts a duration.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from safeship._internal.subprocess import CommandResult, run_command
from safeship.model.endpoints import Endpoint
from safeship.routers.interface import PIN_HEADER, RouterRejected, RouterUnavailable
from safeship.routers.nginx import NginxOptions, NginxRouter
from tests.integration.router_backends import Client, VersionBackends, free_port
from tests.integration.router_process_factories import managed_nginx
from tests.requirements import require_binary

pytestmark = pytest.mark.nginx

REQUESTS = 2000
TOLERANCE = REQUESTS // 100  # ±1 % of the requests
FLIPS = 10
PROBES_PER_FLIP = 20


@pytest.fixture(scope="module")
def backends() -> Iterator[VersionBackends]:
    """v1 and v2, two instances each (tests take one or both)."""
    with VersionBackends(("v1", "v2"), instances=2) as running:
        yield running


def one_each(backends: VersionBackends) -> dict[str, list[Endpoint]]:
    """One endpoint per version."""
    return {version: endpoints[:1] for version, endpoints in backends.endpoints().items()}


@pytest.fixture
def nginx(tmp_path: Path, backends: VersionBackends) -> Iterator[NginxRouter]:
    """A started NGINX router with v1 and v2 declared (one endpoint each), no split yet."""
    with managed_nginx(tmp_path) as router:
        router.set_backends(one_each(backends))
        yield router


@pytest.mark.parametrize("keep_alive", [True, False], ids=["keep-alive", "new-connection"])
def test_split_is_exact_and_read_back_from_the_running_config(nginx: NginxRouter,
                                                              keep_alive: bool) -> None:
    nginx.set_weights({"v1": 90, "v2": 10})
    counts = Client(nginx.url, keep_alive=keep_alive).split(REQUESTS, concurrency=10)
    assert set(counts) == {"v1", "v2"}, counts
    assert abs(counts["v1"] - 1800) <= TOLERANCE, counts
    assert abs(counts["v2"] - 200) <= TOLERANCE, counts
    assert nginx.weights() == {"v1": 90.0, "v2": 10.0}
    assert nginx.server_weights() == {"v1-1": 90, "v2-1": 10}


def test_a_version_is_spread_over_its_servers(nginx: NginxRouter,
                                              backends: VersionBackends) -> None:
    endpoints = backends.endpoints()
    nginx.set_backends({"v1": endpoints["v1"], "v2": endpoints["v2"][:1]})
    nginx.set_weights({"v1": 90, "v2": 10})
    assert nginx.server_weights() == {"v1-1": 45, "v1-2": 45, "v2-1": 10}
    counts = Client(nginx.url, keep_alive=False).split(REQUESTS, concurrency=10)
    assert abs(counts["v1"] - 1800) <= TOLERANCE, counts
    assert abs(counts["v2"] - 200) <= TOLERANCE, counts


def test_no_split_until_the_first_set_weights(nginx: NginxRouter) -> None:
    assert nginx.weights() == {}
    assert Client(nginx.url, keep_alive=False).get() == "status:503"


def test_weight_zero_is_written_down_and_gets_no_traffic(nginx: NginxRouter) -> None:
    nginx.set_weights({"v1": 100, "v2": 0})
    text = nginx.config_path.read_text()
    assert "down;  # safeship server=v2-1" in text
    assert "weight=0" not in text
    assert nginx.server_weights() == {"v1-1": 100, "v2-1": 0}
    assert Client(nginx.url, keep_alive=True).split(500, concurrency=10) == Counter(v1=500)
    assert nginx.weights() == {"v1": 100.0, "v2": 0.0}


def test_pin_header_routes_whatever_the_weights(nginx: NginxRouter) -> None:
    nginx.set_weights({"v1": 100, "v2": 0})
    client = Client(nginx.url, keep_alive=True)
    assert client.split(50, concurrency=5, headers=nginx.pin_headers("v2")) == Counter(v2=50)
    assert client.split(50, concurrency=5) == Counter(v1=50)
    assert client.get(headers={PIN_HEADER: "v9"}) == "status:503"


def test_a_flip_reaches_new_connections_within_the_reload_window(nginx: NginxRouter) -> None:
    """After set_weights returns, new connections switch and stay switched.

    infra.md measured up to ~6 stale answers per flip when the reload is not waited for; the
    router waits for new workers and (bounded) for old ones to exit, so the bound here is
    generous and the switch must be for good: once the new version answers, the old one never
    does again within the probe window.
    """
    client = Client(nginx.url, keep_alive=False)
    stale_total = 0
    for flip in range(FLIPS):
        new, old = ("v2", "v1") if flip % 2 == 0 else ("v1", "v2")
        nginx.set_weights({new: 100, old: 0})
        answers = client.sequence(PROBES_PER_FLIP)
        assert set(answers) <= {"v1", "v2"}, answers
        assert new in answers, answers
        first_new = answers.index(new)
        assert old not in answers[first_new:], answers
        stale_total += first_new
    assert stale_total <= FLIPS * 6, stale_total


def test_no_request_fails_across_reloads_with_new_connections(nginx: NginxRouter) -> None:
    splits = [{"v1": 100, "v2": 0}, {"v1": 0, "v2": 100}, {"v1": 90, "v2": 10},
              {"v1": 50, "v2": 50}]
    nginx.set_weights(splits[0])
    flips = 0
    with Client(nginx.url, keep_alive=False).load(concurrency=8, max_requests=40_000,
                                                 max_seconds=60) as run:
        assert run.wait_for_more(100), "the load never got going"
        for flips in range(1, 21):
            nginx.set_weights(splits[flips % len(splits)])
            if not run.wait_for_more(20):
                break
    assert flips == 20
    assert run.failures == []
    assert set(run.counts) == {"v1", "v2"}, run.counts


def test_a_config_nginx_refuses_is_rejected_and_the_old_split_stays(nginx: NginxRouter) -> None:
    nginx.set_weights({"v1": 90, "v2": 10})
    accepted = nginx.config_path.read_text()
    workers = nginx.worker_pids()
    with pytest.raises(RouterRejected, match="host not found") as refused:
        nginx.set_backends({"v1": [Endpoint("no-such-host.invalid", 80)],
                            "v2": [Endpoint("no-such-host.invalid", 81)]})
    assert "nginx -t" in str(refused.value)
    assert nginx.config_path.read_text() == accepted
    assert not nginx.config_path.with_name("nginx.conf.tmp").exists()
    assert nginx.worker_pids() == workers  # never reloaded
    assert nginx.weights() == {"v1": 90.0, "v2": 10.0}
    counts = Client(nginx.url, keep_alive=False).split(1000, concurrency=10)
    assert abs(counts["v2"] - 100) <= 10, counts


class ReloadRefuser:
    """A CommandRunner that runs everything for real, except a reload once told to refuse it."""

    def __init__(self) -> None:
        self.refuse = False

    def __call__(self, argv: Sequence[str], *, cwd: Path | None = None, timeout_s: float = 300.0,
                 env: Mapping[str, str] | None = None, shell: bool = False) -> CommandResult:
        if self.refuse and "reload" in argv:
            return CommandResult(tuple(argv), 1, "", "nginx: [alert] reload refused (injected)")
        return run_command(argv, cwd=cwd, timeout_s=timeout_s, env=env, shell=shell)


def test_a_failed_reload_puts_the_old_config_back(tmp_path: Path,
                                                  backends: VersionBackends) -> None:
    runner = ReloadRefuser()
    with managed_nginx(tmp_path, runner=runner) as router:
        router.set_backends(one_each(backends))
        router.set_weights({"v1": 90, "v2": 10})
        accepted = router.config_path.read_text()
        runner.refuse = True
        with pytest.raises(RouterRejected, match="injected"):
            router.set_weights({"v1": 10, "v2": 90})
        assert router.config_path.read_text() == accepted
        assert router.weights() == {"v1": 90.0, "v2": 10.0}
        counts = Client(router.url, keep_alive=False).split(1000, concurrency=10)
        assert abs(counts["v2"] - 100) <= 10, counts


def test_close_stops_nginx_and_refuses_later_calls(nginx: NginxRouter) -> None:
    assert nginx.master_pid is not None
    nginx.close()
    assert nginx.master_pid is None
    with pytest.raises(RouterUnavailable):
        nginx.weights()
    nginx.close()  # idempotent


def test_an_nginx_run_by_someone_else_is_driven_and_left_running(
        tmp_path: Path, backends: VersionBackends) -> None:
    binary = require_binary("nginx", "the nginx router drives a real NGINX")
    temp_dir = Path(tempfile.mkdtemp(prefix="ss-nx-"))
    temp_dir.chmod(0o755)
    router = NginxRouter(NginxOptions(config_dir=tmp_path / "own", temp_dir=temp_dir,
                                      listen=f"127.0.0.1:{free_port()}", nginx_binary=binary))
    with pytest.raises(RouterUnavailable, match="not running"):
        router.set_backends(one_each(backends))
    assert not router.config_path.exists()
    router.write_config()
    process = subprocess.Popen(
        [binary, "-c", str(router.config_path), "-e", str(router.error_log_path),
         "-g", "daemon off;"], stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while not router.worker_pids():
            assert process.poll() is None, router.error_log_path.read_text()
            assert time.monotonic() < deadline, "NGINX did not come up"
            time.sleep(0.01)
        router.set_backends(one_each(backends))
        router.set_weights({"v1": 90, "v2": 10})
        counts = Client(router.url, keep_alive=False).split(REQUESTS, concurrency=10)
        assert abs(counts["v1"] - 1800) <= TOLERANCE, counts
        router.close()
        assert process.poll() is None  # close() never stops an NGINX it does not manage
    finally:
        process.terminate()
        process.wait(timeout=15)
        shutil.rmtree(temp_dir, ignore_errors=True)
