"""Parse points in time given on the command line: unix seconds, ISO 8601, ``now``, ``now-30m``."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from safeship._internal.durations import DurationSyntaxError, parse_duration

_RELATIVE = re.compile(r"^now\s*([+-])\s*(.+)$")


class TimestampSyntaxError(ValueError):
    """Raised for text that is not a point in time; the message lists what is accepted."""


def parse_timestamp(text: str, now: float) -> float:
    """``text`` as unix seconds; relative forms are taken from ``now``.

    Accepts ``1732600000`` (unix seconds), ``2026-11-26T07:00:00Z`` (ISO 8601, UTC when no
    offset is given), ``now``, ``now-30m`` / ``now+5m``, and ``-30m`` (same as ``now-30m``).
    """
    value = text.strip()
    if value == "now":
        return now
    if value.startswith("-") and not value[1:].replace(".", "", 1).isdigit():
        value = "now" + value
    match = _RELATIVE.match(value)
    if match:
        try:
            offset = parse_duration(match.group(2).strip())
        except DurationSyntaxError as exc:
            raise TimestampSyntaxError(f"'{text}': {exc}") from exc
        return now + offset if match.group(1) == "+" else now - offset
    try:
        return float(value)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise TimestampSyntaxError(
            f"'{text}' is not a time; use unix seconds, ISO 8601 (2026-11-26T07:00:00Z), "
            "now, or now-30m"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
