"""Parse human durations such as ``5m``, ``1h30m``, ``250ms`` or ``24h`` into seconds."""

from __future__ import annotations

import re

_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_WHOLE = re.compile(r"^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$")


class DurationSyntaxError(ValueError):
    """Raised for text that is not a duration; the message says what is accepted."""


def parse_duration(value: object) -> float:
    """Return ``value`` in seconds.

    Accepts a string made of number+unit parts (``ms``, ``s``, ``m``, ``h``, ``d``), or a bare
    non-negative number meaning seconds. Booleans and negative numbers are rejected.
    """
    if isinstance(value, bool):
        raise DurationSyntaxError(f"{value!r} is not a duration; write e.g. 30s, 5m or 1h")
    if isinstance(value, int | float):
        if value < 0:
            raise DurationSyntaxError(f"a duration cannot be negative (got {value})")
        return float(value)
    if not isinstance(value, str):
        raise DurationSyntaxError(f"{value!r} is not a duration; write e.g. 30s, 5m or 1h")
    text = value.strip().lower().replace(" ", "")
    if not text or not _WHOLE.match(text):
        raise DurationSyntaxError(
            f"'{value}' is not a duration; write a number with a unit (ms, s, m, h, d), "
            "e.g. 30s, 5m, 1h30m"
        )
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in _PART.findall(text))


def format_duration(seconds: float) -> str:
    """Render seconds compactly: ``90`` -> ``1m30s``, ``0.25`` -> ``250ms``."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    remaining = round(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"
