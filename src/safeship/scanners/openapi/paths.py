"""Paths and operations: matched, removed (with the deprecation and sunset rules) or added.

Paths match when their templates match with variable names ignored, so ``/pets/{id}`` and
``/pets/{petId}`` are the same path (as in oasdiff). Removing an operation is breaking unless
it was deprecated first, and, when it has an ``x-sunset`` date, that date has passed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from safeship.scanners.openapi.context import DiffContext, Place
from safeship.scanners.openapi.document import Node, Spec
from safeship.scanners.openapi.operations import OperationComparer
from safeship.scanners.openapi.schema_walk import SchemaWalker
from safeship.scanners.openapi.sunset import Removal, changes_allowed, lifecycle, removal

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_VARIABLE = re.compile(r"\{[^}/]*\}")


def normalize(path: str) -> str:
    """``/pets/{petId}`` -> ``/pets/{}``: the path's shape, without variable names."""
    return _VARIABLE.sub("{}", path)


def indexed_paths(spec: Spec, holder: str = "paths") -> dict[str, tuple[str, Node]]:
    """The spec's path items by normalised path (the first one wins if two collide)."""
    paths = spec.root.get(holder)
    found: dict[str, tuple[str, Node]] = {}
    for path, raw in (paths.mapping() if paths is not None else {}).items():
        if str(path).startswith("x-"):
            continue
        item = spec.deref(Node(("paths", path), raw))
        found.setdefault(normalize(str(path)), (str(path), item))
    return found


def operations(item: Node) -> Mapping[str, Node]:
    """The operations of a path item, by method."""
    return {m: op for m in METHODS if (op := item.get(m)) is not None}


def report_removal(ctx: DiffContext, place: Place, op: Node, anchor: Node,
                   whole_path: bool) -> None:
    """Report operation ``op`` of the base as removed (``whole_path``: with its path)."""
    if changes_allowed(op.mapping()):
        return
    before = lifecycle(op.mapping())
    outcome = removal(before, ctx.options.today)
    prefix = "api-path" if whole_path else "api"
    what = "the path and its operation were" if whole_path else "the operation was"
    rule, text = {
        Removal.WITHOUT_DEPRECATION: (
            f"{prefix}-removed-without-deprecation",
            f"{what} removed without being deprecated first; clients calling it will fail "
            "(deprecate it with a sunset date in a release before removing it)"),
        Removal.BEFORE_SUNSET: (
            f"{prefix}-removed-before-sunset",
            f"{what} removed before the sunset date {before.sunset} it announced"),
        Removal.SUNSET_UNPARSABLE: (
            "api-path-sunset-parse",
            f"{what} removed, but its x-sunset {before.sunset_text!r} is not a date, so "
            "nobody can tell whether removal was allowed"),
        Removal.ALLOWED: (
            f"{prefix}-removed-with-deprecation",
            f"{what} removed after its deprecation"
            + (f" (sunset {before.sunset} has passed)" if before.sunset else "")),
    }[outcome]
    ctx.emit(rule, place, text, op.ptr, anchor.ptr)


def compare_paths(ctx: DiffContext, walker: SchemaWalker) -> None:
    """Report every path and operation change."""
    base, rev = indexed_paths(ctx.base), indexed_paths(ctx.revision)
    comparer = OperationComparer(ctx, walker)
    rev_paths = ctx.revision.root.get("paths") or ctx.revision.root
    base_paths = ctx.base.root.get("paths") or ctx.base.root
    for key, (bpath, bitem) in base.items():
        if key not in rev:
            for method, op in operations(bitem).items():
                report_removal(ctx, Place.of(method, bpath), op, rev_paths, whole_path=True)
            continue
        rpath, ritem = rev[key]
        bops, rops = operations(bitem), operations(ritem)
        for method, op in bops.items():
            place = Place.of(method, rpath)
            if method not in rops:
                report_removal(ctx, place, op, ritem, whole_path=False)
            else:
                comparer.compare(place, (bpath, rpath), (bitem, ritem), (op, rops[method]))
        for method, op in rops.items():
            if method not in bops:
                ctx.emit("endpoint-added", Place.of(method, rpath), "the operation was added",
                         bitem.ptr, op.ptr)
    for key, (rpath, ritem) in rev.items():
        if key not in base:
            for method, op in operations(ritem).items():
                ctx.emit("endpoint-added", Place.of(method, rpath), "the operation was added",
                         base_paths.ptr, op.ptr)
