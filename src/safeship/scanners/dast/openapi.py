"""Seed URLs from an OpenAPI document (3.x, or Swagger 2.0): every GET operation's path.

Only ``get`` operations become URLs; other methods are counted, never called. The path is placed
under the server path the document declares (``servers[0].url``'s path, or ``basePath``) on the
*target's* origin, so a spec naming a production host cannot send the scan there. Path and
query parameters get a value from ``example``, ``default`` or the first ``enum`` entry, else one
by type (``1``, ``true``, ``safeship``, a nil UUID). Local ``$ref`` to parameters are followed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from safeship.errors import ConfigError, ConfigProblem, NotFound, SourceLocation

MAX_SPEC_BYTES = 10 * 1024 * 1024
_PARAM = re.compile(r"\{([^{}]+)\}")
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class OpenApiSeeds:
    """Paths (with query) to request, relative to the target origin, and what was skipped."""

    paths: tuple[str, ...]
    skipped_operations: int


def load_openapi(path: Path) -> Mapping[str, Any]:
    """The OpenAPI document at ``path`` (JSON or YAML)."""
    try:
        if path.stat().st_size > MAX_SPEC_BYTES:
            raise _problem(str(path), "the OpenAPI document is larger than 10 MiB")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound(f"OpenAPI document {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _problem(str(path), f"cannot read the OpenAPI document: {exc}") from exc
    document: Any
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        try:
            document = YAML(typ="safe", pure=True).load(text)
        except YAMLError as exc:
            raise _problem(str(path), f"the OpenAPI document is neither JSON nor YAML: {exc}"
                           ) from exc
    if not isinstance(document, Mapping) or not isinstance(document.get("paths"), Mapping):
        raise _problem(str(path), "not an OpenAPI document: no 'paths' mapping")
    return document


def seed_paths(document: Mapping[str, Any]) -> OpenApiSeeds:
    """The GET paths of ``document``, filled in, prefixed by its server path."""
    prefix = _server_path(document)
    paths: list[str] = []
    skipped = 0
    for template, item in document["paths"].items():
        if not isinstance(template, str) or not isinstance(item, Mapping):
            continue
        shared = _parameters(document, item.get("parameters"))
        for method in _METHODS:
            operation = item.get(method)
            if not isinstance(operation, Mapping):
                continue
            if method != "get":
                skipped += 1
                continue
            parameters = {**shared, **_parameters(document, operation.get("parameters"))}
            paths.append(_fill(prefix, template, parameters))
    return OpenApiSeeds(tuple(dict.fromkeys(paths)), skipped)


def _server_path(document: Mapping[str, Any]) -> str:
    servers = document.get("servers")
    if isinstance(servers, list) and servers and isinstance(servers[0], Mapping):
        url = str(servers[0].get("url", ""))
        # Server variables ({version}) take their defaults.
        variables = servers[0].get("variables")
        if isinstance(variables, Mapping):
            for name, spec in variables.items():
                if isinstance(spec, Mapping) and "default" in spec:
                    url = url.replace("{" + str(name) + "}", str(spec["default"]))
        path = urlsplit(url).path if "://" in url else url
    else:
        path = str(document.get("basePath", ""))
    return "/" + path.strip("/") if path.strip("/") else ""


def _parameters(document: Mapping[str, Any], raw: object) -> dict[tuple[str, str], Any]:
    found: dict[tuple[str, str], Any] = {}
    if not isinstance(raw, list):
        return found
    for entry in raw:
        parameter = _deref(document, entry)
        if isinstance(parameter, Mapping) and isinstance(parameter.get("name"), str):
            found[(str(parameter.get("in", "")), parameter["name"])] = parameter
    return found


def _deref(document: Mapping[str, Any], node: object, depth: int = 0) -> object:
    if depth > 8 or not isinstance(node, Mapping) or "$ref" not in node:
        return node
    reference = node["$ref"]
    if not isinstance(reference, str) or not reference.startswith("#/"):
        return None  # remote references are not fetched
    target: object = document
    for part in reference[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(target, Mapping) or part not in target:
            return None
        target = target[part]
    return _deref(document, target, depth + 1)


def _fill(prefix: str, template: str, parameters: Mapping[tuple[str, str], Any]) -> str:
    def path_value(match: re.Match[str]) -> str:
        parameter = parameters.get(("path", match.group(1)), {})
        return quote(_example(parameter), safe="")

    path = prefix + "/" + _PARAM.sub(path_value, template).lstrip("/")
    query = [
        (name, _example(parameter)) for (where, name), parameter in parameters.items()
        if where == "query"
    ]
    return f"{path}?{urlencode(query)}" if query else path


def _example(parameter: Mapping[str, Any]) -> str:
    schema = parameter.get("schema")
    schema = schema if isinstance(schema, Mapping) else parameter  # Swagger 2 inlines type
    for source in (parameter, schema):
        for key in ("example", "default"):
            if key in source and isinstance(source[key], str | int | float | bool):
                return _text(source[key])
        enum = source.get("enum")
        if isinstance(enum, list) and enum and isinstance(enum[0], str | int | float | bool):
            return _text(enum[0])
    kind = schema.get("type")
    if kind in {"integer", "number"}:
        return "1"
    if kind == "boolean":
        return "true"
    if schema.get("format") == "uuid":
        return "00000000-0000-0000-0000-000000000000"
    return "safeship"


def _text(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _problem(source: str, message: str) -> ConfigError:
    return ConfigError([ConfigProblem(SourceLocation(source), "", message)])
