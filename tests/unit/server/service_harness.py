"""A flag service over a temp SQLite store, driven in process through ASGI (no socket).

:func:`served` runs the app's lifespan (so the change watcher runs) and yields an httpx client
on :class:`httpx.ASGITransport`. :class:`AsgiStream` follows ``GET /v1/stream`` by calling the
ASGI app directly, because a buffered transport would wait for an end that never comes.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from safeship.flags import Flag
from safeship.server.auth import Access, Credential, TokenSet
from safeship.server.change_feed import ChangeFeed
from safeship.server.flags_app import create_flags_app
from safeship.server.settings import ServiceSettings
from safeship.store.flags import FlagStore
from safeship.store.urls import STATE_DIR, STATE_FILE, default_database_url
from tests.unit.store.flag_store_checks import T0

READ_TOKEN = "read-token-" + "r" * 20
WRITE_TOKEN = "write-token-" + "w" * 20
READ = {"Authorization": f"Bearer {READ_TOKEN}"}
WRITE = {"Authorization": f"Bearer {WRITE_TOKEN}"}
TOKENS = TokenSet([Credential.of("reader", Access.READ, READ_TOKEN),
                   Credential.of("deployer", Access.WRITE, WRITE_TOKEN)])
#: Short timings so that tests wait milliseconds, not seconds.
FAST = ServiceSettings(poll_interval_s=0.02, keepalive_s=0.05)
BASE_URL = "http://flags.test"
_WAIT_S = 5.0


@dataclass
class Service:
    """A store, its change feed and an app over them."""

    root: Path
    store: FlagStore
    feed: ChangeFeed
    app: Starlette

    def add(self, *flags: Flag) -> None:
        """Store ``flags`` directly (as the CLI would), as ``setup``."""
        for flag in flags:
            self.store.create(flag, actor="setup", reason="test setup", at=T0)


def make_service(root: Path, *, tokens: TokenSet | None = TOKENS,
                 settings: ServiceSettings = FAST) -> Service:
    """A migrated store under ``root`` and the app over it."""
    # Copying a store migrated once is much faster than migrating one per test.
    target = root / STATE_DIR / STATE_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_migrated_template(), target)
    store = FlagStore.open(None, root)
    feed = ChangeFeed(default_database_url(root))
    return Service(root, store, feed, create_flags_app(store, feed, tokens, settings=settings))


@functools.cache
def _migrated_template() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="safeship-flag-service-template-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    FlagStore.open(None, folder).close()
    return folder / STATE_DIR / STATE_FILE


@contextlib.asynccontextmanager
async def served(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan running, and a client on it."""
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
        yield client


@dataclass
class AsgiStream:
    """One ``GET /v1/stream`` request run against the ASGI app; frames collected as text."""

    app: Starlette
    query: str = ""
    headers: Iterable[tuple[str, str]] = (("authorization", f"Bearer {READ_TOKEN}"),)
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    text: str = ""
    _disconnect: asyncio.Event = field(default_factory=asyncio.Event)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> AsgiStream:
        scope: dict[str, Any] = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "GET", "scheme": "http", "path": "/v1/stream", "raw_path": b"/v1/stream",
            "query_string": self.query.encode(), "root_path": "",
            "headers": [(k.encode(), v.encode()) for k, v in self.headers],
            "client": ("127.0.0.1", 1), "server": ("flags.test", 80), "state": {},
            "app": self.app,
        }
        self._task = asyncio.create_task(self.app(scope, self._receive, self._send))
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._disconnect.set()
        if self._task is not None:
            await asyncio.wait_for(self._task, _WAIT_S)

    @property
    def finished(self) -> bool:
        """True once the app has answered completely (the stream ended)."""
        return self._task is not None and self._task.done()

    async def _receive(self) -> dict[str, Any]:
        await self._disconnect.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.response_headers = {k.decode().lower(): v.decode()
                                     for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            self.text += message.get("body", b"").decode()
        self._changed.set()

    async def wait_for(self, fragment: str, *, count: int = 1) -> str:
        """Wait (bounded) until ``fragment`` occurs ``count`` times; the text so far."""
        deadline = asyncio.get_running_loop().time() + _WAIT_S
        while self.text.count(fragment) < count:
            if self.finished:
                break
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        assert self.text.count(fragment) >= count, (
            f"{fragment!r} x{count} never came; got:\n{self.text}")
        return self.text

    async def wait_finished(self) -> None:
        """Wait (bounded) for the stream to end on the server's side."""
        assert self._task is not None
        await asyncio.wait_for(asyncio.shield(self._task), _WAIT_S)
