"""Change notifications for the SSE stream: a broadcaster with bounded per-client queues, and
the watcher that feeds it from the store.

:class:`ChangeWatcher` turns the store's change log (:class:`~safeship.server.change_feed.
ChangeFeed`) into :class:`StreamEvent` s, in data-version order, without duplicates. It runs
:meth:`~ChangeWatcher.catch_up` every ``interval_s`` (200 ms by default), which is how changes
made by another process (the CLI on the same database) reach the stream, and the service calls
it right after each of its own writes (the in-process notification), so a client that wrote
through the API reads its own write, and followers hear of it at once.

:class:`Broadcaster` hands every event to every subscriber's queue with ``put_nowait``: a
writer never waits for a reader. A subscriber whose queue is full (a client that does not read
fast enough) is dropped on the spot; its stream ends, and the client reconnects and fetches a
fresh snapshot, which is cheaper than replaying what it missed.

Everything here runs on the server's event loop; only the database reads go to a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from enum import StrEnum

from safeship.errors import StoreUnavailable
from safeship.server.change_feed import BATCH, ChangeFeed, ChangeNote

log = logging.getLogger(__name__)

DEFAULT_QUEUE_SIZE = 1024
DEFAULT_MAX_SUBSCRIBERS = 1000
DEFAULT_POLL_INTERVAL_S = 0.2


class EventKind(StrEnum):
    """What a stream event says."""

    CHANGE = "change"
    """A flag changed; the event carries its new definition."""
    RESYNC = "resync"
    """The data version went backwards (a recreated store): fetch a new snapshot."""


@dataclass(frozen=True)
class StreamEvent:
    """One event for the stream, at data version ``version``."""

    kind: EventKind
    version: int
    note: ChangeNote | None = None


class Subscription:
    """One stream client's bounded queue of events; ``None`` in the queue means "end"."""

    def __init__(self, environment: str, queue_size: int) -> None:
        """A subscription to the changes, seen from ``environment``."""
        self.environment = environment
        self.queue: asyncio.Queue[StreamEvent | None] = asyncio.Queue(maxsize=queue_size)
        self.dropped = False
        self.closed = False

    @property
    def ended(self) -> bool:
        """True once the client was dropped for being slow, or the server is closing."""
        return self.dropped or self.closed


class Broadcaster:
    """Fans events out to subscribers (see the module docstring)."""

    def __init__(self, *, queue_size: int = DEFAULT_QUEUE_SIZE,
                 max_subscribers: int = DEFAULT_MAX_SUBSCRIBERS) -> None:
        """A broadcaster whose subscribers each queue at most ``queue_size`` events."""
        if queue_size < 1 or max_subscribers < 1:
            raise ValueError("queue_size and max_subscribers must be positive")
        self._queue_size = queue_size
        self._max_subscribers = max_subscribers
        self._subscribers: set[Subscription] = set()
        self._version = 0
        self._closed = False
        self.dropped_total = 0

    @property
    def version(self) -> int:
        """The data version of the last event published (or the version it started from)."""
        return self._version

    @property
    def subscriber_count(self) -> int:
        """How many clients are subscribed now."""
        return len(self._subscribers)

    def start_at(self, version: int) -> None:
        """Start counting from ``version`` (the store's version when the server starts)."""
        self._version = version

    def subscribe(self, environment: str) -> Subscription | None:
        """A new subscription, or None when the server is full or closing."""
        if self._closed or len(self._subscribers) >= self._max_subscribers:
            return None
        subscription = Subscription(environment, self._queue_size)
        self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Forget ``subscription`` (its stream ended)."""
        self._subscribers.discard(subscription)

    def publish(self, event: StreamEvent) -> None:
        """Queue ``event`` for every subscriber, dropping those whose queue is full."""
        self._version = event.version
        for subscription in list(self._subscribers):
            try:
                subscription.queue.put_nowait(event)
            except asyncio.QueueFull:
                subscription.dropped = True
                self._subscribers.discard(subscription)
                self.dropped_total += 1
                log.warning("dropped a slow stream client (%d events queued, environment %s)",
                            self._queue_size, subscription.environment)

    def close(self) -> None:
        """End every stream (the server is shutting down) and refuse new subscribers."""
        self._closed = True
        for subscription in list(self._subscribers):
            subscription.closed = True
            # A full queue is being drained; the stream checks ``ended`` before every event.
            with contextlib.suppress(asyncio.QueueFull):
                subscription.queue.put_nowait(None)
        self._subscribers.clear()


class ChangeWatcher:
    """Publishes the store's changes to a :class:`Broadcaster` (see the module docstring)."""

    def __init__(self, feed: ChangeFeed, broadcaster: Broadcaster, *,
                 interval_s: float = DEFAULT_POLL_INTERVAL_S) -> None:
        """Watch ``feed`` every ``interval_s`` seconds."""
        if interval_s <= 0:
            raise ValueError("the poll interval must be positive")
        self._feed = feed
        self._broadcaster = broadcaster
        self._interval_s = interval_s
        self._lock = asyncio.Lock()
        self._failing = False

    async def prime(self) -> int:
        """Start from the store's current version (what happened before is in snapshots).

        Raises:
            StoreUnavailable: the store cannot be read.
        """
        version = await asyncio.to_thread(self._feed.current_version)
        self._broadcaster.start_at(version)
        return version

    async def catch_up(self) -> int:
        """Publish every change after the broadcaster's version; the version reached.

        Raises:
            StoreUnavailable: the store cannot be read.
        """
        async with self._lock:
            while True:
                notes = await asyncio.to_thread(self._feed.changes_since,
                                                self._broadcaster.version)
                for note in notes:
                    self._broadcaster.publish(StreamEvent(EventKind.CHANGE, note.version, note))
                if len(notes) < BATCH:
                    break
            if not notes:
                current = await asyncio.to_thread(self._feed.current_version)
                if current < self._broadcaster.version:
                    log.warning("the flag data version went back from %d to %d (a recreated "
                                "store?); clients will fetch new snapshots",
                                self._broadcaster.version, current)
                    self._broadcaster.publish(StreamEvent(EventKind.RESYNC, current))
            return self._broadcaster.version

    async def run(self) -> None:
        """Catch up every ``interval_s`` until cancelled; store failures are logged, once per
        outage, and retried."""
        while True:
            try:
                await self.catch_up()
                if self._failing:
                    log.warning("the flag store is readable again; streaming changes")
                self._failing = False
            except StoreUnavailable as exc:
                if not self._failing:
                    log.warning("cannot read flag changes (will retry): %s", exc.message)
                self._failing = True
            await asyncio.sleep(self._interval_s)
