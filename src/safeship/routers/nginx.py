"""The ``nginx`` router: split traffic with a weighted NGINX upstream, changed by reload.

safeship renders NGINX's whole configuration (:mod:`safeship.routers.nginx_config`): a weighted
``upstream safeship`` carrying the split, one pinned upstream per version chosen by a ``map`` on
``X-Safeship-Version``, and one ``server`` on ``listen``. Percent becomes integer weights by
:mod:`safeship.routers.nginx_weights` (exact when possible, else documented rounding; a version
at 0 % is written ``down``, since ``weight=0`` is invalid).

Every change (:meth:`NginxRouter.set_backends`, :meth:`~NginxRouter.set_weights`,
:meth:`~NginxRouter.reset`) goes the same way:

1. render the new file and write it next to the live one (``nginx.conf.tmp``);
2. ``nginx -t`` on it; refused -> the temp file goes, :class:`RouterRejected` carries NGINX's
   message, and nothing else changed;
3. rename it over ``nginx.conf`` (atomic), then ``nginx -s reload``, and wait for a new
   generation of workers. A reload that fails (non-zero exit, or ``[emerg]``/``[alert]`` in the
   error log, or no new workers in time) puts the previous file back and raises
   :class:`RouterRejected`; NGINX keeps running its previous configuration, so the old split
   stays in force;
4. wait (bounded by ``reload_settle_s``, never an error) for the old workers to exit.

**Time to effect.** A reload is not instantaneous like HAProxy's runtime API: old workers
finish the requests they hold, and a client that keeps a connection open keeps talking to an
old worker until that connection closes. After :meth:`set_weights` returns, new connections
reach the new split; a request sent on an idle keep-alive connection just as an old worker closes
it can fail (infra.md, section 3: clients should retry idempotent requests or use new
connections). Weighted round-robin state also restarts with each reload.

**Read-back.** NGINX cannot report upstream weights at runtime (open-source NGINX has no API for
them). :meth:`NginxRouter.weights` therefore parses the file NGINX last accepted, which is the
only file safeship leaves in place.

With ``manage_process: true`` the router starts NGINX itself on first use
(``nginx -c <config_dir>/nginx.conf -e <config_dir>/error.log``) and stops it in :meth:`close`:
for tests and the demo. Otherwise start NGINX with those flags yourself.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import ClassVar

from pydantic import Field, field_validator

from safeship._internal.subprocess import CommandResult, CommandRunner, run_command
from safeship.errors import ToolUnavailable
from safeship.model.endpoints import Endpoint
from safeship.routers import daemon_process, nginx_config
from safeship.routers.interface import (
    Router,
    RouterOptions,
    RouterRejected,
    RouterUnavailable,
    validate_weights,
)
from safeship.routers.nginx_config import NginxConfig, UpstreamServer
from safeship.routers.nginx_weights import WeightConversionError, to_percent, to_server_weights
from safeship.routers.render_checks import parse_listen, validated_backends

__all__ = ["NginxOptions", "NginxRouter", "UpstreamServer"]

log = logging.getLogger(__name__)

_PROGRAM = "nginx"
_POLL_S = 0.005
_FAILURE_LINE = re.compile(r"\[(?:emerg|alert)\]")


class NginxOptions(RouterOptions):
    """Options of ``type: nginx``."""

    config_dir: Path
    """Holds ``nginx.conf``, ``nginx.pid`` and ``error.log``."""
    listen: str = "127.0.0.1:8080"
    """``host:port`` of the public server."""
    temp_dir: Path | None = None
    """NGINX's temp paths; default ``<system temp>/safeship-nginx-<hash of config_dir>``."""
    manage_process: bool = False
    """Start NGINX on first use and stop it on :meth:`NginxRouter.close` (tests, demo)."""
    nginx_binary: str = "nginx"
    worker_processes: int = Field(default=1, ge=1, le=64)
    """One worker keeps the weighted round robin exact; more workers each balance on their own."""
    keepalive: int = Field(default=16, ge=1, le=10_000)
    """Idle keep-alive connections to the backends, per worker and upstream."""
    command_timeout_s: float = Field(default=10.0, gt=0)
    reload_timeout_s: float = Field(default=10.0, gt=0)
    """How long a start or reload may take before it counts as failed."""
    reload_settle_s: float = Field(default=2.0, ge=0)
    """After a reload, how long to wait for old workers to finish (never an error)."""

    @field_validator("listen")
    @classmethod
    def _address(cls, value: str) -> str:
        parse_listen(value)
        return value

    @field_validator("config_dir", "temp_dir")
    @classmethod
    def _plain_path(cls, value: Path | None) -> Path | None:
        if value is not None:
            nginx_config.check_path(value.absolute())
        return value

    @property
    def effective_temp_dir(self) -> Path:
        """The temp dir in use (workers run as ``nobody``, so never under ``config_dir``)."""
        if self.temp_dir is not None:
            return self.temp_dir.absolute()
        digest = hashlib.sha256(str(self.config_dir.absolute()).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()).absolute() / f"safeship-nginx-{digest}"


