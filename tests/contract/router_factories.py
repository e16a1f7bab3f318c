"""Everything the router contract suite runs against: routers, backends, and a traffic client.

**Adding a router to the suite** (the extension point): write a factory, a context manager that
takes a :class:`FactoryContext` and yields a started :class:`RouterUnderTest`, then add one
:class:`RouterKind` line to :data:`ROUTER_KINDS`. For example::

    @contextmanager
    def haproxy_router(ctx: FactoryContext) -> Iterator[RouterUnderTest]:
        require_binary("haproxy", "the haproxy router drives a real HAProxy")
        router = HaproxyRouter(HaproxyOptions(workdir=str(ctx.tmp_path), ...))
        try:
            yield RouterUnderTest(router, url=router.start().url())
        finally:
            router.close()

    ROUTER_KINDS = (..., RouterKind("haproxy", haproxy_router, carries_traffic=True,
                                    marks=(pytest.mark.haproxy,)))

Every test of the suite then runs on it: the API-level tests on every kind, the tests marked
``router_traffic`` only on kinds that carry HTTP traffic. The suite declares the backends
itself (``set_backends``); ``ctx.backends`` lists every backend in case a router must know them
before it starts.

**Backends**: :class:`VersionBackends` runs one small aiohttp app per version instance on
127.0.0.1 (free ports, one event-loop thread for all). Each answers any path with its version's
name (body ``v1\\n``) and ``/healthz`` with ``ok``, plus a few paths the embedded router's unit
tests use (echo, headers, status, delays, streams, big and broken bodies).

**Traffic**: :class:`TrafficClient` sends requests through a router with aiohttp, over pooled
keep-alive connections, from an event loop in its own thread; every run is bounded in count and
time.
"""

from __future__ import annotations

import asyncio
import gzip
import itertools
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import aiohttp
import pytest
from aiohttp import web

from safeship.model.endpoints import Endpoint
from safeship.routers.embedded import EmbeddedOptions, EmbeddedRouter
from safeship.routers.embedded_loop import LoopThread
from safeship.routers.interface import Router
from safeship.testing.fake_router import FakeRouter
from tests.integration.router_process_factories import haproxy_router, nginx_router

# --------------------------------------------------------------------------------------------
# Routers under test
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FactoryContext:
    """What a factory gets: a private temp dir and every backend the suite may declare."""

    tmp_path: Path
    backends: Mapping[str, Sequence[Endpoint]]


@dataclass(frozen=True)
class RouterUnderTest:
    """A started router and where to send traffic through it (None: it carries none)."""

    router: Router
    url: str | None


RouterFactory = Callable[[FactoryContext], AbstractContextManager[RouterUnderTest]]


@dataclass(frozen=True)
class RouterKind:
    """One parametrization of the suite."""

    name: str
    factory: RouterFactory
    carries_traffic: bool
    marks: tuple[pytest.MarkDecorator, ...] = ()


@contextmanager
def embedded_router(ctx: FactoryContext) -> Iterator[RouterUnderTest]:
    """safeship's built-in proxy on free loopback ports."""
    router = EmbeddedRouter(EmbeddedOptions())
    try:
        address = router.start()
        yield RouterUnderTest(router, address.url())
    finally:
        router.close()


@contextmanager
def fake_router(ctx: FactoryContext) -> Iterator[RouterUnderTest]:
    """The in-memory fake: API-level tests only."""
    router = FakeRouter()
    try:
        yield RouterUnderTest(router, None)
    finally:
        router.close()


ROUTER_KINDS: tuple[RouterKind, ...] = (
    RouterKind("embedded", embedded_router, carries_traffic=True),
    RouterKind("fake", fake_router, carries_traffic=False),
    RouterKind("haproxy", haproxy_router, carries_traffic=True, marks=(pytest.mark.haproxy,)),
    RouterKind("nginx", nginx_router, carries_traffic=True, marks=(pytest.mark.nginx,)),
)
"""Every router the contract suite runs on."""

# --------------------------------------------------------------------------------------------
# Backends
# --------------------------------------------------------------------------------------------

BROKEN_BODY_PROMISED = 1000
"""``/broken`` promises this many bytes and sends ten before cutting the connection."""


