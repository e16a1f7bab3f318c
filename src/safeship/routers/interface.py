"""The routers family's contract: split live traffic between versions, and prove it.

A router sends each request to one *version*; each version is served by one or more
:class:`Endpoint`. The rollout engine tells it which endpoints serve which version
(:meth:`Router.set_backends`) and how to split traffic (:meth:`Router.set_weights`, percentages
that add up to 100), and reads the split back from the router itself (:meth:`Router.weights`):
the engine trusts what the router reports, never what it asked for.

Rules every router follows:

* Every call is idempotent: setting the same weights twice is harmless.
* A weight change applies to the very next request, and drops no request in flight.
* A router that cannot be driven raises :class:`RouterUnavailable` naming the router and what
  failed; a refused change (invalid weights, a reload that failed) raises
  :class:`RouterRejected` and leaves the previous split in force.
* ``pin_headers(version)`` gives the request headers that route one request to ``version``
  whatever the weights (smoke tests, DAST, A/B checks).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from safeship.errors import DependencyUnavailable, ExitCode, SafeshipError
from safeship.model.endpoints import Endpoint

PIN_HEADER = "X-Safeship-Version"
"""The header that pins a request to a version on every router that supports pinning."""


class RouterUnavailable(DependencyUnavailable):
    """The router could not be reached or driven."""


class RouterRejected(SafeshipError):
    """The router refused a change; the previous configuration stays in force."""

    exit_code = ExitCode.DEPENDENCY


class RouterOptions(BaseModel):
    """Base of every router's options model: strict, immutable, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def validate_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """Check a split: non-negative percentages over named versions adding up to 100."""
    if not weights:
        raise RouterRejected("a traffic split needs at least one version")
    for version, weight in weights.items():
        if not version:
            raise RouterRejected("a version name cannot be empty")
        if not 0 <= weight <= 100:
            raise RouterRejected(f"weight of '{version}' must be between 0 and 100, got {weight}")
    total = sum(weights.values())
    if abs(total - 100) > 1e-6:
        raise RouterRejected(f"weights must add up to 100, got {total:g}")
    return dict(weights)


class Router(ABC):
    """Splits traffic between versions."""

    type_name: ClassVar[str]
    """The YAML ``type:`` of this router (equal to its module name)."""

    @abstractmethod
    def set_backends(self, backends: Mapping[str, Sequence[Endpoint]]) -> None:
        """Declare which endpoints serve each version (versions not listed are removed)."""

    @abstractmethod
    def set_weights(self, weights: Mapping[str, float]) -> None:
        """Split traffic by percentage per version; applies to the next request."""

    @abstractmethod
    def weights(self) -> dict[str, float]:
        """The split in force, read back from the router itself, in percent."""

    def pin_headers(self, version: str) -> dict[str, str]:
        """Headers that route one request to ``version`` whatever the weights."""
        return {PIN_HEADER: version}

    @abstractmethod
    def reset(self) -> None:
        """Forget every version and weight (a clean router)."""

    def close(self) -> None:
        """Release what the router holds (sockets, child processes it started)."""
        return None
