"""``type: blue_green``: the guide's section 3.3 diagram, step for step.

::

    deploy green -> health -> smoke tests against green (pinned through the router)
        fail: destroy green, keep blue
        pass: flip the router to green (cutover)
              -> monitor for T (default 30 min) with the canary analysis
                   fail: flip back to blue (rollback), destroy green
                   pass: keep green, retire blue

Blue (the stable version) keeps running until the monitor passes, so flipping back is a router
change only: the guide's "instant" rollback. Once blue is retired, going back means redeploying
its artifact.
"""

from __future__ import annotations

from typing import ClassVar

from safeship.strategies.interface import (
    Analyze,
    Deploy,
    HealthGate,
    MarkStable,
    Retire,
    RolloutRequest,
    SetWeights,
    SmokeTest,
    Step,
    first_release_plan,
    index_of,
    redeploy_stable,
)


class BlueGreenStrategy:
    """Two environments, one router flip."""

    type_name: ClassVar[str] = "blue_green"

    def plan(self, request: RolloutRequest) -> tuple[Step, ...]:
        """Deploy green, smoke-test it, flip, monitor, retire blue."""
        if request.stable is None:
            return first_release_plan(request)
        blue = request.stable.version
        green = request.version
        return (
            Deploy(green, request.replicas, request.artifact),
            HealthGate(green, request.replicas, request.health_timeout_s),
            SmokeTest(green, request.blue_green.smoke_checks),
            SetWeights.of({blue: 0.0, green: 100.0}),
            Analyze(100.0, request.blue_green.monitor_s, request.judge, verification=True),
            Retire(blue),
            MarkStable(green),
        )

    def rollback_plan(self, request: RolloutRequest, reached: int) -> tuple[Step, ...]:
        """Before the flip destroy green; after it flip back; after blue is gone redeploy it."""
        if request.stable is None:
            return (Retire(request.version),)
        plan = self.plan(request)
        blue = request.stable.version
        if reached >= index_of(plan, Retire, blue):
            return redeploy_stable(request)
        if reached >= index_of(plan, SetWeights):
            return (SetWeights.of({blue: 100.0, request.version: 0.0}), Retire(request.version))
        return (Retire(request.version),)
