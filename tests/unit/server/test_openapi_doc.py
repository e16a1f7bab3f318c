"""The OpenAPI document: valid 3.1, in step with the route table, and committed as generated."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate

from safeship.scanners.openapi import DiffOptions, diff_specs, parse_spec
from safeship.server.auth import Access
from safeship.server.openapi_doc import REGENERATE, SPEC_PATH, build_document, main, render_yaml
from safeship.server.operations import OPERATIONS

ROOT = Path(__file__).resolve().parents[3]


def test_the_document_is_valid_openapi_3_1() -> None:
    document = build_document()
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_the_committed_spec_is_the_generated_one() -> None:
    committed = (ROOT / SPEC_PATH).read_text(encoding="utf-8")
    assert committed == render_yaml(), (
        f"{SPEC_PATH} is out of date with the code; regenerate it with: {REGENERATE}")


def test_the_committed_spec_loads_in_safeships_own_contract_checker() -> None:
    text = (ROOT / SPEC_PATH).read_text(encoding="utf-8")
    spec = parse_spec(text, SPEC_PATH)
    report = diff_specs(spec, spec, DiffOptions(today=dt.date(2025, 6, 1)))
    assert not report.changes


def test_every_operation_is_documented_with_its_security() -> None:
    paths = build_document()["paths"]
    for op in OPERATIONS:
        entry = paths[op.path][op.method.lower()]
        assert entry["operationId"] == op.operation_id
        responses = set(entry["responses"])
        if op.access is None:
            assert entry["security"] == []
            assert "401" not in responses
        elif op.access is Access.READ:
            assert entry["security"] == [{"readToken": []}, {"writeToken": []}]
            assert {"401", "503"} <= responses
            assert "403" not in responses
        else:
            assert entry["security"] == [{"writeToken": []}]
            assert {"401", "403", "409"} <= responses
            names = {p["name"] for p in entry.get("parameters", [])}
            assert "X-Safeship-Actor" in names
        if op.conditional:
            assert "304" in responses
        if "{key}" in op.path:
            assert "404" in responses
        if op.request_model is not None:
            assert {"400", "413", "415"} <= responses
            assert "``" not in entry["description"]


def test_response_definitions_refer_to_the_flag_document_schema() -> None:
    schemas = build_document()["components"]["schemas"]
    definition = schemas["StoredFlagResponse"]["properties"]["definition"]
    assert definition["$ref"] == "#/components/schemas/FlagDocument"
    assert "x-safeship-schema" not in yaml.safe_dump(schemas)
    serve = schemas["ServeModel"]["anyOf"]
    assert serve[0]["type"] == "string"


def test_main_writes_the_document(tmp_path: Path) -> None:
    target = tmp_path / "out" / "flags.yaml"
    assert main([str(target)]) == 0
    assert yaml.safe_load(target.read_text(encoding="utf-8")) == yaml.safe_load(render_yaml())
    with pytest.raises(SystemExit, match="usage"):
        main([])
