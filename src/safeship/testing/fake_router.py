"""An in-memory router for the engine's tests: no sockets, same rules, every call recorded.

:class:`FakeRouter` keeps the rules of :mod:`safeship.routers.interface` as the ``embedded``
router does, and both pass the API-level half of ``tests/contract/test_router_contract.py``:

* weights are checked with :func:`~safeship.routers.interface.validate_weights`, and naming a
  version without backends is refused; a refused change leaves the split in force untouched;
* ``set_backends`` replaces the versions; removing one that still carries traffic is refused;
* ``weights()`` reads back exactly the split in force (``{}`` before the first split);
* ``reset()`` forgets versions and weights; after ``close()`` every call raises
  :class:`~safeship.routers.interface.RouterUnavailable`.

It carries no HTTP traffic. To rehearse an outage, :meth:`FakeRouter.make_unavailable` makes
every later call raise :class:`RouterUnavailable` until :meth:`FakeRouter.make_available`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from safeship.model.endpoints import Endpoint
from safeship.routers.interface import (
    Router,
    RouterRejected,
    RouterUnavailable,
    validate_weights,
)


@dataclass(frozen=True)
class RouterCall:
    """One call made to the fake, in order, with its arguments and whether it was refused."""

    method: str
    weights: Mapping[str, float] | None = None
    backends: Mapping[str, tuple[Endpoint, ...]] | None = None
    refused: str | None = None


class FakeRouter(Router):
    """Splits no traffic; keeps the rules and records every call (see the module doc)."""

    type_name: ClassVar[str] = "fake"

    def __init__(self) -> None:
        self.calls: list[RouterCall] = []
        """Every call, in order (refused ones too, with the reason)."""
        self.history: list[dict[str, float]] = []
        """Every split that took effect, in order."""
        self.closed = False
        self._backends: dict[str, tuple[Endpoint, ...]] = {}
        self._weights: dict[str, float] = {}
        self._outage: str | None = None
        self._lock = threading.Lock()

    def make_unavailable(self, reason: str = "the fake router is down") -> None:
        """Make every later call raise :class:`RouterUnavailable` with ``reason``."""
        with self._lock:
            self._outage = reason

    def make_available(self) -> None:
        """End an outage started by :meth:`make_unavailable`."""
        with self._lock:
            self._outage = None

    def backends(self) -> dict[str, list[Endpoint]]:
        """The endpoints declared per version."""
        with self._lock:
            self._check_available()
            return {version: list(endpoints) for version, endpoints in self._backends.items()}

    def set_backends(self, backends: Mapping[str, Sequence[Endpoint]]) -> None:
        """Replace the versions and their endpoints."""
        frozen = {version: tuple(endpoints) for version, endpoints in backends.items()}
        with self._lock:
            try:
                self._check_available()
                self._set_backends(frozen)
            except (RouterRejected, RouterUnavailable) as exc:
                self.calls.append(RouterCall("set_backends", backends=frozen,
                                             refused=exc.message))
                raise
            self.calls.append(RouterCall("set_backends", backends=frozen))

    def set_weights(self, weights: Mapping[str, float]) -> None:
        """Change the split, after the same checks as every router."""
        copy = dict(weights)
        with self._lock:
            try:
                self._check_available()
                checked = validate_weights(copy)
                unknown = sorted(set(checked) - set(self._backends))
                if unknown:
                    raise RouterRejected(
                        f"no backends are declared for version(s) {', '.join(unknown)}")
            except (RouterRejected, RouterUnavailable) as exc:
                self.calls.append(RouterCall("set_weights", weights=copy, refused=exc.message))
                raise
            self._weights = {version: float(weight) for version, weight in checked.items()}
            self.history.append(dict(self._weights))
            self.calls.append(RouterCall("set_weights", weights=copy))

    def weights(self) -> dict[str, float]:
        """The split in force."""
        with self._lock:
            self._check_available()
            return dict(self._weights)

    def reset(self) -> None:
        """Forget every version and weight."""
        with self._lock:
            self._check_available()
            self._backends = {}
            self._weights = {}
            self.calls.append(RouterCall("reset"))

    def close(self) -> None:
        """Mark the fake closed (idempotent); later calls raise RouterUnavailable."""
        with self._lock:
            if not self.closed:
                self.calls.append(RouterCall("close"))
            self.closed = True

    def _check_available(self) -> None:
        if self.closed:
            raise RouterUnavailable("the fake router is closed")
        if self._outage is not None:
            raise RouterUnavailable(self._outage)

    def _set_backends(self, backends: dict[str, tuple[Endpoint, ...]]) -> None:
        for version, endpoints in backends.items():
            if not version:
                raise RouterRejected("a version name cannot be empty")
            if not endpoints:
                raise RouterRejected(f"version '{version}' needs at least one endpoint")
        removed = sorted(version for version, weight in self._weights.items()
                         if version not in backends and weight > 0)
        if removed:
            raise RouterRejected(f"version(s) {', '.join(removed)} still carry traffic",
                                 hint="set their weight to 0 before removing their backends")
        self._backends = backends
        self._weights = {version: weight for version, weight in self._weights.items()
                         if version in backends}
