"""Instant queries against the Prometheus HTTP API (``GET /api/v1/query``), failing closed.

This is the layer-neutral client for code that may not import :mod:`safeship.metrics` (the SLO
budget reader); it follows the same rules as the ``prometheus`` metric provider:

* requests go through an :data:`~safeship._internal.http.HttpClientFactory`, so tests inject a
  transport; each attempt has a total timeout, and Prometheus gets the same ``timeout``;
* connection errors, timeouts and 5xx answers are retried ``retries`` times after a short
  fixed pause; 4xx answers are not (the query is wrong);
* every failure raises :class:`~safeship.errors.MetricsUnavailable` naming the URL (password
  masked, no query string) and the query, never the request headers (they may hold a token).

One client is made per query, or one for many queries inside :meth:`PrometheusQueryApi.session`
(making a client costs tens of milliseconds, more than a local query).

An answer is a list of :class:`Sample` (labels and value). Values arrive as strings in the API
(``"NaN"`` and ``"+Inf"`` included) and are returned as floats; deciding what an empty answer or
NaN means is the caller's business.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from safeship._internal.http import HttpClientFactory, default_client_factory
from safeship.errors import MetricsUnavailable

MAX_BODY_BYTES = 8 * 1024 * 1024
"""Answers longer than this are refused rather than decoded (an SLO answer is tiny)."""

RETRY_PAUSE_S = 0.25
"""Fixed pause between attempts; with at most 5 retries the pauses total 1.25 s or less."""


@dataclass(frozen=True)
class PrometheusEndpoint:
    """Where Prometheus answers and how patiently to ask it."""

    url: str
    """Base URL, e.g. ``http://127.0.0.1:9090`` (a path prefix such as /prometheus is kept)."""
    timeout_s: float = 10.0
    retries: int = 2
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def shown(self) -> str:
        """The URL safe to print."""
        return display_url(self.url)


@dataclass(frozen=True)
class Sample:
    """One element of an instant vector (or the value of a scalar answer)."""

    labels: Mapping[str, str]
    value: float


def check_url(value: str) -> str:
    """``value`` as a Prometheus base URL (trailing slash removed); ValueError when it is not."""
    text = value.strip()
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise ValueError(f"'{text}' is not a URL: {exc}") from exc
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"'{display_url(text)}' is not an http:// or https:// URL")
    if parts.query or parts.fragment:
        raise ValueError("the Prometheus URL takes no query string or fragment")
    return text.rstrip("/")


