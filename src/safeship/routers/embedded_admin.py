"""The embedded router's admin API, served on its own listener.

=========  ============  ==============================================================
method     path          answer
=========  ============  ==============================================================
GET        /healthz      ``ok`` (no token needed: it reveals nothing and probes need it)
GET        /weights      ``{"weights": {version: percent}, "backends": {version: [...]}}``
PUT        /weights      body ``{"weights": {version: percent}}``; answers like GET, or
                         400 (not JSON / wrong shape) or 422 (refused; split unchanged)
GET        /metrics      Prometheus text format (see :mod:`.embedded_metrics`)
=========  ============  ==============================================================

Everything but ``/healthz`` needs ``Authorization: Bearer <token>``, compared in constant time;
a missing or wrong token gets 401 and the request changes nothing. Error answers never echo the
token.
"""

from __future__ import annotations

import hmac
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import CONTENT_TYPE_LATEST

from safeship.routers.interface import RouterRejected, RouterUnavailable

MAX_ADMIN_BODY = 64 * 1024
"""Bytes an admin request body may have."""
_OPEN_PATHS = frozenset({"/healthz"})


@dataclass(frozen=True)
class AdminActions:
    """What the admin API can read and do; the router supplies these."""

    weights: Callable[[], Mapping[str, float]]
    backends: Callable[[], Mapping[str, list[str]]]
    set_weights: Callable[[Mapping[str, float]], None]
    metrics: Callable[[], bytes]


def bearer_token_matches(header: str | None, token: str) -> bool:
    """True when ``header`` is ``Bearer <token>`` (scheme case-insensitive, constant time)."""
    if not header:
        return False
    scheme, _, given = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def admin_app(token: str, actions: AdminActions) -> web.Application:
    """The admin API as an aiohttp application."""

    @web.middleware
    async def require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in _OPEN_PATHS:
            return await handler(request)
        if not bearer_token_matches(request.headers.get("Authorization"), token):
            return web.json_response(
                {"error": "missing or wrong bearer token"}, status=401,
                headers={"WWW-Authenticate": 'Bearer realm="safeship-router"'})
        return await handler(request)

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def get_weights(request: web.Request) -> web.Response:
        return web.json_response(_state(actions))

    async def put_weights(request: web.Request) -> web.Response:
        try:
            document = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError) as exc:
            return web.json_response({"error": f"the body is not JSON: {exc}"}, status=400)
        weights = _weights_of(document)
        if isinstance(weights, str):
            return web.json_response({"error": weights}, status=400)
        try:
            actions.set_weights(weights)
        except RouterRejected as exc:
            return web.json_response({"error": exc.message, "hint": exc.hint}, status=422)
        except RouterUnavailable as exc:
            return web.json_response({"error": exc.message}, status=503)
        return web.json_response(_state(actions))

    async def metrics(request: web.Request) -> web.Response:
        return web.Response(body=actions.metrics(),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application(middlewares=[require_token], client_max_size=MAX_ADMIN_BODY)
    app.router.add_get("/healthz", healthz, allow_head=True)
    app.router.add_get("/weights", get_weights, allow_head=False)
    app.router.add_put("/weights", put_weights)
    app.router.add_get("/metrics", metrics, allow_head=False)
    return app


def _state(actions: AdminActions) -> dict[str, Any]:
    return {"weights": dict(actions.weights()), "backends": dict(actions.backends())}


def _weights_of(document: object) -> dict[str, float] | str:
    """The weights in a PUT body, or why the body has the wrong shape."""
    if not isinstance(document, dict) or not isinstance(document.get("weights"), dict):
        return 'expected {"weights": {"<version>": <percent>, ...}}'
    weights: dict[str, float] = {}
    for version, weight in document["weights"].items():
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            return f"the weight of '{version}' must be a number"
        if not math.isfinite(weight):
            return f"the weight of '{version}' must be finite"
        weights[str(version)] = float(weight)
    return weights
