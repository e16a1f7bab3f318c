"""``type: recreate``: stop the old version, then start the new one (the guide's riskiest row).

Traffic has nowhere to go between the two, so the plan marks where downtime starts (retiring the
old version) and ends (the new version's health gate); the engine measures it. A failed health
gate stops the new version and brings the old one back from its artifact.
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
    first_release_plan,
    redeploy_stable,
)


class RecreateStrategy:
    """Stop old, start new."""

    type_name: ClassVar[str] = "recreate"

    def plan(self, request: RolloutRequest) -> tuple[Step, ...]:
        """Retire the stable version, deploy the new one, wait for health, route to it."""
        if request.stable is None:
            return first_release_plan(request)
        return (
            Retire(request.stable.version, starts_downtime=True),
            Deploy(request.version, request.replicas, request.artifact),
            HealthGate(request.version, request.replicas, request.health_timeout_s,
                       ends_downtime=True),
            SetWeights.of({request.version: 100.0}),
            MarkStable(request.version),
        )

    def rollback_plan(self, request: RolloutRequest, reached: int) -> tuple[Step, ...]:
        """Whatever was reached, the old version is (or may be) gone: redeploy it."""
        return redeploy_stable(request)
