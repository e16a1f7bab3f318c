"""Errors as HTTP answers: one JSON shape (RFC 9457 problem details), never a traceback.

=====================================================  ======
error                                                   status
=====================================================  ======
:class:`RequestRefused` (auth, body size, media type)   its own (401, 403, 413, 415, 503...)
:class:`~safeship.errors.ConfigError` (bad input)        400, each problem at its field
:class:`~safeship.errors.UsageError`                     400
:class:`~safeship.errors.NotFound` (unknown flag)        404
flag exists / version conflict (store)                  409
:class:`~safeship.errors.DependencyUnavailable`          503
anything else                                           500, with a generic message
=====================================================  ======

Unexpected exceptions are logged with their traceback on the server and answered with a
generic 500, so internals never reach a client.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus

from starlette.responses import JSONResponse

from safeship.errors import (
    ConfigError,
    DependencyUnavailable,
    NotFound,
    SafeshipError,
    UsageError,
)
from safeship.store.flags import FlagExists, VersionConflict

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"


class RequestRefused(UsageError):
    """A request the service refuses with a given HTTP status (401, 403, 413, 415, 503...)."""

    def __init__(self, status: int, message: str, *, hint: str | None = None,
                 field: str | None = None, headers: Mapping[str, str] | None = None) -> None:
        """Refuse with ``status``; ``field`` names the part of the request at fault."""
        super().__init__(message, hint=hint)
        self.status = status
        self.field = field
        self.headers = dict(headers or {})


def problem_response(status: int, detail: str, *, field: str | None = None,
                     problems: Sequence[tuple[str, str]] = (), hint: str | None = None,
                     error_code: str | None = None,
                     headers: Mapping[str, str] | None = None) -> JSONResponse:
    """A problem-details answer (see :class:`safeship.server.schemas.Problem`)."""
    body = {
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "field": field,
        "problems": [{"field": name, "message": message} for name, message in problems],
        "hint": hint,
        "error_code": error_code,
    }
    return JSONResponse(body, status_code=status, headers=dict(headers or {}),
                        media_type=MEDIA_TYPE)


def error_response(error: SafeshipError, *, field_prefix: str = "") -> JSONResponse:
    """The answer for ``error``; ``field_prefix`` goes before the field paths of a
    :class:`ConfigError` (``definition.`` for problems inside a flag document)."""
    if isinstance(error, RequestRefused):
        return problem_response(error.status, error.message, field=error.field,
                                hint=error.hint, headers=error.headers)
    if isinstance(error, ConfigError):
        problems = [(_join(field_prefix, p.field_path), p.message) for p in error.problems]
        first = problems[0][0] if problems else None
        detail = "; ".join(f"{name}: {message}" if name else message
                           for name, message in problems) or error.message
        return problem_response(HTTPStatus.BAD_REQUEST, detail, field=first, problems=problems,
                                hint=error.hint)
    if isinstance(error, FlagExists | VersionConflict):
        return problem_response(HTTPStatus.CONFLICT, error.message, hint=error.hint)
    if isinstance(error, NotFound):
        return problem_response(HTTPStatus.NOT_FOUND, error.message, hint=error.hint)
    if isinstance(error, UsageError):
        return problem_response(HTTPStatus.BAD_REQUEST, error.message, hint=error.hint)
    if isinstance(error, DependencyUnavailable):
        log.warning("answering 503: %s", error.message)
        return problem_response(HTTPStatus.SERVICE_UNAVAILABLE, error.message, hint=error.hint)
    log.error("internal error: %s", error.message, exc_info=error)
    return internal_error_response()


def internal_error_response() -> JSONResponse:
    """The generic 500: what went wrong is in the server's log, not in the answer."""
    return problem_response(HTTPStatus.INTERNAL_SERVER_ERROR,
                            "the flag service hit an internal error; see its log")


def _join(prefix: str, path: str) -> str:
    if not path:
        return prefix.rstrip(".")
    return f"{prefix}{path}"
