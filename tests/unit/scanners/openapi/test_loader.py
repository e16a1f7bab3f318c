"""Loading specs: YAML and JSON, 3.0 and 3.1, and clear errors (file, line, field) for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from safeship.errors import ConfigError, ConfigSyntaxError, NotFound
from safeship.scanners.openapi import load_spec, parse_spec
from safeship.scanners.openapi.refs import iter_refs
from safeship.scanners.openapi.validation import MAX_PROBLEMS
from tests.unit.scanners.openapi.specs import doc, json_body, op

HEAD = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\n"


def _first(exc: ConfigError) -> tuple[str, int | None, str]:
    problem = exc.problems[0]
    return problem.location.path, problem.location.line, problem.render()


def test_yaml_and_json_load_to_the_same_data_with_their_own_lines(tmp_path: Path) -> None:
    data = doc({"/pets": {"get": op(responses={"200": {
        "description": "ok", "content": json_body({"type": "string"})}})}})
    (tmp_path / "a.json").write_text(json.dumps(data, indent=2))
    (tmp_path / "a.yaml").write_text(
        HEAD + "paths:\n  /pets:\n    get:\n      responses:\n        '200':\n"
        "          description: ok\n          content:\n            application/json:\n"
        "              schema: {type: string}\n")
    from_json, from_yaml = load_spec(tmp_path / "a.json"), load_spec(tmp_path / "a.yaml")
    assert from_json.data == from_yaml.data
    assert from_json.version == from_yaml.version == "3.0"
    ptr = ("paths", "/pets", "get", "responses", "200")
    assert from_yaml.line(ptr) == 7
    lines = json.dumps(data, indent=2).splitlines()
    assert from_json.line(ptr) == next(i for i, t in enumerate(lines, 1) if '"200"' in t)


def test_name_replaces_the_path_in_messages(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text(HEAD + "paths: {}\n")
    assert load_spec(tmp_path / "x.yaml", name="v1:x.yaml").source == "v1:x.yaml"


def test_openapi_31_loads_with_its_version() -> None:
    text = ("openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n"
            "      responses:\n        '200':\n          description: ok\n          content:\n"
            "            application/json:\n              schema: {type: [string, 'null']}\n")
    assert parse_spec(text, "s.yaml").version == "3.1"


def test_yaml_syntax_error_names_file_and_line() -> None:
    with pytest.raises(ConfigSyntaxError) as caught:
        parse_spec(HEAD + "paths:\n  /a: [unclosed\n", "bad.yaml")
    path, line, text = _first(caught.value)
    assert path == "bad.yaml"
    assert line is not None
    assert line >= 4
    assert "YAML syntax error" in text


def test_duplicate_keys_are_refused_at_their_line() -> None:
    with pytest.raises(ConfigSyntaxError) as caught:
        parse_spec(HEAD + "paths:\n  /a: {}\n  /a: {}\n", "dup.yaml")
    path, line, text = _first(caught.value)
    assert (path, line) == ("dup.yaml", 5)
    assert "duplicate key '/a'" in text


def test_invalid_openapi_is_reported_at_the_offending_value() -> None:
    text = (HEAD + "paths:\n  /a:\n    get:\n      parameters:\n        - name: q\n"
            "          in: qery\n      responses: {'200': {description: ok}}\n")
    with pytest.raises(ConfigError) as caught:
        parse_spec(text, "spec.yaml")
    path, line, rendered = _first(caught.value)
    assert (path, line) == ("spec.yaml", 8)
    assert "paths./a.get.parameters[0].in" in rendered
    assert "'qery' is not one of ['cookie', 'header', 'path', 'query']" in rendered
    assert caught.value.hint


def test_an_invalid_schema_keyword_is_found_in_the_document() -> None:
    text = ("openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n"
            "      responses:\n        '200':\n          description: ok\n          content:\n"
            "            application/json:\n              schema:\n"
            "                type: [string, nul]\n")
    with pytest.raises(ConfigError) as caught:
        parse_spec(text, "s.yaml")
    _, line, rendered = _first(caught.value)
    assert line == 12
    assert "'nul'" in rendered


def test_an_unresolved_path_parameter_points_at_its_operation() -> None:
    text = HEAD + "paths:\n  /a/{id}:\n    get:\n      responses: {'200': {description: ok}}\n"
    with pytest.raises(ConfigError) as caught:
        parse_spec(text, "s.yaml")
    _, line, rendered = _first(caught.value)
    assert line == 5
    assert "Path parameter 'id'" in rendered


@pytest.mark.parametrize(("ref", "says"), [
    ("#/components/schemas/Missing", "dangling reference '#/components/schemas/Missing'"),
    ("other.yaml#/components/schemas/Pet", "external reference 'other.yaml#/components"),
    ("#/components/schemas/A", "only leads back to itself"),
    ("#/components/schemas/B/properties/nope", "dangling reference"),
])
def test_bad_references_are_reported_at_the_ref(ref: str, says: str) -> None:
    # A and B refer to each other (a loop), C is fine; only the schema below names them.
    text = (HEAD + "paths:\n  /a:\n    get:\n      responses:\n        '200':\n"
            "          description: ok\n          content:\n            application/json:\n"
            f"              schema:\n                $ref: '{ref}'\n"
            "components:\n  schemas:\n    A: {$ref: '#/components/schemas/C'}\n"
            "    B: {type: object}\n    C: {type: string}\n")
    if "itself" in says:
        text = text.replace("schemas/C'}", "schemas/A'}")
    with pytest.raises(ConfigError) as caught:
        parse_spec(text, "refs.yaml")
    path, line, rendered = _first(caught.value)
    assert (path, line) == ("refs.yaml", 12)
    assert says in rendered
    assert "$ref" in rendered


def test_a_ref_inside_an_example_is_data_not_a_reference() -> None:
    text = (HEAD + "paths:\n  /a:\n    get:\n      responses:\n        '200':\n"
            "          description: ok\n          content:\n            application/json:\n"
            "              schema: {type: object}\n              example: {$ref: '#/nope'}\n")
    assert parse_spec(text, "ok.yaml").version == "3.0"


@pytest.mark.parametrize(("text", "says"), [
    ("swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {}\n", "Swagger/OpenAPI 2.0"),
    ("openapi: 4.0.0\ninfo: {title: t, version: '1'}\npaths: {}\n", "'4.0.0' is not supported"),
    ("info: {title: t}\n", "no 'openapi' field"),
    ("- 1\n- 2\n", "holds a list"),
    ("", "the file is empty"),
])
def test_documents_that_are_not_openapi_3(text: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_spec(text, "x.yaml")
    assert says in caught.value.problems[0].render()
    assert caught.value.problems[0].location.path == "x.yaml"


def test_missing_file_and_directory_are_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no such file"):
        load_spec(tmp_path / "missing.yaml")
    with pytest.raises(NotFound, match="is a directory"):
        load_spec(tmp_path)


def test_undecodable_file_is_a_syntax_error(tmp_path: Path) -> None:
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00junk")
    with pytest.raises(ConfigSyntaxError, match="cannot read the file"):
        load_spec(tmp_path / "bin.yaml")


def test_many_errors_are_capped() -> None:
    params = "".join(f"        - {{name: q{i}, in: nowhere}}\n" for i in range(30))
    text = (HEAD + "paths:\n  /a:\n    get:\n      parameters:\n" + params
            + "      responses: {'200': {description: ok}}\n")
    with pytest.raises(ConfigError) as caught:
        parse_spec(text, "many.yaml")
    # 30 bad parameters, each on its own line: the report stops at the cap.
    assert len(caught.value.problems) == MAX_PROBLEMS


def test_refs_in_lists_examples_and_names_are_told_apart() -> None:
    data = {
        "paths": {"/a": {"get": {"parameters": [{"$ref": "#/components/parameters/0"}]}}},
        "components": {
            "parameters": [{"name": "q"}],
            "examples": {"e": {"value": {"$ref": "#/not/a/ref"}}},
            "schemas": {"S": {"properties": {"default": {"$ref": "#/x"},
                                             "x-y": {"$ref": "#/y"}},
                              "examples": [{"$ref": "#/data"}], "x-note": {"$ref": "#/n"}}},
        },
    }
    found = {ref for _, ref in iter_refs(data)}
    assert found == {"#/components/parameters/0", "#/x", "#/y"}


def test_a_chain_of_refs_that_ends_is_not_a_loop() -> None:
    text = (HEAD + "paths:\n  /a:\n    get:\n      parameters:\n"
            "        - $ref: '#/components/parameters/P'\n"
            "      responses: {'200': {description: ok}}\n"
            "components:\n  parameters:\n    P: {$ref: '#/components/parameters/Q'}\n"
            "    Q: {name: q, in: query, schema: {type: string}}\n")
    spec = parse_spec(text, "chain.yaml")
    first = spec.at(("paths", "/a", "get", "parameters", "0"))
    assert first is not None
    target = spec.deref(first)
    assert (target.ptr, target.value["name"]) == (("components", "parameters", "Q"), "q")
    assert spec.ref_name(first) == "P"
