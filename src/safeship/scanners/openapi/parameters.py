"""Parameters of an operation: added, removed, moved, required, deprecated, serialized, typed.

Parameters are matched by location and name (header names ignore case). Path parameters are
matched by their position in the path template instead, because ``/pets/{id}`` and
``/pets/{petId}`` are the same path and renaming the variable changes nothing for clients.
Parameters declared on the path item apply to every operation below it unless the operation
overrides them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from safeship.scanners.openapi.context import DiffContext, Place
from safeship.scanners.openapi.document import Node, Spec
from safeship.scanners.openapi.schema_report import SchemaSite, report_schema
from safeship.scanners.openapi.schema_walk import SchemaWalker
from safeship.scanners.openapi.sunset import Removal, lifecycle, removal

_TEMPLATE_VARIABLE = re.compile(r"\{([^}/]*)\}")
_SCALARS = frozenset({"string", "number", "integer", "boolean", "null"})


def template_names(path: str) -> list[str]:
    """The variable names of a path template, in order."""
    return _TEMPLATE_VARIABLE.findall(path)


@dataclass(frozen=True)
class Param:
    """One effective parameter of an operation."""

    key: tuple[str, str]
    name: str
    location: str
    node: Node
    from_path_item: bool

    @property
    def value(self) -> Mapping[str, Any]:
        """The parameter object."""
        return self.node.mapping()

    @property
    def label(self) -> str:
        """``the query parameter `limit```."""
        return f"the {self.location} parameter `{self.name}`"


def effective_parameters(spec: Spec, path: str, path_item: Node,
                         operation: Node) -> dict[tuple[str, str], Param]:
    """The parameters of ``operation``: the path item's, overridden by the operation's own."""
    names = template_names(path)
    found: dict[tuple[str, str], Param] = {}
    for holder, from_item in ((path_item, True), (operation, False)):
        listed = holder.get("parameters")
        if listed is None or not isinstance(listed.value, list):
            continue
        for index, raw in enumerate(listed.value):
            node = spec.deref(Node((*listed.ptr, index), raw))
            value = node.mapping()
            name, location = str(value.get("name", "")), str(value.get("in", ""))
            if location == "path" and name in names:
                key = ("path", f"#{names.index(name)}")
            else:
                key = (location, name.lower() if location == "header" else name)
            found[key] = Param(key, name, location, node, from_item)
    return found


def _schema(param: Param) -> Node | None:
    schema = param.node.get("schema")
    if schema is not None:
        return schema
    content = param.node.get("content")
    for media in content.mapping() if content is not None else ():
        holder = content.get(media) if content is not None else None
        return holder.get("schema") if holder is not None else None
    return None


def _serialization(param: Param) -> tuple[str, bool]:
    style = param.value.get("style")
    if not isinstance(style, str):
        style = "form" if param.location in ("query", "cookie") else "simple"
    explode = param.value.get("explode")
    return style, explode if isinstance(explode, bool) else style == "form"


def _scalar(spec: Spec, node: Node | None) -> bool:
    if node is None:
        return False
    schema = spec.deref(node).mapping()
    if any(k in schema for k in ("oneOf", "anyOf", "allOf")):
        return False
    raw = schema.get("type")
    types = [raw] if isinstance(raw, str) else list(raw or [])
    return bool(types) and all(t in _SCALARS for t in types)


class ParameterComparer:
    """Compares the parameters of one operation in the base and in the revision."""

    def __init__(self, ctx: DiffContext, walker: SchemaWalker) -> None:
        self._ctx = ctx
        self._walker = walker
        self._anchors = (ctx.base.root, ctx.revision.root)

    def compare(self, place: Place, base: dict[tuple[str, str], Param],
                rev: dict[tuple[str, str], Param], anchors: tuple[Node, Node]) -> None:
        """Report every parameter change between ``base`` and ``rev``.

        ``anchors`` are the operations on both sides: where an added or removed parameter is
        located on the side that does not have it.
        """
        self._anchors = anchors
        removed = [p for k, p in base.items() if k not in rev]
        added = [p for k, p in rev.items() if k not in base]
        for old in list(removed):
            moved = next((new for new in added if new.name.lower() == old.name.lower()
                          and new.location != old.location), None)
            if moved is not None:
                removed.remove(old)
                added.remove(moved)
                self._ctx.emit(
                    "request-parameter-location-changed", place,
                    f"the parameter `{old.name}` moved from {old.location} to "
                    f"{moved.location}; clients still send it in the {old.location}",
                    old.node.ptr, moved.node.ptr)
        for old in removed:
            self._removed(place, old)
        for new in added:
            self._added(place, new)
        for key, old in base.items():
            if key in rev:
                self._both(place, old, rev[key])

    def _removed(self, place: Place, old: Param) -> None:
        before = lifecycle(old.value)
        outcome = removal(before, self._ctx.options.today)
        rule, text = {
            Removal.WITHOUT_DEPRECATION: (
                "request-parameter-removed",
                f"{old.label} was removed without being deprecated first; clients that still "
                "send it may be refused"),
            Removal.BEFORE_SUNSET: (
                "request-parameter-removed-before-sunset",
                f"{old.label} was removed before its sunset date {before.sunset}"),
            Removal.SUNSET_UNPARSABLE: (
                "request-parameter-sunset-parse",
                f"{old.label} was removed, but its x-sunset {before.sunset_text!r} is not a "
                "date, so nobody can tell whether removal was allowed"),
            Removal.ALLOWED: (
                "request-parameter-removed-with-deprecation",
                f"the deprecated {old.label[4:]} was removed after its deprecation"),
        }[outcome]
        self._ctx.emit(rule, place, text, old.node.ptr, self._anchors[1].ptr)

    def _added(self, place: Place, new: Param) -> None:
        # Between two valid specs a path parameter cannot appear on its own: the paths match
        # by template, and a template variable needs its parameter on both sides.
        required = new.value.get("required") is True or new.location == "path"
        if new.from_path_item:
            rule = ("new-required-request-default-parameter-to-existing-path" if required
                    else "new-optional-request-default-parameter-to-existing-path")
        else:
            rule = "new-required-request-parameter" if required else (
                "new-optional-request-parameter")
        state = "required" if required else "optional"
        text = f"the {state} {new.location} parameter `{new.name}` was added"
        if new.from_path_item:
            text += " to every operation of the path"
        if required:
            text += "; existing clients do not send it"
            if "default" in (new.value.get("schema") or {}):
                text += " (its default does not make leaving it out valid)"
        self._ctx.emit(rule, place, text, self._anchors[0].ptr, new.node.ptr)

    def _both(self, place: Place, old: Param, new: Param) -> None:
        was, now = old.value.get("required") is True, new.value.get("required") is True
        if now and not was:
            self._ctx.emit("request-parameter-became-required", place,
                           f"{new.label} became required; existing clients may leave it out",
                           old.node.ptr, (*new.node.ptr, "required"))
        elif was and not now and new.location != "path":
            self._ctx.emit("request-parameter-became-optional", place,
                           f"{new.label} became optional", (*old.node.ptr, "required"),
                           new.node.ptr)
        self._lifecycle(place, old, new)
        self._serialization(place, old, new)
        bs, rs = _schema(old), _schema(new)
        if bs is not None and rs is not None:
            site = SchemaSite("request", "parameter", name=new.name, param_in=new.location)
            report_schema(self._ctx, place, site, self._walker.compare(bs, rs))

    def _lifecycle(self, place: Place, old: Param, new: Param) -> None:
        before, after = lifecycle(old.value), lifecycle(new.value)
        days = self._ctx.options.deprecation_days
        bptr, rptr = old.node.ptr, new.node.ptr
        if after.deprecated and not before.deprecated:
            if after.sunset_invalid:
                self._ctx.emit("request-parameter-sunset-parse", place,
                               f"{new.label} was deprecated with x-sunset "
                               f"{after.sunset_text!r}, which is not a date", bptr, rptr)
            elif after.sunset is None and days > 0:
                self._ctx.emit("request-parameter-deprecated-sunset-missing", place,
                               f"{new.label} was deprecated without a sunset date, but a "
                               f"deprecation period of {days} days is required", bptr, rptr)
            elif after.sunset is not None and (
                    after.sunset - self._ctx.options.today).days < days:
                self._ctx.emit("request-parameter-sunset-date-too-small", place,
                               f"{new.label} was deprecated with the sunset date "
                               f"{after.sunset}, sooner than the required {days} days",
                               bptr, rptr)
            else:
                sunset = f" (sunset {after.sunset})" if after.sunset else ""
                self._ctx.emit("request-parameter-deprecated", place,
                               f"{new.label} was deprecated{sunset}", bptr, rptr)
        elif before.deprecated and not after.deprecated:
            self._ctx.emit("request-parameter-reactivated", place,
                           f"{new.label} is no longer deprecated", bptr, rptr)
        elif before.deprecated and after.deprecated and before.sunset is not None:
            if after.sunset_text is None:
                self._ctx.emit("request-parameter-sunset-deleted", place,
                               f"{new.label} is still deprecated but lost its sunset date "
                               f"{before.sunset}", bptr, rptr)
            elif after.sunset is not None and after.sunset < before.sunset:
                self._ctx.emit("request-parameter-sunset-date-changed-too-small", place,
                               f"the sunset date of {new.label} moved earlier, from "
                               f"{before.sunset} to {after.sunset}", bptr, rptr)

    def _serialization(self, place: Place, old: Param, new: Param) -> None:
        base_spec, rev_spec = self._walker.base, self._walker.rev
        bs, rs = old.node.get("schema"), new.node.get("schema")
        if bs is not None and rs is not None:
            (bstyle, bexplode), (rstyle, rexplode) = _serialization(old), _serialization(new)
            if bstyle != rstyle:
                self._ctx.emit("request-parameter-style-changed", place,
                               f"{new.label} changed its style from {bstyle} to {rstyle}; "
                               "clients still serialize it the old way",
                               old.node.ptr, new.node.ptr)
            elif bexplode != rexplode and not (_scalar(base_spec, bs)
                                               and _scalar(rev_spec, rs)):
                self._ctx.emit("request-parameter-explode-changed", place,
                               f"{new.label} changed explode from {str(bexplode).lower()} to "
                               f"{str(rexplode).lower()}; clients still serialize it the old "
                               "way", old.node.ptr, new.node.ptr)
        if new.location == "query":
            was = old.value.get("allowReserved") is True
            now = new.value.get("allowReserved") is True
            if was and not now:
                self._ctx.emit("request-parameter-became-not-allow-reserved", place,
                               f"{new.label} no longer accepts reserved characters without "
                               "percent-encoding", old.node.ptr, new.node.ptr)
            elif now and not was:
                self._ctx.emit("request-parameter-became-allow-reserved", place,
                               f"{new.label} now accepts reserved characters without "
                               "percent-encoding", old.node.ptr, new.node.ptr)
