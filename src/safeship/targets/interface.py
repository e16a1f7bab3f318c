"""The targets family's contract: make a version run with N healthy instances, and stop it.

Nothing here assumes processes or localhost: an instance has an id and an :class:`Endpoint`,
so a Kubernetes target (pods behind addresses) fits the same interface.

Rules every target follows:

* ``deploy`` and ``scale`` are idempotent: they *ensure* the version runs with that many
  instances, starting or stopping only the difference.
* ``health`` asks every instance now; it never reports a cached answer.
* ``retire`` stops every instance of a version gracefully (then forcibly after the grace
  period) and is harmless when the version does not run.
* A target that cannot act raises :class:`TargetUnavailable`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from safeship.errors import DependencyUnavailable
from safeship.model.endpoints import Endpoint


class TargetUnavailable(DependencyUnavailable):
    """The target could not start, stop or check a version."""


class TargetOptions(BaseModel):
    """Base of every target's options model: strict, immutable, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Artifact:
    """What is deployed: a path or image reference, with its sha256 digest when known."""

    reference: str
    sha256: str | None = None


@dataclass(frozen=True)
class Instance:
    """One running instance of a version."""

    version: str
    instance_id: str
    endpoint: Endpoint


@dataclass(frozen=True)
class InstanceHealth:
    """The answer of one instance to a health check."""

    instance: Instance
    healthy: bool
    detail: str


class Target(ABC):
    """Runs versions of a service."""

    type_name: ClassVar[str]
    """The YAML ``type:`` of this target (equal to its module name)."""

    @abstractmethod
    def deploy(self, version: str, replicas: int,
               artifact: Artifact | None = None) -> tuple[Instance, ...]:
        """Ensure ``version`` runs with ``replicas`` instances; return them."""

    @abstractmethod
    def scale(self, version: str, replicas: int) -> tuple[Instance, ...]:
        """Change the number of instances of a running version."""

    @abstractmethod
    def instances(self, version: str) -> tuple[Instance, ...]:
        """The instances of ``version`` that run now (empty when it does not run)."""

    @abstractmethod
    def health(self, version: str) -> tuple[InstanceHealth, ...]:
        """Check every instance of ``version`` now."""

    @abstractmethod
    def retire(self, version: str) -> None:
        """Stop every instance of ``version``."""

    def close(self) -> None:
        """Stop everything this target started (used by tests and the demo)."""
        return None
