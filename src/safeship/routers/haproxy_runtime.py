"""HAProxy's runtime API (the admin stats socket): send commands, parse what comes back.

One connection per call, in non-interactive mode: the command line goes out, HAProxy answers
and closes the connection. Several commands travel in one line joined by ``;``; HAProxy runs them
in order and ends each answer with an empty line.

Parsers here are pure functions over the text HAProxy printed, so they are unit-tested without a
socket:

* :func:`parse_get_weight`: ``get weight`` answers (``"50 (initial 90)"``);
* :func:`parse_show_stat`: ``show stat`` CSV -> :class:`HaproxyServerStats` per server;
* :func:`parse_show_info`: ``show info`` -> the ``Name: value`` pairs (``Pid`` tells which
  worker answered);
* :func:`parse_show_proc`: the *master* CLI's ``show proc`` -> :class:`MasterStatus` (reload
  and failed-reload counters, current and old workers), which is how safeship knows a reload it
  asked for has finished, failed, or left the master ready for the next one.

The master CLI (``haproxy -S <socket>``) speaks the same protocol as the stats socket, so the
same client class serves both.
"""

from __future__ import annotations

import csv
import re
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_MAX_ANSWER = 16 * 1024 * 1024
_GET_WEIGHT = re.compile(r"^(\d+) \(initial (\d+)\)$")


class RuntimeApiError(Exception):
    """The socket could not be reached or read (HAProxy down, wrong path, timeout)."""


class RuntimeApiRefused(Exception):
    """HAProxy answered a command with an error message."""


@dataclass(frozen=True)
class HaproxyServerStats:
    """One server's row of ``show stat`` (the columns a rollout cares about)."""

    backend: str
    server: str
    status: str
    """``UP``, ``DOWN``, ``MAINT``, ``DRAIN``, ``no check`` ..."""
    weight: int
    current_sessions: int
    total_sessions: int
    responses_2xx: int
    responses_5xx: int
    connection_errors: int
    response_errors: int
    check_status: str
    """``L7OK``, ``L4CON`` ... (empty when the server is not checked)."""
    response_time_ms: int
    """Average over the last 1024 requests, as HAProxy reports it."""
    total_time_ms: int


class HaproxyRuntimeApi:
    """A client of HAProxy's runtime API over a Unix socket."""

    def __init__(self, socket_path: Path, *, timeout_s: float = 5.0) -> None:
        self.socket_path = socket_path
        self.timeout_s = timeout_s

    def execute(self, line: str) -> str:
        """Send one command line (possibly ``;``-chained) and return the whole answer."""
        if "\n" in line:
            raise ValueError("a runtime API command line cannot contain a newline")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.settimeout(self.timeout_s)
                conn.connect(str(self.socket_path))
                conn.sendall(line.encode() + b"\n")
                # End of input: the stats socket answers and closes either way; the master
                # CLI waits for more commands until it sees it.
                conn.shutdown(socket.SHUT_WR)
                chunks: list[bytes] = []
                size = 0
                while chunk := conn.recv(65536):
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > _MAX_ANSWER:
                        raise RuntimeApiError(f"answer to '{line[:60]}' exceeds {_MAX_ANSWER} B")
        except OSError as exc:
            raise RuntimeApiError(f"runtime API at {self.socket_path}: {exc}") from exc
        return b"".join(chunks).decode(errors="replace")

    def set_weights(self, weights: Sequence[tuple[str, str, int]]) -> None:
        """``set weight backend/server N`` for each item, in the given order, in one call.

        A successful ``set weight`` prints nothing; any text in the answer is HAProxy refusing
        one of the commands, raised as :class:`RuntimeApiRefused`.
        """
        if not weights:
            return
        line = "; ".join(f"set weight {backend}/{server} {weight}"
                         for backend, server, weight in weights)
        answer = self.execute(line)
        refusals = [text.strip() for text in answer.splitlines() if text.strip()]
        if refusals:
            raise RuntimeApiRefused("; ".join(refusals))

    def get_weights(self, backend: str, servers: Sequence[str]) -> dict[str, int]:
        """Current weight of each server, from ``get weight``."""
        if not servers:
            return {}
        answer = self.execute("; ".join(f"get weight {backend}/{server}" for server in servers))
        return dict(zip(servers, parse_get_weight(answer, len(servers)), strict=True))

    def show_stat(self) -> str:
        """The raw ``show stat`` CSV."""
        return self.execute("show stat")

    def server_stats(self, backend: str) -> list[HaproxyServerStats]:
        """The servers of ``backend`` as ``show stat`` reports them, in config order."""
        return [row for row in parse_show_stat(self.show_stat()) if row.backend == backend]

    def info(self) -> dict[str, str]:
        """``show info`` as a dict."""
        return parse_show_info(self.execute("show info"))

    def master_status(self) -> MasterStatus:
        """``show proc`` (only on the master CLI socket)."""
        return parse_show_proc(self.execute("show proc"))


