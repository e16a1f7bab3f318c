"""Seeding the crawl from an OpenAPI document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from safeship.errors import ConfigError, NotFound
from safeship.scanners.dast.openapi import load_openapi, seed_paths

SPEC_YAML = """\
openapi: 3.0.3
info: {title: shop, version: "1"}
servers:
  - url: https://api.example.com/{version}
    variables:
      version: {default: v2}
paths:
  /items:
    get:
      parameters:
        - {name: q, in: query, schema: {type: string, example: shoes}}
        - {name: limit, in: query, schema: {type: integer}}
    post:
      responses: {"201": {description: created}}
  /items/{itemId}:
    parameters:
      - $ref: "#/components/parameters/ItemId"
    get:
      responses: {"200": {description: ok}}
    delete:
      responses: {"204": {description: gone}}
  /orders/{orderId}/lines/{line}:
    get:
      parameters:
        - {name: orderId, in: path, required: true, schema: {type: string, format: uuid}}
        - {name: line, in: path, required: true, schema: {type: string, enum: [first, last]}}
        - {name: flag, in: query, schema: {type: boolean}}
components:
  parameters:
    ItemId: {name: itemId, in: path, required: true, schema: {type: integer, default: 7}}
"""


def test_openapi3_yaml(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(SPEC_YAML)
    seeds = seed_paths(load_openapi(spec))
    assert seeds.paths == (
        "/v2/items?q=shoes&limit=1",
        "/v2/items/7",
        "/v2/orders/00000000-0000-0000-0000-000000000000/lines/first?flag=true",
    )
    assert seeds.skipped_operations == 2


def test_swagger2_json(tmp_path: Path) -> None:
    spec = tmp_path / "swagger.json"
    spec.write_text(json.dumps({
        "swagger": "2.0", "basePath": "/api/",
        "paths": {"/users/{id}": {"get": {"parameters": [
            {"name": "id", "in": "path", "type": "integer", "x-example": 1},
            {"name": "fields", "in": "query", "type": "string", "default": "name"}]}},
            "/health": {"get": {}}},
    }))
    assert seed_paths(load_openapi(spec)).paths == ("/api/users/1?fields=name", "/api/health")


def test_remote_refs_are_not_followed(tmp_path: Path) -> None:
    spec = tmp_path / "s.json"
    spec.write_text(json.dumps({"openapi": "3.1.0", "paths": {"/a/{x}": {"get": {
        "parameters": [{"$ref": "https://evil.test/p.json"}]}}}}))
    assert seed_paths(load_openapi(spec)).paths == ("/a/safeship",)


def test_bad_documents(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        load_openapi(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("just: [text")
    with pytest.raises(ConfigError, match="neither JSON nor YAML"):
        load_openapi(bad)
    bad.write_text("title: not openapi\n")
    with pytest.raises(ConfigError, match="no 'paths'"):
        load_openapi(bad)
