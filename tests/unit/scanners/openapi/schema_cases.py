"""Schema-level rules, generated: a rule id names a place and a kind of change.

``request-property-max-length-decreased`` is the kind ``max-length-decreased`` at the place
``request-property``. :data:`KINDS` holds, per kind, a base and a revision schema showing that
change; :func:`place_schema` puts a schema at a place of a small document. The tests build a
case for every schema rule of the catalogue from the id alone, so a rule that the diff routes
elsewhere, or never reaches, fails.
"""

from __future__ import annotations

import copy
from typing import Any

from tests.unit.scanners.openapi.specs import doc, json_body, op

Schema = dict[str, Any]
S: Schema = {"type": "string"}
N: Schema = {"type": "number"}
I: Schema = {"type": "integer"}  # noqa: E741 - short names keep the table readable
ARRAY: Schema = {"type": "array", "items": {"type": "string"}}
OBJECT: Schema = {"type": "object", "properties": {"kind": {"type": "string"}}}

# kind -> (base schema, revision schema, OpenAPI version)
KINDS: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {
    "type-changed": (S, I, "3.0.3"),
    "type-generalized": (I, N, "3.0.3"),
    "type-specialized": (N, I, "3.0.3"),
    "list-of-types-widened": (S, {"type": ["string", "integer"]}, "3.1.0"),
    "list-of-types-narrowed": ({"type": ["string", "integer"]}, S, "3.1.0"),
    "became-nullable": (S, {**S, "nullable": True}, "3.0.3"),
    "became-not-nullable": ({**S, "nullable": True}, S, "3.0.3"),
    "became-enum": (S, {**S, "enum": ["a", "b"]}, "3.0.3"),
    "enum-value-removed": ({**S, "enum": ["a", "b"]}, {**S, "enum": ["a"]}, "3.0.3"),
    "enum-value-added": ({**S, "enum": ["a"]}, {**S, "enum": ["a", "b"]}, "3.0.3"),
    "x-extensible-enum-value-removed": ({**S, "x-extensible-enum": ["a", "b"]},
                                        {**S, "x-extensible-enum": ["a"]}, "3.0.3"),
    "const-added": (S, {**S, "const": "a"}, "3.1.0"),
    "const-removed": ({**S, "const": "a"}, S, "3.1.0"),
    "const-changed": ({**S, "const": "a"}, {**S, "const": "b"}, "3.1.0"),
    "default-value-added": (S, {**S, "default": "a"}, "3.0.3"),
    "default-value-removed": ({**S, "default": "a"}, S, "3.0.3"),
    "default-value-changed": ({**S, "default": "a"}, {**S, "default": "b"}, "3.0.3"),
    "multiple-of-set": (N, {**N, "multipleOf": 2}, "3.0.3"),
    "multiple-of-unset": ({**N, "multipleOf": 2}, N, "3.0.3"),
    "multiple-of-changed": ({**N, "multipleOf": 3}, {**N, "multipleOf": 2}, "3.0.3"),
    "multiple-of-generalized": ({**N, "multipleOf": 4}, {**N, "multipleOf": 2}, "3.0.3"),
    "multiple-of-specialized": ({**N, "multipleOf": 2}, {**N, "multipleOf": 4}, "3.0.3"),
    "unique-items-set": (ARRAY, {**ARRAY, "uniqueItems": True}, "3.0.3"),
    "unique-items-unset": ({**ARRAY, "uniqueItems": True}, ARRAY, "3.0.3"),
    "pattern-added": (S, {**S, "pattern": "^a"}, "3.0.3"),
    "pattern-removed": ({**S, "pattern": "^a"}, S, "3.0.3"),
    "pattern-changed": ({**S, "pattern": "^a"}, {**S, "pattern": "^b"}, "3.0.3"),
    "pattern-generalized": ({**S, "pattern": "^a"}, {**S, "pattern": ".*"}, "3.0.3"),
    "wrapped-in-one-of": (OBJECT, {"oneOf": [S, I]}, "3.0.3"),
    "all-of-added": ({"allOf": [OBJECT]}, {"allOf": [OBJECT, {"required": ["kind"]}]}, "3.0.3"),
    "all-of-removed": ({"allOf": [OBJECT, {"required": ["kind"]}]}, {"allOf": [OBJECT]}, "3.0.3"),
    "all-of-added-annotation-only": ({"allOf": [OBJECT]},
                                     {"allOf": [OBJECT, {"description": "d"}]}, "3.0.3"),
    "all-of-removed-annotation-only": ({"allOf": [OBJECT, {"description": "d"}]},
                                       {"allOf": [OBJECT]}, "3.0.3"),
    "any-of-added": ({"anyOf": [S, I]}, {"anyOf": [S, I, {"type": "boolean"}]}, "3.0.3"),
    "any-of-removed": ({"anyOf": [S, I, {"type": "boolean"}]}, {"anyOf": [S, I]}, "3.0.3"),
    "one-of-added": ({"oneOf": [S, I]}, {"oneOf": [S, I, {"type": "boolean"}]}, "3.0.3"),
    "one-of-removed": ({"oneOf": [S, I, {"type": "boolean"}]}, {"oneOf": [S, I]}, "3.0.3"),
    "prefix-items-added": ({"type": "array", "prefixItems": [S]},
                           {"type": "array", "prefixItems": [S, I]}, "3.1.0"),
    "prefix-items-removed": ({"type": "array", "prefixItems": [S, I]},
                             {"type": "array", "prefixItems": [S]}, "3.1.0"),
    "dependent-required-added": (OBJECT, {**OBJECT, "dependentRequired": {"kind": ["b"]}},
                                 "3.1.0"),
    "dependent-required-removed": ({**OBJECT, "dependentRequired": {"kind": ["b"]}}, OBJECT,
                                   "3.1.0"),
    "dependent-required-changed": ({**OBJECT, "dependentRequired": {"kind": ["b"]}},
                                   {**OBJECT, "dependentRequired": {"kind": ["c"]}}, "3.1.0"),
    "content-media-type-changed": ({**S, "contentMediaType": "text/csv"},
                                   {**S, "contentMediaType": "text/tab-separated-values"},
                                   "3.1.0"),
    "content-encoding-changed": ({**S, "contentEncoding": "base64"},
                                 {**S, "contentEncoding": "base32"}, "3.1.0"),
    "discriminator-added": (OBJECT, {**OBJECT, "discriminator": {"propertyName": "kind"}},
                            "3.0.3"),
    "discriminator-removed": ({**OBJECT, "discriminator": {"propertyName": "kind"}}, OBJECT,
                              "3.0.3"),
    "discriminator-property-name-changed": (
        {**OBJECT, "discriminator": {"propertyName": "kind"}},
        {**OBJECT, "discriminator": {"propertyName": "type"}}, "3.0.3"),
    "discriminator-mapping-added": (
        {**OBJECT, "discriminator": {"propertyName": "kind"}},
        {**OBJECT, "discriminator": {"propertyName": "kind", "mapping": {"a": "#/x/A"}}},
        "3.0.3"),
    "discriminator-mapping-deleted": (
        {**OBJECT, "discriminator": {"propertyName": "kind", "mapping": {"a": "#/x/A"}}},
        {**OBJECT, "discriminator": {"propertyName": "kind"}}, "3.0.3"),
    "discriminator-mapping-changed": (
        {**OBJECT, "discriminator": {"propertyName": "kind", "mapping": {"a": "#/x/A"}}},
        {**OBJECT, "discriminator": {"propertyName": "kind", "mapping": {"a": "#/x/B"}}},
        "3.0.3"),
}

