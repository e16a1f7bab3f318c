"""The ``slo_check`` gate: block a deploy while an SLO's error budget is (nearly) spent.

The guide's pre-deploy SLO check, computed from Prometheus directly (the ``api_call`` gate asks
an endpoint that already knows the budget; this one needs only the SLO definitions)::

    - name: pre_deploy_slo
      type: slo_check
      service: .pipeline/service.yaml      # default; relative to the project
      slo: availability                    # a name or a list; default: every SLO
      prometheus: http://127.0.0.1:9090    # default: service.yaml's `metrics:` (type prometheus)
      condition: "budget_remaining > 0.05" # default: more than 5 % of the budget left
      on_unavailable: block                # block (default) | warn
      fail_message: "Error budget too low - deploy blocked"

For each chosen SLO the gate reads its budget and burn rates
(:func:`safeship.slo.status.slo_status`) and evaluates ``condition`` with the safe expression
language of :mod:`safeship._internal.expressions` over these names: ``budget_remaining``,
``budget_consumed``, ``bad_ratio``, ``objective``, ``error_budget``, ``events_total``,
``events_bad``, ``burn_rate_5m`` ``burn_rate_30m`` ``burn_rate_1h`` ``burn_rate_2h``
``burn_rate_6h`` ``burn_rate_1d`` ``burn_rate_3d`` (the windows shorter than the SLO window) and
``burn_rate_window`` (the whole window, also called ``burn_rate_30d`` etc.). Every SLO must
satisfy it; each one that does not is a finding placed at its definition.

Fail closed:

* Prometheus unreachable (or answering unusably): the gate cannot run, the engine records ERROR
  and ``gates run`` exits 3. ``on_unavailable: warn`` instead lets the gate PASS with a warning
  finding that the budget could not be checked. That weakens safety: a deploy goes out while
  nobody knows the budget; the summary says "unsafe" every time it happens.
* No data for an SLO (no series, NaN, no events in the window, contradictory counts), or a
  condition that reads a window without data: ERROR, whatever ``on_unavailable`` says.
* No SLO defined, an unknown SLO name, or no Prometheus known: ERROR with a hint.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from safeship._internal.expressions import ExpressionError, parse_condition
from safeship._internal.prometheus_api import check_url
from safeship.config.validation import suggest
from safeship.errors import DependencyUnavailable, GateCannotRun
from safeship.gates.interface import Gate, GateContext, GateOptions
from safeship.model.enums import FailAction, Severity, Verdict
from safeship.model.results import Finding, GateCheck
from safeship.slo.service_budgets import (
    DEFAULT_SERVICE_FILE,
    load_service,
    no_prometheus_hint,
    prometheus_endpoint,
    select_slos,
    status_source,
)
from safeship.slo.status import (
    FIXED_NAMES,
    SloState,
    SloStatus,
    burn_rate_names,
    definition_place,
    describe,
)

log = logging.getLogger(__name__)

DEFAULT_CONDITION = "budget_remaining > 0.05"
"""The guide's rule: more than 5 % of the error budget must be left."""

_BURN_NAME = re.compile(r"^burn_rate_(?:\d+(?:ms|s|m|h|d))+$")


class SloCheckOptions(GateOptions):
    """Options of ``type: slo_check``."""

    service: str = Field(
        default=DEFAULT_SERVICE_FILE.as_posix(),
        description="The service file whose `slos:` are checked, relative to the project.")
    slo: str | list[str] | None = Field(
        default=None, description="The SLO name(s) to check (default: every SLO).")
    prometheus: str | None = Field(
        default=None,
        description="Prometheus base URL (default: service.yaml's `metrics:` of type "
                    "prometheus).")
    condition: str = Field(
        default=DEFAULT_CONDITION,
        description="What every SLO must satisfy, e.g. 'budget_remaining > 0.05' or "
                    "'budget_remaining > 0.05 and burn_rate_1h < 14.4'.")
    on_unavailable: Literal["block", "warn"] = Field(
        default="block",
        description="When Prometheus cannot be reached: block (ERROR, the default) or warn "
                    "(pass with a warning; weakens safety).")
    fail_message: str | None = Field(
        default=None, description="Summary when the condition is false.")
    request_timeout: float | None = Field(
        default=None, gt=0, le=300,
        description="Seconds each Prometheus query may take (default: service.yaml's, else 10).")
    retries: int | None = Field(
        default=None, ge=0, le=5,
        description="Extra attempts after a connection error, timeout or 5xx (default 2).")

    @field_validator("prometheus")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)

    @field_validator("slo")
    @classmethod
    def _names(cls, value: str | list[str] | None) -> str | list[str] | None:
        names = [value] if isinstance(value, str) else list(value or [])
        if any(not name.strip() for name in names):
            raise ValueError("an SLO name cannot be empty")
        if isinstance(value, list) and not value:
            raise ValueError("name at least one SLO, or leave `slo:` out to check them all")
        return value

    @field_validator("condition")
    @classmethod
    def _valid_condition(cls, value: str) -> str:
        condition = parse_condition(value)  # an ExpressionError is a ValueError: a field error
        known = (*FIXED_NAMES, *burn_rate_names())
        for name in condition.fields:
            if name in known or _BURN_NAME.match(name):
                continue
            close = suggest(name, known)
            hint = f"did you mean '{close}'?" if close else f"names: {', '.join(known)}"
            raise ValueError(f"'{name}' is not a figure of an SLO ({hint})")
        return condition.text

    def names(self) -> tuple[str, ...]:
        """The SLO names asked for (empty: all)."""
        if self.slo is None:
            return ()
        return (self.slo,) if isinstance(self.slo, str) else tuple(self.slo)


