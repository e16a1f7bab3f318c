"""Factories for the target contract suite: each builds targets and can look behind them.

A harness builds a target whose instances follow a convention the suite relies on: version
:data:`CRASHING_VERSION` exits at once, version :data:`UNHEALTHY_VERSION` answers its health
check with 500, every other version is healthy. It can also kill an instance from outside, tell
whether an instance is really gone, and count how many instances were ever started.

The ``local`` harness runs :data:`APP`, a tiny HTTP server written into ``tmp_path``, so the
suite exercises real processes, ports and signals on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import time
from abc import ABC, abstractmethod
from pathlib import Path

from safeship.targets.interface import Instance, Target
from safeship.targets.local import LocalOptions, LocalTarget
from safeship.testing.fake_target import FakeTarget

CRASHING_VERSION = "crash-1"
UNHEALTHY_VERSION = "sick-1"

APP = '''\
"""A tiny service for the target tests: argv = port, directory for its bookkeeping."""
import http.server
import os
import sys

port, book = int(sys.argv[1]), sys.argv[2]
version = os.environ["SAFESHIP_VERSION"]
if os.environ["PORT"] != str(port):
    sys.exit("PORT and {port} disagree")
if version.startswith("crash"):
    print("crashing on purpose", flush=True)
    sys.exit(3)
with open(os.path.join(book, f"{port}.pid"), "w") as handle:
    handle.write(str(os.getpid()))
with open(os.path.join(book, "starts"), "a") as handle:
    handle.write(f"{version} {port} {os.getpid()}\\n")
status = 500 if version.startswith("sick") else 200


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = version.encode()
        self.send_response(status if self.path == "/healthz" else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
print(f"serving {version} on {port}", flush=True)
server.serve_forever()
'''


class TargetHarness(ABC):
    """Builds targets for the suite and inspects what they did."""

    name: str

    @abstractmethod
    def build(self, *, startup_timeout_s: float = 30.0) -> Target:
        """A fresh target (closed by :meth:`close`)."""

    @abstractmethod
    def kill_from_outside(self, target: Target, instance: Instance) -> None:
        """Make ``instance`` die without telling ``target``; return once it is dead."""

    @abstractmethod
    def is_stopped(self, target: Target, instance: Instance) -> bool:
        """True when nothing of ``instance`` runs any more."""

    @abstractmethod
    def starts(self, target: Target) -> int:
        """How many instances ``target`` has started so far."""

    @abstractmethod
    def close(self) -> None:
        """Stop everything the built targets run."""


class FakeHarness(TargetHarness):
    """Harness of :class:`FakeTarget`."""

    name = "fake"

    def __init__(self) -> None:
        self.targets: list[FakeTarget] = []

    def build(self, *, startup_timeout_s: float = 30.0) -> Target:
        target = FakeTarget(unhealthy_versions={UNHEALTHY_VERSION},
                            crashing_versions={CRASHING_VERSION})
        self.targets.append(target)
        return target

    def kill_from_outside(self, target: Target, instance: Instance) -> None:
        assert isinstance(target, FakeTarget)
        target.kill(instance)

    def is_stopped(self, target: Target, instance: Instance) -> bool:
        assert isinstance(target, FakeTarget)
        return not target.is_running(instance)

    def starts(self, target: Target) -> int:
        assert isinstance(target, FakeTarget)
        return len(target.started)

    def close(self) -> None:
        for target in self.targets:
            target.close()


class LocalHarness(TargetHarness):
    """Harness of :class:`LocalTarget` running :data:`APP` under this Python."""

    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.app = root / "app.py"
        self.app.write_text(APP, encoding="utf-8")
        self.targets: list[LocalTarget] = []

    def book(self, target: Target) -> Path:
        """The directory where the app of ``target`` writes pids and starts."""
        assert isinstance(target, LocalTarget)
        return target.state_dir.parent / "book"

    def build(self, *, startup_timeout_s: float = 30.0) -> Target:
        home = self.root / f"target-{len(self.targets)}"
        book = home / "book"
        book.mkdir(parents=True)
        options = LocalOptions(
            command=[sys.executable, str(self.app), "{port}", str(book)],
            state_dir=home / "state",
            startup_timeout=startup_timeout_s,
            grace_period=5.0,
            health={"timeout": 2.0},
        )
        target = LocalTarget(options)
        self.targets.append(target)
        return target

    def pid(self, target: Target, instance: Instance) -> int:
        """The pid the app wrote for ``instance``."""
        path = self.book(target) / f"{instance.endpoint.port}.pid"
        return int(path.read_text(encoding="utf-8"))

    def kill_from_outside(self, target: Target, instance: Instance) -> None:
        pid = self.pid(target, instance)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while process_runs(pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not process_runs(pid), f"pid {pid} survived SIGKILL"

    def is_stopped(self, target: Target, instance: Instance) -> bool:
        pid = self.pid(target, instance)
        return not process_runs(pid) and not port_accepts(instance.endpoint.host,
                                                          instance.endpoint.port)

    def starts(self, target: Target) -> int:
        path = self.book(target) / "starts"
        if not path.exists():
            return 0
        return len(path.read_text(encoding="utf-8").splitlines())

    def close(self) -> None:
        for target in self.targets:
            target.close()


def process_runs(pid: int) -> bool:
    """True when ``pid`` exists and is not a zombie."""
    if not Path("/proc").is_dir():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return stat[stat.rfind(")") + 2:].split()[0] not in ("Z", "X")


def port_accepts(host: str, port: int) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1.0):
        return True
    return False
