"""The schema walk: references, recursion, composition, read/write-only, paths of properties."""

from __future__ import annotations

import copy
from typing import Any

from safeship.scanners.openapi import Level
from tests.unit.scanners.openapi.specs import diff, doc, ids, json_body, op

STR: dict[str, Any] = {"type": "string"}


def returning(schema: Any, components: dict[str, Any] | None = None, *,
              operations: int = 1, version: str = "3.0.3") -> dict[str, Any]:
    """GET /r0.. returning ``schema`` as JSON, with optional component schemas."""
    paths = {f"/r{i}": {"get": op(responses={"200": {
        "description": "ok", "content": json_body(copy.deepcopy(schema))}})}
        for i in range(operations)}
    extra: dict[str, Any] = (
        {"components": {"schemas": copy.deepcopy(components)}} if components else {})
    return doc(paths, version=version, **extra)


def taking(schema: Any, components: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST /t taking ``schema`` as its JSON body."""
    extra: dict[str, Any] = (
        {"components": {"schemas": copy.deepcopy(components)}} if components else {})
    return doc({"/t": {"post": op(requestBody={"content": json_body(copy.deepcopy(schema))})}},
               **extra)


NODE: dict[str, Any] = {"type": "object", "required": ["name"], "properties": {
    "name": {"type": "string", "maxLength": 10},
    "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}}}
REF = {"$ref": "#/components/schemas/Node"}


def test_a_recursive_schema_is_compared_once_and_terminates() -> None:
    assert diff(returning(REF, {"Node": NODE}), returning(REF, {"Node": NODE})).changes == ()
    changed = copy.deepcopy(NODE)
    changed["properties"]["name"]["maxLength"] = 20
    report = diff(returning(REF, {"Node": NODE}), returning(REF, {"Node": changed}))
    assert [(c.id, c.message.split(":")[0]) for c in report.changes] == [
        ("response-property-max-length-increased", "the response property `name`")]


def test_mutually_recursive_schemas_terminate_with_the_change_found() -> None:
    a: dict[str, Any] = {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"},
                                          "label": STR}}
    b: dict[str, Any] = {"type": "object", "properties": {"a": {"$ref": "#/components/schemas/A"},
                                          "size": {"type": "integer"}}}
    b2 = copy.deepcopy(b)
    b2["properties"]["size"]["type"] = "string"
    report = diff(returning({"$ref": "#/components/schemas/A"}, {"A": a, "B": b}),
                  returning({"$ref": "#/components/schemas/A"}, {"A": a, "B": b2}))
    assert ids(report) == {"response-property-type-changed"}
    assert "`b.size`" in report.changes[0].message


def test_a_shared_component_is_reported_for_every_operation_using_it() -> None:
    changed = copy.deepcopy(NODE)
    del changed["required"]
    report = diff(returning(REF, {"Node": NODE}, operations=3),
                  returning(REF, {"Node": changed}, operations=3))
    assert sorted(c.operation for c in report.changes) == ["GET /r0", "GET /r1", "GET /r2"]
    assert {c.id for c in report.changes} == {"response-property-became-optional"}
    assert len({c.revision_pointer for c in report.changes}) == 1


def test_items_and_map_values_are_named_in_the_property_path() -> None:
    base: dict[str, Any] = {"type": "array", "items": {"type": "object", "properties": {
        "tags": {"type": "object", "additionalProperties": {"type": "string"}}}}}
    rev = copy.deepcopy(base)
    rev["items"]["properties"]["tags"]["additionalProperties"]["maxLength"] = 3
    report = diff(taking(base), taking(rev))
    assert ids(report) == {"request-property-max-length-set"}
    assert "the request property `[].tags.*`" in report.changes[0].message


def test_prefix_items_are_compared_by_position() -> None:
    base: dict[str, Any] = {"type": "array", "prefixItems": [STR, {"type": "integer"}]}
    rev = {"type": "array", "prefixItems": [STR, {"type": "integer", "maximum": 5}]}
    report = diff(doc({"/t": {"post": op(requestBody={"content": json_body(base)})}},
                      version="3.1.0"),
                  doc({"/t": {"post": op(requestBody={"content": json_body(rev)})}},
                      version="3.1.0"))
    assert ids(report) == {"request-property-max-set"}
    assert "`[1]`" in report.changes[0].message


def test_all_of_added_on_one_side_is_compared_as_the_merged_schema() -> None:
    base: dict[str, Any] = {"type": "object", "properties": {"a": STR}}
    rev = {"allOf": [{"$ref": "#/components/schemas/Base"},
                     {"type": "object", "required": ["b"], "properties": {"b": STR}}]}
    report = diff(taking(base), taking(rev, {"Base": base}))
    assert ids(report) == {"new-required-request-property"}
    change = report.changes[0]
    assert change.revision_pointer is not None
    assert change.revision_pointer.endswith("/allOf/1/properties/b")


def test_all_of_parts_are_paired_and_compared() -> None:
    part: dict[str, Any] = {"type": "object", "properties": {"a": STR}}
    other: dict[str, Any] = {"type": "object", "properties": {
        "b": {"type": "integer", "maximum": 9}}}
    tighter = copy.deepcopy(other)
    tighter["properties"]["b"]["maximum"] = 5
    report = diff(taking({"allOf": [part, other]}), taking({"allOf": [part, tighter]}))
    assert ids(report) == {"request-property-max-decreased"}


def test_one_of_alternatives_pair_by_component_name_whatever_their_order() -> None:
    components: dict[str, Any] = {"Cat": {"type": "object", "properties": {"meow": STR}},
                  "Dog": {"type": "object", "properties": {"bark": STR}}}
    cat, dog = {"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}
    assert diff(returning({"oneOf": [cat, dog]}, components),
                returning({"oneOf": [dog, cat]}, components)).changes == ()
    louder = copy.deepcopy(components)
    louder["Dog"]["properties"]["bark"]["enum"] = ["woof"]
    report = diff(returning({"oneOf": [cat, dog]}, components),
                  returning({"oneOf": [dog, cat]}, louder))
    assert ids(report) == set()  # a response enum that narrows breaks nobody
    report = diff(returning({"oneOf": [cat, dog]}, louder),
                  returning({"oneOf": [dog, cat]}, components))
    assert ids(report) == {"response-property-enum-value-added"}
    assert report.changes[0].level is Level.WARN


def test_read_only_properties_do_not_constrain_requests() -> None:
    base: dict[str, Any] = {"type": "object", "properties": {
        "id": {"type": "string", "readOnly": True}, "name": STR}}
    rev = copy.deepcopy(base)
    rev["required"] = ["id"]
    rev["properties"]["id"]["maxLength"] = 5
    rev["properties"]["created"] = {"type": "string", "readOnly": True}
    rev["required"].append("created")
    report = diff(taking(base), taking(rev))
    assert [c for c in report.changes if c.level is not Level.INFO] == []
    assert {"new-optional-request-property"} <= ids(report)


def test_write_only_properties_do_not_constrain_responses() -> None:
    base: dict[str, Any] = {"type": "object", "required": ["secret"], "properties": {
        "secret": {"type": "string", "writeOnly": True}, "name": STR}}
    rev = {"type": "object", "properties": {"name": STR}}
    report = diff(returning(base), returning(rev))
    assert ids(report) == {"response-required-write-only-property-removed"}
    assert report.changes[0].level is Level.INFO


def test_a_required_property_with_a_default_is_still_breaking() -> None:
    base: dict[str, Any] = {"type": "object", "properties": {"a": STR}}
    rev = {"type": "object", "required": ["b"], "properties": {
        "a": STR, "b": {"type": "string", "default": "x"}}}
    report = diff(taking(base), taking(rev))
    assert ids(report) == {"new-required-request-property-with-default"}
    assert report.changes[0].level is Level.ERR
    assert "default" in report.changes[0].message


def test_31_type_lists_and_const() -> None:
    base = doc({"/t": {"post": op(requestBody={"content": json_body(
        {"type": ["string", "null"], "const": "a"})})}}, version="3.1.0")
    rev = doc({"/t": {"post": op(requestBody={"content": json_body(
        {"type": "string", "const": "b"})})}}, version="3.1.0")
    assert ids(diff(base, rev)) == {"request-body-became-not-nullable",
                                   "request-body-const-changed"}


def test_unconstrained_schemas_and_boolean_schemas_do_not_crash() -> None:
    base = doc({"/t": {"post": op(requestBody={"content": json_body({})})}}, version="3.1.0")
    rev = doc({"/t": {"post": op(requestBody={"content": json_body(
        {"type": "object", "additionalProperties": False})})}}, version="3.1.0")
    assert ids(diff(base, rev)) == {"request-body-type-changed"}
