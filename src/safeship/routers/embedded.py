"""The ``embedded`` router: safeship's own reverse proxy, for machines without HAProxy or NGINX.

:class:`EmbeddedRouter` runs an aiohttp proxy (:mod:`.embedded_proxy`) and an admin API
(:mod:`.embedded_admin`) on one asyncio event loop in a thread of its own
(:mod:`.embedded_loop`), so the synchronous engine drives it with plain method calls::

    router = EmbeddedRouter(EmbeddedOptions(sticky="cookie"))
    address = router.start()                       # Endpoint(host='127.0.0.1', port=...)
    router.set_backends({"v1": [Endpoint("127.0.0.1", 8001)],
                         "v2": [Endpoint("127.0.0.1", 8002)]})
    router.set_weights({"v1": 90, "v2": 10})       # applies to the very next request
    router.snapshot("v2")                          # cumulative counters, any thread
    router.close()                                 # stops both listeners, joins the thread

How requests are split (smooth weighted round-robin: exact per cycle, no randomness), pinned
(``X-Safeship-Version``) and kept sticky is told in :mod:`.embedded_table`. A change builds a
new immutable routing table and swaps it in with one assignment: the next request uses it, and
requests already in flight finish on the table they started with.

Configuration calls (:meth:`EmbeddedRouter.set_backends`, :meth:`~EmbeddedRouter.set_weights`)
work before :meth:`~EmbeddedRouter.start` too; after :meth:`~EmbeddedRouter.close` every call
raises :class:`RouterUnavailable`. Binding the admin API to an address other than loopback
needs ``unsafe_admin_bind: true`` and logs a warning at every start.

:meth:`EmbeddedRouter.snapshot` returns a :class:`CounterSnapshot`, the same fields as
:class:`safeship.metrics.interface.CounterSnapshot`, for the ``builtin`` metric provider.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from types import TracebackType
from typing import ClassVar

from aiohttp import web

from safeship.model.counters import CounterSnapshot
from safeship.model.endpoints import Endpoint
from safeship.routers.embedded_admin import AdminActions, admin_app
from safeship.routers.embedded_loop import LoopThread
from safeship.routers.embedded_metrics import (
    RouterCounters,
    exposition,
    private_registry,
)
from safeship.routers.embedded_options import EmbeddedOptions, ListenAddress
from safeship.routers.embedded_proxy import ProxyHandler
from safeship.routers.embedded_table import RoutingTable
from safeship.routers.interface import Router, RouterOptions, RouterRejected, RouterUnavailable

__all__ = ["CounterSnapshot", "EmbeddedOptions", "EmbeddedRouter"]

log = logging.getLogger(__name__)

START_TIMEOUT_S = 10.0
"""Seconds :meth:`EmbeddedRouter.start` waits for both listeners."""
CLOSE_GRACE_S = 5.0
"""Seconds :meth:`EmbeddedRouter.close` lets requests in flight finish before cutting them."""
LISTEN_BACKLOG = 512
"""Pending connections the kernel queues for the proxy listener."""


class _State(Enum):
    NEW = "new"
    RUNNING = "running"
    CLOSED = "closed"


class EmbeddedRouter(Router):
    """Safeship's built-in reverse proxy (see the module doc)."""

    type_name: ClassVar[str] = "embedded"
    options_model: ClassVar[type[RouterOptions]] = EmbeddedOptions

    def __init__(self, options: EmbeddedOptions | None = None, *,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self.options = options if options is not None else EmbeddedOptions()
        secret = self.options.admin_token
        self._admin_token = (secret.get_secret_value() if secret is not None
                             else secrets.token_urlsafe(32))
        self._lock = threading.Lock()  # serialises table changes; readers take it as it is
        # Start and close hold their own lock, never the table's: the admin API changes the
        # table from the loop thread, which close() waits on.
        self._life = threading.Lock()
        self._table = RoutingTable.empty()
        self._counters = RouterCounters(wall_clock)
        self._registry = private_registry(self._counters, lambda: self._table.weights)
        self._state = _State.NEW
        self._loop: LoopThread | None = None
        self._proxy: ProxyHandler | None = None
        self._runners: list[web.BaseRunner] = []
        self._address: Endpoint | None = None
        self._admin_address: Endpoint | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Endpoint:
        """Start both listeners and return the proxy's bound address (idempotent)."""
        with self._life:
            if self._state is _State.RUNNING and self._address is not None:
                return self._address
            self._ensure_open()
            admin = self.options.admin_address
            if not admin.is_loopback:
                if not self.options.unsafe_admin_bind:
                    raise RouterRejected(
                        f"the admin API may not listen on {self.options.admin_listen}, which is "
                        "not loopback", hint="set unsafe_admin_bind: true to allow it")
                log.warning(
                    "UNSAFE: the embedded router's admin API listens on %s, which is not a "
                    "loopback address (unsafe_admin_bind: true); whoever reaches it with the "
                    "token can move live traffic", self.options.admin_listen)
            loop = LoopThread(f"safeship-embedded-router-{id(self):x}")
            loop.start()
            self._loop = loop
            try:
                address = loop.run(self._start_listeners(self.options.listen_address, admin),
                                   timeout=START_TIMEOUT_S)
            except BaseException as exc:  # whatever failed, leave no thread or socket behind
                with self._lock:
                    self._state = _State.CLOSED
                self._shutdown()
                if not isinstance(exc, OSError | TimeoutError):
                    raise
                raise RouterUnavailable(
                    f"the embedded router could not listen on {self.options.listen} / "
                    f"{self.options.admin_listen}: {exc}",
                    hint="pick free ports, or port 0 for any free one") from exc
            with self._lock:
                self._state = _State.RUNNING
            log.info("embedded router serving on %s, admin API on %s",
                     address, self._admin_address)
            return address

    def close(self) -> None:
        """Stop both listeners (requests in flight get a short grace), join the thread."""
        with self._life:
            with self._lock:
                if self._state is _State.CLOSED:
                    return
                self._state = _State.CLOSED
            self._shutdown()

    def __enter__(self) -> EmbeddedRouter:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    # -- where it listens --------------------------------------------------------------------

    @property
    def address(self) -> Endpoint:
        """The proxy's bound address (after :meth:`start`)."""
        return self._bound(self._address)

    @property
    def url(self) -> str:
        """``http://host:port`` of the proxy."""
        return self.address.url()

    @property
    def admin_address(self) -> Endpoint:
        """The admin API's bound address (after :meth:`start`)."""
        return self._bound(self._admin_address)

    @property
    def admin_url(self) -> str:
        """``http://host:port`` of the admin API."""
        return self.admin_address.url()

    @property
    def admin_token(self) -> str:
        """The admin API's bearer token (from the options, or generated). Keep it secret."""
        return self._admin_token

    # -- the Router interface ------------------------------------------------------------------

    def set_backends(self, backends: Mapping[str, Sequence[Endpoint]]) -> None:
        """Declare the endpoints of each version; unlisted versions go (if at 0 %)."""
        with self._lock:
            self._ensure_open()
            self._table = self._table.with_backends(backends)

    def set_weights(self, weights: Mapping[str, float]) -> None:
        """Swap in a new split; the next request follows it. Refused changes change nothing."""
        with self._lock:
            self._ensure_open()
            self._table = self._table.with_weights(weights)

    def weights(self) -> dict[str, float]:
        """The split in the routing table in force ({} before the first set_weights)."""
        self._ensure_open()
        return dict(self._table.weights)

    def backends(self) -> dict[str, list[Endpoint]]:
        """The endpoints in the routing table in force."""
        self._ensure_open()
        return {version: list(endpoints) for version, endpoints in self._table.backends.items()}

    def reset(self) -> None:
        """Forget every version and weight: unpinned requests get 503 until reconfigured."""
        with self._lock:
            self._ensure_open()
            self._table = RoutingTable.empty()

    # -- counters -----------------------------------------------------------------------------

    def snapshot(self, version: str) -> CounterSnapshot:
        """Cumulative counters of ``version`` (zeros if it never got a request); thread-safe."""
        return self._counters.snapshot(version)

    def metrics_text(self) -> bytes:
        """What ``GET /metrics`` on the admin API answers."""
        return exposition(self._registry)

    # -- internals ------------------------------------------------------------------------------

    def _ensure_open(self) -> None:
        if self._state is _State.CLOSED:
            raise RouterUnavailable("the embedded router is closed",
                                    hint="make a new EmbeddedRouter and start it")

    @staticmethod
    def _bound(address: Endpoint | None) -> Endpoint:
        if address is None:
            raise RouterUnavailable("the embedded router is not listening",
                                    hint="call start() first")
        return address

    async def _start_listeners(self, listen: ListenAddress, admin: ListenAddress) -> Endpoint:
        proxy = ProxyHandler(lambda: self._table, self._counters, self.options.stickiness,
                             self.options.upstream_timeout)
        self._proxy = proxy
        await proxy.open()
        proxy_runner = web.ServerRunner(web.Server(proxy, access_log=None),
                                        shutdown_timeout=CLOSE_GRACE_S)
        await proxy_runner.setup()
        self._runners.append(proxy_runner)
        await web.TCPSite(proxy_runner, listen.host, listen.port,
                          backlog=LISTEN_BACKLOG).start()
        self._address = _first_address(proxy_runner)
        actions = AdminActions(
            weights=lambda: self._table.weights,
            backends=lambda: {version: [str(endpoint) for endpoint in endpoints]
                              for version, endpoints in self._table.backends.items()},
            set_weights=self.set_weights,
            metrics=self.metrics_text)
        admin_runner = web.AppRunner(admin_app(self._admin_token, actions), access_log=None,
                                     shutdown_timeout=CLOSE_GRACE_S)
        await admin_runner.setup()
        self._runners.append(admin_runner)
        await web.TCPSite(admin_runner, admin.host, admin.port).start()
        self._admin_address = _first_address(admin_runner)
        return self._address

    async def _stop_listeners(self) -> None:
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()
        if self._proxy is not None:
            await self._proxy.close()

    def _shutdown(self) -> None:
        loop = self._loop
        if loop is None:
            return
        if loop.alive:
            try:
                loop.run(self._stop_listeners(), timeout=CLOSE_GRACE_S + START_TIMEOUT_S)
            except Exception:  # stop the thread regardless; say why the clean stop failed
                log.exception("the embedded router did not stop cleanly")
        if not loop.stop(timeout=START_TIMEOUT_S):  # pragma: no cover - a wedged loop
            log.error("the embedded router's thread did not end")
        self._loop = None


def _first_address(runner: web.BaseRunner) -> Endpoint:
    address = runner.addresses[0]
    return Endpoint(str(address[0]), int(address[1]))