class SloCheckGate(Gate[SloCheckOptions]):
    """Blocks a deploy unless every SLO's budget satisfies the condition."""

    type_name: ClassVar[str] = "slo_check"
    default_action: ClassVar[FailAction] = FailAction.BLOCK_DEPLOY
    checks: ClassVar[str] = "error budget above 5% (computed from Prometheus)"
    options_model: ClassVar[type[GateOptions]] = SloCheckOptions

    def __init__(self, options: SloCheckOptions, *,
                 now: Callable[[], float] = time.time) -> None:
        super().__init__(options)
        self._now = now

    def evaluate(self, ctx: GateContext) -> GateCheck:
        """Read the budgets and judge them; see the module docstring."""
        options = self.options
        try:
            condition = parse_condition(options.condition)
        except ExpressionError as exc:  # validated at config time; kept for direct use
            raise GateCannotRun(f"invalid condition: {exc}") from exc
        service = load_service(ctx.resolve(options.service))
        slos = select_slos(service, options.names())
        endpoint = prometheus_endpoint(service, options.prometheus)
        if endpoint is None:
            raise GateCannotRun("no Prometheus to read the error budget from",
                                hint=no_prometheus_hint(service))
        if options.request_timeout is not None:
            endpoint = replace(endpoint, timeout_s=options.request_timeout)
        if options.retries is not None:
            endpoint = replace(endpoint, retries=options.retries)
        source = status_source(slos, endpoint, http=ctx.http, sleep=ctx.sleep, now=self._now)
        try:
            statuses = source.statuses()
        except DependencyUnavailable as exc:
            if options.on_unavailable == "warn":
                return _unchecked(exc, endpoint.shown)
            raise GateCannotRun(
                f"the error budget could not be checked, so the deploy is held (fail closed): "
                f"{exc.message}",
                hint="bring Prometheus back, or (unsafe) set `on_unavailable: warn`",
            ) from exc
        _refuse_no_data(statuses)
        return _judge(statuses, condition.text, options.fail_message, endpoint.shown)


def _unchecked(error: DependencyUnavailable, where: str) -> GateCheck:
    """The ``on_unavailable: warn`` pass: loudly unsafe."""
    text = (f"UNSAFE: the error budget could not be checked ({error.message}); passing only "
            "because on_unavailable: warn")
    log.warning("slo_check: %s", text)
    finding = Finding("slo_check.unavailable", text, Severity.WARNING)
    return GateCheck(Verdict.PASSED, text, (finding,),
                     {"checked": False, "prometheus": where, "on_unavailable": "warn"})


def _refuse_no_data(statuses: Sequence[SloStatus]) -> None:
    missing = [status for status in statuses if status.state is SloState.NO_DATA]
    if missing:
        raise GateCannotRun(
            "no data to judge the error budget (fail closed): "
            + "; ".join(describe(status) for status in missing),
            hint="check the SLI queries in Prometheus' expression browser and that the "
                 "service has traffic in the window")


def _judge(statuses: Sequence[SloStatus], condition_text: str, fail_message: str | None,
           where: str) -> GateCheck:
    condition = parse_condition(condition_text)
    failed: list[tuple[SloStatus, str]] = []
    passed: list[str] = []
    for status in statuses:
        try:
            evaluation = condition.evaluate(status.condition_values())
        except ExpressionError as exc:
            raise GateCannotRun(
                f"SLO '{status.slo.name}': {exc.message}",
                hint="a figure without data (a window with no traffic) cannot be judged; "
                     "the gate fails closed") from exc
        observed = "; ".join(f"{name} = {value!r}" for name, value in evaluation.values.items())
        if evaluation.result:
            passed.append(f"{status.slo.name}: {observed}")
        else:
            failed.append((status, observed))
    metrics: dict[str, Any] = {
        "checked": True, "prometheus": where, "condition": condition.text,
        "slos": {status.slo.name: {"state": status.state.value,
                                   **{k: (v if math.isfinite(v) else None)
                                      for k, v in status.condition_values().items()}}
                 for status in statuses},
    }
    if not failed:
        return GateCheck.passed(
            f"{'; '.join(passed)} satisfies {condition.text}" if len(passed) == 1
            else f"all {len(passed)} SLOs satisfy {condition.text} ({'; '.join(passed)})",
            **metrics)
    findings = tuple(
        Finding("slo_check.condition",
                f"{describe(status)}: {observed}; required {condition.text}",
                Severity.ERROR, *definition_place(status.slo))
        for status, observed in failed)
    names = ", ".join(status.slo.name for status, _ in failed)
    summary = fail_message or (
        f"{names}: {failed[0][1]}; required {condition.text}" if len(failed) == 1
        else f"{len(failed)} SLOs fail {condition.text}: {names}")
    return GateCheck.failed(summary, findings, **metrics)

