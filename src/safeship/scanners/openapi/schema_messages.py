"""The sentence for a schema change, naming what changed where and from what to what."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from safeship.scanners.openapi.schema_change import ADDITIONAL, SchemaChange

_KEYWORD_NAMES = {
    "max": "maximum", "exclusive-max": "maximum", "min": "minimum", "exclusive-min": "minimum",
    "max-length": "maxLength", "min-length": "minLength", "max-items": "maxItems",
    "min-items": "minItems", "max-properties": "maxProperties",
    "min-properties": "minProperties", "max-contains": "maxContains",
    "min-contains": "minContains", "multiple-of": "multipleOf",
}
_PRESENCE_NAMES = {
    "if": "if", "then": "then", "else": "else", "contains": "contains",
    "property-names": "propertyNames", "content-schema": "contentSchema",
    "unevaluated-items": "unevaluatedItems", "unevaluated-properties": "unevaluatedProperties",
}
_WITH_DEFAULT = " although it has a default (a default does not make leaving it out valid)"
_FIXED = {
    "type-changed": "{s} changed its type from {from} to {to}",
    "type-generalized": "{s} was widened from type {from} to {to}",
    "type-specialized": "{s} was narrowed from type {from} to {to}",
    "list-of-types-widened": "{s} accepts more types: {from} became {to}",
    "list-of-types-narrowed": "{s} accepts fewer types: {from} became {to}",
    "became-nullable": "{s} became nullable",
    "became-not-nullable": "{s} is no longer nullable",
    "became-enum": "{s} was restricted to the enum values {values}",
    "enum-value-removed": "{s} no longer allows the enum value {value}",
    "enum-value-added": "{s} gained the enum value {value}",
    "enum-dropped": "{s} is no longer restricted to its enum values",
    "x-extensible-enum-value-removed": "{s} lost the x-extensible-enum value {value}",
    "const-added": "{s} must now be {value} (const)",
    "const-removed": "{s} is no longer fixed to {value}",
    "const-changed": "{s} changed its const from {from} to {to}",
    "default-value-added": "{s} got the default {value}",
    "default-value-removed": "{s} lost its default {value}",
    "default-value-changed": "{s} changed its default from {from} to {to}",
    "unique-items-set": "{s} now requires unique items",
    "unique-items-unset": "{s} no longer requires unique items",
    "pattern-added": "{s} must now match the pattern {to}",
    "pattern-removed": "{s} no longer has the pattern {from}",
    "pattern-changed": "{s} changed its pattern from {from} to {to}",
    "pattern-generalized": "{s} relaxed its pattern from {from} to {to}",
    "became-optional": "{s} became optional",
    "became-read-only": "{s} became read-only",
    "became-not-read-only": "{s} is no longer read-only",
    "became-write-only": "{s} became write-only",
    "became-not-write-only": "{s} is no longer write-only",
    "deprecated": "{s} was deprecated",
    "deprecated-with-sunset": "{s} was deprecated with the sunset date {sunset}",
    "deprecated-sunset-missing": "{s} was deprecated without a sunset date, but a "
                                 "deprecation period of {days} days is required",
    "deprecated-sunset-invalid": "{s} was deprecated with x-sunset {sunset}, which is not a date",
    "sunset-date-too-small": "{s} was deprecated with the sunset date {sunset}, sooner than "
                             "the required {days} days",
    "reactivated": "{s} is no longer deprecated",
    "stability-decreased": "{s} lowered its stability level from {from} to {to}",
    "stability-increased": "{s} raised its stability level from {from} to {to}",
    "wrapped-in-one-of": "{s} was restructured into a {keyword} none of whose alternatives is "
                         "the old schema",
    "unwrapped-from-one-of": "{s} is no longer a {keyword}, and its new schema is none of the "
                             "old alternatives",
    "dependent-required-added": "{s}: when `{name}` is present, {names} are now required",
    "dependent-required-removed": "{s}: `{name}` no longer makes {names} required",
    "dependent-required-changed": "{s}: what `{name}` makes required changed from {from} to {to}",
    "dependent-schema-added": "{s} gained the dependentSchemas entry `{name}`",
    "dependent-schema-removed": "{s} lost the dependentSchemas entry `{name}`",
    "pattern-property-added": "{s} gained the patternProperties entry `{name}`",
    "pattern-property-removed": "{s} lost the patternProperties entry `{name}`",
    "content-media-type-changed": "{s} changed its contentMediaType from {from} to {to}",
    "content-encoding-changed": "{s} changed its contentEncoding from {from} to {to}",
    "discriminator-added": "{s} got a discriminator",
    "discriminator-removed": "{s} lost its discriminator",
    "discriminator-property-name-changed": "{s} changed its discriminator property from {from} "
                                           "to {to}",
    "discriminator-mapping-added": "{s} gained discriminator mappings for {names}",
    "discriminator-mapping-deleted": "{s} lost the discriminator mappings for {names}",
    "discriminator-mapping-changed": "{s} maps the discriminator value `{name}` to {to} instead "
                                     "of {from}",
}


def path_text(path: tuple[str, ...]) -> str:
    """``("items", "[]", "name")`` -> ``items[].name``."""
    text = ""
    for segment in path:
        if segment.startswith("["):
            text += segment
        elif segment == ADDITIONAL:
            text += ".*" if text else "*"
        else:
            text += f".{segment}" if text else segment
    return text


def subject(direction: str, root: str, path: tuple[str, ...], name: str = "",
            param_in: str = "") -> str:
    """What changed, in words: ``the request property `a.b```, ``the query parameter `q```."""
    where = path_text(path)
    if root == "body":
        return f"the {direction} property `{where}`" if path else f"the {direction} body"
    if root == "parameter":
        own = f"the {param_in} parameter `{name}`"
        return f"property `{where}` of {own}" if path else own
    return f"the response header `{name}`"


def describe(c: SchemaChange, who: str) -> str:
    """The sentence for change ``c`` of ``who`` (a :func:`subject`)."""
    details: Mapping[str, Any] = dict(c.details)
    kind = c.kind
    values = {**details, "s": who}
    if kind in _FIXED:
        return _FIXED[kind].format_map(_Missing(values))
    if kind in ("property-added", "property-removed"):
        state = "required" if details.get("required") else "optional"
        verb = "was added" if kind == "property-added" else "was removed"
        named = who.replace("the ", f"the {state} ", 1) if who.startswith("the ") else (
            f"{state} {who}")
        return f"{named} {verb}" + (_WITH_DEFAULT if details.get("required") and details.get(
            "has_default") else "")
    if kind == "became-required":
        return f"{who} became required" + (_WITH_DEFAULT if details.get("has_default") else "")
    head, _, action = kind.rpartition("-")
    if head in _KEYWORD_NAMES:
        return _bound(who, _KEYWORD_NAMES[head], action, details)
    if head in _PRESENCE_NAMES:
        return f"{who}: `{_PRESENCE_NAMES[head]}` was {action}"
    for prefix, keyword in (("all-of", "allOf"), ("any-of", "anyOf"), ("one-of", "oneOf"),
                            ("prefix-items", "prefixItems")):
        if kind.startswith(prefix):
            verb = "added to" if "-added" in kind else "removed from"
            note = " (it only holds annotations)" if kind.endswith("annotation-only") else ""
            what = details.get("subschema", "a subschema")
            return f"{what} was {verb} the {keyword} of {who}{note}"
    return f"{who}: {kind.replace('-', ' ')}"


def _bound(who: str, keyword: str, action: str, details: Mapping[str, Any]) -> str:
    old, new = details.get("from", "none"), details.get("to", "none")
    if action == "set":
        return f"{who} got a {keyword} of {new}"
    if action == "unset":
        return f"{who} no longer has a {keyword} (was {old})"
    verbs = {"generalized": "was relaxed", "specialized": "was tightened"}
    return f"{who}: {keyword} {verbs.get(action, action)} from {old} to {new}"


class _Missing(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"
