"""Reading a request's JSON body: media type, size limit, syntax, then the request model.

Each refusal names what is wrong: 415 for another media type, 413 past the size limit (the
body is read in chunks and abandoned as soon as it is too long, never held whole), 400 for
JSON that does not parse (with line and column) or a body that does not fit the model (every
problem at its field, e.g. ``context.targetingKey``).
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from safeship.config.validation import problems_from
from safeship.config.yaml_source import YamlDocument
from safeship.errors import ConfigError
from safeship.server.problems import RequestRefused

ModelT = TypeVar("ModelT", bound=BaseModel)

#: Where request-body problems are said to be.
SOURCE = "request body"


async def read_json(request: Request, limit: int) -> Any:
    """The decoded JSON body of ``request`` (at most ``limit`` bytes).

    Raises:
        RequestRefused: 415 not JSON, 413 too large, 400 unparsable.
    """
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise RequestRefused(HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                             f"the body must be JSON (Content-Type: application/json), not "
                             f"'{media_type or 'none'}'", field="body")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise RequestRefused(HTTPStatus.BAD_REQUEST, "the request needs a JSON body",
                             field="body")
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise RequestRefused(HTTPStatus.BAD_REQUEST, "the body is not UTF-8",
                             field="body") from None
    except json.JSONDecodeError as exc:
        raise RequestRefused(HTTPStatus.BAD_REQUEST,
                             f"invalid JSON at line {exc.lineno}, column {exc.colno}: "
                             f"{exc.msg}", field="body") from None
    except ValueError as exc:
        raise RequestRefused(HTTPStatus.BAD_REQUEST, f"invalid JSON: {exc}",
                             field="body") from None


def parse_body(model: type[ModelT], data: Any) -> ModelT:
    """``data`` validated as ``model``.

    Raises:
        ConfigError: every problem, at its field path (the service answers 400).
    """
    if not isinstance(data, dict):
        raise RequestRefused(HTTPStatus.BAD_REQUEST,
                             f"the body must be a JSON object, not {type(data).__name__}",
                             field="body")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(problems_from(exc, YamlDocument(SOURCE, data), model)) from None


def _no_constant(name: str) -> Any:
    # JSON has no NaN or Infinity; Python's parser accepts them unless told otherwise.
    raise ValueError(f"{name} is not a JSON number")


def _too_large(limit: int) -> RequestRefused:
    return RequestRefused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                          f"the body is larger than {limit} bytes", field="body")
