"""Reading Server-Sent Events from text lines (the WHATWG ``text/event-stream`` rules).

Fields are ``event``, ``data`` (several lines join with ``\\n``), ``id`` and ``retry``; a line
starting with ``:`` is a comment; a blank line dispatches the event, unless it has no data.
An event without ``event:`` is a ``message``. Comments come out as :data:`COMMENT` events
(the service's keep-alives), so a reader hears that the stream is alive even when nothing
happens.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: The ``event`` of a comment line (``: text``); its ``data`` is the text.
COMMENT = ":"


@dataclass(frozen=True)
class SseEvent:
    """One dispatched event."""

    event: str
    data: str
    event_id: str | None = None


@dataclass
class SseParser:
    """Turns lines (without their line ending) into events, one :meth:`feed` at a time."""

    retry_ms: int | None = None
    _event: str = ""
    _data: list[str] = field(default_factory=list)
    _event_id: str | None = None

    def feed(self, line: str) -> SseEvent | None:
        """Take one line; return the event a blank line completes, or the comment it is,
        else None."""
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return SseEvent(COMMENT, line[1:].strip())
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._event_id = value
        elif name == "retry" and value.isdigit():
            self.retry_ms = int(value)
        return None

    def _dispatch(self) -> SseEvent | None:
        event = None
        if self._data:
            event = SseEvent(self._event or "message", "\n".join(self._data), self._event_id)
        self._event = ""
        self._data = []
        return event
