"""A small, bounded aiohttp load generator for the demo and the rollback benchmark.

:class:`LoadGenerator` sends ``GET`` requests to one loopback URL at a steady rate from its own
thread and event loop, until :meth:`LoadGenerator.stop` or its time limit. It is bounded every
way: requests in flight (a request due while the limit is reached is counted as *skipped*, not
queued), total requests (rate x time limit), per-request timeout and kept answers.

Each answer is recorded with the monotonic instant its request was sent, the version that
answered (the sample service's ``X-Safeship-Version`` header) and its status. A request that got
no answer from the application (a connection error, a timeout, or a status without the version
header such as the router's 502/503) is a *routing failure*: that is what weight changes must
never cause. The application's own 500s are answers, counted apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field

import aiohttp

from safeship.demo.sample_app import VERSION_HEADER

MAX_KEPT_ANSWERS = 500_000
_JOIN_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Answer:
    """One request: when it was sent (monotonic seconds), who answered, with what status."""

    sent_at: float
    version: str | None
    status: int | None
    routing_failure: bool


@dataclass(frozen=True)
class LoadStats:
    """Totals so far."""

    sent: int
    answered: int
    by_version: dict[str, int] = field(default_factory=dict)
    app_errors: int = 0
    routing_failures: int = 0
    skipped: int = 0


class LoadGenerator:
    """Steady GET traffic to ``url`` (loopback only) from a background thread."""

    def __init__(self, url: str, *, rate_per_s: float = 200.0, max_in_flight: int = 64,
                 max_duration_s: float = 300.0, timeout_s: float = 5.0) -> None:
        if not url.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]")):
            raise ValueError(f"the load generator only targets loopback, not {url}")
        if rate_per_s <= 0 or max_in_flight < 1 or max_duration_s <= 0:
            raise ValueError("rate, in-flight limit and duration must be positive")
        self.url = url
        self.rate_per_s = rate_per_s
        self.max_in_flight = max_in_flight
        self.max_duration_s = max_duration_s
        self.timeout_s = timeout_s
        self._answers: deque[Answer] = deque(maxlen=MAX_KEPT_ANSWERS)
        self._lock = threading.Lock()
        self._sent = 0
        self._skipped = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def __enter__(self) -> LoadGenerator:
        self.start()
        return self

    def __exit__(self, *args: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start sending (returns at once)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._main, name="safeship-load", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop sending and wait (bounded) for the requests in flight."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=_JOIN_TIMEOUT_S)

    @property
    def running(self) -> bool:
        """Whether the sending thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def answers(self, since: float | None = None) -> list[Answer]:
        """The kept answers, optionally only those whose request was sent at ``since`` or later."""
        with self._lock:
            kept = list(self._answers)
        return kept if since is None else [a for a in kept if a.sent_at >= since]

    def stats(self, since: float | None = None) -> LoadStats:
        """Totals (over the kept answers when ``since`` is given)."""
        answers = self.answers(since)
        versions = Counter(a.version for a in answers if a.version is not None)
        with self._lock:
            sent, skipped = self._sent, self._skipped
        return LoadStats(
            sent=sent if since is None else len(answers), answered=len(answers),
            by_version=dict(versions),
            app_errors=sum(1 for a in answers if a.version is not None and a.status is not None
                           and a.status >= 500),
            routing_failures=sum(1 for a in answers if a.routing_failure),
            skipped=skipped)

    # the sending thread ---------------------------------------------------------------------

    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as exc:  # kept for the caller: the thread must not die silently
            self._error = exc

    async def _run(self) -> None:
        connector = aiohttp.TCPConnector(limit=self.max_in_flight)
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        tasks: set[asyncio.Task[None]] = set()
        async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                         trust_env=False) as session:
            begin = time.monotonic()
            limit = int(self.rate_per_s * self.max_duration_s)
            for index in range(limit):
                if self._stop.is_set():
                    break
                due = begin + index / self.rate_per_s
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                if len(tasks) >= self.max_in_flight:
                    with self._lock:
                        self._skipped += 1
                    continue
                task = asyncio.create_task(self._one(session))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            if tasks:
                await asyncio.wait(tasks, timeout=self.timeout_s + 1.0)
            for task in tasks:
                task.cancel()

    async def _one(self, session: aiohttp.ClientSession) -> None:
        sent_at = time.monotonic()
        with self._lock:
            self._sent += 1
        version: str | None = None
        status: int | None = None
        try:
            async with session.get(self.url) as response:
                await response.read()
                status = response.status
                version = response.headers.get(VERSION_HEADER)
        except (aiohttp.ClientError, TimeoutError, OSError):
            pass
        answer = Answer(sent_at, version, status, routing_failure=version is None)
        with self._lock:
            self._answers.append(answer)

    @property
    def error(self) -> BaseException | None:
        """What ended the sending thread abnormally, if anything."""
        return self._error


def close_quietly(load: LoadGenerator) -> None:
    """Stop ``load``, ignoring a thread that is already gone."""
    with contextlib.suppress(RuntimeError):
        load.stop()