def parse_get_weight(answer: str, expected: int) -> list[int]:
    """The current weights in a chained ``get weight`` answer, in command order."""
    lines = [text.strip() for text in answer.splitlines() if text.strip()]
    weights: list[int] = []
    for text in lines:
        match = _GET_WEIGHT.match(text)
        if match is None:
            raise RuntimeApiRefused(text)
        weights.append(int(match.group(1)))
    if len(weights) != expected:
        raise RuntimeApiRefused(f"expected {expected} weights, HAProxy answered {answer!r}")
    return weights


@dataclass(frozen=True)
class MasterStatus:
    """The master CLI's ``show proc``."""

    master_pid: int
    reloads: int
    failed_reloads: int
    workers: tuple[int, ...]
    """The current workers (those serving the config last loaded)."""
    old_workers: tuple[int, ...]
    """Workers of earlier configs still finishing their connections."""


_PROC_MASTER = re.compile(r"^(\d+)\s+master\s+(\d+)\s+\[failed:\s*(\d+)\]")
_PROC_WORKER = re.compile(r"^(\d+)\s+worker\b")


def parse_show_proc(answer: str) -> MasterStatus:
    """Parse ``show proc`` from the master CLI (HAProxy 2.x layout)."""
    master: tuple[int, int, int] | None = None
    section = ""
    workers: list[int] = []
    old: list[int] = []
    for text in answer.splitlines():
        line = text.strip()
        if line.startswith("#"):
            section = line.lstrip("#").strip()
            continue
        found = _PROC_MASTER.match(line)
        if found:
            master = (int(found.group(1)), int(found.group(2)), int(found.group(3)))
            continue
        worker = _PROC_WORKER.match(line)
        if worker:
            (old if section == "old workers" else workers).append(int(worker.group(1)))
    if master is None:
        raise RuntimeApiRefused(f"not a 'show proc' answer: {answer[:120]!r}")
    return MasterStatus(master[0], master[1], master[2], tuple(workers), tuple(old))


def _int(value: str | None) -> int:
    try:
        return int(value) if value else 0
    except ValueError:
        return 0


def parse_show_stat(answer: str) -> list[HaproxyServerStats]:
    """The server rows (not FRONTEND/BACKEND) of a ``show stat`` CSV."""
    text = answer.lstrip()
    if not text.startswith("# "):
        raise RuntimeApiRefused(f"not a 'show stat' answer: {answer[:120]!r}")
    rows = csv.DictReader(text[2:].splitlines())
    servers: list[HaproxyServerStats] = []
    for row in rows:
        name = row.get("svname") or ""
        if not name or name in {"FRONTEND", "BACKEND"}:
            continue
        servers.append(HaproxyServerStats(
            backend=row.get("pxname") or "",
            server=name,
            status=row.get("status") or "",
            weight=_int(row.get("weight")),
            current_sessions=_int(row.get("scur")),
            total_sessions=_int(row.get("stot")),
            responses_2xx=_int(row.get("hrsp_2xx")),
            responses_5xx=_int(row.get("hrsp_5xx")),
            connection_errors=_int(row.get("econ")),
            response_errors=_int(row.get("eresp")),
            check_status=row.get("check_status") or "",
            response_time_ms=_int(row.get("rtime")),
            total_time_ms=_int(row.get("ttime")),
        ))
    return servers


def parse_show_info(answer: str) -> dict[str, str]:
    """``Name: value`` lines of ``show info``."""
    info: dict[str, str] = {}
    for text in answer.splitlines():
        key, sep, value = text.partition(":")
        if sep and key.strip():
            info[key.strip()] = value.strip()
    return info
