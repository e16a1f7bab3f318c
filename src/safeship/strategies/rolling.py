"""``type: rolling``: replace instances batch by batch, a health gate after every batch.

With ``N`` replicas, ``max_surge`` ``s`` and ``max_unavailable`` ``u``, the plan keeps at most
``N + s`` instances running and at least ``N - u`` healthy ones at every step. Each batch:

1. scale the new version up as far as the surge allows (``deploy``, idempotent);
2. wait until all its instances are healthy (``health_gate``);
3. shift traffic in proportion to the instances that will serve (``set_weights``);
4. scale the old version down as far as availability allows (``scale``).

When every instance is new, the old version is retired and the new one marked stable. A failure
anywhere redeploys the previous artifact (by digest) at full size, routes all traffic back to it
and stops the new version.
"""

from __future__ import annotations

from typing import ClassVar

from safeship.strategies.interface import (
    Deploy,
    HealthGate,
    MarkStable,
    PlanError,
    Retire,
    RolloutRequest,
    Scale,
    SetWeights,
    Step,
    first_release_plan,
    redeploy_stable,
)


def _split(old_version: str, new_version: str, old: int, new: int) -> SetWeights:
    new_share = round(100.0 * new / (old + new), 4) if old + new else 0.0
    return SetWeights.of({old_version: round(100.0 - new_share, 4), new_version: new_share})


class RollingStrategy:
    """Gradual replacement in batches."""

    type_name: ClassVar[str] = "rolling"

    def plan(self, request: RolloutRequest) -> tuple[Step, ...]:
        """Batches bounded by ``max_surge`` and ``max_unavailable`` (see the module docstring)."""
        if request.stable is None:
            return first_release_plan(request)
        surge = request.rolling.max_surge
        unavailable = request.rolling.max_unavailable
        if surge < 0 or unavailable < 0:
            raise PlanError("max_surge and max_unavailable cannot be negative")
        if surge == 0 and unavailable == 0:
            raise PlanError("a rolling update needs max_surge or max_unavailable above 0",
                            hint="set strategy.max_surge: 1 in service.yaml")
        total = request.replicas
        stable = request.stable.version
        new_version = request.version
        old, new = request.stable_replicas, 0
        steps: list[Step] = []
        while new < total:
            up = min(total, total + surge - old)
            if up > new:
                new = up
                steps.append(Deploy(new_version, new, request.artifact))
                steps.append(HealthGate(new_version, new, request.health_timeout_s))
            down = min(old, max(0, total - unavailable - new))
            if down < old:
                old = down
                steps.append(_split(stable, new_version, old, new))
                steps.append(Scale(stable, old))
        cutover = SetWeights.of({stable: 0.0, new_version: 100.0})
        last_split = next((st for st in reversed(steps) if isinstance(st, SetWeights)), None)
        if last_split != cutover:
            steps.append(cutover)
        steps.append(Retire(stable))
        steps.append(MarkStable(new_version))
        return tuple(steps)

    def rollback_plan(self, request: RolloutRequest, reached: int) -> tuple[Step, ...]:
        """Back to the previous artifact at full size, all traffic on it, the new one stopped."""
        return redeploy_stable(request)
