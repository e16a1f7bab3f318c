"""An in-memory target for the engine's tests: instant, scriptable, and honest.

:class:`FakeTarget` keeps the rules of :mod:`safeship.targets.interface` exactly as the real
``local`` target does (both pass ``tests/contract/test_target_contract.py``): idempotent deploy,
scale by the difference, health asked "now", an instance killed from outside reported unhealthy,
retire harmless for unknown versions. It records every call, and versions can be made to crash
on start or to answer their health check with 500.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Collection
from dataclasses import dataclass
from typing import ClassVar

from safeship.errors import UsageError
from safeship.model.endpoints import Endpoint
from safeship.targets.interface import (
    Artifact,
    Instance,
    InstanceHealth,
    Target,
    TargetUnavailable,
)


@dataclass(frozen=True)
class TargetCall:
    """One call made to the fake, in order."""

    method: str
    version: str | None = None
    replicas: int | None = None
    artifact: Artifact | None = None


@dataclass
class _FakeInstance:
    instance: Instance
    index: int
    artifact: Artifact | None
    alive: bool = True


class FakeTarget(Target):
    """Runs versions in memory; see the module docstring."""

    type_name: ClassVar[str] = "fake"

    def __init__(self, *, unhealthy_versions: Collection[str] = (),
                 crashing_versions: Collection[str] = (), host: str = "127.0.0.1",
                 first_port: int = 20000) -> None:
        self.unhealthy_versions = set(unhealthy_versions)
        """Versions whose instances start but answer their health check with 500."""
        self.crashing_versions = set(crashing_versions)
        """Versions whose instances exit as soon as they start."""
        self.calls: list[TargetCall] = []
        self.started: list[Instance] = []
        """Every instance started so far, in order."""
        self.stopped: list[Instance] = []
        """Every instance stopped so far, in order (retired, scaled down or replaced)."""
        self.host = host
        self._ports = itertools.count(first_port)
        self._running: dict[str, _FakeInstance] = {}
        self._lock = threading.Lock()

    # -- the Target interface ------------------------------------------------------------------

    def deploy(self, version: str, replicas: int,
               artifact: Artifact | None = None) -> tuple[Instance, ...]:
        """Ensure ``version`` runs ``replicas`` healthy instances, keeping healthy ones."""
        _check(version, replicas)
        with self._lock:
            self.calls.append(TargetCall("deploy", version, replicas, artifact))
            current = self._drop_dead(version)
            keep = [i for i in current if self._healthy(i)
                    and (artifact is None or i.artifact == artifact)]
            self._stop([i for i in current if i not in keep] + keep[replicas:])
            keep = keep[:replicas]
            if artifact is None and keep:
                artifact = keep[0].artifact
            self._start(version, replicas - len(keep), artifact)
            return self._instances(version)

    def scale(self, version: str, replicas: int) -> tuple[Instance, ...]:
        """Start or stop instances of a deployed version until ``replicas`` run."""
        _check(version, replicas)
        with self._lock:
            self.calls.append(TargetCall("scale", version, replicas))
            known = self._of(version)
            if not known:
                if replicas == 0:
                    return ()
                raise TargetUnavailable(f"version '{version}' does not run here; deploy it first")
            artifact = known[0].artifact
            current = self._drop_dead(version)
            self._stop(current[replicas:])
            self._start(version, replicas - min(replicas, len(current)), artifact)
            return self._instances(version)

    def instances(self, version: str) -> tuple[Instance, ...]:
        """The running instances of ``version``."""
        with self._lock:
            self.calls.append(TargetCall("instances", version))
            return self._instances(version)

    def health(self, version: str) -> tuple[InstanceHealth, ...]:
        """Every known instance of ``version``; killed ones and unhealthy versions fail."""
        with self._lock:
            self.calls.append(TargetCall("health", version))
            return tuple(self._health(i) for i in self._of(version))

    def retire(self, version: str) -> None:
        """Stop every instance of ``version``."""
        with self._lock:
            self.calls.append(TargetCall("retire", version))
            self._stop(self._of(version))

    def close(self) -> None:
        """Stop everything."""
        with self._lock:
            self.calls.append(TargetCall("close"))
            self._stop(list(self._running.values()))

    # -- test controls ---------------------------------------------------------------------------

    def kill(self, instance: Instance) -> None:
        """Make ``instance`` die as if killed from outside (it stays known, and unhealthy)."""
        with self._lock:
            fake = self._running.get(instance.instance_id)
            if fake is not None:
                fake.alive = False

    def is_running(self, instance: Instance) -> bool:
        """True while ``instance`` runs."""
        with self._lock:
            fake = self._running.get(instance.instance_id)
            return fake is not None and fake.alive

    def count(self, version: str) -> int:
        """How many instances of ``version`` run."""
        with self._lock:
            return len(self._instances(version))

    def calls_to(self, method: str) -> list[TargetCall]:
        """The recorded calls of one method."""
        return [call for call in self.calls if call.method == method]

    # -- internals -------------------------------------------------------------------------------

    def _of(self, version: str) -> list[_FakeInstance]:
        return sorted((i for i in self._running.values() if i.instance.version == version),
                      key=lambda i: i.index)

    def _instances(self, version: str) -> tuple[Instance, ...]:
        return tuple(i.instance for i in self._of(version) if i.alive)

    def _drop_dead(self, version: str) -> list[_FakeInstance]:
        current = self._of(version)
        self._stop([i for i in current if not i.alive])
        return [i for i in current if i.alive]

    def _healthy(self, fake: _FakeInstance) -> bool:
        return fake.alive and fake.instance.version not in self.unhealthy_versions

    def _health(self, fake: _FakeInstance) -> InstanceHealth:
        if not fake.alive:
            return InstanceHealth(fake.instance, False, "not running (killed)")
        if fake.instance.version in self.unhealthy_versions:
            return InstanceHealth(fake.instance, False, "GET /healthz answered 500, expected 200")
        return InstanceHealth(fake.instance, True, "GET /healthz answered 200")

    def _stop(self, fakes: list[_FakeInstance]) -> None:
        for fake in fakes:
            if self._running.pop(fake.instance.instance_id, None) is not None:
                self.stopped.append(fake.instance)

    def _start(self, version: str, count: int, artifact: Artifact | None) -> None:
        taken = {i.index for i in self._of(version)}
        started = []
        for _ in range(max(0, count)):
            index = next(n for n in itertools.count() if n not in taken)
            taken.add(index)
            instance = Instance(version, f"{version}-{index}",
                                Endpoint(self.host, next(self._ports)))
            fake = _FakeInstance(instance, index, artifact)
            self._running[instance.instance_id] = fake
            self.started.append(instance)
            started.append(fake)
        if not started:
            return
        first = started[0].instance
        log = f"memory://fake-target/{first.instance_id}.log"
        if version in self.crashing_versions:
            self._stop(started)
            raise TargetUnavailable(f"instance {first.instance_id} of version '{version}' exited "
                                    f"with code 1 before it became healthy (log: {log})")
        if version in self.unhealthy_versions:
            self._stop(started)
            raise TargetUnavailable(f"instance {first.instance_id} of version '{version}' was "
                                    "not healthy in time: GET /healthz answered 500, expected 200 "
                                    f"(log: {log})")


def _check(version: str, replicas: int) -> None:
    if not version:
        raise UsageError("a version name cannot be empty")
    if isinstance(replicas, bool) or replicas < 0:
        raise UsageError(f"replicas must be 0 or more, got {replicas}")
