"""Checks every ``$ref`` of a document before anything follows it.

A reference must be local (``#/...``) and must name something that exists; a chain made only
of references must not loop. Problems are reported at the line of the ``$ref`` itself, which is
where a person has to fix them. Literal values (``example``, ``default``, ``enum``, ``const``,
``x-`` extensions, example ``value``\\ s) may contain a ``$ref`` key that is data, not a
reference, so they are not searched.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from safeship.config.yaml_source import YamlDocument, format_path
from safeship.errors import ConfigProblem
from safeship.scanners.openapi.pointers import Ptr, from_ref

# Keys whose value is data written by the author, not OpenAPI structure.
_LITERAL_KEYS = frozenset({"example", "default", "enum", "const"})
# Maps whose keys are names chosen by the author: a child called "default" there is a name.
_NAME_MAPS = frozenset({
    "properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "schemas",
    "responses", "parameters", "examples", "requestBodies", "headers", "securitySchemes",
    "links", "callbacks", "pathItems", "content", "encoding", "mapping", "webhooks", "paths",
    "variables",
})


def iter_refs(value: Any, ptr: Ptr = ()) -> Iterator[tuple[Ptr, str]]:
    """Every ``$ref`` string in ``value`` with the place of its mapping."""
    stack: list[tuple[Ptr, Any]] = [(ptr, value)]
    while stack:
        here, node = stack.pop()
        if isinstance(node, Mapping):
            ref = node.get("$ref")
            if isinstance(ref, str):
                yield here, ref
            parent_key = here[-1] if here else None
            in_name_map = parent_key in _NAME_MAPS
            example_object = len(here) >= 2 and here[-2] == "examples" and isinstance(
                parent_key, str)
            for key, child in node.items():
                if key == "$ref":
                    continue
                if not in_name_map and (key in _LITERAL_KEYS or str(key).startswith("x-")):
                    continue
                if key == "examples" and isinstance(child, list):
                    continue
                if example_object and key == "value":
                    continue
                stack.append(((*here, key), child))
        elif isinstance(node, list):
            stack.extend(((*here, index), item) for index, item in enumerate(node))


def _target(data: Any, ptr: Ptr) -> tuple[bool, Any]:
    value = data
    for part in ptr:
        if isinstance(value, Mapping) and str(part) in value:
            value = value[str(part)]
        elif isinstance(value, list) and str(part).isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return False, None
    return True, value


def check_refs(document: YamlDocument) -> list[ConfigProblem]:
    """The problems of the document's references (empty when all are local and resolve)."""
    problems: list[ConfigProblem] = []
    located = [(document.locate((*ptr, "$ref")), ptr, ref) for ptr, ref in iter_refs(document.data)]
    for where, ptr, ref in sorted(located, key=lambda item: (item[0].line or 0,
                                                              item[0].column or 0)):
        field_path = format_path((*ptr, "$ref"))
        target = from_ref(ref)
        if target is None:
            problems.append(ConfigProblem(
                where, field_path,
                f"external reference '{ref}' is not supported: only local references "
                "('#/...') are resolved", suggestion=None))
            continue
        found, value = _target(document.data, target)
        if not found:
            problems.append(ConfigProblem(
                where, field_path, f"dangling reference '{ref}': nothing exists at that place"))
            continue
        if _loops(document.data, ref, value):
            problems.append(ConfigProblem(
                where, field_path, f"reference '{ref}' only leads back to itself (a $ref loop)"))
    return problems


def _loops(data: Any, ref: str, value: Any) -> bool:
    seen = {ref}
    while isinstance(value, Mapping) and isinstance(value.get("$ref"), str):
        nxt = value["$ref"]
        if nxt in seen:
            return True
        seen.add(nxt)
        target = from_ref(nxt)
        if target is None:
            return False
        found, value = _target(data, target)
        if not found:
            return False
    return False
