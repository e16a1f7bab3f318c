"""What every part of the diff shares: the two specs, the options, and the change collector.

Area modules (paths, parameters, bodies, responses, schemas, security) call
:meth:`DiffContext.emit` with a rule id; the rule's level comes from the catalogue, so a
module can never invent a level, and an id missing from the catalogue is a bug that fails
loudly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from safeship.errors import InternalError
from safeship.scanners.openapi.changes import Change
from safeship.scanners.openapi.document import Spec
from safeship.scanners.openapi.pointers import Ptr, to_pointer
from safeship.scanners.openapi.rules import RULES


@dataclass(frozen=True)
class DiffOptions:
    """Knobs of a diff."""

    today: dt.date
    """The day sunset dates are judged against (injected so tests can pin it)."""
    deprecation_days: int = 0
    """The least number of days between deprecating something and its sunset; with 0, a
    deprecation without a sunset date is fine, as in oasdiff without a deprecation policy."""


@dataclass(frozen=True)
class Place:
    """Where a change happened: the operation (``GET /pets``) and the API path."""

    operation: str = ""
    path: str = ""

    @classmethod
    def of(cls, method: str, path: str) -> Place:
        """The place of ``method`` on ``path``."""
        return cls(f"{method.upper()} {path}", path)


@dataclass
class DiffContext:
    """The specs being compared, the options, and the changes found so far."""

    base: Spec
    revision: Spec
    options: DiffOptions
    changes: list[Change] = field(default_factory=list)
    _seen: set[tuple[object, ...]] = field(default_factory=set)

    def emit(self, rule_id: str, place: Place, message: str, base_ptr: Ptr | None,
             revision_ptr: Ptr | None, *, key: object = None) -> None:
        """Record one change; the same (rule, operation, places, key) is recorded once.

        ``key`` tells apart changes that share their places (two enum values removed from
        one list); by default the message does.
        """
        rule = RULES.get(rule_id)
        if rule is None:
            raise InternalError(f"rule '{rule_id}' is not in the catalogue")
        base_ptr = self.base.existing(base_ptr)
        revision_ptr = self.revision.existing(revision_ptr)
        dedupe = (rule_id, place.operation, base_ptr, revision_ptr,
                  message if key is None else key)
        if dedupe in self._seen:
            return
        self._seen.add(dedupe)
        self.changes.append(Change(
            id=rule_id, level=rule.level, operation=place.operation, path=place.path,
            message=message,
            base_pointer=to_pointer(base_ptr) if base_ptr is not None else None,
            revision_pointer=to_pointer(revision_ptr) if revision_ptr is not None else None,
            base_line=self.base.line(base_ptr), revision_line=self.revision.line(revision_ptr),
        ))
