"""Which rule a schema change is, given where the schema is used.

The same change means different things in different places: a ``maxLength`` that decreases
breaks a request (values clients send may now be refused) and is harmless in a response. Rule
ids say where: ``request-body-...``, ``request-property-...``, ``request-parameter-...``,
``request-parameter-property-...``, ``response-body-...``, ``response-property-...``,
``response-header-...``. :func:`rule_for` builds the candidate ids for a change and returns
the first that is in the catalogue, so the catalogue decides what is reported and at which
level. A change with no candidate in the catalogue is not reported (for example a response
that narrows), which is how harmless directions stay quiet.
"""

from __future__ import annotations

from collections.abc import Iterator

from safeship.scanners.openapi.rules import RULES
from safeship.scanners.openapi.schema_change import SchemaChange

_SCOPE_FALLBACKS = {
    "body": ("body", "property"),
    "property": ("property", "body"),
    "parameter": ("parameter", "property"),
    "parameter-property": ("parameter-property", "parameter", "property"),
    "header": ("header",),
}
_UPPER = ("max", "exclusive-max", "max-length", "max-items", "max-properties", "max-contains")
_LOWER = ("min", "exclusive-min", "min-length", "min-items", "min-properties", "min-contains")


def _kind_fallbacks(kind: str, direction: str) -> Iterator[str]:
    """The kind itself, then the kinds whose rule says the same thing in other words."""
    yield kind
    for name in _UPPER + _LOWER:
        upper = name in _UPPER
        if kind == f"{name}-set":
            yield f"{name}-{'decreased' if upper else 'increased'}"
        elif kind == f"{name}-unset":
            yield f"{name}-{'increased' if upper else 'decreased'}"
    extra = {
        ("request", "type-specialized"): ("type-changed",),
        ("request", "multiple-of-specialized"): ("multiple-of-changed",),
        ("response", "multiple-of-generalized"): ("multiple-of-changed",),
        ("response", "pattern-generalized"): ("pattern-removed",),
        ("response", "enum-dropped"): ("enum-value-added",),
        ("request", "const-added"): ("became-enum",),
        ("request", "const-changed"): ("enum-value-removed",),
        ("response", "const-changed"): ("enum-value-added",),
        ("request", "wrapped-in-one-of"): ("type-changed",),
        ("response", "wrapped-in-one-of"): ("type-changed",),
        ("request", "unwrapped-from-one-of"): ("type-changed",),
        ("response", "unwrapped-from-one-of"): ("type-changed",),
    }
    yield from extra.get((direction, kind), ())


def _property_rule(c: SchemaChange, direction: str, header_param: bool) -> str | None:
    """Rules about a property's existence and requiredness, which are named irregularly."""
    kind = c.kind
    required = bool(c.detail("required"))
    own_read_only = bool(c.detail("read_only"))
    own_write_only = bool(c.detail("write_only"))
    if direction == "request":
        if kind == "property-added":
            if not required or own_read_only:
                return "new-optional-request-property"
            if header_param:
                return "new-required-request-header-property"
            if c.detail("has_default"):
                return "new-required-request-property-with-default"
            return "new-required-request-property"
        if kind == "property-removed":
            return None if own_read_only else "request-property-removed"
        if kind == "became-required":
            if own_read_only:
                return None
            if header_param:
                return "request-header-property-became-required"
            if c.detail("has_default"):
                return "request-property-became-required-with-default"
            return "request-property-became-required"
        return "request-property-became-optional"
    state = "required" if required else "optional"
    if kind == "property-added":
        return f"response-{state}-{'write-only-' if own_write_only else ''}property-added"
    if kind == "property-removed":
        return f"response-{state}-{'write-only-' if own_write_only else ''}property-removed"
    if kind == "became-required":
        return ("response-write-only-property-became-required" if own_write_only
                else "response-property-became-required")
    return ("response-write-only-property-became-optional" if own_write_only
            else "response-property-became-optional")


_PROPERTY_KINDS = frozenset({"property-added", "property-removed", "became-required",
                             "became-optional"})
_MUTABILITY = frozenset({"became-read-only", "became-not-read-only", "became-write-only",
                         "became-not-write-only"})
_LIFECYCLE = frozenset({"deprecated", "deprecated-with-sunset", "deprecated-sunset-missing",
                        "deprecated-sunset-invalid", "sunset-date-too-small", "reactivated",
                        "stability-decreased", "stability-increased"})


def scope_of(root: str, path: tuple[str, ...]) -> str:
    """``body``/``property``, ``parameter``/``parameter-property`` or ``header``."""
    if root == "body":
        return "property" if path else "body"
    if root == "parameter":
        return "parameter-property" if path else "parameter"
    return "header"


def rule_for(c: SchemaChange, direction: str, root: str, param_in: str = "") -> str | None:
    """The rule id for change ``c`` of a schema used as ``root`` in a ``direction``.

    ``root`` is ``body``, ``parameter`` or ``header``; ``param_in`` the parameter's location.
    """
    scope = scope_of(root, c.path)
    header_param = root == "parameter" and param_in == "header" and bool(c.path)
    if c.kind in _PROPERTY_KINDS:
        if root == "header":
            return None
        if (direction == "request" and c.read_only) or (direction == "response"
                                                       and c.write_only):
            return None
        return _property_rule(c, direction, header_param)
    if c.kind in _MUTABILITY:
        state = "required" if c.detail("required") else "optional"
        return _known(f"{direction}-{state}-property-{c.kind}")
    if c.kind in _LIFECYCLE:
        return _known(f"{direction}-property-{c.kind}")
    if direction == "request" and c.read_only:
        return _known(f"request-read-only-property-{c.kind}")
    if direction == "response" and c.write_only:
        return _known(f"response-write-only-property-{c.kind}")
    for kind in _kind_fallbacks(c.kind, direction):
        candidates = [f"{direction}-{s}-{kind}" for s in _SCOPE_FALLBACKS[scope]]
        if header_param:
            candidates.insert(0, f"request-header-property-{kind}")
        if direction == "response" and scope == "body" and kind == "enum-value-removed":
            candidates.insert(0, "response-mediatype-enum-value-removed")
        found = next((rule for rule in candidates if rule in RULES), None)
        if found is not None:
            return found
    return None


def _known(rule_id: str) -> str | None:
    return rule_id if rule_id in RULES else None
