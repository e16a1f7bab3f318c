"""Changes that break nobody must not be reported as breaking (precision matters as much).

New optional things, new operations, documentation, reordering, references restructured to
the same meaning, and the 3.0 -> 3.1 spelling of nullability are not breaking.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from safeship.scanners.openapi import DiffReport, Level
from tests.unit.scanners.openapi.specs import diff, doc, ids, json_body, op

PET: dict[str, Any] = {"type": "object", "required": ["id", "name"], "properties": {
    "id": {"type": "integer", "format": "int64"},
    "name": {"type": "string", "maxLength": 50, "description": "the pet's name"},
    "status": {"type": "string", "enum": ["available", "sold"]},
    "tags": {"type": "array", "items": {"type": "string"}},
}}


def petstore(pet: Any = None, **extra: Any) -> dict[str, Any]:
    """A small petstore using ``pet`` (default: a $ref to the Pet component)."""
    schema = pet if pet is not None else {"$ref": "#/components/schemas/Pet"}
    return doc({
        "/pets": {
            "get": op(summary="List pets", parameters=[
                {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}}],
                responses={"200": {"description": "ok", "content": json_body(
                    {"type": "array", "items": copy.deepcopy(schema)})}}),
            "post": op(requestBody={"required": True, "content": json_body(copy.deepcopy(schema))},
                       responses={"201": {"description": "created",
                                          "content": json_body(copy.deepcopy(schema))}}),
        },
        "/pets/{id}": {"get": op(parameters=[
            {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            responses={"200": {"description": "ok", "content": json_body(copy.deepcopy(schema))},
                       "404": {"description": "missing"}})},
    }, components={"schemas": {"Pet": copy.deepcopy(PET)}}, **extra)


def serious(report: DiffReport) -> list[str]:
    """The ids of changes at WARN or above."""
    return [c.id for c in report.at_least(Level.WARN)]


def test_identical_specs_have_no_changes() -> None:
    assert diff(petstore(), petstore()).changes == ()


def test_documentation_changes_are_not_changes() -> None:
    rev = petstore()
    rev["info"]["description"] = "now documented"
    rev["paths"]["/pets"]["get"]["summary"] = "List every pet"
    rev["paths"]["/pets"]["get"]["description"] = "Paged."
    rev["paths"]["/pets"]["get"]["parameters"][0]["description"] = "page size"
    rev["paths"]["/pets"]["get"]["parameters"][0]["example"] = 10
    pet = rev["components"]["schemas"]["Pet"]
    pet["properties"]["name"]["description"] = "what the pet answers to"
    pet["properties"]["status"]["example"] = "sold"
    pet["title"] = "A pet"
    pet["externalDocs"] = {"url": "https://docs.example/pet"}
    rev["paths"]["/pets"]["post"]["requestBody"]["description"] = "the new pet"
    assert diff(petstore(), rev).changes == ()


def test_reordering_is_not_a_change() -> None:
    base = petstore()
    rev = petstore()
    rev["paths"] = dict(reversed(list(rev["paths"].items())))
    pet = rev["components"]["schemas"]["Pet"]
    pet["properties"] = dict(reversed(list(pet["properties"].items())))
    pet["required"] = ["name", "id"]
    pet["properties"]["status"]["enum"] = ["sold", "available"]
    get = rev["paths"]["/pets/{id}"]["get"]
    get["responses"] = dict(reversed(list(get["responses"].items())))
    assert diff(base, rev).changes == ()


def test_inlining_a_ref_or_extracting_one_is_not_a_change() -> None:
    assert diff(petstore(), petstore(pet=copy.deepcopy(PET))).changes == ()
    assert diff(petstore(pet=copy.deepcopy(PET)), petstore()).changes == ()


def test_renaming_a_component_only_notes_the_old_name_is_gone() -> None:
    rev = petstore(pet={"$ref": "#/components/schemas/Animal"})
    rev["components"]["schemas"] = {"Animal": copy.deepcopy(PET)}
    report = diff(petstore(), rev)
    assert serious(report) == []
    assert ids(report) == {"api-schema-removed"}


def test_splitting_a_schema_into_all_of_parts_is_not_a_change() -> None:
    rev = petstore()
    rev["components"]["schemas"] = {
        "Pet": {"allOf": [{"$ref": "#/components/schemas/Named"}, {
            "type": "object", "required": ["id"], "properties": {
                "id": PET["properties"]["id"], "status": PET["properties"]["status"],
                "tags": PET["properties"]["tags"]}}]},
        "Named": {"type": "object", "required": ["name"],
                  "properties": {"name": PET["properties"]["name"]}},
    }
    assert serious(diff(petstore(), rev)) == []
    assert serious(diff(rev, petstore())) == []


def test_renaming_a_path_variable_is_not_a_change() -> None:
    rev = petstore()
    item = rev["paths"].pop("/pets/{id}")
    item["get"]["parameters"][0]["name"] = "petId"
    rev["paths"]["/pets/{petId}"] = item
    assert diff(petstore(), rev).changes == ()


def test_migrating_nullable_from_30_to_31_is_not_a_change() -> None:
    base = petstore()
    base["components"]["schemas"]["Pet"]["properties"]["name"]["nullable"] = True
    rev = petstore()
    rev["openapi"] = "3.1.0"
    name = rev["components"]["schemas"]["Pet"]["properties"]["name"]
    name["type"] = ["string", "null"]
    name["examples"] = ["Rex"]
    assert diff(base, rev).changes == ()


@pytest.mark.parametrize(("change", "expected"), [
    ("optional request property", {"new-optional-request-property",
                                   "response-optional-property-added"}),
    ("new endpoint", {"endpoint-added"}),
    ("optional parameter", {"new-optional-request-parameter"}),
    ("response status", {"response-non-success-status-added"}),
    ("response header", {"response-header-added"}),
    ("relaxed request bound", {"request-parameter-max-increased"}),
])
def test_additions_and_relaxations_are_info_only(change: str, expected: set[str]) -> None:
    rev = petstore()
    if change == "optional request property":
        rev["components"]["schemas"]["Pet"]["properties"]["age"] = {"type": "integer"}
    elif change == "new endpoint":
        rev["paths"]["/owners"] = {"get": op()}
    elif change == "optional parameter":
        rev["paths"]["/pets"]["get"]["parameters"].append(
            {"name": "sort", "in": "query", "schema": {"type": "string"}})
    elif change == "response status":
        rev["paths"]["/pets"]["get"]["responses"]["429"] = {"description": "slow down"}
    elif change == "response header":
        rev["paths"]["/pets"]["get"]["responses"]["200"]["headers"] = {
            "X-Total": {"schema": {"type": "integer"}}}
    else:
        rev["paths"]["/pets"]["get"]["parameters"][0]["schema"]["maximum"] = 500
    report = diff(petstore(), rev)
    assert serious(report) == []
    assert ids(report) == expected


def test_response_narrowing_and_request_widening_are_not_breaking() -> None:
    rev = petstore(pet=copy.deepcopy(PET))
    out = rev["paths"]["/pets/{id}"]["get"]["responses"]["200"]["content"]["application/json"]
    out["schema"]["properties"]["status"]["enum"] = ["sold"]
    out["schema"]["properties"]["name"]["maxLength"] = 20
    out["schema"]["required"] = ["id", "name", "status"]
    body = rev["paths"]["/pets"]["post"]["requestBody"]["content"]["application/json"]
    body["schema"]["properties"]["status"]["enum"] = ["available", "sold", "pending"]
    body["schema"]["properties"]["name"]["maxLength"] = 80
    body["schema"]["required"] = ["name"]
    report = diff(petstore(pet=copy.deepcopy(PET)), rev)
    assert serious(report) == []
    assert {"response-property-enum-value-removed", "response-property-became-required",
            "request-property-enum-value-added", "request-property-max-length-increased",
            "request-property-became-optional"} <= ids(report)


def test_adding_a_security_alternative_is_not_breaking() -> None:
    schemes = {"securitySchemes": {"a": {"type": "apiKey", "in": "header", "name": "A"},
                                   "b": {"type": "http", "scheme": "bearer"}}}
    base = doc({"/a": {"get": op(security=[{"a": []}])}}, components=schemes)
    rev = doc({"/a": {"get": op(security=[{"a": []}, {"b": []}])}}, components=schemes)
    assert ids(diff(base, rev)) == {"api-security-added"}
    assert serious(diff(base, rev)) == []


def test_one_of_keeping_the_old_schema_only_adds_an_alternative() -> None:
    old = {"type": "string"}
    base = doc({"/a": {"post": op(requestBody={"content": json_body(old)})}})
    rev = doc({"/a": {"post": op(requestBody={"content": json_body(
        {"oneOf": [old, {"type": "integer"}]})})}})
    assert ids(diff(base, rev)) == {"request-body-one-of-added"}
    assert ids(diff(rev, base)) == {"request-body-one-of-removed"}


def test_wrapping_a_ref_in_all_of_to_document_it_is_not_a_change() -> None:
    def using(prop: dict[str, Any], version: str = "3.0.3") -> dict[str, Any]:
        schema = {"type": "object", "properties": {"pet": prop}}
        return doc({"/a": {"post": op(requestBody={"content": json_body(schema)}, responses={
            "200": {"description": "ok", "content": json_body(copy.deepcopy(schema))}})}},
            version=version, components={"schemas": {"Pet": copy.deepcopy(PET)}})
    ref = {"$ref": "#/components/schemas/Pet"}
    assert diff(using(ref), using({"allOf": [ref], "description": "the pet"})).changes == ()
    assert diff(using(ref, "3.1.0"),
                using({**ref, "description": "the pet"}, "3.1.0")).changes == ()
    nullable = diff(using(ref), using({"allOf": [ref], "nullable": True}))
    assert ids(nullable) == {"request-property-became-nullable",
                             "response-property-became-nullable"}
