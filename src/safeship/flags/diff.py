"""What changed between two flag documents, as a short list of field paths with old and new
values, for history views (the store keeps the whole documents before and after)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from safeship.config.yaml_source import PathKey, format_path

_MISSING: Any = object()


@dataclass(frozen=True)
class FieldChange:
    """One field that differs: ``before``/``after`` are None when the field was added/removed
    (``added``/``removed`` say which)."""

    path: PathKey
    before: Any
    after: Any
    added: bool = False
    removed: bool = False

    def render(self, width: int = 60) -> str:
        """``path: before -> after`` on one line, long values shortened to ``width``."""
        where = format_path(self.path) or "(document)"
        if self.added:
            return f"{where}: added {_short(self.after, width)}"
        if self.removed:
            return f"{where}: removed"
        return f"{where}: {_short(self.before, width)} -> {_short(self.after, width)}"


def diff_documents(before: Any, after: Any) -> list[FieldChange]:
    """The changes from ``before`` to ``after`` (JSON data), in document order. Lists are
    compared by position: an item appended at the end is one addition, but an item inserted
    at the front shows as a change of every item after it."""
    changes: list[FieldChange] = []
    _walk((), before, after, changes)
    return changes


def _walk(path: PathKey, before: Any, after: Any, out: list[FieldChange]) -> None:
    if before is _MISSING:
        out.append(FieldChange(path, None, after, added=True))
    elif after is _MISSING:
        out.append(FieldChange(path, before, None, removed=True))
    elif isinstance(before, dict) and isinstance(after, dict):
        for key in [*before, *(k for k in after if k not in before)]:
            _walk((*path, key), before.get(key, _MISSING), after.get(key, _MISSING), out)
    elif isinstance(before, list) and isinstance(after, list):
        for index in range(max(len(before), len(after))):
            _walk((*path, index), before[index] if index < len(before) else _MISSING,
                  after[index] if index < len(after) else _MISSING, out)
    elif before != after or type(before) is not type(after):
        out.append(FieldChange(path, before, after))


def _short(value: Any, width: int) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=False)
    return text if len(text) <= width else text[: width - 3] + "..."
