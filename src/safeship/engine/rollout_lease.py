"""Controller identities for the lease lock, and spotting a local controller that died.

A holder id reads ``host:pid:nonce``. When a lease's holder ran on this host and its process no
longer exists (it was killed), waiting for the lease to expire is pointless: the controller that
resumes may take it over at once. A holder on another host is never presumed dead.
"""

from __future__ import annotations

import os
import socket
import uuid


def new_holder_id() -> str:
    """A unique id for this controller: ``host:pid:nonce``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def holder_pid_on_this_host(holder: str) -> int | None:
    """The pid in ``holder`` when it names this host, else None."""
    parts = holder.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != socket.gethostname():
        return None
    try:
        return int(parts[1])
    except ValueError:
        return None


def holder_is_dead_here(holder: str) -> bool:
    """True when ``holder`` ran on this host and its process is gone."""
    pid = holder_pid_on_this_host(holder)
    if pid is None or pid <= 0:
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, under another user
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """A killed child not yet reaped still answers signal 0; Linux shows it as state Z."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            fields = stat.read().rsplit(")", 1)
    except OSError:
        return False
    return len(fields) == 2 and fields[1].strip().startswith("Z")
