"""``type: canary``: the steps of ``canary-analysis.yaml``, judged at every scrape.

The canary is deployed at full size beside the stable version (so it can take 100 % without a
scale-up) and receives no traffic until it is healthy. Then, for each configured step, the plan
sets the split and analyses it: a PROCEED at any scrape moves to the next step, a ROLLBACK sends
every request back to the stable version. The last step at 100 % is the guide's extended
verification: it runs its whole duration and only a clean end promotes.

A critical change needs a canary of at least 24 hours (the guide's section 2.3): the final 100 %
verification is lengthened (or added) until the steps add up to 24 hours.

If the configured steps end below 100 %, the plan ends with a cutover to 100 %. The stable version
is retired only after that, so every rollback before it is a router change.
"""

from __future__ import annotations

from typing import ClassVar

from safeship.model.canary import CanaryStep
from safeship.strategies.interface import (
    Analyze,
    Deploy,
    HealthGate,
    MarkStable,
    PlanError,
    Retire,
    RolloutRequest,
    SetWeights,
    Step,
    extended_for_risk,
    first_release_plan,
    index_of,
    redeploy_stable,
)

FULL = 100.0


def effective_steps(request: RolloutRequest) -> tuple[CanaryStep, ...]:
    """The configured steps, with the 24-hour extension a critical change needs."""
    return extended_for_risk(tuple(request.canary_steps), request.risk)


class CanaryStrategy:
    """Live traffic shifted step by step under analysis."""

    type_name: ClassVar[str] = "canary"

    def plan(self, request: RolloutRequest) -> tuple[Step, ...]:
        """Deploy, health, then ``set_weights`` + ``analyze`` per step, then promote."""
        if request.stable is None:
            return first_release_plan(request)
        steps = effective_steps(request)
        if not steps:
            raise PlanError(
                "a canary rollout needs traffic steps",
                hint="add spec.steps to canary-analysis.yaml, or choose another strategy",
            )
        stable = request.stable.version
        canary = request.version
        plan: list[Step] = [
            Deploy(canary, request.replicas, request.artifact),
            HealthGate(canary, request.replicas, request.health_timeout_s),
        ]
        for position, step in enumerate(steps):
            share = float(step.percentage)
            last = position == len(steps) - 1
            plan.append(SetWeights.of({stable: FULL - share, canary: share}))
            plan.append(Analyze(share, step.duration_s, request.judge,
                                verification=last and share >= FULL))
        if steps[-1].percentage < FULL:
            plan.append(SetWeights.of({stable: 0.0, canary: FULL}))
        plan.append(Retire(stable))
        plan.append(MarkStable(canary))
        return tuple(plan)

    def rollback_plan(self, request: RolloutRequest, reached: int) -> tuple[Step, ...]:
        """All traffic back to stable, then stop the canary (redeploy stable if it is gone)."""
        if request.stable is None:
            return (Retire(request.version),)
        stable = request.stable.version
        if reached >= index_of(self.plan(request), Retire, stable):
            return redeploy_stable(request)
        return (SetWeights.of({stable: FULL, request.version: 0.0}), Retire(request.version))
