"""The endpoints an OpenAPI (or Swagger 2) document declares, to spot new ones.

A document is recognised by its top-level ``openapi`` or ``swagger`` key and a ``paths``
mapping. Endpoints are compared as paths and as (method, path) operations, so both a new path
and a new method on an existing path count as a new endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

MAX_SPEC_CHARS = 8 * 1024 * 1024
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


@dataclass(frozen=True)
class ApiSurface:
    """The paths of one OpenAPI document and the operations under them."""

    paths: frozenset[str]
    operations: frozenset[tuple[str, str]]
    """(METHOD, path) pairs."""


def looks_like_spec(text: str) -> bool:
    """A cheap test before parsing: could ``text`` be an OpenAPI or Swagger document?"""
    return ("openapi" in text or "swagger" in text) and "paths" in text


def api_surface(text: str) -> ApiSurface | None:
    """The surface declared by ``text``; None when it is not a readable OpenAPI document."""
    if len(text) > MAX_SPEC_CHARS or not looks_like_spec(text):
        return None
    try:
        data: Any = YAML(typ="safe", pure=True).load(text)
    except (YAMLError, ValueError):
        return None
    if not isinstance(data, dict) or not ({"openapi", "swagger"} & set(data)):
        return None
    paths = data.get("paths")
    if not isinstance(paths, dict):
        return None
    operations: set[tuple[str, str]] = set()
    for path, item in paths.items():
        if isinstance(item, dict):
            operations.update((str(method).upper(), str(path)) for method in item
                              if str(method).lower() in HTTP_METHODS)
    return ApiSurface(frozenset(str(p) for p in paths), frozenset(operations))


def new_endpoints(base: ApiSurface | None, head: ApiSurface) -> tuple[str, ...]:
    """What ``head`` adds to ``base``: new paths, then new methods on existing paths."""
    old_paths = base.paths if base else frozenset()
    old_operations = base.operations if base else frozenset()
    added = sorted(head.paths - old_paths)
    added += [f"{method} {path}" for method, path in sorted(head.operations - old_operations)
              if path in old_paths]
    return tuple(added)
