"""The embedded router's data path: an aiohttp reverse proxy that streams both ways.

For each request, :class:`ProxyHandler` reads the routing table in force once (so one request
never sees half of a change), picks a version and an endpoint, and forwards the request over a
shared client session whose connection pool keeps connections to backends alive. Bodies are
streamed in both directions, never buffered whole. Hop-by-hop headers (RFC 9110, section 7.6.1:
``Connection`` and every header it lists, ``Keep-Alive``, ``Proxy-*``, ``TE``, ``Trailer``,
``Transfer-Encoding``, ``Upgrade``) are dropped both ways, and ``Expect`` is not forwarded (the
proxy's own server deals with it). The upstream sees the client's ``Host``, plus
``X-Forwarded-For`` (the client's address appended), ``X-Forwarded-Proto`` and
``X-Forwarded-Host``. The client sees the upstream's answer as sent (compressed bodies stay
compressed), plus ``X-Safeship-Version`` naming the version that answered.

Failures, each counted for the chosen version as an error (see
:mod:`safeship.routers.embedded_metrics`):

* the upstream cannot be reached or drops the connection before answering: **502**. A request
  without a body and with an idempotent method is retried once on a *reused* pooled connection
  the upstream had closed (the usual keep-alive race), never after a refused connect;
* the upstream takes longer than ``upstream_timeout`` to connect, to answer, or between two
  chunks of a body: **504** (or, once the answer has started, the connection is cut);
* the upstream fails in the middle of a body: the client's connection is cut, so the client
  sees a truncated answer rather than a complete-looking one.

A request no version can serve gets **503** (no weights yet, or a pin naming an unknown
version). Connection upgrades (WebSocket) are not supported.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from safeship.routers.embedded_metrics import RouterCounters
from safeship.routers.embedded_options import STICKY_COOKIE, Stickiness
from safeship.routers.embedded_table import Route, RoutingTable, Unroutable
from safeship.routers.interface import PIN_HEADER

log = logging.getLogger(__name__)

HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
    "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
})
"""Headers that describe one connection, not the message, and never cross a proxy."""

_NOT_FORWARDED = HOP_BY_HOP | {"expect"}
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
# aiohttp's client adds these when they are absent; a transparent proxy must not (an added
# Accept-Encoding would get the client a compressed body it never asked for).
_NO_AUTO_HEADERS = frozenset({"User-Agent", "Accept", "Accept-Encoding", "Content-Type"})
CONNECTION_POOL_LIMIT = 512
"""Connections the proxy keeps open to all backends together (idle or busy)."""
POOL_KEEPALIVE_S = 15.0
"""Seconds an idle pooled connection is kept; below typical backend keep-alive timeouts."""


@dataclass
class _Outcome:
    """How a request ended; counted once, before the client can see the end of the answer."""

    count: Callable[[int, bool], None]
    status: int = 502
    broken: bool = False
    counted: bool = False

    def settle(self) -> None:
        if not self.counted:
            self.counted = True
            self.count(self.status, self.broken)


def _connection_tokens(headers: CIMultiDictProxy[str]) -> set[str]:
    """The header names a ``Connection`` header lists (they are hop-by-hop too)."""
    tokens: set[str] = set()
    for value in headers.getall("Connection", []):
        tokens.update(token.strip().lower() for token in value.split(",") if token.strip())
    return tokens


def upstream_headers(request: web.BaseRequest) -> CIMultiDict[str]:
    """The headers to send upstream: end-to-end ones plus ``X-Forwarded-*``."""
    dropped = _NOT_FORWARDED | _connection_tokens(request.headers)
    headers: CIMultiDict[str] = CIMultiDict(
        (name, value) for name, value in request.headers.items()
        if name.lower() not in dropped)
    chain = [value for value in request.headers.getall("X-Forwarded-For", []) if value.strip()]
    if request.remote:
        chain.append(request.remote)
    if chain:
        headers["X-Forwarded-For"] = ", ".join(chain)
    headers["X-Forwarded-Proto"] = request.scheme
    if "Host" in request.headers and "X-Forwarded-Host" not in request.headers:
        headers["X-Forwarded-Host"] = request.headers["Host"]
    return headers


def downstream_headers(upstream: aiohttp.ClientResponse) -> CIMultiDict[str]:
    """The upstream's end-to-end headers for the client (``Content-Length`` set apart)."""
    dropped = HOP_BY_HOP | _connection_tokens(upstream.headers) | {"content-length"}
    return CIMultiDict((name, value) for name, value in upstream.headers.items()
                       if name.lower() not in dropped)


