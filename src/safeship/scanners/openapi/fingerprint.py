"""A schema's structure reduced to a hash, to tell equivalent schemas apart from changed ones.

References are followed, so an inline schema and a ``$ref`` to an identical component have the
same fingerprint; annotations (descriptions, titles, examples, ``x-`` extensions other than
``x-extensible-enum``, ``deprecated``) are left out, since they cannot break a client; order
that means nothing (``required``, ``enum``, a list of types) is normalised, and 3.0's
``nullable: true`` equals 3.1's ``"null"`` type. Recursive schemas are cut where they loop, by
the distance to the loop's start, so two equally shaped recursions match whatever their names.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from safeship.scanners.openapi.document import Node, Spec
from safeship.scanners.openapi.pointers import Ptr

ANNOTATIONS = frozenset({
    "description", "summary", "title", "example", "examples", "externalDocs", "$comment",
    "deprecated", "xml", "x-sunset", "x-stability-level",
})
# Keywords whose value is a map of names to schemas, a list of schemas, or one schema.
SCHEMA_MAPS = frozenset({"properties", "patternProperties", "dependentSchemas", "$defs"})
SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
SCHEMA_VALUES = frozenset({
    "items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames",
    "unevaluatedItems", "unevaluatedProperties", "contentSchema",
})


def is_annotation(key: str) -> bool:
    """True for keywords that only document a schema."""
    return key in ANNOTATIONS or (key.startswith("x-") and key != "x-extensible-enum")


def fingerprint(spec: Spec, node: Node) -> str:
    """A hash of the structure of the schema at ``node``."""
    shape = _Shaper(spec).schema(node)
    text = json.dumps(shape, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _sorted(values: list[Any]) -> list[Any]:
    return sorted(values, key=lambda v: json.dumps(v, sort_keys=True, default=str))


class _Shaper:
    def __init__(self, spec: Spec) -> None:
        self._spec = spec
        self._stack: list[Ptr] = []

    def schema(self, node: Node) -> Any:
        target = self._spec.deref(node)
        if target.ptr in self._stack:
            # Where a recursion loops: how far up the loop starts, not what it is called.
            return {"$loop": len(self._stack) - self._stack.index(target.ptr)}
        value = target.value
        if not isinstance(value, Mapping):
            return value
        self._stack.append(target.ptr)
        try:
            return self._keywords(target.ptr, value)
        finally:
            self._stack.pop()

    def _keywords(self, ptr: Ptr, value: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, child in value.items():
            if is_annotation(key) or key in ("type", "nullable"):
                continue
            here = (*ptr, key)
            if key in SCHEMA_MAPS and isinstance(child, Mapping):
                out[key] = {name: self.schema(Node((*here, name), sub))
                            for name, sub in child.items()}
            elif key in SCHEMA_LISTS and isinstance(child, list):
                out[key] = [self.schema(Node((*here, index), sub))
                            for index, sub in enumerate(child)]
            elif key in SCHEMA_VALUES:
                out[key] = self.schema(Node(here, child))
            elif key in ("required", "enum") and isinstance(child, list):
                out[key] = _sorted(child)
            else:
                out[key] = child
        types = value.get("type")
        listed = [types] if isinstance(types, str) else list(types or [])
        if value.get("nullable") is True and "null" not in listed:
            listed.append("null")
        if listed:
            out["type"] = sorted(str(t) for t in listed)
        return out