# Keywords that exist or not: the added and removed kinds come from one schema with it.
_PRESENCE: dict[str, Schema] = {
    "if": {"if": {"required": ["kind"]}}, "then": {"then": {"required": ["kind"]}},
    "else": {"else": {"required": ["kind"]}},
    "property-names": {"propertyNames": {"pattern": "^[a-z]+$"}},
    "unevaluated-properties": {"unevaluatedProperties": False},
    "dependent-schema": {"dependentSchemas": {"kind": {"required": ["b"]}}},
    "pattern-property": {"patternProperties": {"^x-": S}},
}
for _name, _extra in _PRESENCE.items():
    KINDS[f"{_name}-added"] = (OBJECT, {**OBJECT, **_extra}, "3.1.0")
    KINDS[f"{_name}-removed"] = ({**OBJECT, **_extra}, OBJECT, "3.1.0")
_ARRAY_PRESENCE: dict[str, Schema] = {
    "contains": {"contains": S}, "unevaluated-items": {"unevaluatedItems": False}}
for _name, _extra in _ARRAY_PRESENCE.items():
    KINDS[f"{_name}-added"] = (ARRAY, {**ARRAY, **_extra}, "3.1.0")
    KINDS[f"{_name}-removed"] = ({**ARRAY, **_extra}, ARRAY, "3.1.0")
