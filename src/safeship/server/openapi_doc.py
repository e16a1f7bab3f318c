"""The flag service's OpenAPI 3.1 document, generated from the route table and the models.

Paths, methods, parameters, security and response codes come from
:data:`~safeship.server.operations.OPERATIONS`; schemas from the pydantic models of
:mod:`safeship.server.schemas` (and the flag document model of
:mod:`safeship.config.flag_file`). The error codes an operation can answer follow from what it
is: every non-public operation can answer 401 and 503, writes 403 and 409, anything with a body
or a query 400 (and 413/415 for bodies), anything naming a flag 404, conditional reads 304.

The document is committed at :data:`SPEC_PATH`; a test fails when the committed file differs
from what this module generates. Regenerate with :data:`REGENERATE`.
"""

from __future__ import annotations

import inspect
import sys
from http import HTTPStatus
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from safeship.server.auth import Access
from safeship.server.call import ACTOR_HEADER
from safeship.server.operations import OPERATIONS, Operation
from safeship.server.problems import MEDIA_TYPE as PROBLEM_MEDIA_TYPE
from safeship.server.schemas import DEFINITION_MARKER, DEFINITION_SCHEMA, Problem
from safeship.server.sse import MEDIA_TYPE as SSE_MEDIA_TYPE

OPENAPI_VERSION = "3.1.0"
#: The API's version: bump the minor for additions, the major for breaking changes.
API_VERSION = "1.0.0"
SPEC_PATH = "docs/openapi/flags-v1.yaml"
REGENERATE = f".venv/bin/python -m safeship.server.openapi_doc {SPEC_PATH}"
DEFAULT_URL = "http://127.0.0.1:8700"

_REF = "#/components/schemas/{model}"
_READ_SCHEME = "readToken"
_WRITE_SCHEME = "writeToken"
_TAGS = (
    ("evaluation", "Evaluate flags, fetch snapshots, follow changes (read or write token)."),
    ("management", "Read and change flags; every change needs a write token and a reason."),
    ("service", "The service itself (no token)."),
)


def build_document() -> dict[str, Any]:
    """The OpenAPI document of the flag service, as plain data."""
    schemas = _schemas(OPERATIONS)
    paths: dict[str, dict[str, Any]] = {}
    for operation in OPERATIONS:
        paths.setdefault(operation.path, {})[operation.method.lower()] = _operation(operation)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "safeship flag service",
            "version": API_VERSION,
            "summary": "Feature flags: evaluation, snapshots, streaming updates, management.",
            "description": (
                "Served by `safeship flags serve`. Read operations take a read or a write "
                "token, changes a write token (`Authorization: Bearer <token>`). Every change "
                "needs a `reason` and is recorded with its actor in the flag's history. "
                "Snapshots and flag reads carry a strong ETag; `If-None-Match` gives 304. "
                "Errors are RFC 9457 problem details with the field at fault."),
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": DEFAULT_URL,
                     "description": "safeship flags serve, default address"}],
        "tags": [{"name": name, "description": text} for name, text in _TAGS],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                _READ_SCHEME: {"type": "http", "scheme": "bearer",
                               "description": "A read token (or a write token)."},
                _WRITE_SCHEME: {"type": "http", "scheme": "bearer",
                                "description": "A write token."},
            },
        },
    }


