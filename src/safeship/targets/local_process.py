"""Long-running processes of the ``local`` target: start one in its own session, stop it whole.

:mod:`safeship._internal.subprocess` runs programs to completion; an instance of a version runs
until it is told to stop, so it needs ``Popen`` and signals. Everything here is POSIX.

Each process starts a new session, so its process group id equals its pid and every child it
forks belongs to the same group. Stopping sends SIGTERM to the whole group, waits for the grace
period, then sends SIGKILL, and reaps the leader when it is our child.

Signals must never reach a stranger that happens to reuse a number. So every process carries a
marker in its environment (inherited by its children), and a process is recognised on Linux by
its start time (``/proc/<pid>/stat``) and, once the leader is gone, by that marker
(``/proc/<pid>/environ``). Without ``/proc`` only the leader's liveness is checked, and the
leftovers of a group whose leader died before adoption are left alone rather than risk a
stranger.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from safeship._internal.subprocess import start_background
from safeship.targets.interface import TargetUnavailable

MARKER_ENV = "SAFESHIP_INSTANCE_MARKER"
"""Environment variable naming the instance a process (or any of its children) belongs to."""

_PROC = Path("/proc")
_KILL_WAIT_S = 5.0
"""How long to wait for the kernel to remove a group after SIGKILL (it cannot be ignored)."""


class WaitClock(Protocol):
    """The part of :class:`safeship.engine.clock.Clock` a backend needs to wait, bounded."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        ...


class SystemWaitClock:
    """The real clock (structurally a :class:`safeship.engine.clock.SystemClock`)."""

    def monotonic(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """``time.sleep()``."""
        time.sleep(max(0.0, seconds))


@dataclass(frozen=True)
class ProcessIdentity:
    """What recognises a started process later, even from another controller."""

    pid: int
    pgid: int
    start_ticks: int | None
    """Start time in clock ticks since boot (Linux), or None where it cannot be read."""
    marker: str


class LocalProcess:
    """A process group started by (or adopted into) the local target."""

    def __init__(self, identity: ProcessIdentity,
                 popen: subprocess.Popen[bytes] | None = None) -> None:
        self.identity = identity
        self._popen = popen
        self._exit_code: int | None = None

    @property
    def adopted(self) -> bool:
        """True when this controller did not start the process itself."""
        return self._popen is None

    def exit_code(self) -> int | None:
        """None while the group leader runs; its exit code (or -1 if unknown) once it ended."""
        if self._exit_code is not None:
            return self._exit_code
        if self._popen is not None:
            code = self._popen.poll()
            if code is not None:
                self._exit_code = code
            return self._exit_code
        if not leader_alive(self.identity):
            # A controller that did not start the process cannot learn how it ended.
            self._exit_code = -1
        return self._exit_code

    def running(self) -> bool:
        """True while the group leader runs."""
        return self.exit_code() is None

    def stop(self, grace_s: float, clock: WaitClock) -> None:
        """SIGTERM the group, SIGKILL it after ``grace_s``; raise if something survives."""
        if not self._signal(signal.SIGTERM):
            self.exit_code()
            return
        if self._wait_gone(grace_s, clock):
            return
        self._signal(signal.SIGKILL)
        if self._wait_gone(_KILL_WAIT_S, clock):
            return
        raise TargetUnavailable(
            f"process group {self.identity.pgid} survived SIGKILL",
            hint="a process in uninterruptible sleep (D state) cannot be killed; check `ps`",
        )

    def _signal(self, signum: signal.Signals) -> bool:
        """Signal every live member; False when there was nothing left to signal."""
        identity = self.identity
        if self.running():
            # The leader has not been reaped, so its pid (and thus the group id) is still ours.
            try:
                os.killpg(identity.pgid, signum)
            except ProcessLookupError:
                return False
            return True
        if _PROC.is_dir():
            # The leader is gone: only processes carrying our marker may be signalled.
            members = marked_members(identity)
            for pid in members:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signum)
            return bool(members)
        return self._signal_group_blind(signum)

    def _signal_group_blind(self, signum: int) -> bool:
        """Without /proc: signal the group only if we reaped its leader ourselves just now.

        While a group has members its id cannot be handed out again, so the signal reaches
        our leftovers or nobody. An adopted group cannot be told from a stranger's: left alone.
        """
        if self.adopted:
            return False
        try:
            os.killpg(self.identity.pgid, signum)
        except (ProcessLookupError, PermissionError):
            return False
        return True

    def _group_alive(self) -> bool:
        if self.running():
            return True
        if _PROC.is_dir():
            return bool(marked_members(self.identity))
        return self._signal_group_blind(0)

    def _wait_gone(self, limit_s: float, clock: WaitClock) -> bool:
        deadline = clock.monotonic() + limit_s
        pause = 0.01
        while True:
            if not self._group_alive():  # running() reaps the leader when it is our child
                return True
            if clock.monotonic() >= deadline:
                return False
            clock.sleep(pause)
            pause = min(pause * 2, 0.1)


