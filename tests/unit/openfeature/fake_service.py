"""A stand-in flag service on an httpx transport, speaking the real service's formats.

Snapshots and stream events are built by the service's own payload code
(:mod:`safeship.server.payloads`, :mod:`safeship.server.sse`), so the provider is tested
against exactly what the service sends. The stream is a live iterator: it blocks (bounded)
on a queue that :meth:`FakeFlagService.put` feeds, sends keep-alive comments while idle, and
breaks with a read error when the service goes :attr:`~FakeFlagService.down`.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx

from safeship._internal.http import HttpClientFactory, client_factory_with_transport
from safeship.flags import Flag
from safeship.flags.codec import flag_to_dict
from safeship.server.change_feed import ChangeNote
from safeship.server.etag import strong_etag
from safeship.server.payloads import change_payload, snapshot_payload
from safeship.server.sse import comment_frame, event_frame, retry_frame
from safeship.store.flags import StoredFlag

URL = "http://flags.test"
TOKEN = "read-" + "t" * 20
T0 = datetime(2025, 6, 1, tzinfo=UTC)
_TICK_S = 0.01
_STREAM_LIFETIME_S = 30.0


class FakeFlagService:
    """See the module docstring. Thread-safe: the provider's thread reads, the test writes."""

    def __init__(self, *flags: Flag, environment: str = "production") -> None:
        self.environment = environment
        self._lock = threading.Lock()
        self._flags: dict[str, tuple[Flag, int]] = {f.key: (f, 1) for f in flags}
        self.version = len(flags)
        self.down = False
        self.status: int | None = None
        """When set, every request is answered with this status."""
        self.stream_status: int | None = None
        """When set, stream requests are answered with this status (snapshots still work)."""
        self.snapshot_body: Callable[[], Any] | None = None
        self.requests: list[str] = []
        self.not_modified = 0
        self._streams: list[queue.Queue[bytes | None]] = []

    @property
    def transport(self) -> httpx.MockTransport:
        """The transport to hand the provider."""
        return httpx.MockTransport(self._handle)

    @property
    def client_factory(self) -> HttpClientFactory:
        """A client factory on :attr:`transport`."""
        return client_factory_with_transport(self.transport)

    def set_flag(self, flag: Flag, action: str = "set") -> None:
        """Store ``flag`` (as a new version) and stream the change to every follower."""
        with self._lock:
            _, flag_version = self._flags.get(flag.key, (flag, 0))
            self.version += 1
            self._flags[flag.key] = (flag, flag_version + 1)
            note = ChangeNote(self.version, flag.key, flag_version + 1, action, "test", T0,
                              flag_to_dict(flag))
            frame = event_frame("change", change_payload(note, self.environment),
                                event_id=self.version)
        self.put(frame)

    def put(self, frame: bytes) -> None:
        """Send a raw frame to every open stream."""
        with self._lock:
            streams = list(self._streams)
        for stream in streams:
            stream.put(frame)

    def end_streams(self) -> None:
        """End every open stream cleanly (as a restart or a dropped slow client would)."""
        with self._lock:
            streams, self._streams = self._streams, []
        for stream in streams:
            stream.put(None)

    @property
    def open_streams(self) -> int:
        """How many streams are being followed now."""
        with self._lock:
            return len(self._streams)

    # the HTTP side ------------------------------------------------------------------------

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.url.path)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return httpx.Response(401, json={"detail": "bad token"})
        if self.status is not None:
            return httpx.Response(self.status, json={"detail": f"forced {self.status}"})
        if request.url.path == "/v1/snapshot":
            return self._snapshot(request)
        if request.url.path == "/v1/stream":
            if self.stream_status is not None:
                return httpx.Response(self.stream_status, json={"detail": "no stream here"})
            return self._stream()
        return httpx.Response(404, json={"detail": "not found"})

    def _snapshot(self, request: httpx.Request) -> httpx.Response:
        if self.snapshot_body is not None:
            return httpx.Response(200, json=self.snapshot_body())
        with self._lock:
            stored = [StoredFlag(flag, version, T0, "test", T0, "test")
                      for flag, version in self._flags.values()]
            version = self.version
        body = httpx.Response(200, json=snapshot_payload(self.environment, version,
                                                         stored)).content
        etag = strong_etag(version, body)
        if request.headers.get("if-none-match") == etag:
            self.not_modified += 1
            return httpx.Response(304, headers={"etag": etag})
        return httpx.Response(200, content=body, headers={
            "etag": etag, "content-type": "application/json"})

    def _stream(self) -> httpx.Response:
        frames: queue.Queue[bytes | None] = queue.Queue()
        with self._lock:
            self._streams.append(frames)
            hello = event_frame("hello", {"version": self.version,
                                          "environment": self.environment,
                                          "keepalive_s": _TICK_S})
        return httpx.Response(200, headers={"content-type": "text/event-stream"},
                              content=self._frames(frames, retry_frame(100) + hello))

    def _frames(self, frames: queue.Queue[bytes | None], first: bytes) -> Iterator[bytes]:
        yield first
        deadline = time.monotonic() + _STREAM_LIFETIME_S
        try:
            while time.monotonic() < deadline:
                if self.down:
                    raise httpx.ReadError("connection reset by peer")
                try:
                    frame = frames.get(timeout=_TICK_S)
                except queue.Empty:
                    yield comment_frame("keep-alive")
                    continue
                if frame is None:
                    return
                yield frame
        finally:
            with self._lock:
                if frames in self._streams:
                    self._streams.remove(frames)


def wait_until(condition: Callable[[], object], timeout_s: float = 5.0,
               message: str = "condition") -> None:
    """Poll ``condition`` until it is true, failing after ``timeout_s`` (bounded)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} never held within {timeout_s} s")
        time.sleep(0.005)
