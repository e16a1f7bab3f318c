"""The provider's HTTP side: fetch a snapshot (with ``If-None-Match``), open the event stream.

Clients come from :mod:`safeship._internal.http`'s factory, so tests can hand in a transport.
Failures are :class:`~safeship.errors.EndpointUnavailable` (unreachable, timed out, an
unexpected status or body) or its :class:`ServiceRefused` (401/403: the token is wrong, which
retrying will not fix). The token goes in the ``Authorization`` header only; no message here
contains it.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from safeship._internal.http import HttpClientFactory, default_client_factory
from safeship.errors import EndpointUnavailable
from safeship.openfeature.sse_reader import SseEvent, SseParser

SNAPSHOT_PATH = "/v1/snapshot"
STREAM_PATH = "/v1/stream"


class ServiceRefused(EndpointUnavailable):
    """The flag service refused the token (401 or 403)."""


@dataclass(frozen=True)
class SnapshotAnswer:
    """A snapshot fetch: the decoded payload (None when unchanged, 304) and its ETag."""

    payload: dict[str, Any] | None
    etag: str | None


class FlagServiceClient:
    """Talks to one flag service for one environment."""

    def __init__(self, url: str, token: str | None, environment: str, *,
                 client_factory: HttpClientFactory = default_client_factory,
                 timeout_s: float = 5.0, stream_idle_timeout_s: float = 45.0) -> None:
        """``stream_idle_timeout_s``: how long a silent stream (no event, no keep-alive) is
        trusted before it counts as broken; keep it above the service's keep-alive interval."""
        self._base = url.rstrip("/")
        self._environment = environment
        self._headers = {"Accept": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._factory = client_factory
        self._timeout_s = timeout_s
        self._stream_timeout_s = stream_idle_timeout_s
        self._client: httpx.Client | None = None
        self._stream_socket: socket.socket | None = None

    @property
    def url(self) -> str:
        """The service's base URL."""
        return self._base

    def close(self) -> None:
        """Close the snapshot client's connections."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def interrupt(self) -> None:
        """End a stream being read in another thread now (its read fails at once).

        Closing a client does not wake a thread blocked reading its socket; shutting the
        socket down does.
        """
        stream_socket = self._stream_socket
        if stream_socket is not None:
            with contextlib.suppress(OSError):
                stream_socket.shutdown(socket.SHUT_RDWR)

    def fetch_snapshot(self, etag: str | None = None) -> SnapshotAnswer:
        """The environment's snapshot, or ``payload=None`` when ``etag`` is still current.

        Raises:
            ServiceRefused: 401/403.
            EndpointUnavailable: unreachable, or an answer that is not a snapshot.
        """
        if self._client is None:
            self._client = self._factory(self._timeout_s)
        headers = dict(self._headers)
        if etag:
            headers["If-None-Match"] = etag
        try:
            response = self._client.get(self._base + SNAPSHOT_PATH, headers=headers,
                                        params={"environment": self._environment})
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        if response.status_code == httpx.codes.NOT_MODIFIED:
            return SnapshotAnswer(None, etag)
        self._check(response)
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise EndpointUnavailable(
                f"the flag service at {self._base} answered {SNAPSHOT_PATH} with something "
                "that is not a snapshot")
        return SnapshotAnswer(payload, response.headers.get("etag"))

    @contextmanager
    def stream(self) -> Iterator[Iterator[SseEvent]]:
        """The environment's event stream, as an iterator of events; closed on exit.

        Raises:
            ServiceRefused: 401/403.
            EndpointUnavailable: unreachable, a broken or silent stream, not an event stream.
        """
        client = self._factory(self._stream_timeout_s)
        try:
            try:
                with client.stream("GET", self._base + STREAM_PATH,
                                   headers={**self._headers, "Accept": "text/event-stream"},
                                   params={"environment": self._environment}) as response:
                    self._check(response)
                    media_type = response.headers.get("content-type", "")
                    if not media_type.startswith("text/event-stream"):
                        raise EndpointUnavailable(
                            f"{self._base}{STREAM_PATH} is not an event stream "
                            f"({media_type or 'no content type'})")
                    self._stream_socket = _socket_of(response)
                    yield self._events(response)
            except httpx.HTTPError as exc:
                raise self._unreachable(exc) from None
        finally:
            self._stream_socket = None
            client.close()

    @staticmethod
    def _events(response: httpx.Response) -> Iterator[SseEvent]:
        parser = SseParser()
        for line in response.iter_lines():
            event = parser.feed(line)
            if event is not None:
                yield event

    def _check(self, response: httpx.Response) -> None:
        status = response.status_code
        if status in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
            raise ServiceRefused(
                f"the flag service at {self._base} refused the token ({status})",
                hint="give the provider a valid read token of this service")
        if not 200 <= status < 300:
            raise EndpointUnavailable(
                f"the flag service at {self._base} answered {status}: {_detail(response)}")

    def _unreachable(self, exc: httpx.HTTPError) -> EndpointUnavailable:
        return EndpointUnavailable(
            f"the flag service at {self._base} is unreachable: {type(exc).__name__}: {exc}")


def _socket_of(response: httpx.Response) -> socket.socket | None:
    # httpcore exposes the connection's socket; other transports (tests) may not.
    network_stream = response.extensions.get("network_stream")
    get_extra_info = getattr(network_stream, "get_extra_info", None)
    found = get_extra_info("socket") if callable(get_extra_info) else None
    return found if isinstance(found, socket.socket) else None


def decode_event_data(event: SseEvent) -> dict[str, Any] | None:
    """The JSON object an event carries, or None when its data is not one."""
    try:
        data = json.loads(event.data)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _detail(response: httpx.Response) -> str:
    try:
        response.read()
        data = response.json()
    except (ValueError, httpx.HTTPError):
        return response.reason_phrase or "no detail"
    if isinstance(data, dict) and isinstance(data.get("detail"), str):
        return str(data["detail"])
    return response.reason_phrase or "no detail"
