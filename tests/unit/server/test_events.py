"""The broadcaster (bounded queues, slow clients dropped, writers never blocked) and the change
watcher (order, no duplicates, resync, store failures), plus the stream's frame loop."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from safeship.errors import StoreUnavailable
from safeship.server.change_feed import BATCH, ChangeNote
from safeship.server.events import Broadcaster, ChangeWatcher, EventKind, StreamEvent
from safeship.server.settings import ServiceSettings
from safeship.server.stream_route import event_bytes, frames

pytestmark = pytest.mark.anyio

AT = datetime(2025, 6, 1, tzinfo=UTC)


def note(version: int, flag: str = "beta") -> ChangeNote:
    return ChangeNote(version, flag, version, "enable", "ann", AT,
                      {"key": flag, "environments": {"production": {"enabled": True},
                                                     "dev": {"enabled": False}}})


def change(version: int) -> StreamEvent:
    return StreamEvent(EventKind.CHANGE, version, note(version))


class FakeFeed:
    """A change log in memory; ``fail`` makes every read raise StoreUnavailable."""

    def __init__(self, notes: list[ChangeNote] | None = None) -> None:
        self.notes = list(notes or [])
        self.fail = False
        self.reads = 0

    def current_version(self) -> int:
        self._check()
        return max((n.version for n in self.notes), default=0)

    def changes_since(self, version: int, *, limit: int = BATCH) -> list[ChangeNote]:
        self._check()
        self.reads += 1
        return [n for n in self.notes if n.version > version][:limit]

    def _check(self) -> None:
        if self.fail:
            raise StoreUnavailable("state store: could not read: disk I/O error")


def watcher_over(feed: FakeFeed, broadcaster: Broadcaster,
                 interval_s: float = 0.01) -> ChangeWatcher:
    return ChangeWatcher(feed, broadcaster, interval_s=interval_s)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- broadcaster


async def test_every_subscriber_gets_every_event_in_order() -> None:
    broadcaster = Broadcaster(queue_size=8)
    first, second = broadcaster.subscribe("production"), broadcaster.subscribe("dev")
    assert first is not None
    assert second is not None
    for version in (1, 2, 3):
        broadcaster.publish(change(version))
    assert broadcaster.version == 3
    for subscription in (first, second):
        got = [subscription.queue.get_nowait() for _ in range(3)]
        assert [event.version for event in got if event is not None] == [1, 2, 3]


async def test_a_slow_subscriber_is_dropped_without_blocking_the_others(
        caplog: pytest.LogCaptureFixture) -> None:
    broadcaster = Broadcaster(queue_size=2)
    slow, fast = broadcaster.subscribe("production"), broadcaster.subscribe("production")
    assert slow is not None
    assert fast is not None
    for version in range(1, 6):
        broadcaster.publish(change(version))  # never awaits: a writer cannot block
        while not fast.queue.empty():
            fast.queue.get_nowait()
    assert slow.dropped
    assert slow.ended
    assert not fast.dropped
    assert broadcaster.subscriber_count == 1
    assert broadcaster.dropped_total == 1
    assert "dropped a slow stream client" in caplog.text


async def test_close_ends_subscriptions_and_refuses_new_ones() -> None:
    broadcaster = Broadcaster(queue_size=1)
    idle, full = broadcaster.subscribe("production"), broadcaster.subscribe("production")
    assert idle is not None
    assert full is not None
    full.queue.put_nowait(change(1))
    broadcaster.unsubscribe(idle)
    idle = broadcaster.subscribe("production")
    assert idle is not None
    broadcaster.close()
    assert idle.closed
    assert full.closed
    assert idle.queue.get_nowait() is None
    assert broadcaster.subscribe("production") is None


def test_broadcaster_limits_are_checked() -> None:
    with pytest.raises(ValueError, match="positive"):
        Broadcaster(queue_size=0)
    broadcaster = Broadcaster(max_subscribers=1)
    assert broadcaster.subscribe("a") is not None
    assert broadcaster.subscribe("b") is None


async def test_frames_end_when_the_subscriber_is_dropped() -> None:
    broadcaster = Broadcaster(queue_size=1)
    subscription = broadcaster.subscribe("dev")
    assert subscription is not None
    settings = ServiceSettings(keepalive_s=0.01)
    stream = frames(subscription, broadcaster, {"version": 0}, settings)
    first = await stream.__anext__()
    assert b"event: hello" in first
    assert await stream.__anext__() == b": keep-alive\n\n"
    broadcaster.publish(change(1))
    changed = await stream.__anext__()
    assert b'"environment":"dev"' in changed
    assert b'"production"' not in changed  # cut to the stream's environment
    broadcaster.publish(change(2))
    broadcaster.publish(change(3))  # the queue of 1 overflows: dropped
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()
    assert broadcaster.subscriber_count == 0


def test_resync_frames_carry_the_version() -> None:
    frame = event_bytes(StreamEvent(EventKind.RESYNC, 4), "dev").decode()
    assert frame == 'id: 4\nevent: resync\ndata: {"version":4,"environment":"dev"}\n\n'


# --------------------------------------------------------------------------- watcher


async def test_watcher_publishes_backlogs_in_order_without_duplicates() -> None:
    feed = FakeFeed([note(v) for v in range(1, BATCH + 3)])
    broadcaster = Broadcaster(queue_size=2 * BATCH)
    watcher = watcher_over(feed, broadcaster)
    broadcaster.start_at(1)
    subscription = broadcaster.subscribe("production")
    assert subscription is not None
    assert await watcher.catch_up() == BATCH + 2
    assert await watcher.catch_up() == BATCH + 2
    got = []
    while not subscription.queue.empty():
        event = subscription.queue.get_nowait()
        assert event is not None
        got.append(event.version)
    assert got == list(range(2, BATCH + 3))


async def test_watcher_starts_from_the_current_version() -> None:
    feed = FakeFeed([note(1), note(2)])
    broadcaster = Broadcaster()
    assert await watcher_over(feed, broadcaster).prime() == 2
    assert broadcaster.version == 2


async def test_a_version_that_goes_back_asks_clients_to_resync(
        caplog: pytest.LogCaptureFixture) -> None:
    feed = FakeFeed([note(1), note(2), note(3)])
    broadcaster = Broadcaster()
    watcher = watcher_over(feed, broadcaster)
    await watcher.prime()
    subscription = broadcaster.subscribe("production")
    assert subscription is not None
    feed.notes = [note(1)]  # the store was recreated
    assert await watcher.catch_up() == 1
    event = subscription.queue.get_nowait()
    assert event is not None
    assert (event.kind, event.version) == (EventKind.RESYNC, 1)
    assert "went back from 3 to 1" in caplog.text


async def test_watcher_keeps_polling_through_store_failures(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    feed = FakeFeed()
    broadcaster = Broadcaster()
    watcher = watcher_over(feed, broadcaster)
    feed.fail = True
    task = asyncio.create_task(watcher.run())
    try:
        await _until(lambda: "cannot read flag changes" in caplog.text)
        feed.fail = False
        feed.notes = [note(1)]
        await _until(lambda: broadcaster.version == 1)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert caplog.text.count("cannot read flag changes") == 1  # once per outage
    assert "readable again" in caplog.text


def test_watcher_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        watcher_over(FakeFeed(), Broadcaster(), interval_s=0)


async def _until(condition: Any, timeout_s: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.005)
