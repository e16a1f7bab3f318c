"""The embedded router's routing table: which version, and which endpoint, serves a request.

A :class:`RoutingTable` is built whole for every change (new backends, new weights) and swapped
in with one reference assignment, so a request sees either the old table or the new one, never
a mix, and the very next request after a change uses the new table. The configuration inside a
table (backends, weights) never changes. Each table also carries the running state of its
round-robins; only the proxy's event-loop thread advances it, so it needs no lock.

How a version is chosen, first rule that applies:

1. **Pinned**: the request names a version in ``X-Safeship-Version`` that the table serves,
   whatever its weight (smoke tests reach a version at 0 %).
2. **Cookie** (``sticky: cookie``): the ``safeship_version`` cookie names a version whose weight
   is above 0. A version at 0 % is never kept sticky, so a rollback moves every client.
3. **Header** (``sticky: header:<Name>``): the header's value is hashed with *weighted rendezvous
   hashing*: each version with a weight scores ``weight / -ln(u)``, ``u`` a uniform number in
   (0, 1) derived from a hash of (value, version), and the highest score wins. A version wins
   with probability proportional to its weight, the answer does not depend on the order of the
   versions, and raising a canary's weight only moves values *to* the canary.
4. **Weights**: *smooth weighted round-robin*. Each pick adds every version's weight to its
   running credit, takes the version with the most credit, and charges it the total. The split
   is exact over every cycle of ``total / gcd`` picks (90/10 repeats every 10 requests, with
   the minority version spread out, not bunched), so proportions hold per request, under any
   concurrency, with no randomness. Weights are honoured to 0.001 percentage points.

Within a version, endpoints take turns (round-robin).
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from safeship.model.endpoints import Endpoint
from safeship.routers.interface import RouterRejected, validate_weights

WEIGHT_UNITS_PER_PERCENT = 1000
"""Weights are turned into whole units of 0.001 percentage points for the round-robin."""

Via = Literal["pin", "cookie", "header", "weights"]


@dataclass(frozen=True)
class Route:
    """Where one request goes, and which rule chose it."""

    version: str
    endpoint: Endpoint
    via: Via


@dataclass(frozen=True)
class Unroutable:
    """Why a request could not be routed; the proxy answers 503 with ``reason``."""

    reason: str


class SmoothWeightedRoundRobin:
    """Deterministic weighted picks whose split is exact over each cycle (see module doc)."""

    def __init__(self, weights: Mapping[str, float]) -> None:
        units = {version: round(weight * WEIGHT_UNITS_PER_PERCENT)
                 for version, weight in weights.items()}
        units = {version: unit for version, unit in units.items() if unit > 0}
        divisor = math.gcd(*units.values()) if units else 1
        self._names = tuple(units)
        self._weights = tuple(unit // divisor for unit in units.values())
        self._total = sum(self._weights)
        self._credit = [0] * len(self._names)

    def pick(self) -> str | None:
        """The next version, or None when no version has a weight."""
        if len(self._names) <= 1:
            return self._names[0] if self._names else None
        credit = self._credit
        best = 0
        for index, weight in enumerate(self._weights):
            credit[index] += weight
            if credit[index] > credit[best]:
                best = index
        credit[best] -= self._total
        return self._names[best]


def rendezvous_choice(key: str, weights: Mapping[str, float]) -> str | None:
    """The version ``key`` maps to by weighted rendezvous hashing (see module doc)."""
    best: str | None = None
    best_score = -math.inf
    for version, weight in weights.items():
        if weight <= 0:
            continue
        digest = hashlib.blake2b(f"{version}\x00{key}".encode(), digest_size=8).digest()
        uniform = (int.from_bytes(digest, "big") + 0.5) / 2.0**64  # strictly inside (0, 1)
        score = weight / -math.log(uniform)
        if score > best_score:
            best, best_score = version, score
    return best


def _checked_backends(backends: Mapping[str, Sequence[Endpoint]]
                      ) -> dict[str, tuple[Endpoint, ...]]:
    checked: dict[str, tuple[Endpoint, ...]] = {}
    for version, endpoints in backends.items():
        if not version:
            raise RouterRejected("a version name cannot be empty")
        if not endpoints:
            raise RouterRejected(f"version '{version}' needs at least one endpoint")
        for endpoint in endpoints:
            if not endpoint.host or not 0 < endpoint.port <= 65535:
                raise RouterRejected(f"version '{version}' has an invalid endpoint '{endpoint}'")
        checked[version] = tuple(endpoints)
    return checked


@dataclass(frozen=True)
class RoutingTable:
    """Backends and weights in force, plus the round-robin state that goes with them."""

    backends: Mapping[str, tuple[Endpoint, ...]]
    weights: Mapping[str, float]
    _split: SmoothWeightedRoundRobin = field(repr=False, compare=False)
    _turns: Mapping[str, Iterator[int]] = field(repr=False, compare=False)

    @classmethod
    def build(cls, backends: Mapping[str, Sequence[Endpoint]],
              weights: Mapping[str, float]) -> RoutingTable:
        """A table, after checking that every weighted version has endpoints."""
        checked = _checked_backends(backends)
        if weights:
            weights = validate_weights(weights)
            unknown = sorted(set(weights) - set(checked))
            if unknown:
                raise RouterRejected(
                    f"no backends are declared for version(s) {', '.join(unknown)}",
                    hint="call set_backends with every version before weighting it")
        frozen_weights = {version: float(weight) for version, weight in weights.items()}
        return cls(
            backends=MappingProxyType(checked),
            weights=MappingProxyType(frozen_weights),
            _split=SmoothWeightedRoundRobin(frozen_weights),
            _turns=MappingProxyType({version: itertools.count() for version in checked}),
        )

    @classmethod
    def empty(cls) -> RoutingTable:
        """No versions, no weights: every request that is not pinned gets 503."""
        return cls.build({}, {})

    def with_weights(self, weights: Mapping[str, float]) -> RoutingTable:
        """A new table with this one's backends and ``weights`` (checked, never empty)."""
        return RoutingTable.build(self.backends, validate_weights(weights))

    def with_backends(self, backends: Mapping[str, Sequence[Endpoint]]) -> RoutingTable:
        """A new table with ``backends``; a version still carrying traffic cannot be removed."""
        removed = [version for version, weight in self.weights.items()
                   if version not in backends and weight > 0]
        if removed:
            raise RouterRejected(
                f"version(s) {', '.join(sorted(removed))} still carry traffic",
                hint="set their weight to 0 before removing their backends")
        kept = {version: weight for version, weight in self.weights.items()
                if version in backends}
        return RoutingTable.build(backends, kept)

    def route(self, *, pin: str | None = None, cookie: str | None = None,
              sticky_key: str | None = None) -> Route | Unroutable:
        """Choose the version and endpoint for one request (rules in the module doc)."""
        if pin is not None:
            if pin not in self.backends:
                return Unroutable(f"no backend serves version '{pin}' (from the pin header)")
            return self._endpoint_of(pin, "pin")
        if cookie is not None and self.weights.get(cookie, 0.0) > 0:
            return self._endpoint_of(cookie, "cookie")
        if sticky_key is not None:
            chosen = rendezvous_choice(sticky_key, self.weights)
            if chosen is not None:
                return self._endpoint_of(chosen, "header")
        picked = self._split.pick()
        if picked is None:
            return Unroutable("no version has a traffic weight")
        return self._endpoint_of(picked, "weights")

    def _endpoint_of(self, version: str, via: Via) -> Route:
        endpoints = self.backends[version]
        turn = next(self._turns[version]) if len(endpoints) > 1 else 0
        return Route(version, endpoints[turn % len(endpoints)], via)
