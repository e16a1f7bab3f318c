"""A real Prometheus scraping a synthetic two-version service, for integration tests.

:class:`SyntheticTarget` serves ``prometheus_client`` metrics from a
:class:`~http.server.ThreadingHTTPServer` on 127.0.0.1 (OS-chosen port, listen backlog 128) and
runs a load thread that records a known, deterministic load for two versions:

* ``http_requests_total{version, status}``: every ``error_every``-th request of a version is a
  500 (baseline 1 in 50 = 2 %, canary 1 in 10 = 10 %);
* ``http_request_duration_seconds{version}``: latencies cycle uniformly over
  ``(0, latency_top]`` (baseline 100 ms, canary 200 ms, so p95 is 0.095 s and 0.19 s).

The load has a bounded rate (``rate_per_s`` per version, in 50 ms ticks) and a bounded
duration (``duration_s``), after which it stops by itself. Updates and scrapes share a lock, so
each scrape is consistent: the ``+Inf`` bucket always equals the request count.

:class:`PrometheusServer` runs ``/usr/bin/prometheus`` (Debian package) on a free port with a
temp data dir, ``--web.enable-lifecycle`` and a 1 s scrape interval (infra.md, section 1), waits
for ``/-/ready`` and, through :meth:`PrometheusServer.wait_for`, for data, always against a
deadline. :meth:`PrometheusServer.stop` sends SIGTERM to its own PID and waits for the exit.
"""

from __future__ import annotations

import contextlib
import math
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

VERSIONS = ("baseline", "canary")
BUCKETS = (0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1, 0.15, 0.2, 0.25, 0.5, 1.0)
_TICK_S = 0.05
_START_ATTEMPTS = 3
_READY_TIMEOUT_S = 15.0
_STOP_GRACE_S = 10.0


class PrometheusError(RuntimeError):
    """Prometheus could not be started, or the data did not arrive in time."""


@dataclass
class LoadProfile:
    """What one version's synthetic traffic looks like."""

    error_every: int
    latency_top_s: float

    def status(self, index: int) -> str:
        """The status of the ``index``-th request (0-based): every n-th one fails."""
        return "500" if index % self.error_every == self.error_every - 1 else "200"

    def latency(self, index: int) -> float:
        """The latency of the ``index``-th request: uniform over (0, top] in 100 steps."""
        return ((index % 100) + 0.5) / 100 * self.latency_top_s


DEFAULT_PROFILES = {
    "baseline": LoadProfile(error_every=50, latency_top_s=0.1),
    "canary": LoadProfile(error_every=10, latency_top_s=0.2),
}


