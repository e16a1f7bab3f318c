"""The strategies family's contract: pure planners that turn a rollout request into steps.

A strategy never touches a router, a target or a clock. It reads a :class:`RolloutRequest` and
returns a tuple of frozen steps; the rollout engine executes them one by one, persisting each
transition before it acts. Every step is an *idempotent intent* ("ensure v2 runs with 3
instances", "split 95/5"), so the engine may repeat the step it was in when a controller died.

Step kinds:

=============  ===================================================================================
deploy         ensure ``version`` runs with ``replicas`` instances of ``artifact``
scale          change the number of instances of a running version
health_gate    wait until ``min_healthy`` instances of ``version`` answer healthy (or fail)
set_weights    split traffic ``{version: percent}`` and read the split back from the router
smoke_test     run HTTP checks against ``version`` through the router's pin header
analyze        hold ``percentage`` for ``duration_s`` and judge the evidence at every scrape
retire         stop every instance of ``version``
mark_stable    record ``version`` as the service's stable release
=============  ===================================================================================

``plan(request)`` gives the forward steps. ``rollback_plan(request, reached)`` gives the steps
that restore the stable version when the forward plan stopped at index ``reached`` (the step in
progress, which may or may not have taken effect).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import ClassVar, Protocol

from safeship.errors import UsageError
from safeship.model.canary import CanaryStep, JudgeName
from safeship.model.enums import RiskLevel

EXTENDED_CANARY_S = 24 * 3600.0
"""The guide's section 2.3: a critical change needs a canary of at least 24 hours."""


def extended_for_risk(steps: tuple[CanaryStep, ...],
                      risk: RiskLevel) -> tuple[CanaryStep, ...]:
    """``steps``, lengthened to :data:`EXTENDED_CANARY_S` in all for a critical change.

    The missing time goes to the last step when it is already at 100 %, else to a new 100 %
    step: the extra watch happens with the new version (or flag) fully on.
    """
    if risk is not RiskLevel.CRITICAL:
        return steps
    missing = EXTENDED_CANARY_S - sum(step.duration_s for step in steps)
    if missing <= 0:
        return steps
    if steps and steps[-1].percentage >= 100.0:
        return (*steps[:-1], replace(steps[-1], duration_s=steps[-1].duration_s + missing))
    return (*steps, CanaryStep(100.0, missing))

DEFAULT_MONITOR_S = 30 * 60.0
"""The guide's section 3.3: blue/green monitors the new version for 30 minutes after cutover."""

DEFAULT_HEALTH_TIMEOUT_S = 120.0
"""How long a health gate waits for instances to answer healthy before it fails."""


class PlanError(UsageError):
    """A request a strategy cannot plan (bad replicas, surge and unavailability both 0, ...)."""


class StepKind(StrEnum):
    """What a step does."""

    DEPLOY = "deploy"
    SCALE = "scale"
    HEALTH_GATE = "health_gate"
    SET_WEIGHTS = "set_weights"
    SMOKE_TEST = "smoke_test"
    ANALYZE = "analyze"
    RETIRE = "retire"
    MARK_STABLE = "mark_stable"


@dataclass(frozen=True)
class ArtifactRef:
    """What is deployed: a path or image reference and its sha256 digest when known."""

    reference: str
    sha256: str | None = None


@dataclass(frozen=True)
class StableVersion:
    """The version serving production before the rollout, and how to bring it back."""

    version: str
    artifact: ArtifactRef | None = None
    replicas: int | None = None


@dataclass(frozen=True)
class SmokeCheck:
    """One HTTP check of a smoke test: ``method path`` must answer ``expect_status``."""

    path: str = "/"
    method: str = "GET"
    expect_status: int = 200
    contains: str | None = None


@dataclass(frozen=True)
class Deploy:
    """Ensure ``version`` runs with ``replicas`` instances (of ``artifact`` when given)."""

    version: str
    replicas: int
    artifact: ArtifactRef | None = None
    kind: ClassVar[StepKind] = StepKind.DEPLOY


@dataclass(frozen=True)
class Scale:
    """Change the number of instances of ``version`` (0 stops them all but keeps the version)."""

    version: str
    replicas: int
    kind: ClassVar[StepKind] = StepKind.SCALE


@dataclass(frozen=True)
class HealthGate:
    """Wait until ``min_healthy`` instances of ``version`` are healthy, within ``timeout_s``.

    ``ends_downtime`` marks the gate after which a recreate rollout serves traffic again.
    """

    version: str
    min_healthy: int
    timeout_s: float = DEFAULT_HEALTH_TIMEOUT_S
    ends_downtime: bool = False
    kind: ClassVar[StepKind] = StepKind.HEALTH_GATE


@dataclass(frozen=True)
class SetWeights:
    """Split traffic between versions, in percent (adds up to 100)."""

    weights: tuple[tuple[str, float], ...]
    kind: ClassVar[StepKind] = StepKind.SET_WEIGHTS

    @classmethod
    def of(cls, weights: Mapping[str, float]) -> SetWeights:
        """A step from a ``{version: percent}`` mapping (order kept)."""
        return cls(tuple((version, float(share)) for version, share in weights.items()))

    def as_dict(self) -> dict[str, float]:
        """The split as ``{version: percent}``."""
        return dict(self.weights)


