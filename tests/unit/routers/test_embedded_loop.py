"""The event loop thread that lets synchronous code drive the embedded router."""

from __future__ import annotations

import asyncio

import pytest

from safeship.routers.embedded_loop import LoopThread


async def _answer(value: int) -> int:
    await asyncio.sleep(0)
    return value * 2


async def _forever() -> None:
    await asyncio.Event().wait()


def test_runs_coroutines_and_stops_cleanly() -> None:
    thread = LoopThread("test-loop")
    thread.start()
    assert thread.alive
    assert thread.run(_answer(21), timeout=5) == 42
    leftover = asyncio.run_coroutine_threadsafe(_forever(), thread.loop)
    assert thread.stop(timeout=5)
    assert not thread.alive
    assert leftover.cancelled()
    with pytest.raises(RuntimeError, match="not running"):
        thread.run(_answer(1), timeout=1)


def test_a_slow_coroutine_times_out_and_is_cancelled() -> None:
    thread = LoopThread("test-loop-timeout")
    thread.start()
    try:
        with pytest.raises(TimeoutError):
            thread.run(_forever(), timeout=0.05)
    finally:
        assert thread.stop(timeout=5)


def test_start_twice_and_stop_before_start() -> None:
    thread = LoopThread("test-loop-twice")
    assert thread.stop()
    thread.start()
    try:
        with pytest.raises(RuntimeError, match="already started"):
            thread.start()
    finally:
        thread.stop()
