"""JSON Schema 2020-12 keywords of OpenAPI 3.1, and the discriminator.

Conditional and applicator keywords (``if``/``then``/``else``, ``contains``,
``dependentRequired``, ``dependentSchemas``, ``patternProperties``, ``propertyNames``,
``unevaluatedItems``/``unevaluatedProperties``) and the content keywords (``contentSchema``,
``contentMediaType``, ``contentEncoding``) are compared by presence (and, for
``dependentRequired``, by their lists): adding one constrains what is valid, removing one
relaxes it. What they constrain in detail is not compared.

The discriminator only helps tools pick an alternative; its changes are reported for the
record (INFO).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from safeship.scanners.openapi.document import Node
from safeship.scanners.openapi.schema_change import SchemaChange, change

_PRESENCE = (("if", "if"), ("then", "then"), ("else", "else"), ("contains", "contains"),
             ("propertyNames", "property-names"), ("contentSchema", "content-schema"))
_UNEVALUATED = (("unevaluatedItems", "unevaluated-items"),
                ("unevaluatedProperties", "unevaluated-properties"))
_KEYED = (("dependentSchemas", "dependent-schema"), ("patternProperties", "pattern-property"))
_VALUES = (("contentMediaType", "content-media-type"), ("contentEncoding", "content-encoding"))


def _presence(kind: str, keyword: str, b: Node, r: Node, before: bool,
              after: bool) -> list[SchemaChange]:
    if before == after:
        return []
    if after:
        return [change(f"{kind}-added", b.ptr, (*r.ptr, keyword))]
    return [change(f"{kind}-removed", (*b.ptr, keyword), r.ptr)]


def _constraining(value: Any) -> bool:
    # `unevaluatedProperties: true` allows everything, like leaving it out.
    return value is not None and value is not True


def _mapping(schema: Mapping[str, Any], keyword: str) -> Mapping[str, Any]:
    raw = schema.get(keyword)
    return raw if isinstance(raw, Mapping) else {}


def compare_keywords31(b: Node, r: Node) -> list[SchemaChange]:
    """Changes of the 2020-12 keywords between schemas ``b`` and ``r``."""
    bs, rs = b.mapping(), r.mapping()
    out: list[SchemaChange] = []
    for keyword, kind in _PRESENCE:
        out.extend(_presence(kind, keyword, b, r, keyword in bs, keyword in rs))
    for keyword, kind in _UNEVALUATED:
        out.extend(_presence(kind, keyword, b, r, _constraining(bs.get(keyword)),
                             _constraining(rs.get(keyword))))
    for keyword, kind in _KEYED:
        bm, rm = _mapping(bs, keyword), _mapping(rs, keyword)
        out.extend(change(f"{kind}-added", (*b.ptr, keyword) if bm else b.ptr,
                          (*r.ptr, keyword, key), name=key) for key in rm if key not in bm)
        out.extend(change(f"{kind}-removed", (*b.ptr, keyword, key),
                          (*r.ptr, keyword) if rm else r.ptr, name=key)
                   for key in bm if key not in rm)
    out.extend(_dependent_required(b, r))
    for keyword, kind in _VALUES:
        bv, rv = bs.get(keyword), rs.get(keyword)
        if bv != rv:
            out.append(change(f"{kind}-changed", (*b.ptr, keyword) if bv else b.ptr,
                              (*r.ptr, keyword) if rv else r.ptr,
                              **{"from": str(bv or "none"), "to": str(rv or "none")}))
    return out


def _dependent_required(b: Node, r: Node) -> list[SchemaChange]:
    bm = _mapping(b.mapping(), "dependentRequired")
    rm = _mapping(r.mapping(), "dependentRequired")
    out: list[SchemaChange] = []
    for key in rm:
        here = (*r.ptr, "dependentRequired", key)
        if key not in bm:
            out.append(change("dependent-required-added", b.ptr, here, name=key,
                              names=", ".join(map(str, rm[key] or []))))
        elif set(map(str, bm[key] or [])) != set(map(str, rm[key] or [])):
            out.append(change("dependent-required-changed", (*b.ptr, "dependentRequired", key),
                              here, name=key, **{"from": ", ".join(map(str, bm[key] or [])),
                                                 "to": ", ".join(map(str, rm[key] or []))}))
    out.extend(change("dependent-required-removed", (*b.ptr, "dependentRequired", key), r.ptr,
                      name=key, names=", ".join(map(str, bm[key] or [])))
               for key in bm if key not in rm)
    return out


def compare_discriminator(b: Node, r: Node) -> list[SchemaChange]:
    """Discriminator added, removed, renamed, or its mapping changed (all INFO)."""
    bs, rs = b.mapping(), r.mapping()
    bd, rd = _mapping(bs, "discriminator"), _mapping(rs, "discriminator")
    if not bd and not rd:
        return []
    if not bd:
        return [change("discriminator-added", b.ptr, (*r.ptr, "discriminator"))]
    if not rd:
        return [change("discriminator-removed", (*b.ptr, "discriminator"), r.ptr)]
    bptr, rptr = (*b.ptr, "discriminator"), (*r.ptr, "discriminator")
    out: list[SchemaChange] = []
    if bd.get("propertyName") != rd.get("propertyName"):
        out.append(change("discriminator-property-name-changed", bptr, rptr,
                          **{"from": str(bd.get("propertyName")),
                             "to": str(rd.get("propertyName"))}))
    bmap, rmap = _mapping(bd, "mapping"), _mapping(rd, "mapping")
    added = [k for k in rmap if k not in bmap]
    removed = [k for k in bmap if k not in rmap]
    if added:
        out.append(change("discriminator-mapping-added", bptr, rptr, names=", ".join(added)))
    if removed:
        out.append(change("discriminator-mapping-deleted", bptr, rptr, names=", ".join(removed)))
    out.extend(change("discriminator-mapping-changed", bptr, rptr, name=k,
                      **{"from": str(bmap[k]), "to": str(rmap[k])})
               for k in rmap if k in bmap and bmap[k] != rmap[k])
    return out
