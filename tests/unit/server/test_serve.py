"""The uvicorn runner in a thread on a free loopback port: it announces its address, serves,
ends streams and stops on request; a taken port is a clear error. (The subprocess with signals
is in tests/integration/test_flags_service.py.)"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import httpx
import pytest

from safeship.errors import DependencyUnavailable
from safeship.server.auth import TokenSet
from safeship.server.serve import ServeOptions, is_loopback, log_config, run_flag_service
from safeship.server.settings import ServiceSettings
from tests.unit.server.service_harness import TOKENS, WRITE

_WAIT_S = 10.0


class ServiceThread:
    """``run_flag_service`` in a thread; the URL once ready, any exception it raised."""

    def __init__(self, root: Path, port: int = 0, tokens: TokenSet | None = TOKENS) -> None:
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.url = ""
        self.error: BaseException | None = None
        options = ServeOptions(port=port, settings=ServiceSettings(keepalive_s=0.05))
        self.thread = threading.Thread(target=self._run, args=(root, options, tokens),
                                       daemon=True)

    def _run(self, root: Path, options: ServeOptions, tokens: TokenSet | None) -> None:
        try:
            run_flag_service(None, root, tokens, options, on_ready=self._announce,
                             stop=self.stop)
        except BaseException as exc:  # reported to the test thread
            self.error = exc
            self.ready.set()

    def _announce(self, url: str) -> None:
        self.url = url
        self.ready.set()

    def __enter__(self) -> ServiceThread:
        self.thread.start()
        assert self.ready.wait(_WAIT_S), "the service never became ready"
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self.thread.join(_WAIT_S)
        assert not self.thread.is_alive(), "the service did not stop"


def test_serves_until_asked_to_stop_even_with_a_stream_open(tmp_path: Path) -> None:
    with ServiceThread(tmp_path) as service, httpx.Client(base_url=service.url) as client:
        assert service.error is None
        assert service.url.startswith("http://127.0.0.1:")
        created = client.post("/v1/flags", headers=WRITE, json={
            "reason": "new", "definition": {"key": "beta"}})
        assert created.status_code == 201
        with client.stream("GET", "/v1/stream", headers=WRITE) as stream:
            lines = stream.iter_lines()
            assert next(lines) == "retry: 1000"
            service.stop.set()
            # Stopping ends the stream instead of waiting for it forever.
            rest = list(lines)
        assert any(line.startswith("event: hello") for line in rest)


def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        service = ServiceThread(tmp_path, port=taken.getsockname()[1])
        service.thread.start()
        service.thread.join(_WAIT_S)
    assert isinstance(service.error, DependencyUnavailable)
    assert "could not start" in service.error.message
    assert "--port" in (service.error.hint or "")


def test_unsafe_no_auth_warns_on_every_start(tmp_path: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
    for _ in range(2):
        with ServiceThread(tmp_path, tokens=None) as service, httpx.Client(
                base_url=service.url) as client:
            assert client.post("/v1/flags", json={
                "reason": "r", "definition": {"key": f"k{len(caplog.records)}"}}
            ).status_code == 201
    assert caplog.text.count("WITHOUT authentication") == 2


def test_uvicorn_logs_go_to_stderr_with_request_lines_only_on_demand() -> None:
    quiet = log_config(ServeOptions())
    loud = log_config(ServeOptions(access_log=True, log_level="info"))
    assert quiet["loggers"]["uvicorn.access"]["level"] == "WARNING"
    assert loud["loggers"]["uvicorn.access"]["level"] == "INFO"
    assert loud["loggers"]["uvicorn"]["level"] == "INFO"
    assert {h["stream"] for h in quiet["handlers"].values()} == {"ext://sys.stderr"}


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.1.2.3", True), ("localhost", True), ("::1", True),
    ("0.0.0.0", False), ("::", False), ("10.0.0.1", False), ("example.com", False),  # noqa: S104
])
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
