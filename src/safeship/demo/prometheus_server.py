"""A real Prometheus for ``safeship demo --prometheus``, scraping the embedded router.

:class:`DemoPrometheus` runs ``/usr/bin/prometheus`` (when installed) on 127.0.0.1 with a free
port, a temp data dir, a 1 s scrape interval and ``--log.level=warn``, scraping the router's
admin ``/metrics`` with the admin bearer token (``authorization: {type: Bearer, credentials:
...}`` in the scrape config; the config file is private to the temp dir and removed at the end).
Everything waits against a deadline: ``/-/ready`` after the start, and :meth:`wait_for_data`
for the first scraped sample (Prometheus applies its targets on a 5 s tick, so the first scrape
comes about 6 s after the start). :meth:`DemoPrometheus.stop` sends SIGTERM to its own PID and
waits for the exit.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from safeship._internal.subprocess import start_background

PROMETHEUS_BINARY = "/usr/bin/prometheus"
JOB = "safeship-router"
_START_ATTEMPTS = 3
_READY_TIMEOUT_S = 15.0
_STOP_GRACE_S = 10.0


class PrometheusStartError(RuntimeError):
    """Prometheus could not be started, or its first samples did not arrive in time."""


def prometheus_binary() -> str | None:
    """The Prometheus binary if it is installed (``/usr/bin/prometheus``), else None."""
    path = Path(PROMETHEUS_BINARY)
    return str(path) if path.is_file() and os.access(path, os.X_OK) else None


class DemoPrometheus:
    """One Prometheus process with its own config and data in a temp dir."""

    def __init__(self, binary: str, target: str, token: str) -> None:
        self.binary = binary
        self.target = target
        self._token = token
        self.base = Path(tempfile.mkdtemp(prefix="safeship-demo-prom-"))
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    @property
    def url(self) -> str:
        """Base URL of the HTTP API."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        """Prometheus' own output."""
        return self.base / "prometheus.log"

    def __enter__(self) -> DemoPrometheus:
        self.start()
        return self

    def __exit__(self, *args: object) -> None:
        self.stop()

    def start(self) -> None:
        """Write the config, start Prometheus on a free port and wait until it is ready."""
        config = self.base / "prometheus.yml"
        fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(
                "global: {scrape_interval: 1s, evaluation_interval: 1s, scrape_timeout: 1s}\n"
                "scrape_configs:\n"
                f"  - job_name: {JOB}\n"
                f"    authorization: {{type: Bearer, credentials: '{self._token}'}}\n"
                f"    static_configs: [{{targets: ['{self.target}']}}]\n"
            )
        for attempt in range(1, _START_ATTEMPTS + 1):
            self.port = _free_port()
            self.started_at = time.monotonic()
            self.process = start_background(
                [self.binary, f"--config.file={config}",
                 f"--storage.tsdb.path={self.base / 'data'}",
                 f"--web.listen-address=127.0.0.1:{self.port}",
                 "--storage.tsdb.retention.time=1h", "--log.level=warn"],
                log_path=self.log_file,
            )
            if self._wait_ready():
                return
            self._terminate()
            if attempt == _START_ATTEMPTS:
                self.stop()
                raise PrometheusStartError(
                    f"Prometheus did not become ready\n{self.log_tail()}")

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

    def has_samples(self, expression: str) -> bool:
        """True when the instant query ``expression`` returns at least one sample."""
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            response = client.get(f"{self.url}/api/v1/query", params={"query": expression})
        response.raise_for_status()
        return bool(response.json()["data"]["result"])

    def wait_for_data(self, expression: str, timeout_s: float) -> float:
        """Poll ``expression`` until it returns samples; the seconds since the start.

        Raises :class:`PrometheusStartError` after ``timeout_s``.
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                break
            with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
                if self.has_samples(expression):
                    return time.monotonic() - self.started_at
            time.sleep(0.2)
        raise PrometheusStartError(
            f"no samples for {expression} after {timeout_s:g} s\n{self.log_tail()}")

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
