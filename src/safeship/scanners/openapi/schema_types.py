"""Type, format and nullability changes of one schema.

3.0's ``nullable: true`` and 3.1's ``type: [..., "null"]`` mean the same and compare equal, so
migrating a spec from 3.0 to 3.1 is not a change. ``integer`` is a subset of ``number``, and a
schema without ``type`` accepts every type. A type (or format) change is *generalized* when the
revision accepts everything the base did and more, *specialized* when it accepts less, and
*changed* when neither holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from safeship.scanners.openapi.document import Node
from safeship.scanners.openapi.schema_change import SchemaChange, change, keyword_ptr

# (narrower, wider) format pairs: every value of the first is a value of the second.
_WIDER_FORMATS = frozenset({("int32", "int64"), ("float", "double")})


@dataclass(frozen=True)
class TypeInfo:
    """The types a schema allows (without null), whether null is allowed, and its format."""

    types: frozenset[str]
    nullable: bool
    format: str | None

    def text(self) -> str:
        """``string``, ``integer/int64``, ``[string, integer]`` or ``any``."""
        names = sorted(self.types)
        text = names[0] if len(names) == 1 else (f"[{', '.join(names)}]" if names else "any")
        return f"{text}/{self.format}" if self.format else text


def type_info(schema: Mapping[str, Any]) -> TypeInfo:
    """The :class:`TypeInfo` of a schema."""
    raw = schema.get("type")
    types = {raw} if isinstance(raw, str) else {str(t) for t in raw or ()} if isinstance(
        raw, list) else set()
    nullable = "null" in types or schema.get("nullable") is True
    fmt = schema.get("format")
    return TypeInfo(frozenset(types - {"null"}), nullable, str(fmt) if fmt is not None else None)


def _type_kind(base: frozenset[str], rev: frozenset[str]) -> str | None:
    if base == rev:
        return None
    if not base:
        return "type-specialized"
    if not rev:
        return "type-generalized"
    if len(base) == 1 and len(rev) == 1:
        if base == {"integer"} and rev == {"number"}:
            return "type-generalized"
        if base == {"number"} and rev == {"integer"}:
            return "type-specialized"
        return "type-changed"
    added = set(rev - base) - ({"integer"} if "number" in base else set())
    removed = set(base - rev) - ({"integer"} if "number" in rev else set())
    if removed and added:
        return "type-changed"
    if removed:
        return "list-of-types-narrowed"
    return "list-of-types-widened"


def _format_kind(base: str | None, rev: str | None) -> str | None:
    if base == rev:
        return None
    if base is None:
        return "type-specialized"
    if rev is None or (base, rev) in _WIDER_FORMATS:
        return "type-generalized"
    if (rev, base) in _WIDER_FORMATS:
        return "type-specialized"
    return "type-changed"


def compare_types(b: Node, r: Node) -> list[SchemaChange]:
    """The type, format and nullability changes between schemas ``b`` and ``r``."""
    bs, rs = b.mapping(), r.mapping()
    bi, ri = type_info(bs), type_info(rs)
    out: list[SchemaChange] = []
    kind = _type_kind(bi.types, ri.types)
    if kind is None:
        kind = _format_kind(bi.format, ri.format)
    if kind is not None:
        where = "format" if bi.types == ri.types else "type"
        out.append(change(kind, keyword_ptr(b.ptr, bs, where), keyword_ptr(r.ptr, rs, where),
                          **{"from": bi.text(), "to": ri.text()}))
    if bi.nullable != ri.nullable:
        base_key = "nullable" if "nullable" in bs else "type"
        rev_key = "nullable" if "nullable" in rs else "type"
        out.append(change("became-nullable" if ri.nullable else "became-not-nullable",
                          keyword_ptr(b.ptr, bs, base_key), keyword_ptr(r.ptr, rs, rev_key)))
    return out
