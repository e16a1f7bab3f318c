"""What the HTTP handlers ask of the flag service: cached snapshots, evaluation, reads, writes.

**Snapshots** are built once per environment and data version and kept with their JSON body
and ETag, so snapshot requests, ``If-None-Match`` checks and evaluations cost no database
query while nothing changes. The version is the one the change watcher has published, so a
snapshot and the stream agree on what "version N" means; a snapshot may contain a change the
stream has not announced yet, which clients tolerate (an event never takes a flag back to an
older flag version).

**Writes** go through :class:`~safeship.store.flags.FlagStore` (compare-and-swap, history and
audit rows, all in one transaction), with the actor and reason of the request. Right after a
write the service runs the watcher's catch-up: the in-process notification, so stream
followers hear of the change at once and the writer reads its own write.

Database calls run in worker threads; the event loop never blocks on them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus

from safeship.engine.clock import Clock
from safeship.errors import NotFound, StoreUnavailable
from safeship.flags import Evaluation, EvaluationContext, Flag, evaluate
from safeship.flags.changes import FlagAction
from safeship.flags.validation import MAX_NAME_LENGTH, name_problem
from safeship.server.etag import strong_etag
from safeship.server.events import Broadcaster, ChangeWatcher
from safeship.server.payloads import snapshot_payload
from safeship.server.problems import RequestRefused
from safeship.store.flags import FlagChange, FlagStore, FlagUpdate, StoredFlag

log = logging.getLogger(__name__)

#: Snapshots of at most this many environments are cached (the oldest is forgotten first).
MAX_CACHED_ENVIRONMENTS = 64


@dataclass(frozen=True)
class SnapshotView:
    """One environment's flags at one data version, ready to serve and to evaluate."""

    environment: str
    version: int
    body: bytes
    etag: str
    flags: Mapping[str, Flag]


class FlagService:
    """The flag service's operations (see the module docstring)."""

    def __init__(self, store: FlagStore, watcher: ChangeWatcher, broadcaster: Broadcaster,
                 *, default_environment: str, clock: Clock) -> None:
        """Serve the flags of ``store``; ``default_environment`` when a request names none."""
        self.store = store
        self.watcher = watcher
        self.broadcaster = broadcaster
        self.default_environment = default_environment
        self._clock = clock
        self._snapshots: dict[str, SnapshotView] = {}
        self._build_lock = asyncio.Lock()

    def environment(self, requested: str | None, field: str = "environment") -> str:
        """The environment a request means: its own, checked, or the default.

        Raises:
            RequestRefused: 400, the name is not a valid environment name.
        """
        if requested is None:
            return self.default_environment
        problem = name_problem(requested, "an environment", MAX_NAME_LENGTH)
        if problem is not None:
            raise RequestRefused(HTTPStatus.BAD_REQUEST, problem, field=field)
        return requested

    # snapshots and evaluation -------------------------------------------------------------

    async def snapshot(self, environment: str) -> SnapshotView:
        """The flags of ``environment`` at the published data version (cached)."""
        version = self.broadcaster.version
        cached = self._snapshots.get(environment)
        if cached is not None and cached.version == version:
            return cached
        async with self._build_lock:
            cached = self._snapshots.get(environment)
            if cached is not None and cached.version == version:
                return cached
            stored = await asyncio.to_thread(self.store.list_flags)
            view = _view(environment, version, stored)
            if len(self._snapshots) >= MAX_CACHED_ENVIRONMENTS:
                self._snapshots.pop(next(iter(self._snapshots)))
            self._snapshots[environment] = view
            return view

    async def evaluate(self, key: str, context: EvaluationContext,
                       environment: str) -> tuple[Evaluation, int]:
        """Flag ``key`` evaluated for ``context``, and the data version used.

        Raises:
            NotFound: there is no flag ``key``.
        """
        view = await self.snapshot(environment)
        flag = view.flags.get(key)
        if flag is None:
            raise NotFound(f"no flag '{key}'", hint="GET /v1/flags lists the flags")
        return evaluate(flag, context, environment, flags=view.flags), view.version

    async def evaluate_all(self, context: EvaluationContext,
                           environment: str) -> tuple[dict[str, Evaluation], int]:
        """Every flag evaluated for ``context``, by key, and the data version used."""
        view = await self.snapshot(environment)
        results = {key: evaluate(flag, context, environment, flags=view.flags)
                   for key, flag in view.flags.items()}
        return results, view.version

    # reads --------------------------------------------------------------------------------

    async def flag(self, key: str) -> StoredFlag:
        """The stored flag ``key`` (straight from the store).

        Raises:
            NotFound: there is no such flag.
        """
        return await asyncio.to_thread(self.store.get, key)

    async def flags(self) -> list[StoredFlag]:
        """Every stored flag, by key."""
        return await asyncio.to_thread(self.store.list_flags)

    async def history(self, key: str, limit: int | None) -> list[FlagChange]:
        """The changes of flag ``key``, oldest first (the newest ``limit``)."""
        return await asyncio.to_thread(partial(self.store.history, key, limit=limit))

    # writes -------------------------------------------------------------------------------

    async def create(self, flag: Flag, *, actor: str, reason: str) -> StoredFlag:
        """Store the new flag ``flag`` (see :meth:`FlagStore.create`)."""
        stored = await asyncio.to_thread(partial(
            self.store.create, flag, actor=actor, reason=reason, at=self._clock.now()))
        await self._notify()
        return stored

    async def update(self, key: str, change: Callable[[Flag], Flag], *, action: FlagAction,
                     actor: str, reason: str, expected_version: int | None) -> FlagUpdate:
        """Apply ``change`` to flag ``key`` (see :meth:`FlagStore.update`)."""
        result = await asyncio.to_thread(partial(
            self.store.update, key, change, action=action, actor=actor, reason=reason,
            at=self._clock.now(), expected_version=expected_version))
        if result.changed:
            await self._notify()
        return result

    async def _notify(self) -> None:
        try:
            await self.watcher.catch_up()
        except StoreUnavailable as exc:
            # The change is stored; the poller will announce it once the store answers.
            log.warning("could not announce a flag change yet: %s", exc.message)


def _view(environment: str, version: int, stored: list[StoredFlag]) -> SnapshotView:
    body = json.dumps(snapshot_payload(environment, version, stored),
                      separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return SnapshotView(environment, version, body, strong_etag(version, body),
                        {s.flag.key: s.flag for s in stored})
