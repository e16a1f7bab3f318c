"""Constraint changes: numeric and size bounds, ``multipleOf``, ``uniqueItems``, ``pattern``.

An upper bound (``maximum``, ``maxLength``, ``maxItems``...) that decreases, or is set where
there was none, accepts fewer values; a lower bound does so when it increases or is set. Which
of the two breaks a client depends on the direction (requests break when narrowed, responses
when widened), and that is decided when the change gets its rule id, not here.

``maximum``/``exclusiveMaximum`` are compared as one upper bound, so 3.0's boolean
``exclusiveMaximum: true`` and 3.1's numeric ``exclusiveMaximum`` mean the same; likewise the
minimum.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from safeship.scanners.openapi.document import Node
from safeship.scanners.openapi.schema_change import SchemaChange, change, keyword_ptr

# keyword and its id segment
_SIZE_BOUNDS = (
    ("maxLength", "max-length"), ("minLength", "min-length"), ("maxItems", "max-items"),
    ("minItems", "min-items"), ("maxProperties", "max-properties"),
    ("minProperties", "min-properties"), ("maxContains", "max-contains"),
    ("minContains", "min-contains"),
)
# Patterns that accept every string: replacing a pattern with one of them only widens.
_MATCH_ALL = frozenset({"", ".*", "^.*$", "^.*", ".*$", "(.*)", "^(.*)$", "[\\s\\S]*"})


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def _bound(schema: Mapping[str, Any], upper: bool) -> tuple[float, bool, str] | None:
    """The effective (value, exclusive, keyword) of the upper or lower numeric bound."""
    plain, exclusive = ("maximum", "exclusiveMaximum") if upper else (
        "minimum", "exclusiveMinimum")
    candidates: list[tuple[float, bool, str]] = []
    value = _number(schema.get(plain))
    flag = schema.get(exclusive)
    if value is not None:
        # 3.0 writes an exclusive bound as `maximum: 10` plus `exclusiveMaximum: true`.
        candidates.append((value, flag is True, exclusive if flag is True else plain))
    number = _number(flag)
    if number is not None:
        candidates.append((number, True, exclusive))
    if not candidates:
        return None

    def tightness(bound: tuple[float, bool, str]) -> tuple[float, bool]:
        return (-bound[0] if upper else bound[0], bound[1])

    return max(candidates, key=tightness)


def _numeric(b: Node, r: Node, upper: bool) -> list[SchemaChange]:
    bs, rs = b.mapping(), r.mapping()
    base, rev = _bound(bs, upper), _bound(rs, upper)
    if base is None and rev is None:
        return []
    name = {True: {"maximum": "max", "exclusiveMaximum": "exclusive-max"},
            False: {"minimum": "min", "exclusiveMinimum": "exclusive-min"}}[upper]
    if base is None and rev is not None:
        return [change(f"{name[rev[2]]}-set", b.ptr, (*r.ptr, rev[2]), to=_text(rev))]
    if rev is None and base is not None:
        return [change(f"{name[base[2]]}-unset", (*b.ptr, base[2]), r.ptr, **{
            "from": _text(base)})]
    if base is None or rev is None or base[:2] == rev[:2]:
        return []
    narrower = (rev[0] < base[0] if upper else rev[0] > base[0]) or (
        rev[0] == base[0] and rev[1] and not base[1])
    tighter = "decreased" if upper else "increased"
    looser = "increased" if upper else "decreased"
    kind = f"{name[rev[2]]}-{tighter if narrower else looser}"
    return [change(kind, (*b.ptr, base[2]), (*r.ptr, rev[2]),
                   **{"from": _text(base), "to": _text(rev)})]


def _text(bound: tuple[float, bool, str]) -> str:
    return f"{bound[0]:g} (exclusive)" if bound[1] else f"{bound[0]:g}"


def _sizes(b: Node, r: Node) -> list[SchemaChange]:
    bs, rs = b.mapping(), r.mapping()
    out: list[SchemaChange] = []
    for keyword, name in _SIZE_BOUNDS:
        bv, rv = _number(bs.get(keyword)), _number(rs.get(keyword))
        if bv == rv:
            continue
        if bv is None:
            kind = f"{name}-set"
        elif rv is None:
            kind = f"{name}-unset"
        else:
            kind = f"{name}-{'increased' if rv > bv else 'decreased'}"
        out.append(change(kind, keyword_ptr(b.ptr, bs, keyword), keyword_ptr(r.ptr, rs, keyword),
                          **{"from": _show(bv), "to": _show(rv)}))
    return out


def _show(value: float | None) -> str:
    return "none" if value is None else f"{value:g}"


def _multiple_of(b: Node, r: Node) -> list[SchemaChange]:
    bs, rs = b.mapping(), r.mapping()
    bv, rv = _number(bs.get("multipleOf")), _number(rs.get("multipleOf"))
    if bv == rv:
        return []
    if bv is None:
        kind = "multiple-of-set"
    elif rv is None:
        kind = "multiple-of-unset"
    else:
        old, new = Fraction(str(bv)), Fraction(str(rv))
        if new and (old / new).denominator == 1:
            kind = "multiple-of-generalized"  # every old multiple is a new multiple
        elif old and (new / old).denominator == 1:
            kind = "multiple-of-specialized"
        else:
            kind = "multiple-of-changed"
    return [change(kind, keyword_ptr(b.ptr, bs, "multipleOf"),
                   keyword_ptr(r.ptr, rs, "multipleOf"),
                   **{"from": _show(bv), "to": _show(rv)})]


def _unique_items(b: Node, r: Node) -> list[SchemaChange]:
    bs, rs = b.mapping(), r.mapping()
    bv, rv = bs.get("uniqueItems") is True, rs.get("uniqueItems") is True
    if bv == rv:
        return []
    return [change("unique-items-set" if rv else "unique-items-unset",
                   keyword_ptr(b.ptr, bs, "uniqueItems"), keyword_ptr(r.ptr, rs, "uniqueItems"))]


def _pattern(b: Node, r: Node) -> list[SchemaChange]:
    bs, rs = b.mapping(), r.mapping()
    bv, rv = bs.get("pattern"), rs.get("pattern")
    bv = None if not isinstance(bv, str) or bv in _MATCH_ALL else bv
    rv_all = isinstance(rv, str) and rv in _MATCH_ALL
    rv = rv if isinstance(rv, str) else None
    if bv is None and (rv is None or rv_all):
        return []
    if bv is None:
        kind = "pattern-added"
    elif rv is None:
        kind = "pattern-removed"
    elif bv == rv:
        return []
    else:
        kind = "pattern-generalized" if rv_all else "pattern-changed"
    return [change(kind, keyword_ptr(b.ptr, bs, "pattern"), keyword_ptr(r.ptr, rs, "pattern"),
                   **{"from": bv or "none", "to": rv or "none"})]


def compare_bounds(b: Node, r: Node) -> list[SchemaChange]:
    """Every constraint change between schemas ``b`` and ``r``."""
    return [*_numeric(b, r, True), *_numeric(b, r, False), *_sizes(b, r), *_multiple_of(b, r),
            *_unique_items(b, r), *_pattern(b, r)]