@dataclass(frozen=True)
class SmokeTest:
    """Run ``checks`` against ``version`` only (requests pinned to it by the router)."""

    version: str
    checks: tuple[SmokeCheck, ...]
    kind: ClassVar[StepKind] = StepKind.SMOKE_TEST


@dataclass(frozen=True)
class Analyze:
    """Hold ``percentage`` for ``duration_s`` and judge at every scrape.

    A PROCEED ends the step early unless ``verification`` is set: then the step is an extended
    verification (the canary's last 100 % step, blue/green's monitor) and runs its full time,
    rolling back on any ROLLBACK verdict.
    """

    percentage: float
    duration_s: float
    judge: JudgeName
    verification: bool = False
    kind: ClassVar[StepKind] = StepKind.ANALYZE


@dataclass(frozen=True)
class Retire:
    """Stop every instance of ``version``.

    ``starts_downtime`` marks the retire after which a recreate rollout serves nothing.
    """

    version: str
    starts_downtime: bool = False
    kind: ClassVar[StepKind] = StepKind.RETIRE


@dataclass(frozen=True)
class MarkStable:
    """Record ``version`` as the service's stable release."""

    version: str
    kind: ClassVar[StepKind] = StepKind.MARK_STABLE


Step = Deploy | Scale | HealthGate | SetWeights | SmokeTest | Analyze | Retire | MarkStable
"""Any step of a plan."""


@dataclass(frozen=True)
class RollingOptions:
    """Batches of a rolling update: instances above and below ``replicas`` allowed at once."""

    max_surge: int = 1
    max_unavailable: int = 0


@dataclass(frozen=True)
class BlueGreenOptions:
    """Blue/green: the smoke tests before cutover and how long to monitor after it."""

    smoke_checks: tuple[SmokeCheck, ...] = (SmokeCheck(),)
    monitor_s: float = DEFAULT_MONITOR_S


@dataclass(frozen=True)
class RolloutRequest:
    """Everything a strategy needs to plan one release of one service.

    ``stable`` is None for a service's first release: there is nothing to compare with or to
    go back to, so every strategy plans a plain start. ``canary_steps`` come from
    ``canary-analysis.yaml``; ``judge`` decides the analysis steps.
    """

    service: str
    version: str
    replicas: int
    artifact: ArtifactRef | None = None
    stable: StableVersion | None = None
    risk: RiskLevel = RiskLevel.MEDIUM
    canary_steps: tuple[CanaryStep, ...] = ()
    judge: JudgeName = JudgeName.SEQUENTIAL
    health_timeout_s: float = DEFAULT_HEALTH_TIMEOUT_S
    rolling: RollingOptions = field(default_factory=RollingOptions)
    blue_green: BlueGreenOptions = field(default_factory=BlueGreenOptions)

    def __post_init__(self) -> None:
        if self.replicas < 1:
            raise PlanError(f"a release needs at least 1 replica, not {self.replicas}")
        if self.stable is not None and self.stable.version == self.version:
            raise PlanError(
                f"version '{self.version}' is already the stable version of '{self.service}'",
                hint="give the new version with --version, or use `safeship rollout undo`",
            )

    @property
    def stable_replicas(self) -> int:
        """How many instances the stable version runs with (when it is brought back)."""
        if self.stable is not None and self.stable.replicas is not None:
            return self.stable.replicas
        return self.replicas


class Strategy(Protocol):
    """A pure planner."""

    type_name: ClassVar[str]

    def plan(self, request: RolloutRequest) -> tuple[Step, ...]:
        """The forward steps of ``request``."""
        ...

    def rollback_plan(self, request: RolloutRequest, reached: int) -> tuple[Step, ...]:
        """The steps that restore the stable version after the plan stopped at ``reached``."""
        ...


def first_release_plan(request: RolloutRequest) -> tuple[Step, ...]:
    """A service's first release: start it, wait for health, send it all traffic."""
    return (
        Deploy(request.version, request.replicas, request.artifact),
        HealthGate(request.version, request.replicas, request.health_timeout_s),
        SetWeights.of({request.version: 100.0}),
        MarkStable(request.version),
    )


def redeploy_stable(request: RolloutRequest) -> tuple[Step, ...]:
    """Bring the stable version back from its artifact, send it all traffic, stop the new one.

    Used when the stable version no longer runs (a recreate or rolling rollout, or a plan that
    had already retired it). Without a stable version only the new one is stopped.
    """
    stable = request.stable
    if stable is None:
        return (Retire(request.version),)
    replicas = request.stable_replicas
    return (
        Deploy(stable.version, replicas, stable.artifact),
        HealthGate(stable.version, replicas, request.health_timeout_s),
        SetWeights.of({stable.version: 100.0}),
        Retire(request.version),
    )


def index_of(steps: tuple[Step, ...], wanted: type[Step], version: str | None = None) -> int:
    """The index of the first step of type ``wanted`` (for ``version`` when given), or -1."""
    for index, step in enumerate(steps):
        if isinstance(step, wanted) and (version is None
                                         or getattr(step, "version", None) == version):
            return index
    return -1
