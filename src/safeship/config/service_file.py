"""``service.yaml``: which service this is, how risky it is, and how to roll it out.

It is designed to grow: new optional sections keep existing files loading. The rollout sections
(all optional, with defaults) are:

.. code-block:: yaml

    strategy:                  # how `safeship rollout start` deploys
      type: canary             # recreate | rolling | blue_green | canary | feature_flag
      replicas: 2
      max_surge: 1             # rolling
      max_unavailable: 0       # rolling
      monitor: 30m             # blue_green: watch green after the cutover
      smoke_url: http://127.0.0.1:8080    # blue_green: where smoke tests enter (the router)
      smoke_tests:
        - {path: /healthz, expect_status: 200}
      health_timeout: 2m
      scrape_interval: 10s     # how often the analysis reads metrics and judges
      on_insufficient_data: rollback      # rollback (fail closed) | extend | hold
      max_interruption: 5m     # a controller gone longer than this mid-analysis rolls back
      lease_ttl: 30s
      flag: new-checkout       # feature_flag: the flag to ramp; any other type: the flag that
                               # guards the release (`rollout undo` switches it off first)
      environment: production  # the flag environment a flag rollout or undo changes
      variant: on              # feature_flag: the variant to roll out (default: the flag's)
      on_rollback: disable     # disable: the environment off | kill: the flag's kill switch
      counters_from:           # feature_flag + metrics type builtin: the apps' /metrics pages
        - http://127.0.0.1:8001/metrics   # (per-variant counters of the OpenFeature provider)
    target:  {type: local, ...the target's options}
    router:  {type: embedded, ...the router's options}
    metrics: {type: builtin, ...the provider's options}
    webhooks:
      - url: https://hooks.slack.com/services/...
        format: slack          # json (default) | slack
        events: [started, step, rollback, promoted, aborted, rolled_back]
    slos:                      # service level objectives (see docs/slo.md)
      - name: availability     # unique within the service
        objective: 99.9%       # or 0.999
        window: 30d            # rolling window (default 30d, at least 1h)
        description: Requests to the shop succeed
        good: sum(http_requests_total{job="shop",code!~"5.."})   # exactly one of good / bad
        total: sum(http_requests_total{job="shop"})              # counters, without rate()

A backend section holds its ``type:`` and that backend's own options beside it (as in
``gates.yaml``); the options are checked against the backend's options model when the backend
is built (:func:`validate_backend_options`), with the file's line and column. The ``slos:``
entries are described in :mod:`safeship.config.slo_section`; they become
:attr:`ServiceSpec.slos`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from safeship._internal.durations import DurationSyntaxError, parse_duration
from safeship.config.slo_section import SloEntryModel, slo_definitions
from safeship.config.validation import validate_model
from safeship.config.yaml_source import PathKey, YamlDocument, read_yaml
from safeship.model.canary import JudgeName
from safeship.model.enums import RiskLevel
from safeship.model.slo import SloDefinition

SERVICE_API_VERSION = "safeship/v1"

EventName = Literal["started", "step", "rollback", "promoted", "aborted", "rolled_back"]
NOTIFICATION_EVENTS: tuple[EventName, ...] = ("started", "step", "rollback", "promoted",
                                              "aborted", "rolled_back")
_TYPE_PATTERN = r"^[a-z][a-z0-9_]*$"
_FLAG_KEY_PATTERN = r"^[A-Za-z0-9_.-]{1,128}$"
FEATURE_FLAG_TYPE = "feature_flag"


def _seconds(value: str | int | float) -> float:
    try:
        return parse_duration(value)
    except DurationSyntaxError as exc:
        raise ValueError(str(exc)) from exc


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class SmokeTestModel(_Strict):
    """One smoke check: a request through the router pinned to the new version."""

    path: str = Field("/", min_length=1, description="request path, e.g. /healthz")
    method: Literal["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"] = "GET"
    expect_status: int = Field(200, ge=100, le=599)
    contains: str | None = Field(None, description="text the response body must contain")


class StrategyModel(_Strict):
    """How ``safeship rollout start`` deploys this service."""

    type: str = Field("canary", pattern=_TYPE_PATTERN,
                      description="recreate | rolling | blue_green | canary | feature_flag")
    replicas: int = Field(2, ge=1, le=10_000)
    max_surge: int = Field(1, ge=0, le=10_000)
    max_unavailable: int = Field(0, ge=0, le=10_000)
    monitor: str | int | float = Field("30m", description="blue_green: monitoring after cutover")
    smoke_url: str | None = Field(None, description="blue_green: where smoke tests are sent")
    smoke_tests: list[SmokeTestModel] = Field(default_factory=lambda: [SmokeTestModel()])
    health_timeout: str | int | float = "2m"
    scrape_interval: str | int | float = "10s"
    on_insufficient_data: Literal["rollback", "extend", "hold"] = "rollback"
    max_interruption: str | int | float = "5m"
    lease_ttl: str | int | float = "30s"
    judge: JudgeName | None = Field(None, description="overrides the canary file's judge")
    flag: str | None = Field(None, pattern=_FLAG_KEY_PATTERN, description=(
        "feature_flag: the flag to ramp; other types: the flag guarding the release, which "
        "`rollout undo` switches off first"))
    environment: str = Field("production", min_length=1,
                             description="the flag environment a flag rollout or undo changes")
    variant: str | None = Field(None, min_length=1, description=(
        "feature_flag: the variant to roll out (default: a boolean flag's true variant, or "
        "the only variant besides the off one)"))
    on_rollback: Literal["disable", "kill"] = Field("disable", description=(
        "how a flag is switched off: disable the environment, or kill (off everywhere)"))
    counters_from: list[str] = Field(default_factory=list, description=(
        "feature_flag with metrics type builtin: /metrics URLs of the app instances, whose "
        "OpenFeature provider counts evaluations and outcomes per flag variant"))

    @field_validator("monitor", "health_timeout", "scrape_interval", "max_interruption",
                     "lease_ttl")
    @classmethod
    def _duration(cls, value: str | int | float) -> str | int | float:
        if _seconds(value) <= 0:
            raise ValueError("must last longer than zero")
        return value

    @field_validator("counters_from")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"'{url}' is not an http(s) URL")
        return value

    @model_validator(mode="after")
    def _flag_named(self) -> StrategyModel:
        if self.type == FEATURE_FLAG_TYPE and self.flag is None:
            raise ValueError("a feature_flag rollout needs `flag:`, the key of the flag to ramp")
        return self


class BackendModel(BaseModel):
    """A backend: its ``type:`` and, beside it, that backend's own options."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str = Field(min_length=1, pattern=_TYPE_PATTERN)


