"""``rollout undo``: the fastest way back to a known-good version (not a YAML ``type:``).

The request's ``version`` is the version to return to and its ``stable`` is the version serving
now. Undo skips every analysis and smoke test (the guide's section 5: a rollback must be fast).
``deploy`` only ensures the version runs, so when it still runs (blue kept warm, a canary's
stable) the deploy and its health gate finish at once and the undo is a router change;
otherwise its artifact is redeployed by digest first.

If an undo itself fails before the router flipped, traffic stays where it was and nothing is
stopped: an emergency path never makes things worse.
"""

from __future__ import annotations

from typing import ClassVar

from safeship.strategies.interface import (
    Deploy,
    HealthGate,
    MarkStable,
    Retire,
    RolloutRequest,
    SetWeights,
    Step,
    index_of,
)

UNDO = "undo"


class UndoStrategy:
    """Back to ``request.version``, retiring what serves now."""

    type_name: ClassVar[str] = UNDO

    def plan(self, request: RolloutRequest) -> tuple[Step, ...]:
        """Ensure the target runs and is healthy, route everything to it, retire the rest."""
        target = request.version
        steps: list[Step] = [
            Deploy(target, request.replicas, request.artifact),
            HealthGate(target, request.replicas, request.health_timeout_s),
        ]
        current = request.stable.version if request.stable is not None else None
        if current is None:
            steps.append(SetWeights.of({target: 100.0}))
        else:
            steps.append(SetWeights.of({target: 100.0, current: 0.0}))
            steps.append(Retire(current))
        steps.append(MarkStable(target))
        return tuple(steps)

    def rollback_plan(self, request: RolloutRequest, reached: int) -> tuple[Step, ...]:
        """Before the flip: leave everything as it is. After it: route back to what served."""
        current = request.stable.version if request.stable is not None else None
        plan = self.plan(request)
        if current is None or reached < index_of(plan, SetWeights):
            return ()
        if reached >= index_of(plan, Retire, current):
            return ()  # the old version is gone: the target is all there is
        return (SetWeights.of({current: 100.0, request.version: 0.0}),)
