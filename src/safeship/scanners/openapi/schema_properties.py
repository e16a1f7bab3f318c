"""Object properties: added, removed, required or not, read/write-only, deprecated, stability.

A property is matched by name; both sides are compared recursively and what is found inside is
reported under the property's path. Requiredness is what a request must send or a response
always carries, so a property that is read-only on both sides (never sent) or write-only on
both sides (never returned) marks what is found inside it, and the rule mapping drops or
softens those findings for the direction they cannot break.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from safeship.scanners.openapi.context import DiffOptions
from safeship.scanners.openapi.document import Node, Spec
from safeship.scanners.openapi.schema_change import Recurse, SchemaChange, change
from safeship.scanners.openapi.sunset import lifecycle, stability_rank


def _props(node: Node) -> Mapping[str, Any]:
    props = node.mapping().get("properties")
    return props if isinstance(props, Mapping) else {}


def _required(node: Node) -> list[str]:
    raw = node.mapping().get("required")
    return [str(name) for name in raw] if isinstance(raw, list) else []


def _required_ptr(node: Node, name: str) -> tuple[str | int, ...]:
    names = _required(node)
    return (*node.ptr, "required", names.index(name)) if name in names else node.ptr


def _flag(schema: Mapping[str, Any], key: str) -> bool:
    return schema.get(key) is True


class PropertyComparer:
    """Compares the ``properties`` of two object schemas."""

    def __init__(self, base: Spec, rev: Spec, options: DiffOptions, recurse: Recurse) -> None:
        self._base = base
        self._rev = rev
        self._options = options
        self._recurse = recurse

    def compare(self, b: Node, r: Node) -> list[SchemaChange]:
        """Every property-level change between object schemas ``b`` and ``r``."""
        bprops, rprops = _props(b), _props(r)
        if not bprops and not rprops:
            return []
        breq, rreq = set(_required(b)), set(_required(r))
        out: list[SchemaChange] = []
        for name in [*rprops, *(n for n in bprops if n not in rprops)]:
            if name in bprops and name in rprops:
                out.extend(self._both(b, r, name, name in breq, name in rreq))
            elif name in rprops:
                prop = self._rev.deref(Node((*r.ptr, "properties", name), rprops[name]))
                schema = prop.mapping()
                out.append(change("property-added", (*b.ptr, "properties") if bprops else b.ptr,
                                  prop.ptr, required=name in rreq, has_default="default" in schema,
                                  read_only=_flag(schema, "readOnly"),
                                  write_only=_flag(schema, "writeOnly")).under(name))
            else:
                prop = self._base.deref(Node((*b.ptr, "properties", name), bprops[name]))
                schema = prop.mapping()
                out.append(change("property-removed", prop.ptr,
                                  (*r.ptr, "properties") if rprops else r.ptr,
                                  required=name in breq, read_only=_flag(schema, "readOnly"),
                                  write_only=_flag(schema, "writeOnly")).under(name))
        return out

    def _both(self, b: Node, r: Node, name: str, was_required: bool,
              is_required: bool) -> list[SchemaChange]:
        bp = self._base.deref(Node((*b.ptr, "properties", name), _props(b)[name]))
        rp = self._rev.deref(Node((*r.ptr, "properties", name), _props(r)[name]))
        bs, rs = bp.mapping(), rp.mapping()
        out: list[SchemaChange] = []
        read_only = _flag(bs, "readOnly") and _flag(rs, "readOnly")
        write_only = _flag(bs, "writeOnly") and _flag(rs, "writeOnly")
        if is_required and not was_required:
            out.append(change("became-required", bp.ptr, _required_ptr(r, name),
                              has_default="default" in rs, read_only=_flag(rs, "readOnly"),
                              write_only=_flag(rs, "writeOnly")))
        elif was_required and not is_required:
            out.append(change("became-optional", _required_ptr(b, name), rp.ptr,
                              read_only=_flag(bs, "readOnly"),
                              write_only=_flag(bs, "writeOnly")))
        for key, label in (("readOnly", "read-only"), ("writeOnly", "write-only")):
            if _flag(bs, key) != _flag(rs, key):
                prefix = "became-" if _flag(rs, key) else "became-not-"
                out.append(change(prefix + label, bp.ptr, rp.ptr, required=is_required))
        out.extend(self._lifecycle(bp, rp))
        # The property's own flags travel in the details of its own changes; what is found
        # inside it is marked, since a read-only (write-only) property is never sent (returned).
        found = [c.under(name) for c in out]
        found.extend(c.under(name, read_only=read_only, write_only=write_only)
                     for c in self._recurse(bp, rp))
        return found

    def _lifecycle(self, bp: Node, rp: Node) -> list[SchemaChange]:
        bs, rs = bp.mapping(), rp.mapping()
        before, after = lifecycle(bs), lifecycle(rs)
        out: list[SchemaChange] = []
        if after.deprecated and not before.deprecated:
            days = self._options.deprecation_days
            if after.sunset_invalid:
                kind = "deprecated-sunset-invalid"
            elif after.sunset is None:
                kind = "deprecated-sunset-missing" if days > 0 else "deprecated"
            elif (after.sunset - self._options.today).days < days:
                kind = "sunset-date-too-small"
            else:
                kind = "deprecated-with-sunset"
            out.append(change(kind, bp.ptr, (*rp.ptr, "deprecated"), sunset=after.sunset_text,
                              days=days))
        elif before.deprecated and not after.deprecated:
            out.append(change("reactivated", (*bp.ptr, "deprecated"), rp.ptr))
        old, new = stability_rank(_level(bs)), stability_rank(_level(rs))
        if old is not None and new is not None and old != new:
            out.append(change("stability-decreased" if new < old else "stability-increased",
                              bp.ptr, rp.ptr, **{"from": _level(bs) or "stable",
                                                 "to": _level(rs) or "stable"}))
        return out


def _level(schema: Mapping[str, Any]) -> str | None:
    raw = schema.get("x-stability-level")
    return None if raw is None else str(raw)