_CONTENT: Schema = {**S, "contentMediaType": "application/json"}
KINDS["content-schema-added"] = (_CONTENT, {**_CONTENT, "contentSchema": OBJECT}, "3.1.0")
KINDS["content-schema-removed"] = ({**_CONTENT, "contentSchema": OBJECT}, _CONTENT, "3.1.0")

# Bounds: keyword, the schema it applies to, two values (low, high), the OpenAPI version.
_BOUNDS: dict[str, tuple[str, Schema, str]] = {
    "max": ("maximum", N, "3.0.3"), "exclusive-max": ("exclusiveMaximum", N, "3.1.0"),
    "min": ("minimum", N, "3.0.3"), "exclusive-min": ("exclusiveMinimum", N, "3.1.0"),
    "max-length": ("maxLength", S, "3.0.3"), "min-length": ("minLength", S, "3.0.3"),
    "max-items": ("maxItems", ARRAY, "3.0.3"), "min-items": ("minItems", ARRAY, "3.0.3"),
    "max-properties": ("maxProperties", OBJECT, "3.0.3"),
    "min-properties": ("minProperties", OBJECT, "3.0.3"),
    "max-contains": ("maxContains", {**ARRAY, "contains": S}, "3.1.0"),
    "min-contains": ("minContains", {**ARRAY, "contains": S}, "3.1.0"),
}
for _name, (_keyword, _schema, _version) in _BOUNDS.items():
    KINDS[f"{_name}-increased"] = ({**_schema, _keyword: 2}, {**_schema, _keyword: 5}, _version)
    KINDS[f"{_name}-decreased"] = ({**_schema, _keyword: 5}, {**_schema, _keyword: 2}, _version)
    KINDS[f"{_name}-set"] = (_schema, {**_schema, _keyword: 2}, _version)
    KINDS[f"{_name}-unset"] = ({**_schema, _keyword: 2}, _schema, _version)

# Kinds whose reverse is the same kind: their non-breaking twin is a documentation change.
SYMMETRIC = frozenset(k for k in KINDS if k.endswith("-changed"))

# Id prefix -> (place, guard): the longest prefix that matches wins.
PLACES = (
    ("request-parameter-property-", "request-parameter-property", None),
    ("request-read-only-property-", "request-property", "readOnly"),
    ("response-write-only-property-", "response-property", "writeOnly"),
    ("request-header-property-", "request-header-property", None),
    ("response-mediatype-", "response-body", None),
    ("request-parameter-", "request-parameter", None),
    ("request-property-", "request-property", None),
    ("request-body-", "request-body", None),
    ("response-property-", "response-property", None),
    ("response-body-", "response-body", None),
    ("response-header-", "response-header", None),
)


def split_rule(rule_id: str) -> tuple[str, str | None, str] | None:
    """``(place, guard, kind)`` for a schema rule id, or None when it is not one."""
    for prefix, place, guard in PLACES:
        if rule_id.startswith(prefix):
            kind = rule_id[len(prefix):]
            return (place, guard, kind) if kind in KINDS else None
    return None


def place_schema(place: str, schema: dict[str, Any], version: str) -> dict[str, Any]:
    """A document using ``schema`` at ``place`` (``request-property``, ``response-header``...)."""
    schema = copy.deepcopy(schema)
    prop = {"type": "object", "properties": {"p": schema}}
    if place == "request-body":
        return doc({"/x": {"post": op(requestBody={"content": json_body(schema)})}},
                   version=version)
    if place == "request-property":
        return doc({"/x": {"post": op(requestBody={"content": json_body(prop)})}},
                   version=version)
    if place in ("request-parameter", "request-parameter-property", "request-header-property"):
        where = "header" if place == "request-header-property" else "query"
        param = {"name": "q", "in": where,
                 "schema": schema if place == "request-parameter" else prop}
        return doc({"/x": {"get": op(parameters=[param])}}, version=version)
    if place == "response-header":
        response = {"description": "ok", "headers": {"X-H": {"schema": schema}}}
        return doc({"/x": {"get": op(responses={"200": response})}}, version=version)
    body = schema if place == "response-body" else prop
    response = {"description": "ok", "content": json_body(body)}
    return doc({"/x": {"get": op(responses={"200": response})}}, version=version)


def guarded(schema: dict[str, Any], guard: str | None) -> dict[str, Any]:
    """``schema`` marked readOnly/writeOnly when the rule is about such properties."""
    return {**schema, guard: True} if guard else schema


def documented(schema: dict[str, Any]) -> dict[str, Any]:
    """The same schema with a description: a change that cannot break anyone."""
    return {**schema, "description": "documentation only"}
