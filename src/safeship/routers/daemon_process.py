"""Find, watch and stop a daemonised router process safeship started (Linux ``/proc``).

HAProxy (``-W -D -p <pidfile>``) and NGINX (its default daemon mode) both detach: the program
safeship runs through its :class:`~safeship._internal.subprocess.CommandRunner` returns as soon
as the master is up, and the master writes its PID to a pid file. The master is then not a child
of safeship: whether it still runs is read from ``/proc`` (a zombie waiting for its new parent to
reap it counts as gone), and it is stopped by signal. Its workers are its children, which is how
a finished NGINX reload is recognised (a new generation of workers).
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable
from pathlib import Path

SignalSender = Callable[[int, int], None]
"""``os.kill``-shaped: send a signal to a PID."""


def read_pid(path: Path) -> int | None:
    """The PID written in ``path``, or None when the file is missing or not a number."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def is_running(pid: int, program: str) -> bool:
    """True while ``pid`` is a live (not zombie) process whose command line names ``program``."""
    proc = Path("/proc") / str(pid)
    try:
        stat = (proc / "stat").read_text(encoding="ascii", errors="replace")
        cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    # The state follows the parenthesised command name, which may itself hold spaces.
    state = stat.rpartition(")")[2].split()[:1]
    if state == ["Z"] or state == ["X"]:
        return False
    return program in cmdline


def child_pids(pid: int) -> set[int]:
    """The PIDs whose parent is ``pid`` (from ``/proc/<pid>/task/*/children``, else a scan)."""
    children: set[int] = set()
    tasks = Path("/proc") / str(pid) / "task"
    try:
        for task in tasks.iterdir():
            with contextlib.suppress(OSError):
                children.update(int(item) for item in (task / "children").read_text().split())
        if children:
            return children
    except OSError:
        return children
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text(encoding="ascii", errors="replace")
            fields = stat.rpartition(")")[2].split()
            if len(fields) > 1 and fields[1] == str(pid):
                children.add(int(entry.name))
    return children


def stop(pid: int, program: str, *, send_signal: SignalSender,
         wait: Callable[[Callable[[], bool], float], bool], grace_s: float) -> bool:
    """SIGTERM ``pid`` (and SIGKILL after ``grace_s``); True once it and its children are gone.

    ``wait(predicate, timeout_s)`` polls ``predicate`` until it holds or time runs out.
    """
    if not is_running(pid, program):
        return True
    children = child_pids(pid)

    def gone() -> bool:
        return not is_running(pid, program) and not any(
            is_running(child, program) for child in children
        )

    with contextlib.suppress(ProcessLookupError):
        send_signal(pid, signal.SIGTERM)
    if wait(gone, grace_s):
        return True
    for target in (pid, *children):
        if is_running(target, program):
            with contextlib.suppress(ProcessLookupError):
                send_signal(target, signal.SIGKILL)
    return wait(gone, grace_s)



def poll_until(predicate: Callable[[], bool], timeout_s: float, *, poll_s: float,
               monotonic: Callable[[], float], sleep: Callable[[float], None]) -> bool:
    """Poll ``predicate`` every ``poll_s`` until it holds or ``timeout_s`` passed; its last value.

    Bounded in count as well as time, so a clock that does not advance cannot loop forever.
    """
    deadline = monotonic() + timeout_s
    for _ in range(int(timeout_s / poll_s) + 2):
        if predicate():
            return True
        if monotonic() >= deadline:
            break
        sleep(poll_s)
    return predicate()