def display_url(url: str) -> str:
    """``url`` safe to show: a password is masked, the query string hidden."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<invalid URL>"
    if ":" in host:
        host = f"[{host}]"
    user = ""
    if parts.username is not None:
        user = f"{parts.username}:***@" if parts.password is not None else "***@"
    query = "..." if parts.query else ""
    return urlunsplit((parts.scheme, f"{user}{host}{port}", parts.path, query, ""))


class PrometheusQueryApi:
    """Sends instant queries to one Prometheus and decodes the answers."""

    def __init__(self, endpoint: PrometheusEndpoint, *,
                 http: HttpClientFactory = default_client_factory,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.endpoint = endpoint
        self._http = http
        self._sleep = sleep
        self._client: httpx.Client | None = None

    @contextmanager
    def session(self) -> Iterator[None]:
        """Send the queries made inside the ``with`` block through one client (not thread-safe).
        """
        if self._client is not None:  # already in a session: reuse it
            yield
            return
        with self._http(self.endpoint.timeout_s) as client:
            self._client = client
            try:
                yield
            finally:
                self._client = None

    def instant(self, query: str, at: float | None = None) -> tuple[Sample, ...]:
        """The value of ``query`` at unix time ``at`` (Prometheus' "now" when None)."""
        params = {"query": query, "timeout": f"{self.endpoint.timeout_s:g}s"}
        if at is not None:
            params["time"] = f"{at:.3f}"
        body = self.get_json("/api/v1/query", params, query)
        return self._samples(body, query)

    def get_json(self, path: str, params: Mapping[str, str], query: str) -> Any:
        """The decoded ``status: success`` answer of ``GET path`` (any API path, e.g.
        ``/api/v1/query_range``), retried as the module says; ``query`` names it in errors.
        """
        endpoint = self.endpoint
        url = endpoint.url.rstrip("/") + path
        attempts = endpoint.retries + 1
        problem = ""
        with self.session():
            client = self._client
            if client is None:  # pragma: no cover - session() always sets it
                raise MetricsUnavailable(f"{endpoint.shown}: no HTTP client")
            for attempt in range(1, attempts + 1):
                if attempt > 1:
                    self._sleep(RETRY_PAUSE_S)
                try:
                    response = client.get(url, params=dict(params),
                                          headers=dict(endpoint.headers))
                except httpx.TimeoutException:
                    problem = f"no answer within {endpoint.timeout_s:g} s"
                    continue
                except httpx.TransportError as exc:
                    problem = f"cannot connect ({type(exc).__name__}: {_first_line(exc)})"
                    continue
                except httpx.HTTPError as exc:  # e.g. an invalid URL: retrying will not help
                    raise MetricsUnavailable(
                        f"{endpoint.shown}: the request could not be sent "
                        f"({type(exc).__name__}: {_first_line(exc)})") from exc
                if response.status_code >= 500:
                    problem = f"HTTP {response.status_code}{_api_error(response)}"
                    continue
                return self._decode(response, query)
        tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
        raise MetricsUnavailable(
            f"{endpoint.shown}: {problem} after {tries}, for query {query}",
            hint="check that Prometheus runs and that the URL is right",
        )

    def _decode(self, response: httpx.Response, query: str) -> Any:
        where = self.endpoint.shown
        if response.status_code >= 400:
            raise MetricsUnavailable(
                f"{where}: HTTP {response.status_code}{_api_error(response)} for query {query}",
                hint="Prometheus rejected the query; try it in Prometheus' expression browser",
            )
        if len(response.content) > MAX_BODY_BYTES:
            raise MetricsUnavailable(
                f"{where}: the answer is larger than {MAX_BODY_BYTES} bytes for query {query}")
        try:
            body = json.loads(response.content)
        except ValueError as exc:
            raise MetricsUnavailable(
                f"{where}: the answer is not JSON ({exc}) for query {query}",
                hint="is the URL a Prometheus server (or a proxy's login page)?",
            ) from exc
        if not isinstance(body, dict) or body.get("status") != "success":
            error = body.get("error") if isinstance(body, dict) else None
            raise MetricsUnavailable(
                f"{where}: the query did not succeed ({error or 'no status'}): {query}")
        return body

    def _samples(self, body: Any, query: str) -> tuple[Sample, ...]:
        where = self.endpoint.shown
        data = body.get("data")
        kind = data.get("resultType") if isinstance(data, dict) else None
        result = data.get("result") if isinstance(data, dict) else None
        try:
            if kind == "vector" and isinstance(result, list):
                return tuple(
                    Sample({str(k): str(v) for k, v in (item.get("metric") or {}).items()},
                           float(item["value"][1]))
                    for item in result
                )
            if kind == "scalar" and isinstance(result, list):
                return (Sample({}, float(result[1])),)
        except (AttributeError, KeyError, IndexError, TypeError, ValueError) as exc:
            raise MetricsUnavailable(
                f"{where}: a malformed sample ({type(exc).__name__}: {exc}) for query {query}"
            ) from exc
        raise MetricsUnavailable(
            f"{where}: expected an instant vector, got {kind!r} for query {query}")


def _api_error(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        kind = body.get("errorType")
        return f" ({kind}: {body['error']})" if kind else f" ({body['error']})"
    return ""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "no detail"
