"""Less common spellings: content-typed parameters, formats, YAML aliases and odd keys."""

from __future__ import annotations

import pytest

from safeship.errors import ConfigError, ConfigSyntaxError
from safeship.scanners.openapi import Level, parse_spec
from safeship.scanners.openapi.schema_walk import MAX_DEPTH
from safeship.scanners.openapi.yaml_fast import parse_fast
from tests.unit.scanners.openapi.specs import diff, doc, ids, json_body, op


def _content_param(schema: dict[str, object]) -> dict[str, object]:
    return doc({"/a": {"get": op(parameters=[{"name": "filter", "in": "query", "content": {
        "application/json": {"schema": schema}}}])}})


def test_a_parameter_described_by_content_is_compared_by_its_schema() -> None:
    base = _content_param({"type": "object", "properties": {"q": {"type": "string"}}})
    rev = _content_param({"type": "object", "required": ["q"],
                          "properties": {"q": {"type": "string"}}})
    report = diff(base, rev)
    assert ids(report) == {"request-property-became-required"}
    assert "property `q` of the query parameter `filter`" in report.changes[0].message


@pytest.mark.parametrize(("old", "new", "rule"), [
    ("int32", "int64", "response-body-type-generalized"),
    ("int64", "int32", "response-body-type-specialized"),
    ("int64", "uuid", "response-body-type-changed"),
    (None, "int64", "response-body-type-specialized"),
])
def test_format_changes_follow_their_width(old: str | None, new: str, rule: str) -> None:
    def returning(fmt: str | None) -> dict[str, object]:
        schema: dict[str, object] = {"type": "integer"}
        if fmt:
            schema["format"] = fmt
        return doc({"/a": {"get": op(responses={"200": {
            "description": "ok", "content": json_body(schema)}})}})
    report = diff(returning(old), returning(new))
    assert ids(report) == {rule}
    assert report.changes[0].message.startswith("the response body was") or (
        "changed its type" in report.changes[0].message)


def test_yaml_aliases_are_followed() -> None:
    text = ("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n"
            "      responses:\n        '200': &ok {description: ok}\n  /b:\n    get:\n"
            "      responses:\n        '200': *ok\n")
    spec = parse_spec(text, "alias.yaml")
    assert spec.data["paths"]["/b"]["get"]["responses"]["200"] == {"description": "ok"}


@pytest.mark.parametrize(("text", "says"), [
    ("? [a, b]\n: 1\n", "a mapping key must be a plain value"),
    ("a: &x [*x]\n", "nests too deeply"),
    ("a: !!binary aGVsbG8=\nb: !!timestamp 2030-01-01\n", None),
])
def test_odd_yaml(text: str, says: str | None) -> None:
    if says is None:
        data = parse_fast(text, "odd.yaml").data
        assert data == {"a": "hello", "b": "2030-01-01"}
        return
    with pytest.raises(ConfigSyntaxError, match=says):
        parse_fast(text, "odd.yaml")


def test_non_string_keys_become_text() -> None:
    data = parse_fast("200: ok\ntrue: yes\n1.5: x\n", "keys.yaml").data
    assert data == {"200": "ok", "true": True, "1.5": "x"}


def test_an_empty_security_requirement_keeps_an_operation_anonymous() -> None:
    schemes = {"securitySchemes": {"a": {"type": "apiKey", "in": "header", "name": "A"}}}
    base = doc({"/a": {"get": op()}}, components=schemes)
    rev = doc({"/a": {"get": op(security=[{}, {"a": []}])}}, components=schemes)
    assert [c for c in diff(base, rev).changes if c.level is not Level.INFO] == []
    locked = doc({"/a": {"get": op(security=[{"a": []}])}}, components=schemes)
    assert ids(diff(rev, locked)) == {"api-security-became-required"}


def test_absurdly_deep_schemas_are_refused_not_crashed() -> None:
    schemas = {f"S{i}": {"type": "object", "properties": {
        "next": {"$ref": f"#/components/schemas/S{i + 1}"}}} for i in range(MAX_DEPTH + 5)}
    schemas[f"S{MAX_DEPTH + 5}"] = {"type": "string"}
    spec = doc({"/a": {"get": op(responses={"200": {"description": "ok", "content": json_body(
        {"$ref": "#/components/schemas/S0"})}})}}, components={"schemas": schemas})
    with pytest.raises(ConfigError, match="nest more than"):
        diff(spec, spec)
