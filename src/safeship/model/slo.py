"""Service level objectives as the inside of safeship sees them: validated, frozen, in seconds.

An SLO says which fraction of events must be good over a rolling window. Its indicator (SLI) is
a ratio of two PromQL counter expressions, written either as good/total or as bad/total events;
the expressions are *rate-less* selectors or sums (``sum(http_requests_total{code!~"5.."})``):
safeship wraps them in ``increase(...[window])`` or ``rate(...[window])`` itself, so one
definition serves every window of the multiwindow, multi-burn-rate policy.

The error budget is ``1 - objective``; the burn rate over a window is the observed bad ratio
divided by the budget (1.0 spends the budget exactly over the SLO window).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SliKind(StrEnum):
    """Which two event counts the ratio compares."""

    GOOD_TOTAL = "good_total"
    """``good`` and ``total``: the bad ratio is ``1 - good/total``."""
    BAD_TOTAL = "bad_total"
    """``bad`` and ``total``: the bad ratio is ``bad/total``."""


@dataclass(frozen=True)
class RatioSli:
    """An event-ratio indicator: two counter expressions over the same events."""

    kind: SliKind
    events: str
    """The good-event expression for ``GOOD_TOTAL``, the bad-event one for ``BAD_TOTAL``."""
    total: str


@dataclass(frozen=True)
class SloDefinition:
    """One objective of a service."""

    name: str
    service: str
    objective: float
    """The target good fraction, strictly between 0 and 1 (0.999 for "three nines")."""
    window_s: float
    """The rolling window the objective is measured over (30 days unless said otherwise)."""
    sli: RatioSli
    description: str = ""
    source: str = ""
    """Where it was defined (``path:line``), for messages."""

    @property
    def error_budget(self) -> float:
        """The fraction of events allowed to be bad: ``1 - objective``."""
        return 1.0 - self.objective
