"""``GET /v1/stream``: flag changes as Server-Sent Events.

A stream starts with ``retry:`` (the reconnection delay) and ``event: hello`` carrying the
data version it starts after; then one ``event: change`` per change (``id`` = data version,
the flag's new definition cut to the stream's environment), in version order, and a
``: keep-alive`` comment whenever nothing happened for ``keepalive_s``. A client that falls
too far behind is dropped (its stream ends; it reconnects and fetches a fresh snapshot), and
every stream ends when the server shuts down.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from http import HTTPStatus

from starlette.responses import Response, StreamingResponse

from safeship.server.call import Call
from safeship.server.events import Broadcaster, EventKind, StreamEvent, Subscription
from safeship.server.payloads import change_payload
from safeship.server.problems import RequestRefused
from safeship.server.settings import ServiceSettings
from safeship.server.sse import MEDIA_TYPE, comment_frame, event_frame, retry_frame

KEEPALIVE = "keep-alive"


async def stream_changes(call: Call, _body: None) -> Response:
    """``GET /v1/stream``: flag changes of an environment as Server-Sent Events.

    The stream opens with ``event: hello`` (``StreamHello``: the data version it starts
    after; fetch a snapshot if yours is older), then sends ``event: change`` (``StreamChange``,
    ``id`` = data version, the flag's new definition) for every change in version order, and
    ``: keep-alive`` comments while idle. ``event: resync`` (``StreamResync``) asks for a new
    snapshot. A client that reads too slowly is dropped; on reconnection, fetch the snapshot
    again (with ``If-None-Match``).
    """
    environment = call.service.environment(call.query("environment"))
    broadcaster = call.service.broadcaster
    subscription = broadcaster.subscribe(environment)
    if subscription is None:
        raise RequestRefused(HTTPStatus.SERVICE_UNAVAILABLE,
                             "the flag service follows as many streams as it may, or is "
                             "shutting down", hint="retry later, or poll GET /v1/snapshot",
                             headers={"Retry-After": "5"})
    # Read in the same step as subscribing: every later change reaches the queue.
    hello = {"version": broadcaster.version, "environment": environment,
             "keepalive_s": call.settings.keepalive_s}
    return StreamingResponse(
        frames(subscription, broadcaster, hello, call.settings),
        media_type=MEDIA_TYPE,
        # No caching, and no buffering by proxies that honour X-Accel-Buffering (NGINX).
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def frames(subscription: Subscription, broadcaster: Broadcaster,
                 hello: dict[str, object], settings: ServiceSettings) -> AsyncIterator[bytes]:
    """The stream's frames until the client goes, is dropped, or the server closes."""
    try:
        yield retry_frame(settings.retry_ms) + event_frame("hello", hello)
        while not subscription.ended:
            try:
                event = await asyncio.wait_for(subscription.queue.get(), settings.keepalive_s)
            except TimeoutError:
                yield comment_frame(KEEPALIVE)
                continue
            if event is None or subscription.ended:
                break
            yield event_bytes(event, subscription.environment)
    finally:
        broadcaster.unsubscribe(subscription)


def event_bytes(event: StreamEvent, environment: str) -> bytes:
    """The SSE frame of ``event`` for a client of ``environment``."""
    if event.kind is EventKind.CHANGE and event.note is not None:
        return event_frame("change", change_payload(event.note, environment),
                           event_id=event.version)
    return event_frame("resync", {"version": event.version, "environment": environment},
                       event_id=event.version)
