"""The flag service's route table: every operation once, with what it needs and returns.

This table is the single source of the routes: :mod:`safeship.server.flags_app` mounts each
operation behind the authorisation its ``access`` demands (None: public, ``READ``: a read or
write token, ``WRITE``: a write token), and :mod:`safeship.server.openapi_doc` writes the
OpenAPI document from it. A route cannot exist without an entry here, and an entry cannot
skip authorisation: the tests walk the table and check every write operation refuses
requests without a write token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from starlette.responses import Response

from safeship.server import evaluation_routes as evaluation
from safeship.server import management_routes as management
from safeship.server import meta_routes as meta
from safeship.server import stream_route as stream
from safeship.server.auth import Access
from safeship.server.call import Call
from safeship.server.schemas import (
    BulkEvaluationResponse,
    DefinitionRequest,
    EnvironmentWriteRequest,
    EvaluationRequest,
    EvaluationResponse,
    FlagListResponse,
    HealthResponse,
    HistoryResponse,
    RolloutRequest,
    SnapshotResponse,
    StoredFlagResponse,
    StreamChange,
    StreamHello,
    StreamResync,
    WriteRequest,
)

Handler = Callable[[Call, Any], Awaitable[Response]]

EVALUATION = "evaluation"
MANAGEMENT = "management"
SERVICE = "service"


@dataclass(frozen=True)
class QueryParameter:
    """A query parameter, as the OpenAPI document describes it."""

    name: str
    description: str
    schema: dict[str, Any]


@dataclass(frozen=True)
class Operation:
    """One route: method, path, who may call it, its handler and its bodies."""

    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    access: Access | None
    handler: Handler
    request_model: type[BaseModel] | None = None
    response_model: type[BaseModel] | None = None
    status: int = 200
    query: tuple[QueryParameter, ...] = ()
    conditional: bool = False
    """Answers with a strong ETag and honours ``If-None-Match`` (304)."""
    stream_events: tuple[type[BaseModel], ...] = field(default=())
    """For ``text/event-stream`` answers: the payloads of its events."""

    @property
    def writes(self) -> bool:
        """True for operations that change flags (a write token is required)."""
        return self.access is Access.WRITE

    @property
    def names_a_flag(self) -> bool:
        """True when the path names a flag (404 when it does not exist)."""
        return "{key}" in self.path


_ENVIRONMENT = QueryParameter(
    "environment", "The environment; the service's default when left out.",
    {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]*$", "maxLength": 64})
_LIMIT = QueryParameter("limit", "Only the newest N changes.",
                        {"type": "integer", "minimum": 1, "maximum": management.MAX_HISTORY})

OPERATIONS: tuple[Operation, ...] = (
    Operation("GET", "/v1/health", "getHealth", "Is the service up", SERVICE, None,
              meta.health, response_model=HealthResponse),
    Operation("GET", "/v1/openapi.json", "getOpenApi", "This API's OpenAPI document",
              SERVICE, None, meta.openapi),
    Operation("GET", "/v1/snapshot", "getSnapshot",
              "Every flag definition of an environment (what SDKs cache)", EVALUATION,
              Access.READ, evaluation.get_snapshot, response_model=SnapshotResponse,
              query=(_ENVIRONMENT,), conditional=True),
    Operation("GET", "/v1/stream", "streamChanges",
              "Follow flag changes (Server-Sent Events)", EVALUATION, Access.READ,
              stream.stream_changes, query=(_ENVIRONMENT,),
              stream_events=(StreamHello, StreamChange, StreamResync)),
    Operation("POST", "/v1/evaluate", "evaluateAll", "Evaluate every flag for a context",
              EVALUATION, Access.READ, evaluation.evaluate_all,
              request_model=EvaluationRequest, response_model=BulkEvaluationResponse),
    Operation("POST", "/v1/flags/{key}/evaluate", "evaluateFlag",
              "Evaluate one flag for a context", EVALUATION, Access.READ,
              evaluation.evaluate_flag, request_model=EvaluationRequest,
              response_model=EvaluationResponse),
    Operation("GET", "/v1/flags", "listFlags", "Every flag with its definition", MANAGEMENT,
              Access.READ, management.list_flags, response_model=FlagListResponse),
    Operation("POST", "/v1/flags", "createFlag", "Create a flag (off until enabled)",
              MANAGEMENT, Access.WRITE, management.create_flag,
              request_model=DefinitionRequest, response_model=StoredFlagResponse, status=201),
    Operation("GET", "/v1/flags/{key}", "getFlag", "One flag with its definition",
              MANAGEMENT, Access.READ, management.get_flag, response_model=StoredFlagResponse,
              conditional=True),
    Operation("PUT", "/v1/flags/{key}", "replaceFlag",
              "Replace a flag's definition (same key and type)", MANAGEMENT, Access.WRITE,
              management.replace_flag, request_model=DefinitionRequest,
              response_model=StoredFlagResponse),
    Operation("POST", "/v1/flags/{key}/enable", "enableFlag",
              "Turn a flag on in an environment", MANAGEMENT, Access.WRITE,
              management.enable_flag, request_model=EnvironmentWriteRequest,
              response_model=StoredFlagResponse),
    Operation("POST", "/v1/flags/{key}/disable", "disableFlag",
              "Turn a flag off in an environment", MANAGEMENT, Access.WRITE,
              management.disable_flag, request_model=EnvironmentWriteRequest,
              response_model=StoredFlagResponse),
    Operation("POST", "/v1/flags/{key}/rollout", "rolloutFlag",
              "Roll a variant out to a percentage of keys", MANAGEMENT, Access.WRITE,
              management.rollout_flag, request_model=RolloutRequest,
              response_model=StoredFlagResponse),
    Operation("POST", "/v1/flags/{key}/kill", "killFlag",
              "Kill switch: the off variant everywhere", MANAGEMENT, Access.WRITE,
              management.kill_flag, request_model=WriteRequest,
              response_model=StoredFlagResponse),
    Operation("POST", "/v1/flags/{key}/unkill", "unkillFlag", "Lift the kill switch",
              MANAGEMENT, Access.WRITE, management.unkill_flag, request_model=WriteRequest,
              response_model=StoredFlagResponse),
    Operation("GET", "/v1/flags/{key}/history", "getFlagHistory",
              "Who changed a flag, when, why and what", MANAGEMENT, Access.READ,
              management.get_history, response_model=HistoryResponse, query=(_LIMIT,)),
)