def spawn(argv: Sequence[str], *, cwd: Path | None, env: Mapping[str, str], marker: str,
          log_path: Path) -> LocalProcess:
    """Start ``argv`` in a new session with stdout and stderr appended to ``log_path``."""
    if cwd is not None and not cwd.is_dir():
        raise TargetUnavailable(f"the working directory {cwd} does not exist",
                                hint="fix cwd in the local target's options")
    log_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    environment = {**env, MARKER_ENV: marker}
    try:
        # No shell: argv comes from a template split before rendering (local_command).
        popen = start_background(argv, log_path=log_path, cwd=cwd, env=environment,
                                 new_session=True)
    except OSError as exc:
        raise TargetUnavailable(
            f"cannot start {argv[0]}: {exc.strerror or exc}",
            hint="check the command and cwd of the local target",
        ) from exc
    identity = ProcessIdentity(popen.pid, popen.pid, start_ticks(popen.pid), marker)
    return LocalProcess(identity, popen)


def adopt(identity: ProcessIdentity) -> LocalProcess:
    """A handle on a process recorded earlier (check :func:`leader_alive` first)."""
    return LocalProcess(identity)


def leader_alive(identity: ProcessIdentity) -> bool:
    """True when the recorded leader still runs and is the very process that was recorded."""
    stat = _read_stat(identity.pid)
    if stat is None:
        if _PROC.is_dir():
            return False
        # No start time to compare: at least the session must still be the one we started.
        _reap_if_child(identity.pid)  # an exited child of ours would look alive as a zombie
        try:
            return os.getsid(identity.pid) == identity.pgid
        except (ProcessLookupError, PermissionError):
            return False
    state, _pgid, ticks = stat
    same = identity.start_ticks is None or ticks == identity.start_ticks
    if state in ("Z", "X"):
        if same:
            _reap_if_child(identity.pid)
        return False
    return same


def marked_members(identity: ProcessIdentity) -> list[int]:
    """Live (non-zombie) processes of the group that carry the instance's marker (Linux)."""
    if not _PROC.is_dir():
        return []
    members = []
    needle = f"{MARKER_ENV}={identity.marker}".encode()
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        stat = _read_stat(pid)
        if stat is None or stat[1] != identity.pgid or stat[0] in ("Z", "X"):
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            members.append(pid)
    return members


def start_ticks(pid: int) -> int | None:
    """When ``pid`` started, in clock ticks since boot (Linux only)."""
    stat = _read_stat(pid)
    return None if stat is None else stat[2]


def _read_stat(pid: int) -> tuple[str, int, int] | None:
    """(state, process group, start ticks) of ``pid`` from /proc, or None."""
    try:
        text = (_PROC / str(pid) / "stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: fields follow the last ')'.
    fields = text[text.rfind(")") + 2:].split()
    try:
        return fields[0], int(fields[2]), int(fields[19])
    except (IndexError, ValueError):
        return None


def _reap_if_child(pid: int) -> None:
    """Collect ``pid`` if it is an exited child of ours, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
