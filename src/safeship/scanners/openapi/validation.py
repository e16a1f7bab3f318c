"""Validates a document against the OpenAPI 3.0/3.1 schema with openapi-spec-validator.

The validator's errors are turned into :class:`~safeship.errors.ConfigProblem`\\ s placed at the
line of the offending value. When an object matches none of its possible shapes the validator
reports the whole object; the most specific underlying error is shown instead, since that is
the one a person can act on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from safeship.config.yaml_source import YamlDocument, format_path
from safeship.errors import ConfigProblem, SourceLocation

# Errors about a whole operation name it only in the text: "for 'get' operation in '/a'".
_OPERATION = re.compile(r"for '(\w+)' operation in '([^']+)'")
# A broken spec can produce thousands of errors; the first few tell the story.
MAX_PROBLEMS = 10
_MAX_VALUE_TEXT = 60


def validate_document(document: YamlDocument, version: str) -> list[ConfigProblem]:
    """The schema problems of ``document`` (an OpenAPI ``version`` "3.0" or "3.1" document)."""
    # Imported here, not at the top: the validator pulls in jsonschema's format checkers, which
    # take seconds to import, and every `safeship` command would pay for it at start-up.
    from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

    validator_class = OpenAPIV31SpecValidator if version == "3.1" else OpenAPIV30SpecValidator
    problems: list[ConfigProblem] = []
    places: set[tuple[int | None, int | None]] = set()
    try:
        for error in validator_class(document.data).iter_errors():
            problem = _problem(document, error)
            place = (problem.location.line, problem.location.column)
            # The same bad value is often reported twice (document schema, then schema check).
            if place in places and problem.location.line is not None:
                continue
            places.add(place)
            problems.append(problem)
            if len(problems) >= MAX_PROBLEMS:
                break
    except Exception as exc:  # the validator's own failures are input problems too
        problems.append(ConfigProblem(SourceLocation(document.source), "",
                                      f"the OpenAPI validator could not check the file: {exc}"))
    return problems


def _problem(document: YamlDocument, error: Any) -> ConfigProblem:
    chosen = _most_specific(error) or error
    path = tuple(getattr(chosen, "absolute_path", ()) or ())
    message = _message(chosen)
    keyed: tuple[str | int, ...] = tuple(p if isinstance(p, int) else str(p) for p in path)
    named = _OPERATION.search(message)
    if not keyed and named:
        keyed = ("paths", named[2], named[1])
    elif keyed and keyed not in document.value_positions:
        # Errors from checking one schema carry a path relative to that schema: find the one
        # place in the document that ends that way and holds the offending value.
        keyed = _anchored(document, keyed, getattr(chosen, "instance", None)) or keyed
    if not keyed or keyed not in document.value_positions:
        return ConfigProblem(SourceLocation(document.source), format_path(keyed), message)
    # A wrong scalar is best shown where it is written; a wrong object where its key is.
    key = isinstance(_value(document.data, keyed), dict | list)
    return ConfigProblem(document.locate(keyed, key=key), format_path(keyed), message)


def _anchored(document: YamlDocument, tail: tuple[str | int, ...],
              instance: Any) -> tuple[str | int, ...] | None:
    data = document.data
    for path in document.value_positions:
        if len(path) > len(tail) and path[-len(tail):] == tail and _value(data, path) == instance:
            return path
    return None


def _value(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


# The validator's errors are jsonschema ValidationErrors (untyped): read them by attribute.
def _leaves(error: Any) -> Iterable[Any]:
    context = getattr(error, "context", None)
    if not context:
        yield error
        return
    for sub in context:
        yield from _leaves(sub)


def _most_specific(error: Any) -> Any:
    if not getattr(error, "context", None):
        return None
    # "'$ref' is a required property" only says the value is not a reference either.
    candidates = [leaf for leaf in _leaves(error)
                  if not (leaf.validator == "required" and "'$ref'" in leaf.message)]
    if not candidates:
        return None
    deepest = max(len(leaf.absolute_path) for leaf in candidates)
    best = [leaf for leaf in candidates if len(leaf.absolute_path) == deepest]
    choices = [leaf for leaf in best if leaf.validator in ("enum", "const")]
    if len(choices) > 1 and len(choices) == len(best):
        # Each alternative allowed other values: say all of them at once.
        allowed = sorted({str(v) for leaf in choices for v in (
            leaf.validator_value if leaf.validator == "enum" else [leaf.validator_value])})
        merged = choices[0]
        merged.message = f"{merged.instance!r} is not one of {allowed}"
        return merged
    return max(best, key=lambda leaf: leaf.validator not in ("oneOf", "anyOf"))


def _message(error: Any) -> str:
    text = getattr(error, "message", None) or str(error)
    instance: Any = getattr(error, "instance", None)
    if instance is not None:
        shown = repr(instance)
        if len(shown) > _MAX_VALUE_TEXT and text.startswith(shown):
            text = "the value" + text[len(shown):]
    return text.splitlines()[0] if text else "invalid"
