"""Handlers about the service itself: health, and its own OpenAPI document."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from safeship.server.call import Call

#: Where the app factory keeps the rendered OpenAPI document (``app.state``).
OPENAPI_STATE = "openapi_json"


async def health(call: Call, _body: None) -> Response:
    """``GET /v1/health``: up, the data version streamed so far, streams connected."""
    service = call.service
    return JSONResponse({"status": "ok", "version": service.broadcaster.version,
                         "environment": service.default_environment,
                         "streams": service.broadcaster.subscriber_count})


async def openapi(call: Call, _body: None) -> Response:
    """``GET /v1/openapi.json``: this API's OpenAPI 3.1 document."""
    body: bytes = getattr(call.request.app.state, OPENAPI_STATE)
    return Response(body, media_type="application/json")
