"""The ``api_call`` gate: ask an HTTP endpoint and judge its JSON with a condition.

This is the guide's pre-deploy SLO check (``condition: "budget_remaining > 0.05"``, block
deploy). The gate GETs ``endpoint``, decodes the JSON body and evaluates ``condition`` with the
safe expression language of :mod:`safeship._internal.expressions`: names are JSON fields, dotted
names walk nested objects (``slo.budget_remaining``).

Connection errors, timeouts and 5xx answers are retried ``retries`` times after a short fixed
pause. It fails closed: an unreachable endpoint, a non-2xx answer, a body that is not JSON, a
missing field, a field of the wrong type, or NaN all raise, and the engine records ERROR.
A condition that is false fails the gate with ``fail_message``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx
from pydantic import Field, field_validator

from safeship._internal.expressions import ExpressionError, Scalar, parse_condition
from safeship.errors import EndpointUnavailable, GateCannotRun
from safeship.gates.interface import Gate, GateContext, GateOptions
from safeship.model.enums import FailAction
from safeship.model.results import Finding, GateCheck

MAX_BODY_BYTES = 1024 * 1024
"""Answers longer than this are refused: a status document is small."""


class ApiCallOptions(GateOptions):
    """Options of ``type: api_call``."""

    endpoint: str = Field(
        description="The http:// or https:// URL to GET; it must answer with a JSON document."
    )
    condition: str = Field(
        description=(
            "What must hold for the gate to pass, over the JSON answer, e.g. "
            "'budget_remaining > 0.05' or 'slo.budget_remaining > 0.05 and not frozen'. "
            "Comparisons, and/or/not, + - * / // %, numbers and strings; no function calls."
        )
    )
    fail_message: str | None = Field(
        default=None,
        description="Summary when the condition is false (default: the observed values).",
    )
    request_timeout: float = Field(
        default=5.0,
        gt=0,
        le=120,
        description="Seconds each attempt may take to connect and to answer.",
    )
    retries: int = Field(
        default=2,
        ge=0,
        le=5,
        description="Extra attempts after a connection error, timeout or 5xx answer (0 to 5).",
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Extra request headers (e.g. an Accept or Authorization header).",
    )

    @field_validator("endpoint")
    @classmethod
    def _http_url(cls, value: str) -> str:
        try:
            parts = urlsplit(value.strip())
        except ValueError as exc:
            raise ValueError(f"'{value}' is not a URL: {exc}") from exc
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(
                f"'{display_url(value)}' is not an http:// or https:// URL with a host"
            )
        return value.strip()

    @field_validator("condition")
    @classmethod
    def _valid_condition(cls, value: str) -> str:
        # ExpressionError is a ValueError, so pydantic reports it as this field's error.
        parse_condition(value)
        return value.strip()


def display_url(url: str) -> str:
    """``url`` safe to show: without user:password and with the query string hidden."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<invalid URL>"
    if ":" in host:
        host = f"[{host}]"
    query = "?..." if parts.query else ""
    return f"{parts.scheme}://{host}{port}{parts.path}{query}"


class ApiCallGate(Gate[ApiCallOptions]):
    """GETs a JSON endpoint and fails unless the condition holds for its answer."""

    type_name: ClassVar[str] = "api_call"
    default_action: ClassVar[FailAction] = FailAction.BLOCK_DEPLOY
    checks: ClassVar[str] = "a condition over a JSON endpoint (e.g. error budget > 5% remaining)"
    options_model: ClassVar[type[GateOptions]] = ApiCallOptions

    retry_pause_s: ClassVar[float] = 0.25
    """Fixed pause between attempts; with at most 5 retries the pauses total 1.25 s or less."""

    def evaluate(self, ctx: GateContext) -> GateCheck:
        """Call the endpoint and judge its answer; see the module docstring."""
        options = self.options
        where = display_url(options.endpoint)
        try:
            condition = parse_condition(options.condition)
        except ExpressionError as exc:  # validated at config time; kept for direct use
            raise GateCannotRun(f"invalid condition: {exc}") from exc
        data = self._fetch(ctx, where)
        try:
            evaluation = condition.evaluate(data)
        except ExpressionError as exc:
            raise GateCannotRun(
                f"{exc} (answer of {where})",
                hint="check the condition against what the endpoint returns",
            ) from exc
        observed = "; ".join(
            f"{name} = {_show(value)}" for name, value in evaluation.values.items()
        )
        metrics: dict[str, Any] = dict(evaluation.values)
        if evaluation.result:
            held = f"{observed} satisfies" if observed else "condition holds:"
            return GateCheck.passed(f"{held} {condition.text}", **metrics)
        explanation = (
            f"{observed}; required {condition.text}" if observed else f"{condition.text} is false"
        )
        summary = options.fail_message or explanation
        finding = Finding("api_call.condition", f"{explanation} (from {where})")
        return GateCheck.failed(summary, (finding,), **metrics)

    def _fetch(self, ctx: GateContext, where: str) -> object:
        options = self.options
        attempts = options.retries + 1
        problem = ""
        headers = {"Accept": "application/json", **options.headers}
        with ctx.http(options.request_timeout) as client:
            for attempt in range(1, attempts + 1):
                if attempt > 1:
                    ctx.sleep(self.retry_pause_s)
                try:
                    status, reason, body = _get(client, options.endpoint, headers)
                except httpx.TimeoutException:
                    problem = f"did not answer within {options.request_timeout:g}s"
                    continue
                except httpx.TransportError as exc:
                    problem = f"could not be reached ({type(exc).__name__}: {exc})"
                    continue
                except (httpx.HTTPError, httpx.InvalidURL) as exc:
                    raise EndpointUnavailable(
                        f"{where} could not be used ({type(exc).__name__}: {exc})"
                    ) from exc
                if status >= 500:
                    problem = f"answered {status} {reason}"
                    continue
                if not 200 <= status < 300:
                    raise EndpointUnavailable(
                        f"{where} answered {status} {reason}; expected 2xx with JSON",
                        hint="check the endpoint URL and any headers it needs",
                    )
                return _decode(body, where)
        tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
        raise EndpointUnavailable(
            f"{where} {problem} ({tries})",
            hint="the gate fails closed while the endpoint is unavailable; check it is up",
        )


def _get(client: httpx.Client, url: str, headers: Mapping[str, str]) -> tuple[int, str, bytes]:
    """GET ``url`` and read at most :data:`MAX_BODY_BYTES` of the answer."""
    with client.stream("GET", url, headers=dict(headers)) as response:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise GateCannotRun(
                    f"the answer of {display_url(url)} is larger than {MAX_BODY_BYTES} bytes"
                )
            chunks.append(chunk)
        return response.status_code, response.reason_phrase, b"".join(chunks)


def _decode(body: bytes, where: str) -> object:
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        start = body[:60].decode("utf-8", errors="replace")
        raise GateCannotRun(
            f"the answer of {where} is not JSON ({exc}); it began with {start!r}",
            hint="point `endpoint:` at a URL that returns a JSON document",
        ) from exc


def _show(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value)
    # repr, not a rounded format: 0.0499999 must not be shown as 0.05.
    return repr(value)
