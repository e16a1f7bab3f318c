"""Server-Sent Events frames (the WHATWG ``text/event-stream`` format), as bytes.

A frame is ``id:``/``event:``/``data:`` lines and a blank line; a line starting with ``:`` is
a comment, which clients ignore and which keeps proxies and idle timers from closing the
connection. Data is one line of compact JSON, so it never needs splitting over ``data:``
lines.
"""

from __future__ import annotations

import json
from typing import Any

MEDIA_TYPE = "text/event-stream"


def event_frame(event: str, data: Any, *, event_id: int | None = None) -> bytes:
    """An event named ``event`` carrying ``data`` as JSON, with an optional ``id``."""
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append(f"event: {event}")
    lines.append("data: " + json.dumps(data, separators=(",", ":"), ensure_ascii=False))
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def comment_frame(text: str) -> bytes:
    """A comment line (``: text``), e.g. a keep-alive."""
    return f": {text}\n\n".encode()


def retry_frame(milliseconds: int) -> bytes:
    """How long a client should wait before reconnecting after the stream ends."""
    return f"retry: {milliseconds:d}\n\n".encode()