def _version_app(version: str, instance: int, on_slow: Callable[[], None]) -> web.Application:
    label = f"{version}#{instance}"

    def named(status: int = 200) -> web.Response:
        return web.Response(status=status, text=f"{version}\n",
                            headers={"X-Backend-Instance": label})

    async def any_path(request: web.Request) -> web.StreamResponse:
        return named()

    async def healthz(request: web.Request) -> web.StreamResponse:
        return web.Response(text="ok\n")

    async def headers(request: web.Request) -> web.StreamResponse:
        seen: dict[str, list[str]] = {}
        for name, value in request.headers.items():
            seen.setdefault(name.lower(), []).append(value)
        return web.json_response({"version": version, "headers": seen,
                                  "path_qs": request.path_qs})

    async def echo(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={
            "X-Echo-Content-Length": request.headers.get("Content-Length", "none"),
            "X-Echo-Transfer-Encoding": request.headers.get("Transfer-Encoding", "none")})
        await response.prepare(request)
        async for chunk in request.content.iter_any():
            await response.write(chunk)
        await response.write_eof()
        return response

    async def status(request: web.Request) -> web.StreamResponse:
        return named(int(request.match_info["code"]))

    async def slow(request: web.Request) -> web.StreamResponse:
        on_slow()
        await asyncio.sleep(int(request.match_info["ms"]) / 1000)
        return named()

    async def stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for index in range(int(request.match_info["chunks"])):
            await response.write(f"{version}-chunk-{index}\n".encode())
        await response.write_eof()
        return response

    async def big(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        block = b"x" * 65536
        for _ in range(16 * int(request.match_info["mib"])):
            await response.write(block)
        await response.write_eof()
        return response

    async def broken(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_length = BROKEN_BODY_PROMISED
        await response.prepare(request)
        await response.write(b"0123456789")
        await asyncio.sleep(0.01)
        if request.transport is not None:
            request.transport.abort()
        return response

    async def compressed(request: web.Request) -> web.StreamResponse:
        return web.Response(body=gzip.compress(f"{version}\n".encode() * 100),
                            headers={"Content-Encoding": "gzip", "Content-Type": "text/plain"})

    async def cookies(request: web.Request) -> web.StreamResponse:
        response = named()
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        return response

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/headers", headers)
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/status/{code:\\d{3}}", status)
    app.router.add_get("/slow/{ms:\\d+}", slow)
    app.router.add_get("/stream/{chunks:\\d+}", stream)
    app.router.add_get("/big/{mib:\\d+}", big)
    app.router.add_get("/broken", broken)
    app.router.add_get("/gzip", compressed)
    app.router.add_get("/cookies", cookies)
    app.router.add_route("*", "/{tail:.*}", any_path)
    return app


class VersionBackends:
    """Small HTTP apps on 127.0.0.1 that answer with their version's name (see module doc)."""

    def __init__(self, versions: Sequence[str] = ("v1", "v2", "v3"), instances: int = 1) -> None:
        self.versions = tuple(versions)
        self.instances = instances
        self._loop = LoopThread("contract-backends")
        self._runners: list[web.AppRunner] = []
        self._endpoints: dict[str, list[Endpoint]] = {}
        self.slow_arrivals = 0
        """How many ``/slow/<ms>`` requests have reached any backend so far."""

    def wait_for_slow_arrivals(self, count: int, timeout_s: float = 10.0) -> bool:
        """Block until ``count`` slow requests in all have arrived (False on time-out)."""
        deadline = time.monotonic() + timeout_s
        while self.slow_arrivals < count and time.monotonic() < deadline:
            time.sleep(0.002)
        return self.slow_arrivals >= count

    def _slow_arrived(self) -> None:
        self.slow_arrivals += 1  # only the backends' loop thread writes it

    def start(self) -> VersionBackends:
        """Start every app; returns self."""
        self._loop.start()
        self._loop.run(self._start(), timeout=15)
        return self

    def close(self) -> None:
        """Stop every app and the thread."""
        if self._loop.alive:
            self._loop.run(self._stop(), timeout=15)
        self._loop.stop()

    def endpoints(self, *versions: str) -> dict[str, list[Endpoint]]:
        """The endpoints of ``versions`` (all versions when none are named)."""
        chosen = versions or self.versions
        return {version: list(self._endpoints[version]) for version in chosen}

    def __enter__(self) -> VersionBackends:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    async def _start(self) -> None:
        for version, instance in itertools.product(self.versions, range(self.instances)):
            runner = web.AppRunner(_version_app(version, instance, self._slow_arrived),
                                   access_log=None,
                                   shutdown_timeout=1.0)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0, backlog=512).start()
            self._runners.append(runner)
            port = int(runner.addresses[0][1])
            self._endpoints.setdefault(version, []).append(Endpoint("127.0.0.1", port))

    async def _stop(self) -> None:
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()


# --------------------------------------------------------------------------------------------
# Traffic
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """One answer as the client saw it."""

    status: int
    text: str
    headers: Mapping[str, str]

    @property
    def version(self) -> str:
        """The body without its newline: the version that answered (for plain paths)."""
        return self.text.strip()


def outcome_of(reply: Reply | BaseException) -> str:
    """``v1`` for a 200 from v1, ``status:503`` for other statuses, ``error:<Type>``."""
    if isinstance(reply, BaseException):
        return f"error:{type(reply).__name__}"
    if reply.status != 200:
        return f"status:{reply.status}"
    return reply.version


@dataclass
class LoadRun:
    """Concurrent keep-alive requests in the background until stopped or a bound is hit."""

    counts: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    completed: int = 0
    _stop: bool = False

    def wait_for_more(self, requests: int, timeout_s: float = 10.0) -> bool:
        """Block until ``requests`` more answers arrived (False if the time ran out first)."""
        target = self.completed + requests
        deadline = time.monotonic() + timeout_s
        while self.completed < target and time.monotonic() < deadline and not self._stop:
            time.sleep(0.002)
        return self.completed >= target


class TrafficClient:
    """Sends requests through a router (see module doc); use as a context manager."""

    def __init__(self, url: str, *, connections: int = 32, timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._connections = connections
        self._timeout_s = timeout_s
        self._loop = LoopThread("contract-traffic")
        self._session: aiohttp.ClientSession | None = None

    def __enter__(self) -> TrafficClient:
        self._loop.start()
        self._loop.run(self._open(), timeout=10)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._loop.alive:
            self._loop.run(self._close(), timeout=10)
        self._loop.stop()

    def get(self, path: str = "/", headers: Mapping[str, str] | None = None) -> Reply:
        """One request on a pooled keep-alive connection."""
        return self._loop.run(self._get(path, headers), timeout=self._timeout_s + 5)

    def split(self, requests: int, *, concurrency: int = 20, path: str = "/",
              headers: Mapping[str, str] | None = None, max_seconds: float = 60.0
              ) -> Counter[str]:
        """Send ``requests`` requests, ``concurrency`` at a time; count :func:`outcome_of`."""
        return self._loop.run(self._split(requests, concurrency, path, headers, max_seconds),
                              timeout=max_seconds + 10)

    @contextmanager
    def load(self, *, concurrency: int = 10, max_requests: int = 50_000,
             max_seconds: float = 60.0, path: str = "/") -> Iterator[LoadRun]:
        """Keep ``concurrency`` requests in flight until the block ends (or a bound is hit)."""
        run = LoadRun()
        task = asyncio.run_coroutine_threadsafe(
            self._load(run, concurrency, max_requests, max_seconds, path), self._loop.loop)
        try:
            yield run
        finally:
            run._stop = True
            task.result(timeout=max_seconds + 10)

    async def _open(self) -> None:
        connector = aiohttp.TCPConnector(limit=self._connections, force_close=False)
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=self._timeout_s))

    async def _close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _get(self, path: str, headers: Mapping[str, str] | None) -> Reply:
        assert self._session is not None
        async with self._session.get(self.url + path, headers=headers,
                                     allow_redirects=False) as response:
            text = await response.text()
            return Reply(response.status, text, dict(response.headers))

    async def _attempt(self, path: str, headers: Mapping[str, str] | None
                       ) -> Reply | BaseException:
        try:
            return await self._get(path, headers)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return exc

    async def _split(self, requests: int, concurrency: int, path: str,
                     headers: Mapping[str, str] | None, max_seconds: float) -> Counter[str]:
        counts: Counter[str] = Counter()
        tickets = iter(range(requests))
        deadline = asyncio.get_running_loop().time() + max_seconds

        async def worker() -> None:
            for _ in tickets:
                if asyncio.get_running_loop().time() > deadline:
                    counts["error:deadline"] += 1
                    continue
                counts[outcome_of(await self._attempt(path, headers))] += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return counts

    async def _load(self, run: LoadRun, concurrency: int, max_requests: int,
                    max_seconds: float, path: str) -> None:
        deadline = asyncio.get_running_loop().time() + max_seconds
        tickets = iter(range(max_requests))

        async def worker() -> None:
            for _ in tickets:
                if run._stop or asyncio.get_running_loop().time() > deadline:
                    break
                outcome = outcome_of(await self._attempt(path, None))
                run.counts[outcome] += 1
                run.completed += 1
                if outcome.startswith(("error:", "status:")):
                    run.failures.append(outcome)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        run._stop = True


def json_of(reply: Reply) -> dict[str, object]:
    """The JSON body of ``reply``."""
    loaded = json.loads(reply.text)
    assert isinstance(loaded, dict)
    return loaded