class ProxyHandler:
    """The low-level aiohttp handler of the data path (see the module doc)."""

    def __init__(self, table: Callable[[], RoutingTable], counters: RouterCounters,
                 stickiness: Stickiness, upstream_timeout: float) -> None:
        self._table = table
        self._counters = counters
        self._stickiness = stickiness
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=upstream_timeout,
                                              sock_read=upstream_timeout)
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        """Create the client session and its connection pool (on the running loop)."""
        connector = aiohttp.TCPConnector(limit=CONNECTION_POOL_LIMIT, limit_per_host=0,
                                         keepalive_timeout=POOL_KEEPALIVE_S,
                                         use_dns_cache=True, ttl_dns_cache=10)
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=self._timeout, auto_decompress=False,
            trust_env=False, cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=_NO_AUTO_HEADERS)

    async def close(self) -> None:
        """Close the pool (after the server stopped taking requests)."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        started = time.perf_counter()
        route = self._table().route(
            pin=request.headers.get(PIN_HEADER),
            cookie=request.cookies.get(STICKY_COOKIE) if self._sticky_cookie else None,
            sticky_key=(request.headers.get(self._stickiness.header)
                        if self._stickiness.header else None))
        if isinstance(route, Unroutable):
            self._counters.record_unrouted()
            return _proxy_error(503, route.reason)

        def count(status: int, broken: bool) -> None:
            self._counters.record(route.version, status, time.perf_counter() - started,
                                  broken=broken)

        outcome = _Outcome(count)
        try:
            return await self._forward(request, route, outcome)
        finally:
            outcome.settle()  # proxy-made answers go out after this, so are counted first

    @property
    def _sticky_cookie(self) -> bool:
        return self._stickiness.kind == "cookie"

    async def _forward(self, request: web.BaseRequest, route: Route,
                       outcome: _Outcome) -> web.StreamResponse:
        session = self._session
        if session is None:  # pragma: no cover - the server starts after open()
            outcome.status = 503
            return _proxy_error(503, "the proxy is not running")
        url = URL(route.endpoint.url() + request.raw_path, encoded=True)
        body = request.content if request.body_exists else None
        retry_on_stale = body is None and request.method in _IDEMPOTENT
        headers = upstream_headers(request)
        upstream: aiohttp.ClientResponse | None = None
        for attempt in (1, 2):
            try:
                upstream = await session.request(
                    request.method, url, headers=headers, data=body, allow_redirects=False)
                break
            except TimeoutError:
                outcome.status = 504
                return _proxy_error(504, f"version '{route.version}' at {route.endpoint} did "
                                         "not answer in time")
            except aiohttp.ClientConnectorError as exc:
                return _proxy_error(502, f"version '{route.version}' at {route.endpoint} is "
                                         f"unreachable: {exc.os_error.strerror or exc}")
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
                if retry_on_stale and attempt == 1:
                    continue  # a pooled connection the upstream had already closed
                return _proxy_error(502, f"version '{route.version}' at {route.endpoint} "
                                         f"dropped the connection: {exc}")
            except aiohttp.ClientError as exc:
                return _proxy_error(502, f"version '{route.version}' at {route.endpoint} "
                                         f"failed: {exc}")
        if upstream is None:  # pragma: no cover - the loop either breaks or returns
            return _proxy_error(502, "no answer")
        try:
            return await self._relay(request, route, upstream, outcome)
        finally:
            upstream.release()

    async def _relay(self, request: web.BaseRequest, route: Route,
                     upstream: aiohttp.ClientResponse, outcome: _Outcome) -> web.StreamResponse:
        response = web.StreamResponse(status=upstream.status, reason=upstream.reason,
                                      headers=downstream_headers(upstream))
        response.headers[PIN_HEADER] = route.version
        length = upstream.headers.get("Content-Length")
        if length is not None and length.isdigit() and "Transfer-Encoding" not in upstream.headers:
            response.content_length = int(length)
        if self._sticky_cookie and route.via == "weights":
            response.set_cookie(STICKY_COOKIE, route.version, path="/", httponly=True,
                                samesite="Lax")
        outcome.status = upstream.status
        await response.prepare(request)
        while True:
            try:
                chunk = await upstream.content.readany()
            except (aiohttp.ClientError, TimeoutError) as exc:
                outcome.broken = True
                outcome.settle()
                log.warning("version '%s' at %s broke off a response: %s",
                            route.version, route.endpoint, exc)
                upstream.close()
                _cut(request)
                return response
            if not chunk:
                break
            if upstream.content.is_eof():
                outcome.settle()  # the last chunk: count before the client can have it
            try:
                await response.write(chunk)
            except ConnectionError:
                upstream.close()  # the client left: not the upstream's fault
                return response
        outcome.settle()
        await response.write_eof()
        return response


def _cut(request: web.BaseRequest) -> None:
    # Closing the client's connection mid-body is the only honest way to say "truncated":
    # finishing the chunked body would make a partial answer look complete.
    transport = request.transport
    if transport is not None:
        transport.abort()


def _proxy_error(status: int, reason: str) -> web.Response:
    return web.Response(status=status, text=f"safeship router: {reason}\n",
                        headers={"Cache-Control": "no-store"})
