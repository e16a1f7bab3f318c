"""One difference between two schemas, before it is given a rule id.

The schema walk does not know whether a schema is a request body, a response property or a
parameter; it reports a ``kind`` (``max-length-decreased``, ``property-removed``...) at a
property path relative to the schema it was asked to compare. :mod:`.schema_rules` then picks
the rule id for the place the schema is used, and :mod:`.schema_messages` words it. Keeping
changes relative lets one comparison of a shared component serve every operation using it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from safeship.scanners.openapi.document import Node
from safeship.scanners.openapi.pointers import Ptr

ITEMS = "[]"
"""The path segment of an array's items."""
ADDITIONAL = "*"
"""The path segment of an object's additionalProperties."""


@dataclass(frozen=True, slots=True)
class SchemaChange:
    """A kind of change at a property path, with the places on both sides and its details."""

    kind: str
    path: tuple[str, ...]
    base_ptr: Ptr | None
    rev_ptr: Ptr | None
    details: tuple[tuple[str, Any], ...] = ()
    read_only: bool = False
    """The change is inside a property that is read-only on both sides (clients never send
    it, so request-side narrowing cannot break them)."""
    write_only: bool = False
    """The change is inside a property that is write-only on both sides (never in responses)."""

    def detail(self, key: str, default: Any = None) -> Any:
        """One detail by name."""
        return dict(self.details).get(key, default)

    def under(self, segment: str, *, read_only: bool = False,
              write_only: bool = False) -> SchemaChange:
        """This change as seen from the parent schema, through ``segment``."""
        return replace(self, path=(segment, *self.path), read_only=self.read_only or read_only,
                       write_only=self.write_only or write_only)


def change(kind: str, base_ptr: Ptr | None, rev_ptr: Ptr | None,
           **details: Any) -> SchemaChange:
    """A change of ``kind`` at the compared schema itself."""
    return SchemaChange(kind, (), base_ptr, rev_ptr, tuple(details.items()))


def keyword_ptr(node_ptr: Ptr, schema: Mapping[str, Any], keyword: str) -> Ptr:
    """The place of ``keyword`` in a schema, or the schema itself when it is absent."""
    return (*node_ptr, keyword) if keyword in schema else node_ptr


Recurse = Callable[[Node, Node], Sequence[SchemaChange]]
"""Compares two sub-schemas (follows references, handles loops): the walk's entry point."""
