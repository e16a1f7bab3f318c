"""Changes to the values a schema lists: ``enum``, ``const``, ``default``, ``x-extensible-enum``.

Enum values are compared as sets (reordering changes nothing). ``null`` in an enum is left to
the nullability check, so 3.0's ``nullable`` and an enum's ``null`` do not report twice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from safeship.scanners.openapi.document import Node
from safeship.scanners.openapi.schema_change import SchemaChange, change, keyword_ptr

_ABSENT = object()


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def show(value: Any) -> str:
    """A value as it would be written in JSON (strings quoted), shortened for messages."""
    text = _key(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _values(schema: Mapping[str, Any], keyword: str) -> dict[str, Any] | None:
    raw = schema.get(keyword)
    if not isinstance(raw, list):
        return None
    return {_key(v): v for v in raw if v is not None}


def _listed(kind: str, b: Node, r: Node, keyword: str, keys: list[str],
            values: Mapping[str, Any]) -> list[SchemaChange]:
    bs, rs = b.mapping(), r.mapping()
    return [change(kind, keyword_ptr(b.ptr, bs, keyword), keyword_ptr(r.ptr, rs, keyword),
                   value=show(values[k])) for k in keys]


def compare_enum(b: Node, r: Node) -> list[SchemaChange]:
    """Enum values removed or added, an enum appearing, or an enum going away."""
    bs, rs = b.mapping(), r.mapping()
    base, rev = _values(bs, "enum"), _values(rs, "enum")
    if base is None and rev is None:
        return []
    if base is None:
        return [change("became-enum", b.ptr, (*r.ptr, "enum"),
                       values=", ".join(show(v) for v in (rev or {}).values()))]
    if rev is None:
        return [change("enum-dropped", (*b.ptr, "enum"), r.ptr)]
    removed = [k for k in base if k not in rev]
    added = [k for k in rev if k not in base]
    return (_listed("enum-value-removed", b, r, "enum", removed, base)
            + _listed("enum-value-added", b, r, "enum", added, rev))


def compare_extensible_enum(b: Node, r: Node) -> list[SchemaChange]:
    """Values removed from an ``x-extensible-enum`` (adding is what it is made for)."""
    base = _values(b.mapping(), "x-extensible-enum")
    rev = _values(r.mapping(), "x-extensible-enum")
    if base is None or rev is None:
        return []
    removed = [k for k in base if k not in rev]
    return _listed("x-extensible-enum-value-removed", b, r, "x-extensible-enum", removed, base)


def compare_const_and_default(b: Node, r: Node) -> list[SchemaChange]:
    """``const`` and ``default`` set, removed or changed."""
    bs, rs = b.mapping(), r.mapping()
    out: list[SchemaChange] = []
    for keyword, prefix in (("const", "const"), ("default", "default-value")):
        bv, rv = bs.get(keyword, _ABSENT), rs.get(keyword, _ABSENT)
        if bv is _ABSENT and rv is _ABSENT:
            continue
        if bv is _ABSENT:
            out.append(change(f"{prefix}-added", b.ptr, (*r.ptr, keyword), value=show(rv)))
        elif rv is _ABSENT:
            out.append(change(f"{prefix}-removed", (*b.ptr, keyword), r.ptr, value=show(bv)))
        elif _key(bv) != _key(rv):
            out.append(change(f"{prefix}-changed", (*b.ptr, keyword), (*r.ptr, keyword),
                              **{"from": show(bv), "to": show(rv)}))
    return out
