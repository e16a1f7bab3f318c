"""The rollout controller's check before step 1: is there error budget left to spend?

Deploying is the riskiest thing a service does to its SLOs, so a rollout does not start while a
budget is (nearly) spent. Before it touches anything, the controller asks the :class:`SloGuard`;
the guard reads every SLO's status from a :class:`BudgetSource` (the real one reads Prometheus,
see :func:`safeship.slo.service_budgets.service_budgets`; it is built by the faces and injected,
so the engine depends on this interface only) and decides:

* every SLO has more than ``min_budget_remaining`` (default :data:`MIN_BUDGET_REMAINING`, 5 %)
  of its budget left: the rollout starts, and the budgets are recorded with it;
* an SLO has that much or less left: the rollout is refused. The refusal is recorded in the
  store as an aborted release with the reason (``rollout start`` exits 1);
* the budgets cannot be read (Prometheus unreachable) or an SLO has no data: fail closed. The
  refusal is recorded and the error is raised (``rollout start`` exits 3). With
  ``on_unavailable=warn``, an unreachable Prometheus lets the rollout start with a recorded
  warning instead; that weakens safety. No data always refuses.

An undo (back to a version that was stable) is never held back: it is how a burning budget is
stopped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from safeship.errors import DependencyUnavailable, MetricsUnavailable
from safeship.slo.status import SloState, SloStatus, describe

MIN_BUDGET_REMAINING = 0.05
"""A rollout needs more than this fraction of every SLO's error budget left (the guide's 5 %)."""


class BudgetSource(Protocol):
    """Where the guard gets the SLOs' statuses from."""

    where: str
    """Where the statuses come from (a URL safe to show), for messages."""

    def statuses(self) -> Sequence[SloStatus]:
        """Every SLO's status now. Raises DependencyUnavailable when the source is down."""
        ...


class OnUnavailable(StrEnum):
    """What an unreachable budget source means for a rollout."""

    BLOCK = "block"
    WARN = "warn"


@dataclass(frozen=True)
class SloGuardSettings:
    """How strict the guard is."""

    min_budget_remaining: float = MIN_BUDGET_REMAINING
    on_unavailable: OnUnavailable = OnUnavailable.BLOCK


@dataclass(frozen=True)
class GuardVerdict:
    """The guard's answer: may the rollout start, why, and what was seen."""

    allowed: bool
    reason: str
    details: dict[str, Any] = field(default_factory=dict)
    error: DependencyUnavailable | None = None
    """Set when the budgets could not be read: the controller raises it after recording."""


class SloGuard:
    """Decides whether a rollout may start, from the SLOs' error budgets."""

    def __init__(self, source: BudgetSource, settings: SloGuardSettings | None = None) -> None:
        self.source = source
        self.settings = settings or SloGuardSettings()

    def check(self) -> GuardVerdict:
        """Read the budgets and decide (see the module docstring)."""
        floor = self.settings.min_budget_remaining
        base: dict[str, Any] = {"source": self.source.where, "min_budget_remaining": floor}
        try:
            statuses = tuple(self.source.statuses())
        except DependencyUnavailable as exc:
            details = {**base, "checked": False, "error": exc.message}
            if self.settings.on_unavailable is OnUnavailable.WARN:
                return GuardVerdict(True, "UNSAFE: the error budgets could not be checked "
                                          f"({exc.message}); starting anyway because "
                                          "on_unavailable is warn", details)
            reason = (f"the error budgets could not be checked, so the rollout does not "
                      f"start (fail closed): {exc.message}")
            hint = "bring Prometheus back, or roll back with `safeship rollout undo`"
            return GuardVerdict(False, reason, details, MetricsUnavailable(reason, hint=hint))
        details = {**base, "checked": True, "slos": [_summary(s) for s in statuses]}
        missing = [s for s in statuses if s.state is SloState.NO_DATA]
        if missing:
            text = "; ".join(describe(s) for s in missing)
            reason = (f"no data to judge the error budget, so the rollout does not start "
                      f"(fail closed): {text}")
            return GuardVerdict(False, reason, details, MetricsUnavailable(
                reason, hint="check the SLI queries and that the service has traffic"))
        low = [s for s in statuses if s.budget.remaining <= floor]
        if low:
            text = "; ".join(describe(s) for s in low)
            return GuardVerdict(False, f"error budget at or below {floor * 100:g}%, so the "
                                       f"rollout does not start: {text}", details)
        shown = "; ".join(describe(s) for s in statuses)
        return GuardVerdict(True, f"error budgets above {floor * 100:g}%: {shown}", details)


def _summary(status: SloStatus) -> dict[str, Any]:
    remaining = status.budget.remaining
    return {"slo": status.slo.name, "state": status.state.value,
            "budget_remaining": remaining if math.isfinite(remaining) else None,
            "objective": status.slo.objective}