@dataclass
class SyntheticTarget:
    """The scrape target: metrics endpoint plus a bounded synthetic load (module docstring)."""

    rate_per_s: float = 200.0
    duration_s: float = 120.0
    profiles: dict[str, LoadProfile] = field(default_factory=lambda: dict(DEFAULT_PROFILES))
    registry: CollectorRegistry = field(init=False)
    generated: dict[str, int] = field(init=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _stop: threading.Event = field(init=False, default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = field(init=False, default=None)
    _threads: list[threading.Thread] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("http_requests_total", "Requests served.",
                                ["version", "status"], registry=self.registry)
        self.latency = Histogram("http_request_duration_seconds", "Request latency.",
                                 ["version"], buckets=BUCKETS, registry=self.registry)
        self.generated = dict.fromkeys(self.profiles, 0)

    @property
    def address(self) -> str:
        """``host:port`` of the metrics endpoint."""
        if self._server is None:
            raise PrometheusError("the target is not started")
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    def start(self) -> None:
        """Serve /metrics and start the load thread."""
        target = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path.split("?")[0] != "/metrics":
                    self.send_error(404)
                    return
                with target._lock:
                    body = generate_latest(target.registry)
                self.send_response(200)
                self.send_header("Content-Type", CONTENT_TYPE_LATEST)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 128  # the default backlog of 5 drops SYNs under load

        self._server = Server(("127.0.0.1", 0), Handler)
        self._threads = [
            threading.Thread(target=self._server.serve_forever, name="target-http", daemon=True),
            threading.Thread(target=self._load, name="target-load", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _load(self) -> None:
        started = time.monotonic()
        while not self._stop.is_set():
            elapsed = time.monotonic() - started
            if elapsed > self.duration_s:
                return
            due = int(elapsed * self.rate_per_s)
            with self._lock:
                for version, profile in self.profiles.items():
                    # Bounded catch-up: at most one second's worth per tick.
                    for _ in range(min(due - self.generated[version], int(self.rate_per_s))):
                        index = self.generated[version]
                        self.requests.labels(version, profile.status(index)).inc()
                        self.latency.labels(version).observe(profile.latency(index))
                        self.generated[version] = index + 1
            self._stop.wait(_TICK_S)

    def stop(self) -> None:
        """Stop the load and the server, and join their threads."""
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)


@dataclass
class PrometheusServer:
    """One Prometheus process with its own config and data under a temp dir."""

    binary: str
    base: Path = field(init=False)
    port: int = field(init=False, default=0)
    process: subprocess.Popen[bytes] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="safeship-prom-"))

    @property
    def url(self) -> str:
        """Base URL of the HTTP API."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        """Prometheus' own output."""
        return self.base / "prometheus.log"

    def start(self, targets: list[str]) -> None:
        """Write the config, start Prometheus on a free port and wait until it is ready."""
        quoted = ", ".join(f"'{target}'" for target in targets)
        config = self.base / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            "  - job_name: app\n"
            f"    static_configs: [{{targets: [{quoted}]}}]\n"
        )
        for attempt in range(1, _START_ATTEMPTS + 1):
            self.port = _free_port()
            with self.log_file.open("ab") as log:
                self.process = subprocess.Popen(
                    [self.binary, f"--config.file={config}",
                     f"--storage.tsdb.path={self.base / 'data'}",
                     f"--web.listen-address=127.0.0.1:{self.port}",
                     "--storage.tsdb.retention.time=1h", "--web.enable-lifecycle",
                     "--log.level=warn"],
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                )
            if self._wait_ready():
                return
            self._terminate()
            if attempt == _START_ATTEMPTS:
                raise PrometheusError(f"Prometheus did not become ready\n{self.log_tail()}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + _READY_TIMEOUT_S
        with httpx.Client(timeout=1.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                if self.process is None or self.process.poll() is not None:
                    return False  # exited: most likely the port was taken meanwhile
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{self.url}/-/ready").status_code == 200:
                        return True
                time.sleep(0.05)
        return False

    def query(self, expression: str) -> list[dict[str, Any]]:
        """The result of an instant query (a vector's samples)."""
        with httpx.Client(timeout=5.0, trust_env=False) as client:
            response = client.get(f"{self.url}/api/v1/query", params={"query": expression})
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()["data"]["result"]
        return result

    def scalar(self, expression: str) -> float:
        """The single value of an instant query, NaN when it returns nothing."""
        result = self.query(expression)
        return float(result[0]["value"][1]) if len(result) == 1 else math.nan

    def wait_for(self, expression: str, done: Callable[[float], bool],
                 timeout_s: float) -> float:
        """Poll ``expression`` until ``done(value)`` holds; PrometheusError at the deadline."""
        deadline = time.monotonic() + timeout_s
        value = math.nan
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
                value = self.scalar(expression)
                if done(value):
                    return value
            time.sleep(0.25)
        raise PrometheusError(
            f"{expression} was {value} after {timeout_s} s\n{self.log_tail()}"
        )

    def stop(self) -> None:
        """SIGTERM our Prometheus, wait for it to exit, remove the temp dir."""
        try:
            self._terminate()
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def _terminate(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=_STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            process.kill()  # our own child, by its PID
            process.wait(timeout=_STOP_GRACE_S)

    def log_tail(self, lines: int = 20) -> str:
        """The end of Prometheus' log, for error messages."""
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (the port was free a moment ago)."""
    return f"http://127.0.0.1:{_free_port()}"


@dataclass
class PrometheusStack:
    """What the fixture hands to tests: the server and the target it scrapes."""

    server: PrometheusServer
    target: SyntheticTarget
