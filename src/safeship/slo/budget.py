"""Error-budget arithmetic: from event counts over a window to budget and burn-rate figures.

Pure functions, no I/O. For an SLO with objective ``o`` (the good fraction, 0.999 for "three
nines") and a window in which ``total`` events happened, ``bad`` of them bad:

* ``bad_ratio = bad / total``;
* ``error_budget = 1 - o``: the fraction of events allowed to be bad;
* ``burn_rate = bad_ratio / error_budget``: 1.0 spends the budget exactly over the SLO window,
  14.4 spends a 30-day budget in about two days;
* over the SLO's own window, ``budget_consumed = bad_ratio / error_budget`` (the burn rate of
  the whole window) and ``budget_remaining = 1 - budget_consumed``; it goes negative once more
  than the budget is spent.

Fail closed: counts that are missing, NaN, infinite or negative, a window with no events at
all, and counts that contradict each other (more bad events than events) are *no data*, whose
figures are NaN and which never reads as healthy. Two counter queries that Prometheus
extrapolates separately can disagree by a hair (``good`` a little above ``total``), so a
difference within :data:`COUNT_TOLERANCE` of the total is clamped rather than refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from safeship.errors import InternalError
from safeship.model.slo import SliKind

DIGITS = 12
"""Decimal places kept of the error budget and the budget consumed and remaining.

``1 - 0.999`` is ``0.0010000000000000009`` in binary floating point, which would leave a hair of
budget where exactly none is left, and let exactly 5 % pass ``budget_remaining > 0.05``. Twelve
decimals drop that noise and keep every figure a person could mean."""

COUNT_TOLERANCE = 0.01
"""How far (as a fraction of the total) good or bad may overshoot the total and be clamped."""


class DataState(StrEnum):
    """Whether the counts of a window can be judged, and if not, why."""

    OK = "ok"
    NO_DATA = "no_data"
    """A query returned no series, or NaN: nothing is known."""
    NO_EVENTS = "no_events"
    """The total is zero: no event happened, so no ratio exists."""
    INCONSISTENT = "inconsistent"
    """The counts contradict each other (e.g. more good events than events)."""


@dataclass(frozen=True)
class EventCounts:
    """Events in one window: how many, how many bad, and whether that can be judged."""

    total: float
    bad: float
    state: DataState = DataState.OK
    note: str = ""
    """Why the counts are not OK, or what was adjusted (a clamp, a missing series as 0)."""

    @property
    def has_data(self) -> bool:
        """True when a ratio can be computed from these counts."""
        return self.state is DataState.OK

    @property
    def good(self) -> float:
        """Good events (``total - bad``)."""
        return self.total - self.bad


def no_data(reason: str, state: DataState = DataState.NO_DATA) -> EventCounts:
    """Counts that cannot be judged, with the reason."""
    return EventCounts(math.nan, math.nan, state, reason)


def _unusable(value: float | None) -> bool:
    return value is None or not math.isfinite(value) or value < 0


def event_counts(kind: SliKind, events: float | None, total: float | None,
                 note: str = "") -> EventCounts:
    """Counts from an indicator's two numbers: ``events`` is good or bad as ``kind`` says.

    ``None`` means the query answered nothing. See the module docstring for what is no data.
    """
    which = "good" if kind is SliKind.GOOD_TOTAL else "bad"
    if total is None or _unusable(total):
        return no_data(f"total events: {_shown(total)}")
    if events is None or _unusable(events):
        return no_data(f"{which} events: {_shown(events)}")
    if total == 0:
        return no_data("no events in the window", DataState.NO_EVENTS)
    notes = [note] if note else []
    if events > total:
        overshoot = events - total
        if overshoot > COUNT_TOLERANCE * total:
            return no_data(
                f"{which} events ({events:g}) exceed the total ({total:g}); the two queries "
                "do not count the same events", DataState.INCONSISTENT)
        notes.append(f"{which} events exceeded the total by {overshoot:g} (extrapolation); "
                     "clamped")
        events = total
    bad = total - events if kind is SliKind.GOOD_TOTAL else events
    return EventCounts(total, bad, DataState.OK, "; ".join(notes))


def _shown(value: float | None) -> str:
    if value is None:
        return "no series"
    return f"{value:g}"


def _check_objective(objective: float) -> float:
    if not (math.isfinite(objective) and 0.0 < objective < 1.0):
        raise InternalError(f"an SLO objective must be strictly between 0 and 1, not {objective}")
    return round(1.0 - objective, DIGITS)


@dataclass(frozen=True)
class Burn:
    """How fast one window spends the error budget."""

    window_s: float
    counts: EventCounts
    bad_ratio: float
    """``bad / total``; NaN without data."""
    burn_rate: float
    """``bad_ratio / error_budget``; NaN without data."""

    @property
    def has_data(self) -> bool:
        """True when the figures are numbers."""
        return self.counts.has_data


def burn(counts: EventCounts, objective: float, window_s: float) -> Burn:
    """The burn rate of ``counts`` (one window) for an SLO with ``objective``."""
    budget = _check_objective(objective)
    if not counts.has_data:
        return Burn(window_s, counts, math.nan, math.nan)
    ratio = min(1.0, max(0.0, counts.bad / counts.total))
    return Burn(window_s, counts, ratio, ratio / budget)


@dataclass(frozen=True)
class Budget:
    """The error budget of an SLO over its whole window."""

    objective: float
    error_budget: float
    window_s: float
    counts: EventCounts
    bad_ratio: float
    consumed: float
    """Fraction of the budget spent (the whole window's burn rate); NaN without data."""
    remaining: float
    """``1 - consumed``: may be negative; NaN without data."""

    @property
    def has_data(self) -> bool:
        """True when the figures are numbers."""
        return self.counts.has_data

    @property
    def exhausted(self) -> bool:
        """True when there is data and nothing of the budget is left (``remaining <= 0``)."""
        return self.has_data and self.remaining <= 0.0

    @property
    def allowed_bad(self) -> float:
        """Bad events the window's traffic allows (``error_budget * total``); NaN without data."""
        return self.error_budget * self.counts.total if self.has_data else math.nan


def budget(counts: EventCounts, objective: float, window_s: float) -> Budget:
    """The budget figures of an SLO with ``objective`` from the counts of its whole window."""
    allowed = _check_objective(objective)
    spent = burn(counts, objective, window_s)
    if not spent.has_data:
        return Budget(objective, allowed, window_s, counts, math.nan, math.nan, math.nan)
    consumed = round(spent.burn_rate, DIGITS)
    return Budget(objective, allowed, window_s, counts, spent.bad_ratio, consumed,
                  round(1.0 - consumed, DIGITS))
