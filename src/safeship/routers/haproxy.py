"""The ``haproxy`` router: split traffic with HAProxy, driven through its runtime API.

safeship renders HAProxy's whole configuration (:mod:`safeship.routers.haproxy_config`): one
frontend on ``listen``, one ``balance roundrobin`` backend holding one server per endpoint of
every version, a per-version backend for requests pinned with ``X-Safeship-Version``, the admin
stats socket and, on ``stats_listen``, the stats page and Prometheus exporter.

How each call reaches HAProxy:

* :meth:`HaproxyRouter.set_weights` converts percent to absolute server weights
  (:mod:`safeship.routers.haproxy_weights`: exact when possible, else documented rounding) and
  sends one chained ``set weight safeship/<server> N; ...`` line over the stats socket. Servers
  that keep traffic are raised before the others are lowered, so there is never an instant
  where every weight is 0. HAProxy applies it to the very next request (infra.md, section 2),
  and no reload happens, so no connection is dropped.
* :meth:`HaproxyRouter.weights` asks HAProxy (``show stat`` for the servers, ``get weight`` for
  their weights) and converts back to percent. When HAProxy's weights are exactly what the
  desired split converts to, the desired split is reported as it was asked for (no rounding
  noise); otherwise the percentages HAProxy's weights really give.
* :meth:`HaproxyRouter.set_backends` re-renders the file, checks it with ``haproxy -c``, puts it
  in place atomically and reloads (master-worker mode). The reload goes through the master CLI
  (``haproxy -S``): the command waits in the socket until the master can act on it, and the
  master counts reloads and failed reloads, so safeship knows when the new worker serves and
  whether the load failed. A ``SIGUSR2`` sent right after a reload can be lost (measured: 7 of
  15 sent at once), which is why signals are only the fallback for an HAProxy started without
  ``-S`` (resent when no new worker appears). A refused file or a failed reload restores the
  previous file and raises :class:`RouterRejected`; HAProxy keeps its previous workers.

**Runtime weights are lost on reload or restart**: a new worker starts from the weights written
in the file. safeship writes the desired split into every file it renders, keeps that split in
memory, and :meth:`HaproxyRouter.ensure` re-applies it when HAProxy reports anything else (after
a reload someone else did, or a restart). :meth:`weights` always reports what HAProxy says.

With ``manage_process: true`` the router starts HAProxy itself on first use
(``haproxy -W -D -S <config_dir>/master.sock -p <config_dir>/haproxy.pid -f
<config_dir>/haproxy.cfg``) and stops it in :meth:`close` (SIGTERM to the master's PID, then a
bounded wait for it and its workers to exit): for tests and the demo. Otherwise run HAProxy with
exactly those flags yourself; safeship only rewrites the file, reloads through the master CLI
and talks to the stats socket.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import ClassVar

from pydantic import Field, field_validator, model_validator

from safeship._internal.subprocess import CommandResult, CommandRunner, run_command
from safeship.errors import ToolUnavailable
from safeship.model.endpoints import Endpoint
from safeship.routers import daemon_process, haproxy_config
from safeship.routers.haproxy_config import BACKEND, HaproxyConfig
from safeship.routers.haproxy_runtime import (
    HaproxyRuntimeApi,
    HaproxyServerStats,
    MasterStatus,
    RuntimeApiError,
    RuntimeApiRefused,
)
from safeship.routers.haproxy_weights import (
    WeightConversionError,
    to_percent,
    to_server_weights,
)
from safeship.routers.interface import (
    Router,
    RouterOptions,
    RouterRejected,
    RouterUnavailable,
    validate_weights,
)
from safeship.routers.render_checks import parse_listen, validated_backends

__all__ = ["HaproxyOptions", "HaproxyRouter", "HaproxyServerStats"]

log = logging.getLogger(__name__)

_PROGRAM = "haproxy"
_UNIX_PATH_MAX = 107  # sun_path is 108 bytes including the terminating NUL
_POLL_S = 0.01


class HaproxyOptions(RouterOptions):
    """Options of ``type: haproxy``."""

    config_dir: Path
    """Holds ``haproxy.cfg``, ``haproxy.pid`` and (by default) ``admin.sock``."""
    socket: Path | None = None
    """The admin stats socket; default ``<config_dir>/admin.sock``."""
    master_socket: Path | None = None
    """The master CLI (``haproxy -S``); default ``<config_dir>/master.sock``. Reloads go
    through it; without it safeship falls back to ``SIGUSR2``."""
    listen: str = "127.0.0.1:8080"
    """``host:port`` of the public frontend."""
    stats_listen: str | None = None
    """``host:port`` for ``/stats`` and the Prometheus exporter at ``/metrics``; none if unset."""
    manage_process: bool = False
    """Start HAProxy on first use and stop it on :meth:`HaproxyRouter.close` (tests, demo)."""
    haproxy_binary: str = "haproxy"
    health_path: str = "/healthz"
    """``option httpchk GET <health_path>``: every endpoint must answer it with 2xx/3xx."""
    command_timeout_s: float = Field(default=10.0, gt=0)
    """Bound on each ``haproxy`` program run and each runtime API call."""
    reload_timeout_s: float = Field(default=10.0, gt=0)
    """How long a start or reload may take before it counts as failed."""

    @field_validator("listen", "stats_listen")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None:
            parse_listen(value)
        return value

    @field_validator("health_path")
    @classmethod
    def _health(cls, value: str) -> str:
        return haproxy_config.check_health_path(value)

    @model_validator(mode="after")
    def _socket_paths(self) -> HaproxyOptions:
        for path in (str(self.socket_path), str(self.master_socket_path)):
            if any(char.isspace() for char in path):
                raise ValueError(f"socket path '{path}' must not contain whitespace")
            if len(path.encode()) > _UNIX_PATH_MAX:
                raise ValueError(
                    f"socket path '{path}' is longer than {_UNIX_PATH_MAX} bytes (a Unix "
                    "socket limit); set 'socket' / 'master_socket' to shorter paths"
                )
        return self

    @property
    def socket_path(self) -> Path:
        """The admin socket in use."""
        return self.socket if self.socket is not None else self.config_dir / "admin.sock"

    @property
    def master_socket_path(self) -> Path:
        """The master CLI socket in use."""
        if self.master_socket is not None:
            return self.master_socket
        return self.config_dir / "master.sock"


class HaproxyRouter(Router):
    """Splits traffic with HAProxy (see the module docstring)."""

    type_name: ClassVar[str] = "haproxy"
    options_model: ClassVar[type[RouterOptions]] = HaproxyOptions

    def __init__(
        self,
        options: HaproxyOptions,
        *,
        runner: CommandRunner = run_command,
        send_signal: daemon_process.SignalSender = os.kill,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        runtime_api: HaproxyRuntimeApi | None = None,
        master_api: HaproxyRuntimeApi | None = None,
    ) -> None:
        self.options = options
        self._runner = runner
        self._send_signal = send_signal
        self._sleep = sleep
        self._monotonic = monotonic
        self.api = runtime_api or HaproxyRuntimeApi(
            options.socket_path, timeout_s=options.command_timeout_s
        )
        self.master_api = master_api or HaproxyRuntimeApi(
            options.master_socket_path, timeout_s=options.command_timeout_s
        )
        self._lock = threading.RLock()
        self._backends: dict[str, tuple[Endpoint, ...]] = {}
        self._desired: dict[str, float] = {}
        self._closed = False
        self._launched_pid: int | None = None

    # ------------------------------------------------------------------ paths and addresses

    @property
    def config_path(self) -> Path:
        """The configuration file HAProxy runs."""
        return self.options.config_dir / "haproxy.cfg"

    @property
    def pid_path(self) -> Path:
        """The master's pid file."""
        return self.options.config_dir / "haproxy.pid"

    @property
    def url(self) -> str:
        """Base URL of the public frontend."""
        host, port = parse_listen(self.options.listen)
        return Endpoint(host, port).url()

    @property
    def stats_url(self) -> str | None:
        """Base URL of the stats listener (``/stats``, ``/metrics``), if configured."""
        if self.options.stats_listen is None:
            return None
        host, port = parse_listen(self.options.stats_listen)
        return Endpoint(host, port).url()

    @property
    def master_pid(self) -> int | None:
        """PID of the running HAProxy master, from the pid file (None when not running)."""
        pid = daemon_process.read_pid(self.pid_path)
        if pid is None or not daemon_process.is_running(pid, _PROGRAM):
            return None
        return pid

    def worker_pid(self) -> int:
        """PID of the worker that answers the runtime API now."""
        try:
            return int(self.api.info().get("Pid", "0"))
        except (RuntimeApiError, RuntimeApiRefused, ValueError) as exc:
            raise self._unavailable(f"cannot read 'show info': {exc}") from exc

    # ------------------------------------------------------------------ Router interface

    def set_backends(self, backends: Mapping[str, Sequence[Endpoint]]) -> None:
        """Render, check and install a config with these endpoints, then reload HAProxy."""
        with self._lock:
            self._check_open()
            validated = self._validate_backends(backends)
            carrying = sorted(version for version, weight in self._desired.items()
                              if version not in validated and weight > 0)
            if carrying:
                raise RouterRejected(
                    f"haproxy router: version(s) {', '.join(carrying)} still take traffic",
                    hint="set their weight to 0 before removing their backends",
                )
            desired = {version: weight for version, weight in self._desired.items()
                       if version in validated}
            server_weights = self._convert(desired, validated)
            text = self._render(validated, server_weights)
            if self._current_text() != text or self.master_pid is None:
                self._apply_config(text)
            self._backends, self._desired = validated, desired
            self._push_weights(server_weights)

    def set_weights(self, weights: Mapping[str, float]) -> None:
        """Set the split through the runtime API; applies to the next request."""
        with self._lock:
            self._check_open()
            split = {version: float(weight) for version, weight in
                     validate_weights(weights).items()}
            unknown = sorted(version for version in split if version not in self._backends)
            if unknown:
                raise RouterRejected(
                    f"haproxy router: no endpoints declared for version(s) {', '.join(unknown)}",
                    hint="call set_backends with every version before giving it traffic",
                )
            server_weights = self._convert(split, self._backends)
            self._ensure_started()
            previous = self._expected()
            try:
                self._push_weights(server_weights)
            except RouterRejected:
                # HAProxy refused part of the chain: put the previous split back.
                with contextlib.suppress(RouterRejected, RouterUnavailable):
                    self._push_weights(previous)
                raise
            self._desired = split

    def weights(self) -> dict[str, float]:
        """The split HAProxy serves now, in percent (read back over the runtime API).

        ``{}`` when no server has a weight (no split in force, e.g. before the first
        :meth:`set_weights`, or after a reload of a file rendered before it).
        """
        with self._lock:
            self._check_open()
            self._ensure_started()
            current = self.server_weights()
            try:
                percent = to_percent(current)
            except ValueError as exc:
                raise self._unavailable(f"backend '{BACKEND}' has foreign servers: {exc}") from exc
            if sum(current.values()) <= 0:
                return {}
            if self._desired and current == self._expected():
                return dict(self._desired)
            return percent

    def reset(self) -> None:
        """Remove every version: an empty backend (requests get 503)."""
        with self._lock:
            self._check_open()
            text = self._render({}, {})
            if self._current_text() != text or self.master_pid is None:
                self._apply_config(text)
            self._backends, self._desired = {}, {}

    def close(self) -> None:
        """Stop HAProxy if this router manages or started it (idempotent); later calls fail."""
        with self._lock:
            self._closed = True
            pid = self.master_pid
            if pid is None or not (self.options.manage_process or pid == self._launched_pid):
                return
            stopped = daemon_process.stop(
                pid, _PROGRAM, send_signal=self._send_signal, wait=self._wait,
                grace_s=self.options.reload_timeout_s,
            )
            if not stopped:
                log.warning("haproxy router: HAProxy (pid %d) did not exit", pid)

    # ------------------------------------------------------------------ beyond the interface

    def start(self) -> None:
        """Start HAProxy with the current config unless it already runs (idempotent).

        :meth:`close` stops an HAProxy this router started, even without ``manage_process``.
        """
        with self._lock:
            self._check_open()
            if self.master_pid is not None:
                return
            self.options.config_dir.mkdir(parents=True, exist_ok=True)
            text = self._render(self._backends, self._convert(self._desired, self._backends))
            if self._current_text() != text:
                self._install(text)
            self._launch()

    def write_config(self) -> Path:
        """Check and write the config for the current state; start or reload nothing.

        For an HAProxy you run yourself (``manage_process: false``): write the file once, start
        HAProxy on it (flags in the module docstring), then drive it through this router.
        """
        with self._lock:
            self._check_open()
            self._install(self._render(self._backends, self._expected()))
            return self.config_path

    def ensure(self) -> None:
        """Make HAProxy serve the desired split again (after a reload, restart or drift).

        Starts a managed HAProxy that is not running; re-installs and reloads the config when
        HAProxy's servers are not the declared endpoints; re-applies the weights when HAProxy
        reports other weights than the desired split converts to. Idempotent.
        """
        with self._lock:
            self._check_open()
            self._ensure_started()
            expected = self._expected()
            current = self.server_weights()
            if set(current) != set(expected):
                self._apply_config(self._render(self._backends, expected))
                current = self.server_weights()
            if current != expected:
                self._push_weights(expected)

    def reload(self) -> None:
        """Re-render and reload HAProxy, then re-apply the desired split."""
        with self._lock:
            self._check_open()
            expected = self._expected()
            self._apply_config(self._render(self._backends, expected))
            self._push_weights(expected)

    def server_weights(self) -> dict[str, int]:
        """Absolute weight of every server of the balanced backend, as HAProxy reports it."""
        try:
            servers = [row.server for row in self.api.server_stats(BACKEND)]
            return self.api.get_weights(BACKEND, servers)
        except (RuntimeApiError, RuntimeApiRefused) as exc:
            raise self._unavailable(str(exc)) from exc

    def server_stats(self) -> list[HaproxyServerStats]:
        """Per-server statistics of the balanced backend (status, weight, sessions, 5xx ...)."""
        with self._lock:
            self._ensure_started()
            try:
                return self.api.server_stats(BACKEND)
            except (RuntimeApiError, RuntimeApiRefused) as exc:
                raise self._unavailable(str(exc)) from exc

    def desired_weights(self) -> dict[str, float]:
        """The split safeship last set (what :meth:`ensure` restores)."""
        with self._lock:
            return dict(self._desired)

    # ------------------------------------------------------------------ internals

    def _check_open(self) -> None:
        if self._closed:
            raise RouterUnavailable("haproxy router: this router is closed",
                                    hint="make a new router")

    def _unavailable(self, what: str) -> RouterUnavailable:
        return RouterUnavailable(
            f"haproxy router ({self.options.socket_path}): {what}",
            hint="is HAProxy running with the config safeship rendered? (haproxy -W -D -S "
                 f"{self.options.master_socket_path} -p {self.pid_path} -f {self.config_path})",
        )

    def _validate_backends(
        self, backends: Mapping[str, Sequence[Endpoint]]
    ) -> dict[str, tuple[Endpoint, ...]]:
        try:
            return validated_backends(backends)
        except ValueError as exc:
            raise RouterRejected(f"haproxy router: {exc}") from exc

    @staticmethod
    def _convert(split: Mapping[str, float],
                 backends: Mapping[str, Sequence[Endpoint]]) -> dict[str, int]:
        try:
            return to_server_weights(split, {v: len(eps) for v, eps in backends.items()})
        except WeightConversionError as exc:
            raise RouterRejected(f"haproxy router: {exc}") from exc

    def _expected(self) -> dict[str, int]:
        return self._convert(self._desired, self._backends)

    def _render(self, backends: Mapping[str, Sequence[Endpoint]],
                server_weights: Mapping[str, int]) -> str:
        return haproxy_config.render(HaproxyConfig(
            listen=self.options.listen,
            socket=self.options.socket_path,
            backends=backends,
            server_weights=server_weights,
            stats_listen=self.options.stats_listen,
            health_path=self.options.health_path,
        ))

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

    def _run(self, argv: Sequence[str]) -> CommandResult:
        try:
            return self._runner(argv, timeout_s=self.options.command_timeout_s)
        except ToolUnavailable as exc:
            raise RouterUnavailable(f"haproxy router: {exc.message}", hint=exc.hint) from exc

    def _install(self, text: str) -> str | None:
        """Check ``text`` with ``haproxy -c`` and atomically make it the config file.

        Returns the previous file's text (None when there was none), for :meth:`_restore`.
        """
        self.options.config_dir.mkdir(parents=True, exist_ok=True)
        candidate = self.config_path.with_name(self.config_path.name + ".tmp")
        candidate.write_text(text, encoding="utf-8")
        result = self._run([self.options.haproxy_binary, "-c", "-f", str(candidate)])
        if result.returncode != 0:
            candidate.unlink(missing_ok=True)
            # HAProxy prefixes its alerts with version NOTICE lines; keep what explains it.
            lines = [line for line in (result.stderr + result.stdout).splitlines()
                     if line.strip() and "[NOTICE]" not in line]
            message = "\n".join(lines) or f"exit {result.returncode}"
            raise RouterRejected(f"haproxy router: HAProxy refused the new config: {message}")
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

    def _apply_config(self, text: str) -> None:
        previous = self._install(text)
        try:
            if self.master_pid is not None:
                self._reload_master()
            elif self.options.manage_process:
                self._launch()
            else:
                raise self._unavailable(
                    f"HAProxy is not running (no live PID in {self.pid_path}) and "
                    "manage_process is false"
                )
        except (RouterRejected, RouterUnavailable):
            self._restore(previous)
            raise

    def _ensure_started(self) -> None:
        if self.options.manage_process and self.master_pid is None:
            self.start()

    def _launch(self) -> None:
        self.pid_path.unlink(missing_ok=True)
        result = self._run([self.options.haproxy_binary, "-W", "-D",
                            "-S", str(self.options.master_socket_path),
                            "-p", str(self.pid_path), "-f", str(self.config_path)])
        if result.returncode != 0:
            message = (result.stderr or result.stdout).strip() or f"exit {result.returncode}"
            raise self._unavailable(f"HAProxy did not start: {message}")

        def serving() -> bool:
            # The worker answers its socket, and the master its CLI: only then is the master
            # in its loop, ready for a reload (a SIGUSR2 sent earlier can be lost).
            if self.master_pid is None:
                return False
            try:
                self.api.info()
                self.master_api.master_status()
            except (RuntimeApiError, RuntimeApiRefused):
                return False
            return True

        started = self._wait(serving, self.options.reload_timeout_s)
        self._launched_pid = self.master_pid
        if not started:
            raise self._unavailable(
                f"HAProxy started but did not answer on its sockets within "
                f"{self.options.reload_timeout_s:g}s"
            )

    def master_status(self) -> MasterStatus | None:
        """The master CLI's ``show proc`` (None when the master CLI does not answer)."""
        try:
            return self.master_api.master_status()
        except (RuntimeApiError, RuntimeApiRefused):
            return None

    def _reload_master(self) -> None:
        pid = self.master_pid
        if pid is None:
            raise self._unavailable("HAProxy is not running, so it cannot reload")
        before = self.master_status()
        if before is None:
            self._reload_by_signal(pid)
            return
        # The master CLI queues the command until the master can act on it, and counts
        # reloads and failed reloads: no lost signal, and a failed reload is seen as such.
        with contextlib.suppress(RuntimeApiError):
            self.master_api.execute("reload")
        after: list[MasterStatus] = []

        def reloaded() -> bool:
            status = self.master_status()
            if status is None or status.reloads <= before.reloads or not status.workers:
                return False
            try:
                answered = int(self.api.info().get("Pid", "0"))
            except (RuntimeApiError, RuntimeApiRefused, ValueError):
                return False
            after[:] = [status]
            return status.failed_reloads > before.failed_reloads or answered in status.workers

        if not self._wait(reloaded, self.options.reload_timeout_s):
            raise RouterRejected(
                f"haproxy router: the reload did not finish within "
                f"{self.options.reload_timeout_s:g}s; HAProxy keeps its previous configuration",
                hint="look at HAProxy's log for the reason (a port in use, a missing file)",
            )
        if after[0].failed_reloads > before.failed_reloads:
            raise RouterRejected(
                "haproxy router: HAProxy failed to load the new configuration and keeps the "
                "previous one",
                hint="look at HAProxy's log for the reason (a port in use, a missing file)",
            )

    def _reload_by_signal(self, pid: int) -> None:
        """Reload with SIGUSR2 (HAProxy started without ``-S``); resent if it got lost."""
        before = self.worker_pid()

        def new_worker_answers() -> bool:
            try:
                answered = int(self.api.info().get("Pid", "0"))
            except (RuntimeApiError, RuntimeApiRefused, ValueError):
                return False
            return answered not in (0, before)

        attempts = 3
        for _ in range(attempts):
            try:
                self._send_signal(pid, signal.SIGUSR2)
            except OSError as exc:
                raise self._unavailable(f"cannot signal the master (pid {pid}): {exc}") from exc
            if self._wait(new_worker_answers, self.options.reload_timeout_s / attempts):
                return
        raise RouterRejected(
            f"haproxy router: the reload did not take effect within "
            f"{self.options.reload_timeout_s:g}s; HAProxy keeps its previous configuration",
            hint=f"start HAProxy with -S {self.options.master_socket_path} so safeship can "
                 "follow reloads; look at HAProxy's log for the reason",
        )

    def _push_weights(self, server_weights: Mapping[str, int]) -> None:
        # Raise before lowering: between two commands of the chain at least one server that
        # keeps traffic already has its final weight, so no request meets an all-zero backend.
        ordered = sorted(server_weights.items(), key=lambda item: item[1] == 0)
        try:
            self.api.set_weights([(BACKEND, server, weight) for server, weight in ordered])
        except RuntimeApiRefused as exc:
            raise RouterRejected(f"haproxy router: HAProxy refused the weights: {exc}") from exc
        except RuntimeApiError as exc:
            raise self._unavailable(str(exc)) from exc

