"""Rollout requests the planner tests share, and a simulator that checks a plan's invariants."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from safeship.model.canary import CanaryStep
from safeship.strategies.interface import (
    Analyze,
    ArtifactRef,
    Deploy,
    HealthGate,
    MarkStable,
    Retire,
    RolloutRequest,
    Scale,
    SetWeights,
    SmokeTest,
    StableVersion,
    Step,
)

NEW = ArtifactRef("dist/shop-2.0.tar.gz", "ab" * 32)
OLD = ArtifactRef("dist/shop-1.0.tar.gz", "cd" * 32)
GUIDE_STEPS = (CanaryStep(1, 300), CanaryStep(5, 300), CanaryStep(25, 600),
               CanaryStep(100, 1800))


def request(**changes: Any) -> RolloutRequest:
    """v1 -> v2 of 'shop' with 4 replicas and the guide's canary steps."""
    base = RolloutRequest(service="shop", version="v2", replicas=4, artifact=NEW,
                          stable=StableVersion("v1", OLD, 4), canary_steps=GUIDE_STEPS)
    return replace(base, **changes)


@dataclass
class World:
    """What a plan does to instances and traffic, step by step."""

    instances: dict[str, int] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    stable: str | None = None
    history: list[tuple[dict[str, int], dict[str, float]]] = field(default_factory=list)

    def apply(self, step: Step) -> None:
        """Play one step; assert the invariants every plan keeps."""
        if isinstance(step, Deploy | Scale):
            self.instances[step.version] = step.replicas
        elif isinstance(step, SetWeights):
            split = step.as_dict()
            assert abs(sum(split.values()) - 100.0) < 1e-6, split
            for version, share in split.items():
                assert share == 0 or self.instances.get(version, 0) > 0, (
                    f"traffic to {version} which has no instance")
            self.weights = split
        elif isinstance(step, Retire):
            if not step.starts_downtime:
                assert self.weights.get(step.version, 0.0) == 0, (
                    f"retiring {step.version} while it has traffic")
            self.instances[step.version] = 0
            self.weights.pop(step.version, None)
        elif isinstance(step, MarkStable):
            self.stable = step.version
        elif isinstance(step, HealthGate):
            assert self.instances.get(step.version, 0) >= step.min_healthy
        elif isinstance(step, SmokeTest | Analyze):
            pass
        self.history.append((dict(self.instances), dict(self.weights)))


def play(steps: tuple[Step, ...], start: World | None = None) -> World:
    """Play ``steps`` from ``start`` (v1 with 4 instances and all traffic by default)."""
    world = start or World({"v1": 4}, {"v1": 100.0}, "v1")
    for step in steps:
        world.apply(step)
    return world
