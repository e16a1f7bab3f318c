"""A sample app behind a feature flag, for the flag rollout's end-to-end test.

Each :class:`FlagApp` instance is an aiohttp app on 127.0.0.1 (a free port) with its **own**
OpenFeature provider (:class:`safeship.openfeature.SafeshipProvider`), connected to the flag
service over its event stream and bound to its own OpenFeature domain, as separate app
processes would each hold one. Per request it:

1. evaluates the flag through the OpenFeature client for the request's user
   (``GET /checkout?user=KEY``);
2. answers 500 for a share of the flag-on users when told to (:attr:`FlagApp.on_error_rate`:
   the new code path is broken), and for :attr:`FlagApp.base_error_rate` of everybody (so the
   off cohort is not flawless either); errors are spread evenly, not drawn at random;
3. records the outcome for the variant it served (``provider.record``), which the provider
   exposes on ``GET /metrics`` labelled by flag and variant (what the rollout scrapes).

:class:`FlagApps` runs N instances on one event-loop thread. :class:`Load` sends requests
round-robin over the instances, each for a new user, from a bounded loop (count and time).
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from safeship.openfeature import SafeshipProvider
from safeship.routers.embedded_loop import LoopThread

FLAG = "new-checkout"


class _Spread:
    """Fails exactly ``rate`` of the calls, evenly spread (deterministic)."""

    def __init__(self) -> None:
        self.calls = 0

    def fails(self, rate: float) -> bool:
        before = math.floor(self.calls * rate)
        self.calls += 1
        return math.floor(self.calls * rate) > before


class FlagApp:
    """One app instance with its own provider (see the module docstring)."""

    def __init__(self, index: int, service_url: str, token: str, *, environment: str,
                 refresh_interval_s: float, stream_idle_timeout_s: float) -> None:
        self.index = index
        self.domain = f"flag-app-{index}"
        self.provider = SafeshipProvider(
            service_url, token=token, environment=environment,
            refresh_interval_s=refresh_interval_s, init_timeout_s=10.0,
            stream_idle_timeout_s=stream_idle_timeout_s)
        self.registry = CollectorRegistry()
        self.provider.register_metrics(self.registry)
        self.on_error_rate = 0.0
        self.base_error_rate = 0.0
        self.url = ""
        self._spread_on = _Spread()
        self._spread_all = _Spread()
        self._runner: web.AppRunner | None = None

    def connect(self) -> None:
        """Set the provider for this instance's domain (waits for the first snapshot)."""
        api.set_provider(self.provider, domain=self.domain)

    def variant_for(self, user: str) -> str | None:
        """The variant this instance's provider serves ``user`` now (for the watcher)."""
        return self.provider.resolve_boolean_details(FLAG, False,
                                                     EvaluationContext(user)).variant

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/checkout", self._checkout)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0, backlog=256).start()
        port = int(self._runner.addresses[0][1])
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _checkout(self, request: web.Request) -> web.StreamResponse:
        began = time.perf_counter()
        user = request.query.get("user", "")
        client = api.get_client(domain=self.domain)
        details = client.get_boolean_details(FLAG, False, EvaluationContext(user))
        variant = details.variant or "off"
        failed = self._spread_all.fails(self.base_error_rate)
        if variant == "on" and self._spread_on.fails(self.on_error_rate):
            failed = True
        status = 500 if failed else 200
        self.provider.record(FLAG, variant, ok=not failed,
                             latency_s=time.perf_counter() - began)
        return web.Response(status=status, text=f"{variant}\n")

    async def _metrics(self, request: web.Request) -> web.StreamResponse:
        body = generate_latest(self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _healthz(self, request: web.Request) -> web.StreamResponse:
        return web.Response(text="ok\n")


class FlagApps:
    """N instances on one event-loop thread; providers connected before they serve."""

    def __init__(self, count: int, service_url: str, token: str, *,
                 environment: str = "production", refresh_interval_s: float = 5.0,
                 stream_idle_timeout_s: float = 5.0) -> None:
        self.apps = [FlagApp(i, service_url, token, environment=environment,
                             refresh_interval_s=refresh_interval_s,
                             stream_idle_timeout_s=stream_idle_timeout_s)
                     for i in range(count)]
        self._loop = LoopThread("flag-apps")

    def __enter__(self) -> FlagApps:
        for app in self.apps:
            app.connect()
        self._loop.start()
        for app in self.apps:
            self._loop.run(app.start(), timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop.alive:
            for app in self.apps:
                self._loop.run(app.stop(), timeout=10)
        self._loop.stop()
        for app in self.apps:
            app.provider.shutdown()
        api.clear_providers()

    @property
    def urls(self) -> list[str]:
        """The base URL of every instance."""
        return [app.url for app in self.apps]

    def set_on_error_rate(self, rate: float) -> None:
        """Make the flag-on code path fail for ``rate`` of its users on every instance."""
        for app in self.apps:
            app.on_error_rate = rate


@dataclass
class LoadRun:
    """What a :class:`Load` has seen so far."""

    statuses: Counter[str] = field(default_factory=Counter)
    completed: int = 0
    stop: bool = False


class Load:
    """Requests round-robin over the instances, each for a new user, until told to stop."""

    def __init__(self, urls: Sequence[str], *, concurrency: int = 8) -> None:
        self.urls = list(urls)
        self.concurrency = concurrency
        self._loop = LoopThread("flag-load")
        self._users = itertools.count()

    @contextmanager
    def running(self, *, max_requests: int, max_seconds: float) -> Iterator[LoadRun]:
        """Keep requests in flight for the block (or until a bound is reached)."""
        run = LoadRun()
        self._loop.start()
        future = asyncio.run_coroutine_threadsafe(
            self._drive(run, max_requests, max_seconds), self._loop.loop)
        try:
            yield run
        finally:
            run.stop = True
            future.result(timeout=max_seconds + 15)
            self._loop.stop()

    async def _drive(self, run: LoadRun, max_requests: int, max_seconds: float) -> None:
        deadline = asyncio.get_running_loop().time() + max_seconds
        tickets = iter(range(max_requests))
        timeout = aiohttp.ClientTimeout(total=5)
        connector = aiohttp.TCPConnector(limit=self.concurrency * 2)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:

            async def worker(offset: int) -> None:
                for ticket in tickets:
                    if run.stop or asyncio.get_running_loop().time() > deadline:
                        return
                    url = self.urls[(ticket + offset) % len(self.urls)]
                    user = f"user-{next(self._users)}"
                    try:
                        async with session.get(f"{url}/checkout",
                                               params={"user": user}) as answer:
                            await answer.read()
                            run.statuses[str(answer.status)] += 1
                    except (aiohttp.ClientError, TimeoutError) as exc:
                        run.statuses[type(exc).__name__] += 1
                    run.completed += 1

            await asyncio.gather(*(worker(i) for i in range(self.concurrency)))
