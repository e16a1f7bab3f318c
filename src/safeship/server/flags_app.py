"""The flag service as a Starlette app: routes from the operation table, behind authorisation.

:func:`create_flags_app` wires the pieces: a :class:`~safeship.server.events.Broadcaster` and
the :class:`~safeship.server.events.ChangeWatcher` that feeds it (started and stopped with the
app), the :class:`~safeship.server.service.FlagService`, and one route per
:data:`~safeship.server.operations.OPERATIONS` entry. Every route runs the same steps:

1. authorise: public, read (read or write token) or write (write token). No token: 401 with
   ``WWW-Authenticate``; a read token on a write operation: 403. With ``tokens=None`` (the
   service's ``--unsafe-no-auth``) everybody is ``anonymous`` with write access;
2. read and validate the JSON body, if the operation takes one (415, 413, 400);
3. run the handler; errors become problem-details answers (:mod:`safeship.server.problems`);
   an unexpected exception is logged and answered with a generic 500, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from http import HTTPStatus

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from safeship.engine.clock import Clock, SystemClock
from safeship.errors import SafeshipError
from safeship.server.auth import ANONYMOUS, Access, Principal, TokenSet, bearer_token
from safeship.server.call import Call
from safeship.server.change_feed import ChangeFeed
from safeship.server.events import Broadcaster, ChangeWatcher
from safeship.server.meta_routes import OPENAPI_STATE
from safeship.server.openapi_doc import build_document
from safeship.server.operations import OPERATIONS, Operation
from safeship.server.problems import (
    RequestRefused,
    error_response,
    internal_error_response,
    problem_response,
)
from safeship.server.request_body import parse_body, read_json
from safeship.server.service import FlagService
from safeship.server.settings import ServiceSettings
from safeship.store.flags import FlagStore

log = logging.getLogger(__name__)

REALM = 'Bearer realm="safeship-flags"'
_PUBLIC = Principal("public", Access.READ)


def create_flags_app(store: FlagStore, feed: ChangeFeed, tokens: TokenSet | None, *,
                     settings: ServiceSettings | None = None,
                     clock: Clock | None = None) -> Starlette:
    """The flag service over ``store`` (changes read from ``feed``), accepting ``tokens``.

    ``tokens=None`` turns authentication off (``--unsafe-no-auth``); the caller warns.
    ``app.state.service`` is the :class:`FlagService`, ``app.state.broadcaster`` the
    broadcaster (``close()`` it to end every stream before a shutdown).
    """
    settings = settings or ServiceSettings()
    broadcaster = Broadcaster(queue_size=settings.queue_size,
                              max_subscribers=settings.max_streams)
    watcher = ChangeWatcher(feed, broadcaster, interval_s=settings.poll_interval_s)
    service = FlagService(store, watcher, broadcaster,
                          default_environment=settings.default_environment,
                          clock=clock or SystemClock())

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await watcher.prime()
        task = asyncio.create_task(watcher.run(), name="flag-change-watcher")
        try:
            yield
        finally:
            broadcaster.close()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    routes = [Route(op.path, _endpoint(op, service, tokens, settings), methods=[op.method],
                    name=op.operation_id) for op in OPERATIONS]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={HTTPException: _http_exception})
    app.state.service = service
    app.state.broadcaster = broadcaster
    setattr(app.state, OPENAPI_STATE, openapi_json())
    return app


@functools.cache
def openapi_json() -> bytes:
    """The OpenAPI document as JSON (the same for every app: built once)."""
    return json.dumps(build_document()).encode("utf-8")


def authorize(request: Request, needed: Access | None, tokens: TokenSet | None) -> Principal:
    """Who sent ``request``, if they may call an operation that needs ``needed``.

    Raises:
        RequestRefused: 401 without (valid) credentials, 403 when the token may not write.
    """
    if needed is None:
        return _PUBLIC
    if tokens is None:
        return Principal(ANONYMOUS, Access.WRITE)
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise RequestRefused(HTTPStatus.UNAUTHORIZED,
                             "this operation needs a token: Authorization: Bearer <token>",
                             field="Authorization", headers={"WWW-Authenticate": REALM})
    principal = tokens.authenticate(token)
    if principal is None:
        raise RequestRefused(HTTPStatus.UNAUTHORIZED, "the token is not valid",
                             field="Authorization",
                             headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'})
    if not principal.allows(needed):
        raise RequestRefused(HTTPStatus.FORBIDDEN,
                             f"token '{principal.name}' may only read; changing flags needs "
                             "a write token", field="Authorization")
    return principal


def _endpoint(operation: Operation, service: FlagService, tokens: TokenSet | None,
              settings: ServiceSettings) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            principal = authorize(request, operation.access, tokens)
            data = body = None
            if operation.request_model is not None:
                data = await read_json(request, settings.max_body_bytes)
                body = parse_body(operation.request_model, data)
            call = Call(request, service, principal, settings, data)
            return await operation.handler(call, body)
        except SafeshipError as exc:
            return error_response(exc)
        except Exception:
            log.exception("%s %s failed", operation.method, operation.path)
            return internal_error_response()

    endpoint.__name__ = operation.operation_id
    return endpoint


async def _http_exception(_request: Request, exc: Exception) -> Response:
    # Unknown paths (404) and methods (405) answer in the same JSON shape as everything else.
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
    detail = exc.detail if isinstance(exc, HTTPException) else "internal error"
    return problem_response(status, str(detail), headers=headers)
