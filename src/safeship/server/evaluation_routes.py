"""Handlers of the evaluation side: snapshot (with ETag), one flag, all flags.

Evaluation runs :func:`safeship.flags.evaluate` over the cached snapshot of the environment,
the same evaluator and the same definitions the OpenFeature provider uses, so a remote
evaluation and a local one agree.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from starlette.responses import JSONResponse, Response

from safeship.errors import NotFound
from safeship.flags import TARGETING_KEY, EvaluationContext
from safeship.server.call import Call
from safeship.server.etag import none_match
from safeship.server.payloads import evaluation_payload
from safeship.server.problems import problem_response
from safeship.server.schemas import EvaluationRequest

#: Headers of answers that carry an ETag: caches must check before reusing them.
REVALIDATE = "no-cache"


async def get_snapshot(call: Call, _body: None) -> Response:
    """``GET /v1/snapshot``: every flag definition of an environment, with a strong ETag."""
    environment = call.service.environment(call.query("environment"))
    view = await call.service.snapshot(environment)
    headers = {"ETag": view.etag, "Cache-Control": REVALIDATE}
    if none_match(call.request.headers.get("if-none-match"), view.etag):
        return Response(status_code=HTTPStatus.NOT_MODIFIED, headers=headers)
    return Response(view.body, media_type="application/json", headers=headers)


async def evaluate_flag(call: Call, body: EvaluationRequest) -> Response:
    """``POST /v1/flags/{key}/evaluate``: one flag for one context."""
    key = call.path_key()
    environment = call.service.environment(body.environment)
    try:
        result, version = await call.service.evaluate(key, context_of(body.context),
                                                      environment)
    except NotFound as exc:
        return problem_response(HTTPStatus.NOT_FOUND, exc.message, hint=exc.hint,
                                error_code="FLAG_NOT_FOUND")
    return _json({**evaluation_payload(result), "environment": environment,
                  "version": version})


async def evaluate_all(call: Call, body: EvaluationRequest) -> Response:
    """``POST /v1/evaluate``: every flag for one context."""
    environment = call.service.environment(body.environment)
    results, version = await call.service.evaluate_all(context_of(body.context), environment)
    return _json({"environment": environment, "version": version,
                  "results": {key: evaluation_payload(r) for key, r in results.items()}})


def context_of(data: dict[str, Any]) -> EvaluationContext:
    """The evaluation context of a request's ``context`` object."""
    key = data.get(TARGETING_KEY)
    attributes = {name: value for name, value in data.items() if name != TARGETING_KEY}
    return EvaluationContext(key if isinstance(key, str) else None, attributes)


def _json(payload: dict[str, Any]) -> Response:
    # Compact JSON, as the snapshot; JSONResponse would do the same with more copying.
    return Response(json.dumps(payload, separators=(",", ":"), ensure_ascii=False),
                    media_type=JSONResponse.media_type)
