"""Merges an ``allOf`` into one schema, for comparing a schema with and without ``allOf``.

When one side of a comparison composes a schema with ``allOf`` and the other writes it out
(or extracts shared parts into components), comparing keyword by keyword would report the
restructuring itself. The merged view says what the parts require together: properties and
``required`` are united, bounds take the tightest value. Merged properties and sub-schemas stay
references (``{"$ref": "#/..."}``) to where they are written, so changes found inside them are
located in the file where they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from safeship.scanners.openapi.document import Node, Spec
from safeship.scanners.openapi.fingerprint import SCHEMA_LISTS, SCHEMA_MAPS, SCHEMA_VALUES
from safeship.scanners.openapi.pointers import Ptr, to_pointer

_TIGHTEST_MAX = frozenset({"maximum", "exclusiveMaximum", "maxLength", "maxItems",
                           "maxProperties", "maxContains"})
_TIGHTEST_MIN = frozenset({"minimum", "exclusiveMinimum", "minLength", "minItems",
                           "minProperties", "minContains"})
# An allOf nested deeper than this is a loop through allOf (A allOf B, B allOf A).
_MAX_DEPTH = 16


def _ref(ptr: Ptr) -> dict[str, str]:
    return {"$ref": "#" + to_pointer(ptr)}


def flatten(spec: Spec, node: Node) -> Node:
    """``node`` (a schema with ``allOf``) as one merged schema at the same place."""
    merged: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    required: list[str] = []
    for part in _parts(spec, node, 0, set()):
        _merge(merged, properties, required, part)
    if properties:
        merged["properties"] = properties
    if required:
        merged["required"] = required
    return Node(node.ptr, merged)


def _parts(spec: Spec, node: Node, depth: int, seen: set[Ptr]) -> list[Node]:
    target = spec.deref(node)
    if depth > _MAX_DEPTH or target.ptr in seen or not isinstance(target.value, Mapping):
        return []
    seen.add(target.ptr)
    parts = [target]
    members = target.value.get("allOf")
    if isinstance(members, list):
        for index, member in enumerate(members):
            parts.extend(_parts(spec, Node((*target.ptr, "allOf", index), member),
                                depth + 1, seen))
    return parts


def _merge(merged: dict[str, Any], properties: dict[str, Any], required: list[str],
           part: Node) -> None:
    for key, value in part.value.items():
        here = (*part.ptr, key)
        if key == "allOf":
            continue
        if key in SCHEMA_MAPS and isinstance(value, Mapping):
            target = properties if key == "properties" else merged.setdefault(key, {})
            for name in value:
                target.setdefault(name, _ref((*here, name)))
        elif key == "required" and isinstance(value, list):
            required.extend(name for name in value if name not in required)
        elif key in SCHEMA_VALUES:
            merged.setdefault(key, _ref(here))
        elif key in SCHEMA_LISTS and isinstance(value, list):
            merged.setdefault(key, [_ref((*here, index)) for index in range(len(value))])
        elif key in _TIGHTEST_MAX and _number(value) and _number(merged.get(key)):
            merged[key] = min(merged[key], value)
        elif key in _TIGHTEST_MIN and _number(value) and _number(merged.get(key)):
            merged[key] = max(merged[key], value)
        else:
            merged.setdefault(key, value)


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
