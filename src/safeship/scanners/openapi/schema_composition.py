"""``allOf``, ``anyOf``, ``oneOf`` and ``prefixItems``: sub-schemas added, removed or changed.

Sub-schemas are paired before they are compared: first those with the same structure (so
reordering or turning an inline schema into a ``$ref`` changes nothing), then those referring
to the same component name, then the rest in order. Paired sub-schemas are compared
recursively; what is left over was added or removed.

A schema that becomes a ``oneOf``/``anyOf`` (or stops being one) is judged as a whole: when one
alternative is the old schema, the others were added (or removed); otherwise the schema was
restructured (``wrapped-in-one-of``), which can break either side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from safeship.scanners.openapi.document import Node, Spec
from safeship.scanners.openapi.fingerprint import fingerprint, is_annotation
from safeship.scanners.openapi.schema_change import Recurse, SchemaChange, change

_KEYWORDS = (("allOf", "all-of"), ("anyOf", "any-of"), ("oneOf", "one-of"))


def members(node: Node, keyword: str) -> list[Node]:
    """The sub-schemas listed under ``keyword`` (empty when there are none)."""
    raw = node.mapping().get(keyword)
    if not isinstance(raw, list):
        return []
    return [Node((*node.ptr, keyword, index), item) for index, item in enumerate(raw)]


class CompositionComparer:
    """Compares the composition keywords of two schemas."""

    def __init__(self, base: Spec, rev: Spec, recurse: Recurse) -> None:
        self._base = base
        self._rev = rev
        self._recurse = recurse

    def _label(self, spec: Spec, node: Node, index: int) -> str:
        name = spec.ref_name(node)
        return f"#/components/schemas/{name}" if name else f"subschema #{index + 1}"

    def pair(self, bl: Sequence[Node], rl: Sequence[Node]) -> tuple[
            list[tuple[Node, Node]], list[Node], list[Node]]:
        """Matched (base, revision) pairs, then the revision's extra and the base's extra."""
        left = list(bl)
        right = list(rl)
        pairs: list[tuple[Node, Node]] = []
        rprints = [fingerprint(self._rev, n) for n in right]
        for b in list(left):
            bprint = fingerprint(self._base, b)
            if bprint in rprints:
                index = rprints.index(bprint)
                pairs.append((b, right.pop(index)))
                rprints.pop(index)
                left.remove(b)
        for b in list(left):
            name = self._base.ref_name(b)
            match = next((r for r in right if name and self._rev.ref_name(r) == name), None)
            if match is not None:
                pairs.append((b, match))
                right.remove(match)
                left.remove(b)
        while left and right:
            pairs.append((left.pop(0), right.pop(0)))
        return pairs, right, left

    def compare(self, b: Node, r: Node) -> list[SchemaChange]:
        """Changes of the composition keywords present on both sides."""
        out: list[SchemaChange] = []
        for keyword, name in _KEYWORDS:
            bl, rl = members(b, keyword), members(r, keyword)
            if not bl or not rl:
                continue
            pairs, added, removed = self.pair(bl, rl)
            for x, y in pairs:
                if fingerprint(self._base, x) != fingerprint(self._rev, y):
                    out.extend(self._recurse(x, y))
            for node in added:
                index = int(node.ptr[-1])
                kind = f"{name}-added" + self._annotation_only(keyword, self._rev, node)
                out.append(change(kind, (*b.ptr, keyword), node.ptr,
                                  subschema=self._label(self._rev, node, index)))
            for node in removed:
                index = int(node.ptr[-1])
                kind = f"{name}-removed" + self._annotation_only(keyword, self._base, node)
                out.append(change(kind, node.ptr, (*r.ptr, keyword),
                                  subschema=self._label(self._base, node, index)))
        return out

    def _annotation_only(self, keyword: str, spec: Spec, node: Node) -> str:
        if keyword != "allOf":
            return ""
        value = spec.deref(node).value
        if isinstance(value, Mapping) and all(is_annotation(str(k)) or k == "default"
                                              for k in value):
            return "-annotation-only"
        return ""

    def wrapped(self, b: Node, r: Node, keyword: str) -> list[SchemaChange]:
        """A schema that became (or stopped being) a ``oneOf``/``anyOf`` on one side only."""
        name = "one-of" if keyword == "oneOf" else "any-of"
        if members(r, keyword):
            alternatives = members(r, keyword)
            own = fingerprint(self._base, b)
            kept = [n for n in alternatives if fingerprint(self._rev, n) == own]
            if not kept:
                return [change("wrapped-in-one-of", b.ptr, (*r.ptr, keyword), keyword=keyword)]
            return [change(f"{name}-added", b.ptr, n.ptr,
                           subschema=self._label(self._rev, n, int(n.ptr[-1])))
                    for n in alternatives if n is not kept[0]]
        alternatives = members(b, keyword)
        own = fingerprint(self._rev, r)
        kept = [n for n in alternatives if fingerprint(self._base, n) == own]
        if not kept:
            return [change("unwrapped-from-one-of", (*b.ptr, keyword), r.ptr, keyword=keyword)]
        return [change(f"{name}-removed", n.ptr, r.ptr,
                       subschema=self._label(self._base, n, int(n.ptr[-1])))
                for n in alternatives if n is not kept[0]]


def compare_prefix_items(b: Node, r: Node, recurse: Recurse) -> list[SchemaChange]:
    """``prefixItems`` entries compared by position; extra entries were added or removed."""
    bl, rl = members(b, "prefixItems"), members(r, "prefixItems")
    out: list[SchemaChange] = []
    for index, (x, y) in enumerate(zip(bl, rl, strict=False)):
        out.extend(c.under(f"[{index}]") for c in recurse(x, y))
    out.extend(change("prefix-items-added", (*b.ptr, "prefixItems") if bl else b.ptr,
                      node.ptr, subschema=f"item #{int(node.ptr[-1]) + 1}")
               for node in rl[len(bl):])
    out.extend(change("prefix-items-removed", node.ptr, (*r.ptr, "prefixItems") if rl else r.ptr,
                      subschema=f"item #{int(node.ptr[-1]) + 1}")
               for node in bl[len(rl):])
    return out
