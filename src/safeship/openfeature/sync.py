"""The provider's background thread: keep the snapshot current, notice when the service goes.

With streaming on (the default) the thread follows ``GET /v1/stream``:

1. on ``hello`` it fetches a snapshot unless it already holds that data version (with
   ``If-None-Match``, so an unchanged snapshot costs a 304);
2. on ``change`` it applies the flag's new definition to the snapshot held (no request);
3. on ``resync`` it fetches a snapshot;
4. on a ``: keep-alive`` comment it notes that the service is there;
5. when the stream ends (the service dropped a slow client, or restarted) it reconnects.

When the stream cannot be opened or breaks, it falls back to fetching the snapshot (polling):
every ``refresh_interval_s`` while the service answers, retrying the stream each time; with
exponential backoff (``min_backoff_s`` doubling up to ``max_backoff_s``) while it does not.
Without streaming it only polls, every ``refresh_interval_s``.

The listener hears of every outcome: a snapshot loaded, contact made, the service unreachable
(:class:`~safeship.errors.EndpointUnavailable`) or refusing the token
(:class:`~safeship.openfeature.service_client.ServiceRefused`). Waits are on a
:class:`threading.Event`, so :meth:`FlagSync.stop` ends them at once; a thread reading the
stream notices the stop at the next event or keep-alive (or when the idle timeout fires).
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from safeship.errors import EndpointUnavailable
from safeship.openfeature.service_client import (
    FlagServiceClient,
    ServiceRefused,
    decode_event_data,
)
from safeship.openfeature.snapshot import Snapshot
from safeship.openfeature.sse_reader import COMMENT, SseEvent

log = logging.getLogger(__name__)


class SyncListener(Protocol):
    """What the sync thread reports to (the provider)."""

    def current(self) -> Snapshot | None:
        """The snapshot held now."""
        ...

    def snapshot_loaded(self, snapshot: Snapshot) -> None:
        """A new snapshot replaces the one held."""
        ...

    def contact(self, *, streaming: bool) -> None:
        """The service answered; ``streaming`` tells whether the stream is connected."""
        ...

    def unreachable(self, error: EndpointUnavailable) -> None:
        """The service could not be reached or answered unusably."""
        ...

    def refused(self, error: ServiceRefused) -> None:
        """The service refused the token."""
        ...


class FlagSync:
    """The background thread (see the module docstring)."""

    def __init__(self, client: FlagServiceClient, listener: SyncListener, *, stream: bool,
                 refresh_interval_s: float, min_backoff_s: float = 0.2,
                 max_backoff_s: float = 5.0) -> None:
        """Sync through ``client``, reporting to ``listener``."""
        if refresh_interval_s <= 0 or min_backoff_s <= 0 or max_backoff_s < min_backoff_s:
            raise ValueError("intervals must be positive, and the backoff range ordered")
        self._client = client
        self._listener = listener
        self._stream = stream
        self._refresh_interval_s = refresh_interval_s
        self._min_backoff_s = min_backoff_s
        self._max_backoff_s = min(max_backoff_s, max(refresh_interval_s, min_backoff_s))
        self._stop = threading.Event()
        self._starting = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (once; not after :meth:`stop`)."""
        with self._starting:
            if self._thread is not None or self._stop.is_set():
                return
            self._thread = threading.Thread(target=self._run, name="safeship-flag-sync",
                                            daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Ask the thread to stop (ending a stream it is reading), and wait up to
        ``timeout_s`` for it."""
        self._stop.set()
        self._client.interrupt()
        with self._starting:
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)

    @property
    def stopped(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stop.is_set()

    @property
    def running(self) -> bool:
        """True while the thread runs."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def _run(self) -> None:
        backoff = self._min_backoff_s
        while not self._stop.is_set():
            try:
                if self._stream:
                    self._follow()
                    delay = self._min_backoff_s  # the stream ended cleanly: reconnect soon
                else:
                    self._refresh(streaming=False)
                    delay = self._refresh_interval_s
                backoff = self._min_backoff_s
            except ServiceRefused as exc:
                if self._stop.is_set():
                    break
                self._listener.refused(exc)
                delay = self._refresh_interval_s
            except EndpointUnavailable as exc:
                if self._stop.is_set():  # the stream was interrupted to stop: not an outage
                    break
                delay, backoff = self._fall_back(exc, backoff)
            self._stop.wait(delay)

    def _fall_back(self, failure: EndpointUnavailable, backoff: float) -> tuple[float, float]:
        """After a failed stream or poll: poll once; the delay before the next try and the
        next backoff."""
        if self._stream and not self._stop.is_set():
            log.debug("flag stream unavailable (%s); polling the snapshot", failure.message)
            try:
                self._refresh(streaming=False)
                return self._refresh_interval_s, self._min_backoff_s
            except ServiceRefused as exc:
                self._listener.refused(exc)
                return self._refresh_interval_s, self._min_backoff_s
            except EndpointUnavailable as exc:
                failure = exc
        self._listener.unreachable(failure)
        return backoff, min(backoff * 2, self._max_backoff_s)

    def _refresh(self, *, streaming: bool) -> None:
        """Fetch the snapshot (``If-None-Match`` the one held); ``streaming``: whether the
        stream is connected, for the listener."""
        current = self._listener.current()
        answer = self._client.fetch_snapshot(current.etag if current is not None else None)
        if answer.payload is not None:
            self._listener.snapshot_loaded(Snapshot.from_payload(answer.payload, answer.etag))
        self._listener.contact(streaming=streaming)

    def _follow(self) -> None:
        with self._client.stream() as events:
            for event in events:
                if self._stop.is_set():
                    return
                self._handle(event)

    def _handle(self, event: SseEvent) -> None:
        if event.event == COMMENT:  # a keep-alive: the service is there
            self._listener.contact(streaming=True)
            return
        data = decode_event_data(event)
        if data is None:
            return
        current = self._listener.current()
        if event.event == "hello":
            version = data.get("version")
            if current is None or version != current.version:
                self._refresh(streaming=True)
            else:
                self._listener.contact(streaming=True)
        elif event.event == "change" and current is not None:
            updated = current.with_change(data)
            if updated is not None:
                self._listener.snapshot_loaded(updated)
        elif event.event == "resync":
            self._refresh(streaming=True)
