"""The flag service for real: ``safeship flags serve`` (the command function) in its own
process under uvicorn on 127.0.0.1 and a free port, with the OpenFeature provider following it.

What is checked: token auth over a real socket; the SSE stream (hello, keep-alives); the kill
switch and other writes reaching a connected provider, whether written through the API (the
in-process notification) or by another process on the same database (the 200 ms poll, here
100 ms); stale values when the service goes away and recovery when it returns; remote and
local evaluations agreeing.

Propagation times are measured, never asserted: they are printed (``pytest -s``) as the time
from sending a write until the provider returns the new value.

Processes are started with ``subprocess.Popen`` and stopped by their own PID (SIGTERM, then
SIGKILL after a grace period). uvicorn is a Python dependency, so nothing here can be missing.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.flag_evaluation import Reason

from safeship.flags import changes
from safeship.openfeature import ProviderState, SafeshipProvider
from safeship.server.auth import READ_TOKEN_ENV, WRITE_TOKEN_ENV
from safeship.store.flags import FlagStore

READ_TOKEN = "integration-read-" + "r" * 16
WRITE_TOKEN = "integration-write-" + "w" * 16
READ = {"Authorization": f"Bearer {READ_TOKEN}"}
WRITE = {"Authorization": f"Bearer {WRITE_TOKEN}"}
USER = EvaluationContext("user-1")
# The service command on its own, as `safeship flags serve` runs it.
_SERVE = ("import typer; from safeship.cli.flags_serve_cmd import serve; "
          "app = typer.Typer(add_completion=False); app.command()(serve); app()")
_START_TIMEOUT_S = 30.0
_STOP_GRACE_S = 10.0
_PROPAGATION_TIMEOUT_S = 10.0
_ROUNDS = 20


class FlagServiceProcess:
    """One ``flags serve`` process for ``project`` (a temp dir)."""

    def __init__(self, project: Path, port: int = 0, keepalive: str = "200ms") -> None:
        self.project = project
        self.port = port
        self.keepalive = keepalive
        self.url = ""
        self.process: subprocess.Popen[str] | None = None
        self.log = project / f"serve-{time.monotonic_ns()}.log"

    def start(self) -> FlagServiceProcess:
        env = {**os.environ, READ_TOKEN_ENV: f"sdk:{READ_TOKEN}",
               WRITE_TOKEN_ENV: f"deployer:{WRITE_TOKEN}"}
        env.pop("SAFESHIP_DATABASE_URL", None)
        with self.log.open("w", encoding="utf-8") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _SERVE, "--port", str(self.port), "--format", "json",
                 "--keepalive", self.keepalive, "--poll-interval", "100ms", "--access-log",
                 "-C", str(self.project)],
                stdout=subprocess.PIPE, stderr=log, env=env, text=True)
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], _START_TIMEOUT_S)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            self.stop()
            pytest.fail(f"the flag service did not start:\n{self.log.read_text()}")
        self.url = json.loads(line)["url"]
        self.port = int(self.url.rsplit(":", 1)[1])
        return self

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(_STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(_STOP_GRACE_S)


@pytest.fixture(scope="module")
def shared_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlagServiceProcess]:
    """One running service for the tests that do not stop it (each uses its own flags)."""
    service = FlagServiceProcess(tmp_path_factory.mktemp("flags")).start()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def http(shared_service: FlagServiceProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared_service.url, timeout=10) as client:
        yield client


@contextlib.contextmanager
def following(url: str) -> Iterator[SafeshipProvider]:
    """A provider following the service at ``url``, set as the ``integration`` domain."""
    provider = SafeshipProvider(url, token=READ_TOKEN, refresh_interval_s=1.0,
                                stream_idle_timeout_s=5.0)
    api.set_provider_and_wait(provider, "integration")
    try:
        yield provider
    finally:
        provider.shutdown()
        api.clear_providers()


def create_flag(url: str, key: str) -> None:
    """A boolean flag ``key``, on in production."""
    created = httpx.post(f"{url}/v1/flags", headers=WRITE, timeout=10, json={
        "reason": "test", "definition": {"key": key, "environments": {
            "production": {"enabled": True}}}})
    assert created.status_code == 201, created.text


def until(condition: Callable[[], bool], timeout_s: float = _PROPAGATION_TIMEOUT_S) -> float:
    """Seconds until ``condition`` held (bounded; fails after ``timeout_s``)."""
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > timeout_s:
            pytest.fail(f"condition not met within {timeout_s} s")
        time.sleep(0.0005)
    return time.perf_counter() - start


def report(name: str, seconds: list[float]) -> None:
    ms = sorted(s * 1000 for s in seconds)
    print(f"\n{name}: n={len(ms)} median {statistics.median(ms):.1f} ms, "
          f"p90 {ms[int(0.9 * (len(ms) - 1))]:.1f} ms, max {ms[-1]:.1f} ms")


def test_auth_and_stream_over_a_real_socket(shared_service: FlagServiceProcess,
                                            http: httpx.Client) -> None:
    body = {"reason": "r", "definition": {"key": "auth-check"}}
    assert http.post("/v1/flags", json=body).status_code == 401
    assert http.post("/v1/flags", json=body, headers=READ).status_code == 403
    assert http.post("/v1/flags", json=body, headers=WRITE).status_code == 201
    assert http.get("/v1/health").json()["version"] >= 1
    lines: list[str] = []
    with http.stream("GET", "/v1/stream", headers=READ) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            lines.append(line)
            if lines.count(": keep-alive") >= 2 or len(lines) > 50:
                break
    assert "event: hello" in lines
    assert lines.count(": keep-alive") >= 2
    log = shared_service.log.read_text(encoding="utf-8")
    assert '"POST /v1/flags HTTP/1.1" 403' in log  # the access log works...
    assert READ_TOKEN not in log  # ...and never shows a token
    assert WRITE_TOKEN not in log


def test_kill_switch_reaches_a_connected_provider(shared_service: FlagServiceProcess,
                                                  http: httpx.Client) -> None:
    create_flag(shared_service.url, "beta")
    with following(shared_service.url) as provider:
        _kill_drill(provider, http)


def _kill_drill(provider: SafeshipProvider, http: httpx.Client) -> None:
    client = api.get_client("integration")
    assert client.get_boolean_value("beta", False, USER) is True
    from_send, from_answer = [], []
    for round_number in range(_ROUNDS):
        action, expected = ("kill", False) if round_number % 2 == 0 else ("unkill", True)
        sent = time.perf_counter()
        answer = http.post(f"/v1/flags/beta/{action}", json={"reason": "drill"},
                           headers=WRITE)
        answered = time.perf_counter()
        assert answer.status_code == 200
        until(lambda expected=expected: client.get_boolean_value(
            "beta", not expected, USER) is expected)
        from_send.append(time.perf_counter() - sent)
        from_answer.append(time.perf_counter() - answered)
    details = client.get_boolean_details("beta", True, USER)
    assert (details.value, details.reason) == (True, Reason.STATIC)
    assert provider.sync_state.streaming
    report("API write -> provider (from sending the write)", from_send)
    report("API write -> provider (from the write's answer)", from_answer)


def test_writes_by_another_process_reach_the_provider(
        shared_service: FlagServiceProcess) -> None:
    create_flag(shared_service.url, "gamma")
    with following(shared_service.url) as provider:
        _other_process_drill(shared_service, provider)


def _other_process_drill(flag_service: FlagServiceProcess,
                         provider: SafeshipProvider) -> None:
    client = api.get_client("integration")
    # This test process is "another process" for the service: it learns of these writes
    # only by polling the store's change log.
    elapsed = []
    with FlagStore.open(None, flag_service.project) as store:
        for round_number in range(10):
            kill = round_number % 2 == 0
            sent = time.perf_counter()
            store.update("gamma", changes.kill if kill else changes.unkill,
                         action="kill" if kill else "unkill", actor="other-process",
                         reason="drill", at=_now())
            until(lambda kill=kill: client.get_boolean_value("gamma", kill, USER) is not kill)
            elapsed.append(time.perf_counter() - sent)
    report("store write by another process -> provider", elapsed)
    launched = time.perf_counter()
    cli = subprocess.run(
        [sys.executable, "-m", "safeship", "flags", "kill", "gamma", "--reason",
         "from the CLI", "-C", str(flag_service.project)], capture_output=True, text=True,
        timeout=60, env={k: v for k, v in os.environ.items() if k != "SAFESHIP_DATABASE_URL"})
    assert cli.returncode == 0, cli.stderr
    exited = time.perf_counter()
    until(lambda: client.get_boolean_value("gamma", True, USER) is False)
    report("CLI `flags kill` launched -> provider (includes the CLI's start-up)",
           [time.perf_counter() - launched])
    print(f"  (the CLI process itself ran {1000 * (exited - launched):.0f} ms)")
    details = client.get_boolean_details("gamma", True, USER)
    assert details.flag_metadata["flag_version"] == 12


def test_stale_when_the_service_goes_and_current_when_it_returns(tmp_path: Path) -> None:
    # Keep-alives far apart: neither staleness nor shutting down may wait for one.
    service = FlagServiceProcess(tmp_path, keepalive="60s").start()
    try:
        create_flag(service.url, "beta")
        with following(service.url) as provider:
            until(lambda: provider.sync_state.streaming)
            provider.shutdown()  # interrupts the idle stream instead of waiting 60 s
            assert not provider._sync.running
            assert not provider.is_stale  # stopping is not an outage
        with following(service.url) as provider:
            _outage_drill(service, provider)
    finally:
        service.stop()


def _outage_drill(flag_service: FlagServiceProcess, provider: SafeshipProvider) -> None:
    client = api.get_client("integration")
    assert client.get_boolean_details("beta", False, USER).reason == Reason.STATIC
    stopped = time.perf_counter()
    flag_service.stop()
    until(lambda: provider.is_stale)
    report("service stopped -> provider stale", [time.perf_counter() - stopped])
    stale = client.get_boolean_details("beta", False, USER)
    assert (stale.value, stale.reason, stale.flag_metadata["reason"]) == (
        True, Reason.STALE, "STATIC")
    assert provider.sync_state.state is ProviderState.STALE
    assert provider.stale_since is not None
    with FlagStore.open(None, flag_service.project) as store:  # changed while it is down
        store.update("beta", changes.kill, action="kill", actor="ops", reason="while down",
                     at=_now())
    restarted = FlagServiceProcess(flag_service.project, flag_service.port,
                                   flag_service.keepalive).start()
    try:
        until(lambda: not provider.is_stale)
        until(lambda: client.get_boolean_value("beta", True, USER) is False)
        assert provider.sync_state.state is ProviderState.READY
    finally:
        restarted.stop()


def test_remote_and_local_evaluations_agree(shared_service: FlagServiceProcess,
                                            http: httpx.Client) -> None:
    definition = {"key": "mixed", "environments": {"production": {
        "enabled": True,
        "rules": [{"id": "staff", "when": [{"attribute": "email", "op": "regex",
                                            "value": "@example\\.com$"}], "serve": "on"}],
        "default": {"rollout": [{"variant": "on", "weight": "30%"},
                                {"variant": "off", "weight": "70%"}]}}}}
    assert http.post("/v1/flags", headers=WRITE,
                     json={"reason": "r", "definition": definition}).status_code == 201
    with following(shared_service.url):
        _compare(http)


def _compare(http: httpx.Client) -> None:
    client = api.get_client("integration")
    reasons = set()
    for n in range(200):
        context = {"targetingKey": f"user-{n}"}
        if n % 9 == 0:
            context["email"] = f"u{n}@example.com"
        remote = http.post("/v1/flags/mixed/evaluate", headers=READ,
                           json={"context": context}).json()
        local = client.get_boolean_details("mixed", False, EvaluationContext(
            context["targetingKey"], {k: v for k, v in context.items() if k != "targetingKey"}))
        assert (remote["variant"], remote["value"], remote["reason"]) == (
            local.variant, local.value, str(local.reason))
        reasons.add(remote["reason"])
    assert reasons == {"SPLIT", "TARGETING_MATCH"}


def _now() -> datetime:
    return datetime.now(UTC)
