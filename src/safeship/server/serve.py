"""Running the flag service under uvicorn: open the store, serve, shut down cleanly.

:func:`run_flag_service` blocks until the process is asked to stop (SIGINT/SIGTERM). It calls
``on_ready`` with the address once the socket listens (the real port when 0 was asked for), so
a caller can announce it. On shutdown every SSE stream is ended first: otherwise uvicorn would
wait for those never-ending answers before it stops.

Authentication is on unless ``tokens`` is None (``--unsafe-no-auth``), which is logged as a
warning every time the service starts.
"""

from __future__ import annotations

import copy
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
import uvicorn.config
from starlette.applications import Starlette

from safeship.engine.clock import Clock
from safeship.errors import DependencyUnavailable
from safeship.server.auth import TokenSet
from safeship.server.change_feed import ChangeFeed
from safeship.server.events import Broadcaster
from safeship.server.flags_app import create_flags_app
from safeship.server.settings import ServiceSettings
from safeship.store.flags import FlagStore
from safeship.store.urls import default_database_url

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8700
#: Seconds uvicorn waits for requests in flight once streams are closed, before cancelling.
GRACEFUL_SHUTDOWN_S = 5


@dataclass(frozen=True)
class ServeOptions:
    """Where and how to serve."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    settings: ServiceSettings = field(default_factory=ServiceSettings)
    access_log: bool = False
    log_level: str = "warning"


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        packed = socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
    except OSError:
        return False
    if len(packed) == 4:
        return packed[0] == 127
    return packed == socket.inet_pton(socket.AF_INET6, "::1")


def run_flag_service(database_url: str | None, project_root: Path, tokens: TokenSet | None,
                     options: ServeOptions, *, on_ready: Callable[[str], None] | None = None,
                     stop: threading.Event | None = None, clock: Clock | None = None) -> None:
    """Serve the flags of the store at ``database_url`` (default: the project's SQLite file)
    until interrupted, or until ``stop`` is set (for a service run in a thread: signals only
    reach the main thread).

    Raises:
        StoreUnavailable: the store cannot be opened.
        DependencyUnavailable: the service could not start (e.g. the port is taken).
    """
    if tokens is None:
        log.warning("UNSAFE: the flag service runs WITHOUT authentication (--unsafe-no-auth): "
                    "anyone who can reach it (it listens on %s) can read and change every flag",
                    options.host)
    store = FlagStore.open(database_url, project_root)
    feed: ChangeFeed | None = None
    try:
        feed = ChangeFeed(database_url or default_database_url(project_root))
        app = create_flags_app(store, feed, tokens, settings=options.settings, clock=clock)
        config = uvicorn.Config(
            app, host=options.host, port=options.port, lifespan="on",
            log_config=log_config(options), log_level=None, access_log=options.access_log,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S, server_header=False,
            proxy_headers=False)
        server = _Server(config, app, on_ready, stop)
        try:
            server.run()
        except SystemExit as exc:  # uvicorn exits when it cannot bind or start the app
            raise DependencyUnavailable(
                f"the flag service could not start on {options.host}:{options.port}",
                hint="is the port taken (choose another with --port), or the store "
                     "unreadable? the log above says which") from exc
    finally:
        if feed is not None:
            feed.close()
        store.close()


def log_config(options: ServeOptions) -> dict[str, Any]:
    """uvicorn's logging: its own messages at ``options.log_level``, request lines (with
    ``access_log``) at INFO, everything on stderr, since stdout carries the announcement."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    level = options.log_level.upper()
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    config["loggers"]["uvicorn"]["level"] = level
    config["loggers"]["uvicorn.error"]["level"] = level
    config["loggers"]["uvicorn.access"]["level"] = "INFO" if options.access_log else level
    return config


class _Server(uvicorn.Server):
    """uvicorn's server, announcing its address once bound and ending streams before it
    stops."""

    def __init__(self, config: uvicorn.Config, app: Starlette,
                 on_ready: Callable[[str], None] | None, stop: threading.Event | None) -> None:
        super().__init__(config)
        self._broadcaster: Broadcaster = app.state.broadcaster
        self._on_ready = on_ready
        self._stop = stop

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self._on_ready is not None:
            address = self.servers[0].sockets[0].getsockname()
            host = f"[{address[0]}]" if ":" in address[0] else address[0]
            self._on_ready(f"http://{host}:{address[1]}")

    async def on_tick(self, counter: int) -> bool:
        # uvicorn's main loop asks about ten times a second whether to stop.
        if self._stop is not None and self._stop.is_set():
            return True
        return await super().on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._broadcaster.close()
        await super().shutdown(sockets)
