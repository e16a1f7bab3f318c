"""An asyncio event loop in a thread of its own, driven from synchronous code.

The rollout engine is synchronous; the embedded proxy is asynchronous. :class:`LoopThread` runs
one event loop in one daemon thread, runs coroutines on it from any other thread and waits for
their results with a bound, and on :meth:`LoopThread.stop` cancels whatever is left, closes the
loop and joins the thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    """One event loop running in one daemon thread (see the module doc)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    @property
    def alive(self) -> bool:
        """True while the thread runs."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The running loop (only between :meth:`start` and :meth:`stop`)."""
        if self._loop is None or not self.alive:
            raise RuntimeError(f"event loop thread '{self.name}' is not running")
        return self._loop

    def start(self, timeout: float = 10.0) -> None:
        """Start the thread and wait until its loop runs."""
        if self._thread is not None:
            raise RuntimeError(f"event loop thread '{self.name}' was already started")
        self._thread = threading.Thread(target=self._main, name=self.name, daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):  # pragma: no cover - a thread that never starts
            raise RuntimeError(f"event loop thread '{self.name}' did not start")

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run ``coroutine`` on the loop and return its result (waits at most ``timeout``)."""
        try:
            loop = self.loop
        except RuntimeError:
            coroutine.close()
            raise
        future = asyncio.run_coroutine_threadsafe(coroutine, loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop the loop, cancel its remaining tasks and join the thread; True once it ended."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return True
        if thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
        return not thread.is_alive()

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            try:
                leftovers = asyncio.all_tasks(loop)
                for task in leftovers:
                    task.cancel()
                if leftovers:
                    loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                asyncio.set_event_loop(None)
                loop.close()
