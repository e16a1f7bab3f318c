"""Traffic helpers for the HAProxy and NGINX router tests: plain ``http.client`` on threads.

The backends themselves are :class:`tests.contract.router_factories.VersionBackends` (small
aiohttp apps answering their version's name, ``/healthz`` -> ``ok``), re-exported here. The
clients below add what those tests need beyond the contract suite's pooled keep-alive client:
a choice between **keep-alive** and **a new connection per request** (``Connection: close``),
which is what infra.md measured as reliable across NGINX reloads.

Every loop here is bounded in count and in time; nothing measures or asserts a duration.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tests.contract.router_factories import VersionBackends
from tests.integration.router_process_factories import free_port

__all__ = ["Client", "LoadRun", "VersionBackends", "free_port"]

_TIMEOUT_S = 10.0


def outcome(status: int, body: str) -> str:
    """``v1`` for a 200 from v1, ``status:503`` for any other status."""
    return body.strip() if status == 200 else f"status:{status}"


class Client:
    """Sends GET requests to one router URL; keep-alive or a new connection per request."""

    def __init__(self, url: str, *, keep_alive: bool) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.keep_alive = keep_alive
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        if not self.keep_alive:
            return http.client.HTTPConnection(self.host, self.port, timeout=_TIMEOUT_S)
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=_TIMEOUT_S)
            self._local.conn = conn
        return conn

    def get(self, path: str = "/", headers: Mapping[str, str] | None = None) -> str:
        """One request; its :func:`outcome`, or ``error:<Type>`` when it failed."""
        conn = self._connection()
        sent = dict(headers or {})
        if not self.keep_alive:
            sent["Connection"] = "close"
        try:
            conn.request("GET", path, headers=sent)
            response = conn.getresponse()
            body = response.read().decode(errors="replace")
            result = outcome(response.status, body)
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            self._local.conn = None
            return f"error:{type(exc).__name__}"
        if not self.keep_alive or response.will_close:
            conn.close()
            self._local.conn = None
        return result

    def close(self) -> None:
        """Close this thread's keep-alive connection, if any."""
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def split(self, requests: int, *, concurrency: int = 10,
              headers: Mapping[str, str] | None = None, max_seconds: float = 60.0
              ) -> Counter[str]:
        """Send ``requests`` requests from ``concurrency`` threads; count the outcomes."""
        tickets = iter(range(requests))
        lock = threading.Lock()
        deadline = time.monotonic() + max_seconds

        def worker() -> Counter[str]:
            counts: Counter[str] = Counter()
            try:
                while True:
                    with lock:
                        ticket = next(tickets, None)
                    if ticket is None:
                        return counts
                    if time.monotonic() > deadline:
                        counts["error:deadline"] += 1
                        continue
                    counts[self.get("/", headers)] += 1
            finally:
                self.close()

        with ThreadPoolExecutor(concurrency, thread_name_prefix="split") as pool:
            results = list(pool.map(lambda _: worker(), range(concurrency)))
        return sum(results, Counter())

    def sequence(self, requests: int) -> list[str]:
        """``requests`` requests one after the other on this thread, outcomes in order."""
        try:
            return [self.get() for _ in range(requests)]
        finally:
            self.close()

    @contextlib.contextmanager
    def load(self, *, concurrency: int = 8, max_requests: int = 50_000,
             max_seconds: float = 60.0) -> Iterator[LoadRun]:
        """Keep ``concurrency`` requests in flight until the block ends or a bound is hit."""
        run = LoadRun()
        tickets = itertools.count()
        deadline = time.monotonic() + max_seconds

        def worker() -> None:
            try:
                while not run.stop.is_set() and time.monotonic() < deadline:
                    with run.lock:
                        if next(tickets) >= max_requests:
                            return
                    result = self.get()
                    with run.lock:
                        run.counts[result] += 1
                        run.completed += 1
                        if result.startswith(("error:", "status:")):
                            run.failures.append(result)
            finally:
                self.close()

        threads = [threading.Thread(target=worker, name=f"load-{index}", daemon=True)
                   for index in range(concurrency)]
        for thread in threads:
            thread.start()
        try:
            yield run
        finally:
            run.stop.set()
            for thread in threads:
                thread.join(timeout=max_seconds + _TIMEOUT_S)


@dataclass
class LoadRun:
    """What a background load saw so far."""

    counts: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    completed: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for_more(self, requests: int, timeout_s: float = 20.0) -> bool:
        """Block until ``requests`` more answers arrived (False if the bound ran out first)."""
        target = self.completed + requests
        deadline = time.monotonic() + timeout_s
        while self.completed < target and time.monotonic() < deadline:
            if self.stop.wait(0.002):
                break
        return self.completed >= target