class NginxRouter(Router):
    """Splits traffic with NGINX (see the module docstring)."""

    type_name: ClassVar[str] = "nginx"
    options_model: ClassVar[type[RouterOptions]] = NginxOptions

    def __init__(
        self,
        options: NginxOptions,
        *,
        runner: CommandRunner = run_command,
        send_signal: daemon_process.SignalSender = os.kill,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.options = options
        self._runner = runner
        self._send_signal = send_signal
        self._sleep = sleep
        self._monotonic = monotonic
        self._lock = threading.RLock()
        self._backends: dict[str, tuple[Endpoint, ...]] = {}
        self._desired: dict[str, float] = {}
        self._closed = False
        self._launched_pid: int | None = None

    # ------------------------------------------------------------------ paths and addresses

    @property
    def config_dir(self) -> Path:
        """The absolute config dir."""
        return self.options.config_dir.absolute()

    @property
    def config_path(self) -> Path:
        """The configuration file NGINX runs (always the last one it accepted)."""
        return self.config_dir / "nginx.conf"

    @property
    def pid_path(self) -> Path:
        """The master's pid file."""
        return self.config_dir / "nginx.pid"

    @property
    def error_log_path(self) -> Path:
        """NGINX's error log."""
        return self.config_dir / "error.log"

    @property
    def url(self) -> str:
        """Base URL of the public server."""
        host, port = parse_listen(self.options.listen)
        return Endpoint(host, port).url()

    @property
    def master_pid(self) -> int | None:
        """PID of the running NGINX master, from the pid file (None when not running)."""
        pid = daemon_process.read_pid(self.pid_path)
        if pid is None or not daemon_process.is_running(pid, _PROGRAM):
            return None
        return pid

    def worker_pids(self) -> set[int]:
        """PIDs of the master's live workers (old ones included while they finish)."""
        pid = self.master_pid
        if pid is None:
            return set()
        return {child for child in daemon_process.child_pids(pid)
                if daemon_process.is_running(child, _PROGRAM)}

    # ------------------------------------------------------------------ Router interface

    def set_backends(self, backends: Mapping[str, Sequence[Endpoint]]) -> None:
        """Render, test and install a config with these endpoints, then reload NGINX."""
        with self._lock:
            self._check_open()
            validated = self._validate_backends(backends)
            carrying = sorted(version for version, weight in self._desired.items()
                              if version not in validated and weight > 0)
            if carrying:
                raise RouterRejected(
                    f"nginx router: version(s) {', '.join(carrying)} still take traffic",
                    hint="set their weight to 0 before removing their backends",
                )
            desired = {version: weight for version, weight in self._desired.items()
                       if version in validated}
            self._apply(validated, desired)

    def set_weights(self, weights: Mapping[str, float]) -> None:
        """Render, test and install the new split, then reload NGINX (see module docstring)."""
        with self._lock:
            self._check_open()
            split = {version: float(weight) for version, weight in
                     validate_weights(weights).items()}
            unknown = sorted(version for version in split if version not in self._backends)
            if unknown:
                raise RouterRejected(
                    f"nginx router: no endpoints declared for version(s) {', '.join(unknown)}",
                    hint="call set_backends with every version before giving it traffic",
                )
            self._apply(self._backends, split)

    def weights(self) -> dict[str, float]:
        """The split in the config NGINX runs, in percent (NGINX cannot report it live).

        ``{}`` when every server is ``down`` (no split in force yet).
        """
        with self._lock:
            self._check_open()
            self._ensure_started()
            if self.master_pid is None:
                raise self._unavailable("NGINX is not running, so no split is in force")
            current = self.server_weights()
            if sum(current.values()) <= 0:
                return {}
            if self._desired and current == self._expected(self._backends, self._desired):
                return dict(self._desired)
            return to_percent(current)

    def reset(self) -> None:
        """Remove every version: every request gets a 503."""
        with self._lock:
            self._check_open()
            self._apply({}, {})

    def close(self) -> None:
        """Stop NGINX if this router manages or started it (idempotent); later calls fail."""
        with self._lock:
            self._closed = True
            pid = self.master_pid
            if pid is None or not (self.options.manage_process or pid == self._launched_pid):
                return
            if not daemon_process.stop(pid, _PROGRAM, send_signal=self._send_signal,
                                      wait=self._wait, grace_s=self.options.reload_timeout_s):
                log.warning("nginx router: NGINX (pid %d) did not exit", pid)

    # ------------------------------------------------------------------ beyond the interface

    def start(self) -> None:
        """Start NGINX with the current config unless it already runs (idempotent).

        :meth:`close` stops an NGINX this router started, even without ``manage_process``.
        """
        with self._lock:
            self._check_open()
            if self.master_pid is not None:
                return
            text = self._render(self._backends, self._desired)
            if self._current_text() != text:
                self._install(text)
            self._launch()

    def write_config(self) -> Path:
        """``nginx -t`` and write the config for the current state; start or reload nothing.

        For an NGINX you run yourself (``manage_process: false``): write the file once, start
        NGINX on it (``nginx -c <config_dir>/nginx.conf -e <config_dir>/error.log``), then drive
        it through this router.
        """
        with self._lock:
            self._check_open()
            self._install(self._render(self._backends, self._desired))
            return self.config_path

    def server_weights(self) -> dict[str, int]:
        """Weight per server key (``<version>-<n>``; 0 = ``down``) in the running config."""
        return {server.key: server.weight for server in self.upstream_servers()}

    def upstream_servers(self) -> list[UpstreamServer]:
        """The weighted upstream's servers, parsed from the config NGINX last accepted."""
        text = self._current_text()
        return [] if text is None else nginx_config.parse_split(text)

    def desired_weights(self) -> dict[str, float]:
        """The split safeship last set."""
        with self._lock:
            return dict(self._desired)

    # ------------------------------------------------------------------ internals

    def _check_open(self) -> None:
        if self._closed:
            raise RouterUnavailable("nginx router: this router is closed",
                                    hint="make a new router")

    def _unavailable(self, what: str) -> RouterUnavailable:
        return RouterUnavailable(
            f"nginx router ({self.config_path}): {what}",
            hint=f"start NGINX with: nginx -c {self.config_path} -e {self.error_log_path}",
        )

    def _validate_backends(
        self, backends: Mapping[str, Sequence[Endpoint]]
    ) -> dict[str, tuple[Endpoint, ...]]:
        try:
            return validated_backends(backends)
        except ValueError as exc:
            raise RouterRejected(f"nginx router: {exc}") from exc

    @staticmethod
    def _expected(backends: Mapping[str, Sequence[Endpoint]],
                  split: Mapping[str, float]) -> dict[str, int]:
        try:
            return to_server_weights(split, {v: len(eps) for v, eps in backends.items()})
        except WeightConversionError as exc:
            raise RouterRejected(f"nginx router: {exc}") from exc

    def _render(self, backends: Mapping[str, Sequence[Endpoint]],
                split: Mapping[str, float]) -> str:
        try:
            return nginx_config.render(NginxConfig(
                listen=self.options.listen,
                config_dir=self.config_dir,
                temp_dir=self.options.effective_temp_dir,
                backends=backends,
                server_weights=self._expected(backends, split),
                worker_processes=self.options.worker_processes,
                keepalive=self.options.keepalive,
            ))
        except ValueError as exc:
            raise RouterRejected(f"nginx router: {exc}") from exc

    def _apply(self, backends: dict[str, tuple[Endpoint, ...]],
               split: dict[str, float]) -> None:
        text = self._render(backends, split)
        if self._current_text() == text and self.master_pid is not None:
            self._backends, self._desired = backends, split
            return  # NGINX already runs exactly this: nothing to reload
        previous = self._install(text)
        try:
            if self.master_pid is not None:
                self._reload()
            elif self.options.manage_process:
                self._launch()
            else:
                raise self._unavailable(
                    f"NGINX is not running (no live PID in {self.pid_path}) and "
                    "manage_process is false"
                )
        except (RouterRejected, RouterUnavailable):
            self._restore(previous)
            raise
        self._backends, self._desired = backends, split

    def _ensure_started(self) -> None:
        if self.options.manage_process and self.master_pid is None:
            self.start()

    def _current_text(self) -> str | None:
        try:
            return self.config_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._unavailable(f"cannot read {self.config_path}: {exc}") from exc

    def _wait(self, predicate: Callable[[], bool], timeout_s: float) -> bool:
        return daemon_process.poll_until(predicate, timeout_s, poll_s=_POLL_S,
                                         monotonic=self._monotonic, sleep=self._sleep)

    def _run(self, *args: str, config: Path | None = None) -> CommandResult:
        argv = [self.options.nginx_binary, "-c", str(config or self.config_path),
                "-e", str(self.error_log_path), *args]
        try:
            return self._runner(argv, timeout_s=self.options.command_timeout_s)
        except ToolUnavailable as exc:
            raise RouterUnavailable(f"nginx router: {exc.message}", hint=exc.hint) from exc

    @staticmethod
    def _message(result: CommandResult) -> str:
        text = (result.stderr or result.stdout).strip()
        return text or f"exit {result.returncode}"

    def _install(self, text: str) -> str | None:
        """``nginx -t`` the new text, then atomically make it the config file.

        Returns the previous file's text (None when there was none), for :meth:`_restore`.
        """
        self.config_dir.mkdir(parents=True, exist_ok=True)
        self.options.effective_temp_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
        candidate = self.config_path.with_name(self.config_path.name + ".tmp")
        candidate.write_text(text, encoding="utf-8")
        result = self._run("-t", "-q", config=candidate)
        if result.returncode != 0:
            candidate.unlink(missing_ok=True)
            raise RouterRejected(
                f"nginx router: nginx -t refused the new config: {self._message(result)}"
            )
        previous = self._current_text()
        os.replace(candidate, self.config_path)
        return previous

    def _restore(self, previous: str | None) -> None:
        if previous is None:
            self.config_path.unlink(missing_ok=True)
            return
        backup = self.config_path.with_name(self.config_path.name + ".restore")
        backup.write_text(previous, encoding="utf-8")
        os.replace(backup, self.config_path)

    def _log_size(self) -> int:
        try:
            return self.error_log_path.stat().st_size
        except OSError:
            return 0

    def _failures_since(self, offset: int) -> list[str]:
        try:
            with self.error_log_path.open("rb") as log_file:
                log_file.seek(offset)
                text = log_file.read(1024 * 1024).decode(errors="replace")
        except OSError:
            return []
        return [line for line in text.splitlines() if _FAILURE_LINE.search(line)]

    def _launch(self) -> None:
        offset = self._log_size()
        result = self._run()
        if result.returncode != 0:
            raise self._unavailable(f"NGINX did not start: {self._message(result)}")
        started = self._wait(lambda: bool(self.worker_pids()), self.options.reload_timeout_s)
        self._launched_pid = self.master_pid
        if not started:
            failures = self._failures_since(offset)
            raise self._unavailable(
                "NGINX started but no worker came up"
                + (f": {failures[-1]}" if failures else "")
            )

    def _reload(self) -> None:
        before = self.worker_pids()
        offset = self._log_size()
        result = self._run("-s", "reload")
        if result.returncode != 0:
            raise RouterRejected(f"nginx router: reload refused: {self._message(result)}")
        failures: list[str] = []

        def settled() -> bool:
            failures[:] = self._failures_since(offset)
            return bool(failures) or bool(self.worker_pids() - before)

        done = self._wait(settled, self.options.reload_timeout_s)
        if failures:
            raise RouterRejected(
                f"nginx router: the reload failed, NGINX keeps its previous config: {failures[-1]}"
            )
        if not done:
            raise RouterRejected(
                f"nginx router: no new workers within {self.options.reload_timeout_s:g}s after "
                "the reload; NGINX keeps its previous config"
            )
        # Old workers finish the requests they hold and close idle keep-alive connections; new
        # connections only reach the new split once they stop accepting. Bounded, not an error.
        self._wait(lambda: not (self.worker_pids() & before), self.options.reload_settle_s)
