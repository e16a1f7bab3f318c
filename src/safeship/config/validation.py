"""Validate located YAML data against pydantic models and turn errors into located problems.

Every pydantic error becomes a :class:`ConfigProblem` with ``file:line:column``, the dotted field
path, a message a person can act on, and for unknown keys a "did you mean" suggestion drawn from
the fields the model accepts at that place.
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any, TypeVar, Union

from pydantic import BaseModel, ValidationError

from safeship.config.yaml_source import PathKey, YamlDocument, format_path
from safeship.errors import ConfigError, ConfigProblem

ModelT = TypeVar("ModelT", bound=BaseModel)

_TYPE_WORDS = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def suggest(word: str, choices: typing.Iterable[str]) -> str | None:
    """The closest of ``choices`` to ``word``, if any is close enough to be a likely typo."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _field_names(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The BaseModel classes reachable through Optional/Union/list/dict/Annotated wrappers."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is None:
        return []
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _models_in(args[0])
    if origin in (Union, types.UnionType, list, tuple, dict, typing.Literal):
        found: list[type[BaseModel]] = []
        for arg in args[1:] if origin is dict else args:
            found.extend(_models_in(arg))
        return found
    return []


def allowed_keys(model: type[BaseModel], loc: typing.Sequence[str | int]) -> list[str]:
    """The keys a mapping at ``loc`` (relative to ``model``) may hold."""
    current: list[type[BaseModel]] = [model]
    for part in loc:
        if isinstance(part, int):
            continue
        nxt: list[type[BaseModel]] = []
        for candidate in current:
            for name, info in candidate.model_fields.items():
                if part in (name, info.alias):
                    nxt.extend(_models_in(info.annotation))
        if not nxt:
            # A union tag such as "function-after[...]" or a dict key: stay where we are.
            continue
        current = nxt
    names: list[str] = []
    for candidate in current:
        names.extend(n for n in _field_names(candidate) if n not in names)
    return names


def _message(error: Any) -> str:
    kind = error["type"]
    if kind == "missing":
        return "this field is required"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind in _TYPE_WORDS:
        return f"expected {_TYPE_WORDS[kind]}, got {error.get('input')!r}"
    if kind == "literal_error":
        return f"must be one of {error['ctx']['expected']}, got {error.get('input')!r}"
    if kind == "enum":
        return f"must be one of {error['ctx']['expected']}, got {error.get('input')!r}"
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix):]
    return message


def problems_from(
    exc: ValidationError, doc: YamlDocument, model: type[BaseModel], base: PathKey = ()
) -> list[ConfigProblem]:
    """Convert a pydantic ``ValidationError`` raised on data found at ``base`` in ``doc``."""
    problems = []
    for error in exc.errors():
        loc = tuple(
            part for part in error["loc"] if isinstance(part, int) or not _is_tag(str(part))
        )
        full = (*base, *loc)
        suggestion = None
        if error["type"] == "extra_forbidden" and loc:
            choices = allowed_keys(model, loc[:-1])
            suggestion = suggest(str(loc[-1]), choices)
            location = doc.locate(full, key=True)
        elif error["type"] == "missing":
            location = doc.locate(full[:-1], key=True)
        else:
            location = doc.locate(full)
        problems.append(ConfigProblem(location, format_path(full), _message(error), suggestion))
    return problems


def _is_tag(part: str) -> bool:
    # pydantic inserts validator/union tags such as "function-after[...]" into locations.
    return ("[" in part and part.endswith("]")) or part.startswith(("function-", "tagged-union"))


def validate_model(
    model: type[ModelT], doc: YamlDocument, data: Any, base: PathKey = ()
) -> ModelT:
    """Validate ``data`` (found at ``base`` in ``doc``) as ``model`` or raise ``ConfigError``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(problems_from(exc, doc, model, base)) from exc
