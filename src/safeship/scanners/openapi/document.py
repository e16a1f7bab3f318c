"""A loaded OpenAPI document: its plain data, where each part stands in the file, and $refs.

:class:`Spec` is what the diff walks. It never changes after loading. A place in it is a
:data:`~safeship.scanners.openapi.pointers.Ptr`; :meth:`Spec.deref` follows local ``$ref``
chains, so a diff compares what a reference *means*, not how the document is arranged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from safeship.config.yaml_source import YamlDocument
from safeship.scanners.openapi.pointers import Ptr, from_ref

# A chain of $refs longer than this is a loop the loader missed; stop instead of spinning.
_MAX_REF_HOPS = 64


@dataclass(frozen=True, slots=True)
class Node:
    """A value in a spec and the place it was found (after following references)."""

    ptr: Ptr
    value: Any

    def get(self, key: str) -> Node | None:
        """The child ``key`` of a mapping node, or None when absent (or not a mapping)."""
        if isinstance(self.value, Mapping) and key in self.value:
            return Node((*self.ptr, key), self.value[key])
        return None

    def mapping(self) -> Mapping[str, Any]:
        """The value as a mapping (empty when it is something else)."""
        return self.value if isinstance(self.value, Mapping) else {}


@dataclass(frozen=True)
class Spec:
    """One OpenAPI 3.0/3.1 document, validated, with positions for every key."""

    source: str
    """The name used in messages: a path, or ``<ref>:<path>`` for a file read from git."""
    version: str
    """``3.0`` or ``3.1`` (the ``openapi`` field's major.minor)."""
    document: YamlDocument
    _cache: dict[Ptr, Node | None] = field(default_factory=dict, repr=False, compare=False)

    @property
    def data(self) -> Mapping[str, Any]:
        """The document as plain data."""
        return self.document.data  # type: ignore[no-any-return]

    @property
    def root(self) -> Node:
        """The whole document as a node."""
        return Node((), self.data)

    def at(self, ptr: Ptr) -> Node | None:
        """The node at ``ptr`` (list indexes may be given as digit strings), or None."""
        if ptr in self._cache:
            return self._cache[ptr]
        value: Any = self.data
        path: list[str | int] = []
        found: Node | None = None
        for part in ptr:
            if isinstance(value, Mapping) and str(part) in value:
                path.append(str(part))
                value = value[str(part)]
            elif isinstance(value, list) and str(part).isdigit() and int(part) < len(value):
                path.append(int(part))
                value = value[int(part)]
            else:
                break
        else:
            found = Node(tuple(path), value)
        self._cache[ptr] = found
        return found

    def deref(self, node: Node) -> Node:
        """``node`` with every ``$ref`` followed; the loader guarantees local refs resolve."""
        hops = 0
        while isinstance(node.value, Mapping) and isinstance(node.value.get("$ref"), str):
            target_ptr = from_ref(node.value["$ref"])
            target = self.at(target_ptr) if target_ptr is not None else None
            if target is None or hops >= _MAX_REF_HOPS:
                return node
            node = target
            hops += 1
        return node

    def ref_name(self, node: Node) -> str | None:
        """The last segment of ``node``'s own ``$ref`` (``Pet`` for ``#/.../Pet``), if any."""
        if isinstance(node.value, Mapping) and isinstance(node.value.get("$ref"), str):
            return str(node.value["$ref"]).rsplit("/", 1)[-1]
        return None

    def existing(self, ptr: Ptr | None) -> Ptr | None:
        """``ptr``, or its nearest ancestor that exists (places of merged schemas may not)."""
        if ptr is None:
            return None
        probe = tuple(ptr)
        while probe and self.at(probe) is None:
            probe = probe[:-1]
        node = self.at(probe)
        return node.ptr if node is not None else ()

    def line(self, ptr: Ptr | None) -> int | None:
        """The 1-based line where ``ptr`` (or its nearest ancestor) is written."""
        if ptr is None:
            return None
        return self.document.locate(ptr, key=True).line
