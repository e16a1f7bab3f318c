"""Which SLOs to check and where their Prometheus is, from service.yaml and explicit choices.

Used by ``safeship slo status``, the ``slo_check`` gate and the rollout controller's pre-deploy
check, so that all three find the same SLOs and the same Prometheus:

* the SLOs are ``service.yaml``'s ``slos:`` (:attr:`ServiceSpec.slos`), optionally narrowed to
  some names (an unknown name is a usage error with a suggestion);
* Prometheus is the URL given explicitly (``--prometheus``, the gate's ``prometheus:``), else the
  ``metrics:`` section of service.yaml when its ``type`` is ``prometheus`` (its ``url``, and
  its ``timeout``, ``retries`` and ``headers`` when set, as the ``prometheus`` metric provider
  names them). With neither, no Prometheus is known.

The rollout's check (:func:`rollout_budgets`) reads every SLO of the service and takes its
``on_unavailable`` policy from the ``slo_check`` gates of the service's gates.yaml: the rollout
tolerates an unreachable Prometheus only when every such gate says ``warn``, so one place says
how much an outage of the monitoring may weaken the pre-deploy check.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from safeship._internal.http import HttpClientFactory, default_client_factory
from safeship._internal.prometheus_api import PrometheusEndpoint, check_url
from safeship.config.service_file import (
    ServiceSpec,
    load_service_file,
    validate_backend_options,
)
from safeship.config.validation import suggest
from safeship.config.yaml_source import read_yaml
from safeship.errors import ConfigError, NotFound, UsageError
from safeship.model.slo import SloDefinition
from safeship.slo.prometheus_reader import PrometheusSliReader
from safeship.slo.status import SloStatusSource

DEFAULT_SERVICE_FILE = Path(".pipeline") / "service.yaml"
"""Where the service file is, relative to the project root."""


class PrometheusSection(BaseModel):
    """What the SLO code reads of a ``metrics: {type: prometheus, ...}`` section."""

    # The section belongs to the metric provider, which checks its own keys strictly.
    model_config = ConfigDict(extra="ignore", frozen=True)

    url: str = Field(description="Base URL of Prometheus, e.g. http://127.0.0.1:9090.")
    timeout: float = Field(default=10.0, gt=0, le=300)
    retries: int = Field(default=2, ge=0, le=5)
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return check_url(value)


def load_service(path: Path) -> ServiceSpec:
    """The service file at ``path``; NotFound (with a hint) when there is none."""
    if not path.is_file():
        raise NotFound(f"{path}: no service file",
                       hint="run `safeship init`, or pass --service PATH")
    return load_service_file(path)


def select_slos(service: ServiceSpec, names: Sequence[str] = ()) -> tuple[SloDefinition, ...]:
    """The service's SLOs, or only those named; UsageError for an unknown name or none at all."""
    known = {slo.name: slo for slo in service.slos}
    if not known:
        raise UsageError(f"{service.source} defines no SLOs",
                         hint="add an `slos:` section (see docs/slo.md)")
    chosen: list[SloDefinition] = []
    for name in dict.fromkeys(names):
        if name not in known:
            close = suggest(name, known)
            raise UsageError(
                f"{service.source} has no SLO named '{name}'",
                hint=f"did you mean '{close}'?" if close else f"SLOs: {', '.join(known)}")
        chosen.append(known[name])
    return tuple(chosen) if chosen else tuple(service.slos)


def prometheus_endpoint(service: ServiceSpec | None,
                        url: str | None = None) -> PrometheusEndpoint | None:
    """The Prometheus to ask: ``url`` if given, else service.yaml's prometheus metrics section.

    Raises UsageError for a bad ``url`` and ConfigError (located) for a bad section.
    """
    if url is not None:
        try:
            return PrometheusEndpoint(check_url(url))
        except ValueError as exc:
            raise UsageError(f"--prometheus: {exc}") from exc
    section = service.metrics if service is not None else None
    if section is None or section.type != "prometheus":
        return None
    options = validate_backend_options(section, PrometheusSection)
    if not isinstance(options, PrometheusSection):  # pragma: no cover - pydantic returns it
        raise UsageError("the metrics section could not be read")
    return PrometheusEndpoint(options.url, options.timeout, options.retries,
                              dict(options.headers))


def no_prometheus_hint(service: ServiceSpec | None) -> str:
    """How to tell safeship where Prometheus is."""
    where = service.source if service is not None else "service.yaml"
    return (f"pass --prometheus URL, or set `metrics: {{type: prometheus, url: ...}}` in "
            f"{where}")


def status_source(slos: Sequence[SloDefinition], endpoint: PrometheusEndpoint, *,
                  http: HttpClientFactory = default_client_factory,
                  sleep: Callable[[float], None] = time.sleep,
                  now: Callable[[], float] = time.time) -> SloStatusSource:
    """Statuses of ``slos`` read from the Prometheus at ``endpoint``."""
    reader = PrometheusSliReader(endpoint, http=http, sleep=sleep)
    return SloStatusSource(slos, reader, now=now, where=endpoint.shown)


def service_budgets(service: ServiceSpec, *, prometheus: str | None = None,
                    http: HttpClientFactory = default_client_factory,
                    sleep: Callable[[float], None] = time.sleep,
                    now: Callable[[], float] = time.time) -> SloStatusSource | None:
    """The budgets the rollout controller checks before step 1, or None when it cannot.

    None when service.yaml defines no SLOs or no Prometheus is known: there is nothing to
    check, and the rollout starts without it.
    """
    if not service.slos:
        return None
    endpoint = prometheus_endpoint(service, prometheus)
    if endpoint is None:
        return None
    return status_source(service.slos, endpoint, http=http, sleep=sleep, now=now)


@dataclass(frozen=True)
class RolloutBudgets:
    """What the rollout controller's pre-deploy check reads, and how it treats an outage."""

    source: SloStatusSource
    on_unavailable: str
    """``block`` (fail closed) or ``warn`` (start anyway, recorded as unsafe)."""


def gate_on_unavailable(gates_path: Path) -> str:
    """``warn`` when gates.yaml has ``slo_check`` gates and all say ``on_unavailable: warn``.

    Anything else (no such gate, one that blocks, no file, a file that does not parse) is
    ``block``: only an explicit choice weakens the check.
    """
    try:
        data: Any = read_yaml(gates_path).data
    except (NotFound, ConfigError):
        return "block"
    stages = data.get("stages") if isinstance(data, dict) else None
    choices = [
        gate.get("on_unavailable", "block")
        for stage in (stages if isinstance(stages, list) else [])
        if isinstance(stage, dict) and isinstance(stage.get("gates"), list)
        for gate in stage["gates"]
        if isinstance(gate, dict) and gate.get("type") == "slo_check"
    ]
    return "warn" if choices and all(choice == "warn" for choice in choices) else "block"


def rollout_budgets(service: ServiceSpec, *,
                    http: HttpClientFactory = default_client_factory,
                    sleep: Callable[[float], None] = time.sleep,
                    now: Callable[[], float] = time.time) -> RolloutBudgets | None:
    """The rollout's pre-deploy check of ``service``, or None when there is nothing to check."""
    source = service_budgets(service, http=http, sleep=sleep, now=now)
    if source is None:
        return None
    return RolloutBudgets(source, gate_on_unavailable(service.gates_path))
