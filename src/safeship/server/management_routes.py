"""Handlers of the management side: list, read (with ETag), history, and every change.

Each change runs one pure function of :mod:`safeship.flags.changes` inside the store's
compare-and-swap update, with the request's actor and (required) reason, so the history and
the audit trail are as complete as from the CLI. ``if_version`` makes a change conditional:
409 when the flag moved on since the client read it.

Problems inside a flag definition (from the document itself or from the flag it would make)
are reported at ``definition.<path>``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus

from starlette.responses import Response

from safeship.config.flag_file import FlagFile
from safeship.config.yaml_source import YamlDocument
from safeship.errors import ConfigError
from safeship.flags import Flag
from safeship.flags import changes as change
from safeship.flags.changes import FlagAction
from safeship.flags.codec import flag_from_file
from safeship.server.call import Call
from safeship.server.etag import none_match, strong_etag
from safeship.server.evaluation_routes import REVALIDATE
from safeship.server.payloads import history_payload, stored_flag_payload
from safeship.server.problems import RequestRefused, error_response
from safeship.server.schemas import (
    DefinitionRequest,
    EnvironmentWriteRequest,
    RolloutRequest,
    WriteRequest,
)
from safeship.store.flags import FlagUpdate

#: Where problems inside a flag document are reported.
DEFINITION = "definition."
MAX_HISTORY = 1000


# --------------------------------------------------------------------------- reads


async def list_flags(call: Call, _body: None) -> Response:
    """``GET /v1/flags``: every flag with its definition."""
    flags = await call.service.flags()
    return _json({"flags": [stored_flag_payload(stored) for stored in flags]})


async def get_flag(call: Call, _body: None) -> Response:
    """``GET /v1/flags/{key}``: one flag, with a strong ETag."""
    stored = await call.service.flag(call.path_key())
    body = _encode(stored_flag_payload(stored))
    etag = strong_etag(stored.version, body)
    headers = {"ETag": etag, "Cache-Control": REVALIDATE}
    if none_match(call.request.headers.get("if-none-match"), etag):
        return Response(status_code=HTTPStatus.NOT_MODIFIED, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


async def get_history(call: Call, _body: None) -> Response:
    """``GET /v1/flags/{key}/history``: who changed the flag, when, why and what."""
    key = call.path_key()
    limit = _limit(call.query("limit"))
    return _json(history_payload(key, await call.service.history(key, limit)))


def _limit(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_HISTORY:
        raise RequestRefused(HTTPStatus.BAD_REQUEST,
                             f"limit must be a whole number from 1 to {MAX_HISTORY}",
                             field="limit")
    return int(text)


# --------------------------------------------------------------------------- writes


async def create_flag(call: Call, body: DefinitionRequest) -> Response:
    """``POST /v1/flags``: a new flag (201), off everywhere until enabled."""
    try:
        flag = _definition(call, body, key=None)
        stored = await call.service.create(flag, actor=call.actor(), reason=body.reason)
    except ConfigError as exc:
        return error_response(exc, field_prefix=DEFINITION)
    return _json(stored_flag_payload(stored, changed=True), status=HTTPStatus.CREATED)


async def replace_flag(call: Call, body: DefinitionRequest) -> Response:
    """``PUT /v1/flags/{key}``: a new definition (same key and type; kills stay)."""
    key = call.path_key()
    try:
        replacement = _definition(call, body, key=key)
    except ConfigError as exc:
        return error_response(exc, field_prefix=DEFINITION)
    return await _update(call, body, FlagAction.SET,
                         lambda flag: change.replace_definition(flag, replacement))


async def enable_flag(call: Call, body: EnvironmentWriteRequest) -> Response:
    """``POST /v1/flags/{key}/enable``: on in one environment (lifts its kill switch)."""
    environment = call.service.environment(body.environment)
    return await _update(call, body, FlagAction.ENABLE,
                         lambda flag: change.enable(flag, environment))


async def disable_flag(call: Call, body: EnvironmentWriteRequest) -> Response:
    """``POST /v1/flags/{key}/disable``: off in one environment."""
    environment = call.service.environment(body.environment)
    return await _update(call, body, FlagAction.DISABLE,
                         lambda flag: change.disable(flag, environment))


async def rollout_flag(call: Call, body: RolloutRequest) -> Response:
    """``POST /v1/flags/{key}/rollout``: the environment's default becomes a split."""
    environment = call.service.environment(body.environment)
    fraction = body.percent / 100
    return await _update(call, body, FlagAction.ROLLOUT, lambda flag: change.set_rollout(
        flag, environment, fraction, variant=body.variant, bucket_by=body.bucket_by))


async def kill_flag(call: Call, body: WriteRequest) -> Response:
    """``POST /v1/flags/{key}/kill``: the off variant in every environment, now."""
    return await _update(call, body, FlagAction.KILL, change.kill)


async def unkill_flag(call: Call, body: WriteRequest) -> Response:
    """``POST /v1/flags/{key}/unkill``: lift the kill switch everywhere."""
    return await _update(call, body, FlagAction.UNKILL, change.unkill)


async def _update(call: Call, body: WriteRequest, action: FlagAction,
                  apply: Callable[[Flag], Flag]) -> Response:
    try:
        result: FlagUpdate = await call.service.update(
            call.path_key(), apply, action=action, actor=call.actor(), reason=body.reason,
            expected_version=body.if_version)
    except ConfigError as exc:
        return error_response(exc, field_prefix=DEFINITION)
    return _json(stored_flag_payload(result.stored, changed=result.changed))


def _definition(call: Call, body: DefinitionRequest, *, key: str | None) -> Flag:
    raw = call.data.get("definition") if isinstance(call.data, dict) else None
    return flag_from_file(FlagFile(YamlDocument("definition", raw), body.definition), key=key)


def _encode(payload: dict[str, object]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _json(payload: dict[str, object], status: int = HTTPStatus.OK) -> Response:
    return Response(_encode(payload), status_code=status, media_type="application/json")
