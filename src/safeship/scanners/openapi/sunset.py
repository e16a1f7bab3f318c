"""Deprecation, sunset dates and stability levels: the lifecycle extensions oasdiff reads.

``deprecated: true`` marks an operation, parameter or property as going away; ``x-sunset``
(a date, ``2025-12-31``, or an RFC 3339 date-time) says from when it may be removed;
``x-stability-level`` (draft < alpha < beta < stable) says how settled an operation is.
Draft and alpha operations may change freely. These functions are pure: the caller passes
"today".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

STABILITY_LEVELS = ("draft", "alpha", "beta", "stable")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:$|[T ])")


class Removal(StrEnum):
    """What removing a deprecated thing means on a given day."""

    WITHOUT_DEPRECATION = "without-deprecation"
    BEFORE_SUNSET = "before-sunset"
    SUNSET_UNPARSABLE = "sunset-parse"
    ALLOWED = "allowed"


@dataclass(frozen=True)
class Lifecycle:
    """The lifecycle facts of one operation, parameter or property."""

    deprecated: bool
    sunset_text: str | None
    """The raw x-sunset, when there is one."""
    sunset: dt.date | None
    """The parsed x-sunset (None when absent or not a date)."""

    @property
    def sunset_invalid(self) -> bool:
        """True when an x-sunset is written but is not a date."""
        return self.sunset_text is not None and self.sunset is None


def parse_sunset(value: Any) -> dt.date | None:
    """``2025-12-31`` or ``2025-12-31T00:00:00Z`` (or a YAML date) as a date; else None."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    match = _DATE.match(value.strip())
    if match is None:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def lifecycle(obj: Mapping[str, Any]) -> Lifecycle:
    """The deprecation and sunset of an OpenAPI object (operation, parameter, schema)."""
    raw = obj.get("x-sunset")
    text = None if raw is None else str(raw)
    return Lifecycle(obj.get("deprecated") is True, text,
                     parse_sunset(raw) if raw is not None else None)


def removal(before: Lifecycle, today: dt.date) -> Removal:
    """Whether removing something with lifecycle ``before`` is allowed ``today``.

    Not deprecated: not allowed. Deprecated without a sunset: allowed (there is nothing to wait
    for). Deprecated with a sunset in the future: not yet. An x-sunset that is not a date is
    reported as such, since nobody can tell when removal became allowed.
    """
    if not before.deprecated:
        return Removal.WITHOUT_DEPRECATION
    if before.sunset_text is None:
        return Removal.ALLOWED
    if before.sunset is None:
        return Removal.SUNSET_UNPARSABLE
    if today < before.sunset:
        return Removal.BEFORE_SUNSET
    return Removal.ALLOWED


def stability(obj: Mapping[str, Any]) -> str | None:
    """The x-stability-level as written (None when absent)."""
    raw = obj.get("x-stability-level")
    return None if raw is None else str(raw)


def stability_rank(level: str | None) -> int | None:
    """0 (draft) to 3 (stable); no level counts as stable; None for a level that is not known."""
    if level is None:
        return len(STABILITY_LEVELS) - 1
    return STABILITY_LEVELS.index(level) if level in STABILITY_LEVELS else None


def changes_allowed(obj: Mapping[str, Any]) -> bool:
    """True for draft and alpha operations, which may change without breaking anyone."""
    return stability(obj) in ("draft", "alpha")
