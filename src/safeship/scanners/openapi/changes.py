"""The result of a diff: :class:`Change` (one finding) and :class:`DiffReport` (all of them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from safeship.scanners.openapi.levels import Level

_METHOD_ORDER = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class Change:
    """One difference between two specs, judged by a rule of the catalogue."""

    id: str
    """The rule id (oasdiff's where oasdiff has the check)."""
    level: Level
    operation: str
    """``GET /pets/{id}``; empty for changes that concern the whole API."""
    path: str
    """The API path (``/pets/{id}``); empty for changes outside ``paths``."""
    message: str
    base_pointer: str | None
    """JSON pointer into the base spec (the nearest existing place when the thing was added)."""
    revision_pointer: str | None
    """JSON pointer into the revision (the nearest existing place when the thing was removed)."""
    base_line: int | None = None
    revision_line: int | None = None

    @property
    def method(self) -> str:
        """The HTTP method in lower case ("" for API-wide changes)."""
        return self.operation.split(" ", 1)[0].lower() if self.operation else ""

    def to_json(self) -> dict[str, Any]:
        """The change as the JSON object ``safeship contract diff --format json`` prints."""
        return {
            "id": self.id, "level": self.level.value, "operation": self.operation,
            "path": self.path, "message": self.message, "base_pointer": self.base_pointer,
            "revision_pointer": self.revision_pointer, "base_line": self.base_line,
            "revision_line": self.revision_line,
        }


def sort_key(change: Change) -> tuple[Any, ...]:
    """Most serious first, then by path, method, rule id and message."""
    method = change.method
    order = _METHOD_ORDER.index(method) if method in _METHOD_ORDER else len(_METHOD_ORDER)
    return (-change.level.rank, change.path, order, change.id, change.message)


@dataclass(frozen=True)
class DiffReport:
    """Every change found between a base and a revision spec, most serious first."""

    base: str
    revision: str
    changes: tuple[Change, ...]

    def at_least(self, level: Level) -> tuple[Change, ...]:
        """The changes at ``level`` or more serious."""
        return tuple(c for c in self.changes if c.level.at_least(level))

    def breaking(self, fail_on: Level = Level.ERR) -> bool:
        """True when a change at ``fail_on`` or above was found."""
        return bool(self.at_least(fail_on))

    def counts(self) -> Mapping[Level, int]:
        """How many changes of each level."""
        return {level: sum(1 for c in self.changes if c.level is level) for level in Level}

    def to_json(self, fail_on: Level = Level.ERR,
                min_level: Level = Level.INFO) -> dict[str, Any]:
        """``{"breaking": bool, "changes": [...]}`` plus the inputs and the counts."""
        counts = self.counts()
        return {
            "breaking": self.breaking(fail_on),
            "fail_on": fail_on.value,
            "base": self.base,
            "revision": self.revision,
            "counts": {level.value: counts[level] for level in Level},
            "changes": [c.to_json() for c in self.at_least(min_level)],
        }
