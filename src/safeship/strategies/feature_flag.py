"""``type: feature_flag``: ramp a feature flag 1 -> 5 -> 25 -> 100 % under canary analysis.

The code is already in production, behind a flag that is off; a flag rollout deploys nothing.
Its "traffic split" is the flag's percentage: the *versions* of the plan are the flag's
variants, the stable one being the flag's **off variant** (the baseline cohort) and the new one
the variant being rolled out (the canary cohort, usually ``on``). The ``feature_flag`` router
(:mod:`safeship.routers.feature_flag`) turns a split ``{off: 95, on: 5}`` into the flag's
percentage rollout, and turns a split with no share for ``on`` into the flag switched off.

For each step of ``canary-analysis.yaml`` (the guide's 1 % 5 m, 5 % 5 m, 25 % 10 m, 100 % 30 m
when the request has none) the plan sets the percentage and analyses it: the flag-on cohort is
judged against the flag-off cohort exactly as a canary against its baseline. A step list that
ends below 100 % ends with the flag at 100 %. A critical change gets the guide's 24-hour
verification at 100 %, as a traffic canary does.

Rollback at any point is the flag switched off (one store write, read back): there is no
instance to stop and no version to redeploy, so the rollback plan is the same from every step.

:class:`FeatureFlagUndoStrategy` (``feature_flag_undo``, not a YAML ``type:``) is what
``safeship rollout undo`` runs when the release being undone is behind a flag: the flag
switched off, nothing else. Releases of both strategies never change the service's running
version, so they are left out when the stable version is looked up (:func:`is_flag_release`).
What they change is recorded as their artifact, ``flag:<key>@<environment>``
(:func:`flag_reference`), so an undo finds the flag even after service.yaml changed.
"""

from __future__ import annotations

from typing import ClassVar

from safeship.model.canary import CanaryStep
from safeship.strategies.interface import (
    Analyze,
    MarkStable,
    PlanError,
    RolloutRequest,
    SetWeights,
    Step,
    extended_for_risk,
)

FEATURE_FLAG = "feature_flag"
"""The YAML ``type:`` of a flag rollout."""

FEATURE_FLAG_UNDO = "feature_flag_undo"
"""The planner ``rollout undo`` uses to switch a flag off (not a YAML ``type:``)."""

FLAG_STRATEGIES = frozenset({FEATURE_FLAG, FEATURE_FLAG_UNDO})
"""Strategies whose releases change a flag, never the version that runs."""

FULL = 100.0

DEFAULT_FLAG_STEPS: tuple[CanaryStep, ...] = (
    CanaryStep(1, 300), CanaryStep(5, 300), CanaryStep(25, 600), CanaryStep(100, 1800))
"""The guide's canary steps, used when canary-analysis.yaml gives none."""


_REFERENCE_PREFIX = "flag:"


def flag_reference(flag: str, environment: str) -> str:
    """What a flag release changes, recorded as its artifact: ``flag:<key>@<environment>``."""
    return f"{_REFERENCE_PREFIX}{flag}@{environment}"


def parse_flag_reference(reference: str | None) -> tuple[str, str] | None:
    """(flag, environment) of a :func:`flag_reference`, or None for anything else."""
    if not reference or not reference.startswith(_REFERENCE_PREFIX):
        return None
    flag, at, environment = reference[len(_REFERENCE_PREFIX):].rpartition("@")
    if not at or not flag or not environment:
        return None
    return flag, environment


def is_flag_release(strategy: str) -> bool:
    """True for a release made by a flag strategy: it leaves the running version as it was."""
    return strategy in FLAG_STRATEGIES


def flag_steps(request: RolloutRequest) -> tuple[CanaryStep, ...]:
    """The request's steps (the guide's by default), with a critical change's 24 hours."""
    return extended_for_risk(tuple(request.canary_steps) or DEFAULT_FLAG_STEPS, request.risk)


def _variants(request: RolloutRequest) -> tuple[str, str]:
    """(off variant, rolled-out variant) of a flag request."""
    if request.stable is None:
        # The off variant is what every user gets before the rollout; without it there is no
        # baseline cohort and nothing to switch back to.
        raise PlanError(f"a feature_flag rollout of '{request.service}' needs the flag's off "
                        "variant as its stable version")
    return request.stable.version, request.version


class FeatureFlagStrategy:
    """A flag's percentage ramped step by step under analysis; off on any rollback."""

    type_name: ClassVar[str] = FEATURE_FLAG

    def plan(self, request: RolloutRequest) -> tuple[Step, ...]:
        """``set_weights`` + ``analyze`` per step, the flag at 100 % at the end, then promote."""
        off, on = _variants(request)
        steps = flag_steps(request)
        plan: list[Step] = []
        for position, step in enumerate(steps):
            share = float(step.percentage)
            if not 0 < share <= FULL:
                raise PlanError(f"a flag step must lie above 0 % and at most 100 %, not "
                                f"{share:g} %")
            last = position == len(steps) - 1
            plan.append(SetWeights.of({off: FULL - share, on: share}))
            plan.append(Analyze(share, step.duration_s, request.judge,
                                verification=last and share >= FULL))
        if steps[-1].percentage < FULL:
            plan.append(SetWeights.of({off: 0.0, on: FULL}))
        plan.append(MarkStable(on))
        return tuple(plan)

    def rollback_plan(self, request: RolloutRequest, reached: int) -> tuple[Step, ...]:
        """The flag off, whatever step was reached (idempotent: off stays off)."""
        off, on = _variants(request)
        return (SetWeights.of({off: FULL, on: 0.0}),)


class FeatureFlagUndoStrategy:
    """``rollout undo`` of a release behind a flag: the flag off, at once.

    The request's ``version`` is the off variant (where the undo goes) and its ``stable`` the
    variant being switched off. Nothing runs before the toggle: no analysis, no deploy.
    """

    type_name: ClassVar[str] = FEATURE_FLAG_UNDO

    def plan(self, request: RolloutRequest) -> tuple[Step, ...]:
        """Every context on the off variant, then record it."""
        if request.stable is None:
            raise PlanError(f"an undo of the flag of '{request.service}' needs the variant to "
                            "switch off")
        return (SetWeights.of({request.stable.version: 0.0, request.version: FULL}),
                MarkStable(request.version))

    def rollback_plan(self, request: RolloutRequest, reached: int) -> tuple[Step, ...]:
        """Nothing: an undo never turns a flag back on."""
        return ()