class _PlainDumper(yaml.SafeDumper):
    """Writes repeated parts in full: anchors and aliases would only puzzle readers and
    diff tools."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def render_yaml(document: dict[str, Any] | None = None) -> str:
    """The document as YAML text, in a stable order (what is committed)."""
    return yaml.dump(document or build_document(), Dumper=_PlainDumper, sort_keys=False,
                     allow_unicode=True, width=100, default_flow_style=False)


def _schemas(operations: tuple[Operation, ...]) -> dict[str, Any]:
    inputs: list[type[BaseModel]] = []
    outputs: list[type[BaseModel]] = [Problem]
    for operation in operations:
        if operation.request_model is not None:
            inputs.append(operation.request_model)
        if operation.response_model is not None:
            outputs.append(operation.response_model)
        outputs.extend(operation.stream_events)
    models: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = [
        *((m, "validation") for m in dict.fromkeys(inputs)),
        *((m, "serialization") for m in dict.fromkeys(outputs)),
    ]
    _, definitions = models_json_schema(models, ref_template=_REF)
    schemas: dict[str, Any] = _with_references(dict(definitions.get("$defs", {})))
    if DEFINITION_SCHEMA not in schemas:
        raise RuntimeError("the flag document schema is missing from the OpenAPI document")
    serve = schemas.get("ServeModel")
    if serve is not None:
        # A serve is written as a bare variant name, or as an object with a rollout.
        schemas["ServeModel"] = {
            "description": serve.get("description", ""),
            "anyOf": [{"type": "string", "description": "A variant name."},
                      {key: value for key, value in serve.items() if key != "description"}],
        }
    weight = schemas.get("WeightModel", {}).get("properties", {}).get("weight")
    if weight is not None:
        # Documents carry weights as percentage text ("5%"); files may also use ratios.
        weight.pop("type", None)
        weight["anyOf"] = [{"type": "number", "minimum": 0, "maximum": 1},
                           {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*%\s*$"}]
    return dict(sorted(schemas.items()))


def _with_references(node: Any) -> Any:
    """``node`` with every :data:`DEFINITION_MARKER` replaced by a reference to the flag
    document schema."""
    if isinstance(node, dict) and all(node.get(k) == v for k, v in DEFINITION_MARKER.items()):
        # pydantic adds a title next to the marker; keep it, beside the reference.
        rest = {k: v for k, v in node.items() if k not in DEFINITION_MARKER}
        return {**rest, "$ref": _REF.format(model=DEFINITION_SCHEMA)}
    if isinstance(node, dict):
        return {key: _with_references(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_with_references(item) for item in node]
    return node


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": _REF.format(model=model.__name__)}


def _operation(operation: Operation) -> dict[str, Any]:
    document: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "description": _markdown(operation.handler.__doc__ or operation.summary),
        "tags": [operation.tag],
    }
    parameters = _parameters(operation)
    if parameters:
        document["parameters"] = parameters
    if operation.request_model is not None:
        document["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(operation.request_model)}},
        }
    document["responses"] = _responses(operation)
    if operation.access is None:
        document["security"] = []
    elif operation.access is Access.READ:
        document["security"] = [{_READ_SCHEME: []}, {_WRITE_SCHEME: []}]
    else:
        document["security"] = [{_WRITE_SCHEME: []}]
    return document


def _markdown(docstring: str) -> str:
    # Docstrings quote code RST-style (``x``); OpenAPI descriptions are Markdown (`x`).
    return inspect.cleandoc(docstring).replace("``", "`")


def _parameters(operation: Operation) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    if operation.names_a_flag:
        parameters.append({"name": "key", "in": "path", "required": True,
                           "description": "The flag key.",
                           "schema": {"type": "string", "maxLength": 128,
                                      "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]*$"}})
    parameters += [{"name": query.name, "in": "query", "required": False,
                    "description": query.description, "schema": query.schema}
                   for query in operation.query]
    if operation.conditional:
        parameters.append({"name": "If-None-Match", "in": "header", "required": False,
                           "description": "An ETag from an earlier answer: 304 if unchanged.",
                           "schema": {"type": "string"}})
    if operation.writes:
        parameters.append({"name": ACTOR_HEADER, "in": "header", "required": False,
                           "description": "The person the client acts for; recorded as "
                                          "'<actor> via <token name>'.",
                           "schema": {"type": "string", "maxLength": 100}})
    return parameters


def _responses(operation: Operation) -> dict[str, Any]:
    success: dict[str, Any] = {"description": HTTPStatus(operation.status).phrase}
    if operation.stream_events:
        events = ", ".join(f"`{model.__name__}`" for model in operation.stream_events)
        success["description"] = (f"An event stream (payload schemas: {events}); "
                                  "`: keep-alive` comments while idle.")
        success["content"] = {SSE_MEDIA_TYPE: {"schema": {"type": "string"}}}
    elif operation.response_model is not None:
        success["content"] = {"application/json": {"schema": _ref(operation.response_model)}}
    else:
        success["content"] = {"application/json": {"schema": {"type": "object"}}}
    etag = {"ETag": {"description": "A strong validator of this answer.",
                     "schema": {"type": "string"}}}
    if operation.conditional:
        success["headers"] = etag
    responses: dict[str, Any] = {str(operation.status): success}
    if operation.conditional:
        responses["304"] = {"description": "Not Modified: the ETag still matches.",
                            "headers": etag}
    for status in _error_statuses(operation):
        responses[str(status)] = {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": _ref(Problem)}},
        }
    return responses


def _error_statuses(operation: Operation) -> list[int]:
    statuses: set[int] = set()
    if operation.request_model is not None or operation.query:
        statuses.add(400)
    if operation.request_model is not None:
        statuses |= {413, 415}
    if operation.access is not None:
        statuses |= {401, 500, 503}
    if operation.writes:
        statuses |= {403, 409}
    if operation.names_a_flag:
        statuses.add(404)
    return sorted(statuses)


def main(argv: list[str] | None = None) -> int:
    """Write the document to the path given (the committed spec: :data:`SPEC_PATH`)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit(f"usage: python -m safeship.server.openapi_doc {SPEC_PATH}")
    target = Path(args[0])
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_yaml(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