class WebhookModel(_Strict):
    """Where to announce rollouts."""

    url: str = Field(min_length=1, pattern=r"^https?://")
    format: Literal["json", "slack"] = "json"
    events: list[EventName] = Field(default_factory=lambda: list(NOTIFICATION_EVENTS))
    timeout: str | int | float = "5s"
    attempts: int = Field(3, ge=1, le=10)

    @field_validator("timeout")
    @classmethod
    def _duration(cls, value: str | int | float) -> str | int | float:
        if _seconds(value) <= 0:
            raise ValueError("must last longer than zero")
        return value


class ServiceFileModel(BaseModel):
    """The whole ``service.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    api_version: Literal["safeship/v1"] = Field(alias="apiVersion")
    kind: Literal["Service"]
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                      description="the service's name, as it appears in history and reports")
    risk: RiskLevel = Field(RiskLevel.MEDIUM, description="low | medium | high | critical")
    gates: str = Field("gates.yaml", description="gates file, relative to this file")
    canary: str = Field("canary-analysis.yaml",
                        description="canary-analysis file, relative to this file")
    strategy: StrategyModel = Field(default_factory=StrategyModel,
                                    description="how rollouts deploy this service")
    target: BackendModel | None = Field(None, description="where versions run")
    router: BackendModel | None = Field(None, description="what splits traffic")
    metrics: BackendModel | None = Field(None, description="where canary metrics come from")
    webhooks: list[WebhookModel] = Field(default_factory=list,
                                         description="rollout notifications")
    slos: list[SloEntryModel] = Field(default_factory=list,
                                      description="service level objectives")


@dataclass(frozen=True)
class SmokeTestSpec:
    """A validated smoke check."""

    path: str = "/"
    method: str = "GET"
    expect_status: int = 200
    contains: str | None = None


@dataclass(frozen=True)
class StrategySpec:
    """The validated ``strategy:`` section, durations in seconds."""

    type: str = "canary"
    replicas: int = 2
    max_surge: int = 1
    max_unavailable: int = 0
    monitor_s: float = 1800.0
    smoke_url: str | None = None
    smoke_tests: tuple[SmokeTestSpec, ...] = (SmokeTestSpec(),)
    health_timeout_s: float = 120.0
    scrape_interval_s: float = 10.0
    on_insufficient_data: str = "rollback"
    max_interruption_s: float = 300.0
    lease_ttl_s: float = 30.0
    judge: JudgeName | None = None
    flag: str | None = None
    environment: str = "production"
    variant: str | None = None
    on_rollback: str = "disable"
    counters_from: tuple[str, ...] = ()

    @property
    def is_flag_rollout(self) -> bool:
        """True when rollouts ramp a feature flag instead of deploying a version."""
        return self.type == FEATURE_FLAG_TYPE


@dataclass(frozen=True)
class BackendSpec:
    """A backend section: its type, its raw options, and where they are in the file."""

    type: str
    options: Mapping[str, Any]
    source: str
    path: PathKey
    document: YamlDocument | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class WebhookSpec:
    """A validated webhook."""

    url: str
    format: str = "json"
    events: tuple[str, ...] = tuple(NOTIFICATION_EVENTS)
    timeout_s: float = 5.0
    attempts: int = 3


@dataclass(frozen=True)
class ServiceSpec:
    """A validated service file with its companion files made absolute."""

    source: str
    name: str
    risk: RiskLevel
    gates_path: Path
    canary_path: Path
    strategy: StrategySpec = field(default_factory=StrategySpec)
    target: BackendSpec | None = None
    router: BackendSpec | None = None
    metrics: BackendSpec | None = None
    webhooks: tuple[WebhookSpec, ...] = ()
    slos: tuple[SloDefinition, ...] = ()


def load_service_file(path: Path) -> ServiceSpec:
    """Read and validate the service file at ``path``."""
    return parse_service_document(read_yaml(path))


def parse_service_document(doc: YamlDocument) -> ServiceSpec:
    """Validate a parsed service document."""
    model = validate_model(ServiceFileModel, doc, doc.data)
    base = Path(doc.source).parent
    return ServiceSpec(
        doc.source, model.name, model.risk, base / model.gates, base / model.canary,
        strategy=_strategy(model.strategy),
        target=_backend(model.target, "target", doc),
        router=_backend(model.router, "router", doc),
        metrics=_backend(model.metrics, "metrics", doc),
        webhooks=tuple(WebhookSpec(hook.url, hook.format, tuple(dict.fromkeys(hook.events)),
                                   _seconds(hook.timeout), hook.attempts)
                       for hook in model.webhooks),
        slos=slo_definitions(model.slos, doc, model.name),
    )


def validate_backend_options(backend: BackendSpec, model: type[BaseModel]) -> BaseModel:
    """The backend's options validated by its ``model``; problems located in the file."""
    if backend.document is None:
        return model.model_validate(dict(backend.options))
    return validate_model(model, backend.document, dict(backend.options), backend.path)


def _strategy(model: StrategyModel) -> StrategySpec:
    return StrategySpec(
        type=model.type, replicas=model.replicas, max_surge=model.max_surge,
        max_unavailable=model.max_unavailable, monitor_s=_seconds(model.monitor),
        smoke_url=model.smoke_url,
        smoke_tests=tuple(SmokeTestSpec(t.path, t.method, t.expect_status, t.contains)
                          for t in model.smoke_tests),
        health_timeout_s=_seconds(model.health_timeout),
        scrape_interval_s=_seconds(model.scrape_interval),
        on_insufficient_data=model.on_insufficient_data,
        max_interruption_s=_seconds(model.max_interruption),
        lease_ttl_s=_seconds(model.lease_ttl), judge=model.judge,
        flag=model.flag, environment=model.environment, variant=model.variant,
        on_rollback=model.on_rollback, counters_from=tuple(model.counters_from),
    )


def _backend(model: BackendModel | None, key: str, doc: YamlDocument) -> BackendSpec | None:
    if model is None:
        return None
    options = dict(model.model_extra or {})
    return BackendSpec(model.type, options, doc.source, (key,), doc)
