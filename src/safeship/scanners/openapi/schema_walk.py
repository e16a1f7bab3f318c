"""The schema comparison: two schemas in, every :class:`SchemaChange` between them out.

References are followed on both sides, so only meaning is compared. Each pair of schemas is
compared once per diff and the result reused wherever the pair appears (a shared component in
fifty operations costs one comparison). Recursive schemas are handled by noticing a pair that
is already being compared further up: its changes are found there, so the walk stops; results
that were cut short that way are not reused elsewhere, where the loop may not close.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from safeship.errors import ConfigError, ConfigProblem, SourceLocation
from safeship.scanners.openapi.context import DiffOptions
from safeship.scanners.openapi.document import Node, Spec
from safeship.scanners.openapi.fingerprint import fingerprint
from safeship.scanners.openapi.flatten import flatten
from safeship.scanners.openapi.pointers import Ptr
from safeship.scanners.openapi.schema_bounds import compare_bounds
from safeship.scanners.openapi.schema_change import ADDITIONAL, ITEMS, SchemaChange
from safeship.scanners.openapi.schema_composition import (
    CompositionComparer,
    compare_prefix_items,
)
from safeship.scanners.openapi.schema_keywords31 import (
    compare_discriminator,
    compare_keywords31,
)
from safeship.scanners.openapi.schema_properties import PropertyComparer
from safeship.scanners.openapi.schema_types import compare_types
from safeship.scanners.openapi.schema_values import (
    compare_const_and_default,
    compare_enum,
    compare_extensible_enum,
)

# Schemas nested deeper than this (through distinct references, since loops are cut) would
# exhaust Python's stack; no real API is shaped like that.
MAX_DEPTH = 120


@dataclass
class _Frame:
    key: tuple[Ptr, Ptr]
    complete: bool = True


class SchemaWalker:
    """Compares schemas of a base spec with schemas of a revision spec."""

    def __init__(self, base: Spec, rev: Spec, options: DiffOptions) -> None:
        self.base = base
        self.rev = rev
        self._memo: dict[tuple[Ptr, Ptr], tuple[SchemaChange, ...]] = {}
        self._stack: list[_Frame] = []
        self._properties = PropertyComparer(base, rev, options, self.compare)
        self._composition = CompositionComparer(base, rev, self.compare)

    def compare(self, b: Node, r: Node) -> tuple[SchemaChange, ...]:
        """The changes from schema ``b`` (base) to schema ``r`` (revision)."""
        b, r = self.base.deref(b), self.rev.deref(r)
        key = (b.ptr, r.ptr)
        if key in self._memo:
            return self._memo[key]
        for index, frame in enumerate(self._stack):
            if frame.key == key:
                # A loop: the frame up there compares this pair; everything in between is
                # only partly compared and must not be reused.
                for inner in self._stack[index + 1:]:
                    inner.complete = False
                return ()
        if len(self._stack) >= MAX_DEPTH:
            raise ConfigError([ConfigProblem(
                SourceLocation(self.rev.source, self.rev.line(r.ptr)), "",
                f"schemas nest more than {MAX_DEPTH} levels deep here; safeship cannot compare "
                "them")])
        frame = _Frame(key)
        self._stack.append(frame)
        try:
            found = tuple(self._pair(b, r))
        finally:
            self._stack.pop()
        if frame.complete:
            self._memo[key] = found
        return found

    def _pair(self, b: Node, r: Node) -> list[SchemaChange]:
        if not isinstance(b.value, Mapping) or not isinstance(r.value, Mapping):
            return []
        b_all, r_all = bool(b.value.get("allOf")), bool(r.value.get("allOf"))
        if b_all != r_all:
            b = flatten(self.base, b) if b_all else b
            r = flatten(self.rev, r) if r_all else r
        elif b_all and fingerprint(self.base, flatten(self.base, b)) == fingerprint(
                self.rev, flatten(self.rev, r)):
            # The parts were rearranged but require the same together; only parts that
            # merely document are worth a note.
            return [c for c in self._composition.compare(b, r)
                    if c.kind.endswith("annotation-only")]
        for keyword in ("oneOf", "anyOf"):
            if bool(b.value.get(keyword)) != bool(r.value.get(keyword)):
                return self._composition.wrapped(b, r, keyword)
        out: list[SchemaChange] = []
        out.extend(compare_types(b, r))
        out.extend(compare_enum(b, r))
        out.extend(compare_extensible_enum(b, r))
        out.extend(compare_const_and_default(b, r))
        out.extend(compare_bounds(b, r))
        out.extend(self._properties.compare(b, r))
        out.extend(self._children(b, r))
        out.extend(self._composition.compare(b, r))
        out.extend(compare_prefix_items(b, r, self.compare))
        out.extend(compare_keywords31(b, r))
        out.extend(compare_discriminator(b, r))
        return out

    def _children(self, b: Node, r: Node) -> list[SchemaChange]:
        out: list[SchemaChange] = []
        for keyword, segment in (("items", ITEMS), ("additionalProperties", ADDITIONAL)):
            bc, rc = b.get(keyword), r.get(keyword)
            if bc is None or rc is None:
                continue
            if isinstance(bc.value, Mapping) and isinstance(rc.value, Mapping):
                out.extend(c.under(segment) for c in self.compare(bc, rc))
        return out
