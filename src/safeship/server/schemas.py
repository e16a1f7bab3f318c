"""The flag service's request and response bodies, as pydantic models (the web edge).

Request models validate what clients send (unknown keys refused, each problem reported at its
field). Response models describe what the handlers send; the handlers build plain dicts for
speed (:mod:`safeship.server.payloads`), and the tests check every response against the
OpenAPI document generated from these models (:mod:`safeship.server.openapi_doc`), so the two
cannot drift apart.

A flag definition is the document of :mod:`safeship.config.flag_file` (``FlagDocument``), the
same that ``safeship flags show --format json`` prints under ``definition``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from safeship.config.flag_file import FlagDocument
from safeship.flags.context import TARGETING_KEY

#: The schema name of a flag document (the request-side model, ``FlagDocument``).
DEFINITION_SCHEMA = "FlagDocument"
#: Stands for "a flag document" in the schemas of responses; the OpenAPI generator replaces it
#: with a reference to :data:`DEFINITION_SCHEMA` (pydantic cannot refer to a model it is not
#: generating in the same pass).
DEFINITION_MARKER = {"x-safeship-schema": DEFINITION_SCHEMA}
MAX_REASON_LENGTH = 2000
MAX_CONTEXT_ATTRIBUTES = 256

FlagDefinition = Annotated[
    dict[str, Any],
    WithJsonSchema(DEFINITION_MARKER),
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- requests


class EvaluationRequest(_Body):
    """Evaluate for this context, in this environment."""

    context: dict[str, Any] = Field(
        default_factory=dict,
        description=f"`{TARGETING_KEY}` (the key percentage rollouts hash, usually the user "
                    "id) plus any attributes rules read: strings, numbers, booleans, or lists "
                    "of those.",
        examples=[{TARGETING_KEY: "user-42", "country": "DE", "plan": "pro"}])
    environment: str | None = Field(
        default=None, description="The environment; the service's default when left out.")

    @field_validator("context")
    @classmethod
    def _context_shape(cls, value: dict[str, Any]) -> dict[str, Any]:
        key = value.get(TARGETING_KEY)
        if key is not None and not isinstance(key, str):
            raise ValueError(f"{TARGETING_KEY} must be a string, got {key!r}")
        if len(value) > MAX_CONTEXT_ATTRIBUTES:
            raise ValueError(f"at most {MAX_CONTEXT_ATTRIBUTES} attributes, got {len(value)}")
        return value


class WriteRequest(_Body):
    """Every change says why, and may insist on the version it was based on."""

    reason: str = Field(min_length=1, max_length=MAX_REASON_LENGTH,
                        description="Why: recorded in the flag's history and the audit trail.")
    if_version: int | None = Field(
        default=None, ge=1,
        description="Apply only if the flag is still at this version (409 otherwise).")

    @field_validator("reason")
    @classmethod
    def _reason_text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a reason is required and cannot be blank")
        return value.strip()


class DefinitionRequest(WriteRequest):
    """A whole flag definition: for a new flag, or to replace one (same key and type)."""

    definition: FlagDocument = Field(description="The flag document.")


class EnvironmentWriteRequest(WriteRequest):
    """A change in one environment."""

    environment: str | None = Field(
        default=None, description="The environment; the service's default when left out.")


class RolloutRequest(EnvironmentWriteRequest):
    """Serve a variant to a percentage of the keys that match no rule."""

    percent: float = Field(ge=0, le=100, description="Share of keys, 0 to 100 (e.g. 5).")
    variant: str | None = Field(
        default=None, description="The variant to roll out (default: a boolean flag's true "
                                  "variant, or the only variant besides the off one).")
    bucket_by: str = Field(default=TARGETING_KEY, min_length=1,
                           description="The context attribute whose value is hashed.")


# --------------------------------------------------------------------------- responses


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EvaluationResult(_Out):
    """The outcome of one evaluation (reasons and error codes are OpenFeature's)."""

    flag: str
    variant: str | None = Field(description="None only for errors without a usable variant.")
    value: Any = Field(description="The variant's value (JSON of the flag's type).")
    reason: Literal["STATIC", "DEFAULT", "TARGETING_MATCH", "SPLIT", "DISABLED", "ERROR"]
    rule_id: str | None = None
    error_code: Literal["FLAG_NOT_FOUND", "TYPE_MISMATCH", "TARGETING_KEY_MISSING",
                        "PARSE_ERROR", "GENERAL"] | None = None
    error_message: str | None = None
    prerequisite: str | None = Field(default=None,
                                     description="The prerequisite that turned the flag off.")


class EvaluationResponse(EvaluationResult):
    """One flag evaluated, with the data version it was evaluated at."""

    environment: str
    version: int = Field(description="The data version of the flags used.")


class BulkEvaluationResponse(_Out):
    """Every flag evaluated for one context."""

    environment: str
    version: int
    results: dict[str, EvaluationResult] = Field(description="By flag key.")


class SnapshotFlag(_Out):
    """One flag of a snapshot: its version, and its definition cut to the environment."""

    key: str
    version: int
    definition: FlagDefinition


class SnapshotResponse(_Out):
    """Every flag definition of one environment: what SDKs cache and evaluate locally."""

    environment: str
    version: int = Field(description="The data version; stream events carry newer ones.")
    flags: list[SnapshotFlag]


class StoredFlagResponse(_Out):
    """A flag as stored: version, who created and last changed it, and its definition."""

    flag: str
    version: int
    changed: bool | None = Field(
        default=None, description="For writes: false when the flag already was like that "
                                  "(nothing was recorded).")
    created_at: str
    created_by: str
    updated_at: str
    updated_by: str
    definition: FlagDefinition


class FlagListResponse(_Out):
    """Every flag, by key."""

    flags: list[StoredFlagResponse]


class FieldChange(_Out):
    """One field a change touched."""

    path: str
    before: Any = None
    after: Any = None


class HistoryEntry(_Out):
    """One change of a flag: who, when, why, and what changed."""

    version: int
    action: str
    actor: str
    at: str
    reason: str
    changes: list[FieldChange]
    before: FlagDefinition | None = None
    after: FlagDefinition | None = None


class HistoryResponse(_Out):
    """A flag's changes, oldest first."""

    flag: str
    changes: list[HistoryEntry]


class HealthResponse(_Out):
    """The service is up; the data version it has streamed up to."""

    status: Literal["ok"]
    version: int
    environment: str = Field(description="The default environment.")
    streams: int = Field(description="Stream clients connected now.")


class FieldProblem(_Out):
    """One problem with the request, at a field."""

    field: str
    message: str


class Problem(_Out):
    """An error (RFC 9457 problem details, plus the field at fault)."""

    title: str
    status: int
    detail: str
    field: str | None = None
    problems: list[FieldProblem] = Field(default_factory=list)
    hint: str | None = None
    error_code: str | None = Field(default=None,
                                   description="FLAG_NOT_FOUND for an unknown flag.")


class StreamHello(_Out):
    """The first event of a stream (``event: hello``): the version the stream starts after.

    A client whose snapshot is older fetches a new one; later changes arrive as events.
    """

    version: int
    environment: str
    keepalive_s: float


class StreamChange(_Out):
    """``event: change`` (``id`` = ``version``): a flag changed; its new definition, cut to
    the stream's environment."""

    version: int
    environment: str
    flag: str
    flag_version: int
    action: str
    at: str
    definition: FlagDefinition | None


class StreamResync(_Out):
    """``event: resync``: the data version went back (a recreated store); fetch a new
    snapshot."""

    version: int
    environment: str
