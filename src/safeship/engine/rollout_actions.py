"""The idempotent actions of a rollout against a router and a target (interfaces only).

Every method *ensures* a state rather than performing a change, so a resumed controller may
repeat the action it was doing when it died: deploy ensures N instances, set_weights ensures a
split and reads it back from the router until the router reports it, retire ensures a version
is gone. Waits (health, read-back) are bounded and go through the injected clock; a ``tick``
callback runs while waiting so the controller keeps its lease.

The router is told which endpoints serve each version after every change of instances. Routers
refuse a version without endpoints and refuse to drop a version that still has traffic, so a
version that still has traffic but no running instance (a recreate between stopping the old
version and routing to the new one) keeps the endpoints it was last declared with: the router
answers errors for it, which is the downtime the recreate strategy accepts, instead of silently
sending its share elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from safeship.engine.clock import Clock
from safeship.engine.rollout_smoke import SmokeReport, SmokeTester
from safeship.errors import InternalError
from safeship.model.endpoints import Endpoint
from safeship.routers.interface import Router, RouterUnavailable, validate_weights
from safeship.strategies.interface import ArtifactRef, SmokeCheck
from safeship.targets.interface import Artifact, Target

WEIGHT_TOLERANCE = 0.01
"""Percentage points within which a read-back split counts as the one asked for."""


@dataclass(frozen=True)
class ActionSettings:
    """Bounds of the waits."""

    readback_timeout_s: float = 10.0
    readback_poll_s: float = 0.05
    health_poll_s: float = 1.0


@dataclass(frozen=True)
class GateResult:
    """Whether a health gate or smoke test passed, and why."""

    passed: bool
    detail: str


def same_split(reported: Mapping[str, float], desired: Mapping[str, float]) -> bool:
    """True when ``reported`` gives every version its desired share (absent means 0 %)."""
    for version in set(reported) | set(desired):
        if abs(reported.get(version, 0.0) - desired.get(version, 0.0)) > WEIGHT_TOLERANCE:
            return False
    return True


def to_artifact(ref: ArtifactRef | None) -> Artifact | None:
    """The target family's artifact for a plan's reference."""
    return None if ref is None else Artifact(ref.reference, ref.sha256)


class Actuator:
    """Drives one router and one target for one service."""

    def __init__(self, router: Router, target: Target, clock: Clock, *,
                 smoke: SmokeTester | None = None,
                 settings: ActionSettings | None = None) -> None:
        self.router = router
        self.target = target
        self.clock = clock
        self.smoke = smoke
        self.settings = settings or ActionSettings()
        self._declared: dict[str, tuple[Endpoint, ...]] = {}

    # instances ----------------------------------------------------------------------------

    def deploy(self, version: str, replicas: int, artifact: ArtifactRef | None,
               known: Sequence[str], weights: Mapping[str, float]) -> None:
        """Ensure ``version`` runs ``replicas`` instances; declare its endpoints."""
        self.target.deploy(version, replicas, to_artifact(artifact))
        self.sync_backends([*known, version], weights)

    def scale(self, version: str, replicas: int, known: Sequence[str],
              weights: Mapping[str, float]) -> None:
        """Ensure ``version`` runs ``replicas`` instances; declare its endpoints."""
        self.target.scale(version, replicas)
        self.sync_backends([*known, version], weights)

    def retire(self, version: str, known: Sequence[str], weights: Mapping[str, float]) -> None:
        """Stop ``version``; refuse while the router still sends it traffic."""
        reported = self.router.weights()
        if reported.get(version, 0.0) > WEIGHT_TOLERANCE:
            raise InternalError(
                f"refusing to retire '{version}': the router still sends it "
                f"{reported[version]:g}% of traffic")
        self.target.retire(version)
        self.sync_backends([v for v in known if v != version], weights)

    def sync_backends(self, versions: Sequence[str], weights: Mapping[str, float]) -> None:
        """Declare the endpoints of every running version (see the module docstring)."""
        backends: dict[str, tuple[Endpoint, ...]] = {}
        for version in dict.fromkeys([*versions, *weights]):
            endpoints = tuple(i.endpoint for i in self.target.instances(version))
            if not endpoints and weights.get(version, 0.0) > 0:
                endpoints = self._declared.get(version, ())
            if endpoints:
                backends[version] = endpoints
        self.router.set_backends(backends)
        self._declared = backends

    def routable(self, weights: Mapping[str, float]) -> bool:
        """True when every version with a share has endpoints the router knows."""
        return all(share <= 0 or self._declared.get(version)
                   for version, share in weights.items())

    # traffic ------------------------------------------------------------------------------

    def set_weights(self, weights: Mapping[str, float],
                    tick: Callable[[], None] | None = None) -> dict[str, float]:
        """Ensure the split, then read it back until the router reports it (bounded).

        A version at 0 % that the router has no endpoints for is left out (absent means 0 %):
        routers refuse to name a version they cannot reach.
        """
        desired = validate_weights({version: share for version, share in weights.items()
                                    if share > 0 or version in self._declared})
        self.router.set_weights(desired)
        return self.wait_for_split(desired, tick)

    def wait_for_split(self, desired: Mapping[str, float],
                       tick: Callable[[], None] | None = None) -> dict[str, float]:
        """Poll the router until it reports ``desired``; RouterUnavailable when it never does."""
        start = self.clock.monotonic()
        while True:
            reported = self.router.weights()
            if same_split(reported, desired):
                return reported
            if self.clock.monotonic() - start >= self.settings.readback_timeout_s:
                raise RouterUnavailable(
                    f"{type(self.router).__name__} reports {reported} after "
                    f"{self.settings.readback_timeout_s:g} s; asked for {dict(desired)}")
            if tick is not None:
                tick()
            self.clock.sleep(self.settings.readback_poll_s)

    # checks -------------------------------------------------------------------------------

    def health_gate(self, version: str, min_healthy: int, timeout_s: float,
                    tick: Callable[[], None] | None = None) -> GateResult:
        """Wait until ``min_healthy`` instances of ``version`` answer healthy, or time out."""
        start = self.clock.monotonic()
        while True:
            answers = self.target.health(version)
            healthy = sum(1 for answer in answers if answer.healthy)
            if healthy >= min_healthy:
                return GateResult(True, f"{healthy}/{len(answers)} instances of '{version}' "
                                        "healthy")
            waited = self.clock.monotonic() - start
            if waited >= timeout_s:
                sick = "; ".join(f"{a.instance.instance_id}: {a.detail}" for a in answers
                                 if not a.healthy)
                return GateResult(False, f"only {healthy} of {min_healthy} instances of "
                                         f"'{version}' healthy after {waited:.0f} s"
                                         + (f" ({sick})" if sick else ""))
            if tick is not None:
                tick()
            self.clock.sleep(min(self.settings.health_poll_s, max(0.0, timeout_s - waited)))

    def smoke_test(self, version: str, checks: Sequence[SmokeCheck]) -> GateResult:
        """Run ``checks`` pinned to ``version``; without a smoke tester the test fails."""
        if self.smoke is None:
            return GateResult(False, "no smoke tester configured (set strategy.smoke_url in "
                                     "service.yaml); a smoke test that cannot run fails")
        report: SmokeReport = self.smoke.run(version, checks, self.router.pin_headers(version))
        return GateResult(report.passed, report.summary())
