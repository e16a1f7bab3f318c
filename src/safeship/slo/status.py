"""The status of one SLO at a moment: budget left over its window, burn rate per policy window.

:func:`slo_status` reads the indicator's event counts for the SLO's whole window and for each
window of the multiwindow, multi-burn-rate alerting policy (5m, 30m, 1h, 2h, 6h, 1d, 3d; the
windows of a policy row whose long window exceeds the SLO window are left out) through an
:class:`EventCountReader` (the real one is
:class:`safeship.slo.prometheus_reader.PrometheusSliReader`), and computes the figures with
:mod:`safeship.slo.budget`.

The policy is :mod:`safeship.slo.burn_policy`'s (the SRE Workbook's multiwindow,
multi-burn-rate table, scaled to the SLO window: 14.4x over 1h and 5m, 6x over 6h and 30m, 3x
over 1d and 2h, 1x over 3d and 6h for 30 days); ``safeship slo rules`` turns the same table into
Prometheus alerting rules. A row would fire now when *both* its windows burn faster than its
factor; the status says so for each row.

A status is OK while the budget has something left, EXHAUSTED once ``remaining <= 0``, and
NO_DATA when the whole window's counts cannot be judged: no data never reads as healthy.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from safeship._internal.durations import format_duration
from safeship.model.slo import SloDefinition
from safeship.slo.budget import Budget, Burn, EventCounts, budget, burn
from safeship.slo.burn_policy import SRE_WORKBOOK_POLICY, BurnRateAlert, burn_policy

BURN_WINDOWS_S: tuple[float, ...] = tuple(sorted(
    {row.long_window_s for row in SRE_WORKBOOK_POLICY}
    | {row.short_window_s for row in SRE_WORKBOOK_POLICY}))
"""Every window of the policy: 5m, 30m, 1h, 2h, 6h, 1d, 3d."""

FIXED_NAMES = ("budget_remaining", "budget_consumed", "bad_ratio", "objective", "error_budget",
               "events_total", "events_bad", "burn_rate_window")
"""Names a condition over a status can always use (besides ``burn_rate_<window>``)."""


def window_name(seconds: float) -> str:
    """A window as people write it: ``300`` -> ``5m``, ``2592000`` -> ``30d``."""
    return format_duration(seconds)


def burn_rate_names() -> tuple[str, ...]:
    """``burn_rate_5m`` ... ``burn_rate_3d``: the policy windows' condition names."""
    return tuple(f"burn_rate_{window_name(seconds)}" for seconds in BURN_WINDOWS_S)


class EventCountReader(ABC):
    """Where event counts come from (Prometheus, or a fake in tests)."""

    @abstractmethod
    def counts(self, slo: SloDefinition, window_s: float, at: float) -> EventCounts:
        """Events of ``slo`` in the ``window_s`` seconds up to unix time ``at``."""

    def session(self) -> AbstractContextManager[None]:
        """A block in which many reads share one connection (by default, nothing)."""
        return nullcontext()


class SloState(StrEnum):
    """The headline of a status."""

    OK = "ok"
    EXHAUSTED = "exhausted"
    NO_DATA = "no_data"


@dataclass(frozen=True)
class WindowBurn:
    """The burn rate over one window."""

    name: str
    burn: Burn
    whole: bool = False
    """True for the SLO's own window."""


@dataclass(frozen=True)
class AlertState:
    """One policy row evaluated now: would its alert fire?"""

    alert: BurnRateAlert
    long: Burn
    short: Burn

    @property
    def severity(self) -> str:
        """``page`` or ``ticket``."""
        return self.alert.severity.value

    @property
    def factor(self) -> float:
        """The burn-rate threshold both windows must exceed."""
        return self.alert.burn_factor

    @property
    def firing(self) -> bool | None:
        """True when both windows burn faster than the factor; None without data."""
        if not (self.long.has_data and self.short.has_data):
            return None
        return self.long.burn_rate > self.factor and self.short.burn_rate > self.factor


@dataclass(frozen=True)
class SloStatus:
    """Everything known about one SLO at ``at``."""

    slo: SloDefinition
    at: float
    budget: Budget
    windows: tuple[WindowBurn, ...]
    alerts: tuple[AlertState, ...]

    @property
    def state(self) -> SloState:
        """OK, EXHAUSTED (``remaining <= 0``) or NO_DATA."""
        if not self.budget.has_data:
            return SloState.NO_DATA
        return SloState.EXHAUSTED if self.budget.exhausted else SloState.OK

    def window(self, name: str) -> WindowBurn | None:
        """The burn over the window called ``name`` (``5m`` ... or the SLO window's name)."""
        return next((w for w in self.windows if w.name == name), None)

    def condition_values(self) -> dict[str, float]:
        """The names a gate condition may use, NaN where there is no data."""
        figures = self.budget
        values: dict[str, float] = {
            "budget_remaining": figures.remaining,
            "budget_consumed": figures.consumed,
            "bad_ratio": figures.bad_ratio,
            "objective": self.slo.objective,
            "error_budget": figures.error_budget,
            "events_total": figures.counts.total,
            "events_bad": figures.counts.bad,
        }
        for item in self.windows:
            key = "burn_rate_window" if item.whole else f"burn_rate_{item.name}"
            values[key] = item.burn.burn_rate
        whole = next((w for w in self.windows if w.whole), None)
        if whole is not None:
            values.setdefault(f"burn_rate_{whole.name}", whole.burn.burn_rate)
        return values

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict; NaN becomes null."""
        figures = self.budget
        return {
            "slo": self.slo.name,
            "service": self.slo.service,
            "description": self.slo.description,
            "source": self.slo.source,
            "objective": self.slo.objective,
            "window": window_name(self.slo.window_s),
            "window_seconds": self.slo.window_s,
            "at": self.at,
            "state": self.state.value,
            "error_budget": figures.error_budget,
            "budget": {
                "remaining": _finite(figures.remaining),
                "consumed": _finite(figures.consumed),
                "bad_ratio": _finite(figures.bad_ratio),
                "events_total": _finite(figures.counts.total),
                "events_bad": _finite(figures.counts.bad),
                "allowed_bad": _finite(figures.allowed_bad),
                "data": figures.counts.state.value,
                "note": figures.counts.note,
            },
            "burn_rates": [
                {"window": w.name, "seconds": w.burn.window_s, "whole_window": w.whole,
                 "burn_rate": _finite(w.burn.burn_rate), "bad_ratio": _finite(w.burn.bad_ratio),
                 "events_total": _finite(w.burn.counts.total),
                 "events_bad": _finite(w.burn.counts.bad),
                 "data": w.burn.counts.state.value, "note": w.burn.counts.note}
                for w in self.windows
            ],
            "alerts": [
                {"severity": a.severity, "long": window_name(a.alert.long_window_s),
                 "short": window_name(a.alert.short_window_s), "factor": a.factor,
                 "budget_share": a.alert.budget_share, "firing": a.firing}
                for a in self.alerts
            ],
        }


def definition_place(slo: SloDefinition) -> tuple[str | None, int | None]:
    """Where ``slo`` is defined, from its ``source`` (``path:line``): path and line."""
    path, _, line = slo.source.rpartition(":")
    if path and line.isdigit():
        return path, int(line)
    return (slo.source or None), None


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def slo_status(slo: SloDefinition, reader: EventCountReader, at: float) -> SloStatus:
    """Read and compute the status of ``slo`` at unix time ``at``."""
    whole_counts = reader.counts(slo, slo.window_s, at)
    figures = budget(whole_counts, slo.objective, slo.window_s)
    policy = burn_policy(slo.window_s)
    burns: dict[float, Burn] = {}
    for seconds in policy.windows_s:
        counts = whole_counts if seconds == slo.window_s else reader.counts(slo, seconds, at)
        burns[seconds] = burn(counts, slo.objective, seconds)
    windows = tuple(WindowBurn(window_name(seconds), item, whole=seconds == slo.window_s)
                    for seconds, item in burns.items())
    alerts = tuple(AlertState(alert, burns[alert.long_window_s], burns[alert.short_window_s])
                   for alert in policy.alerts)
    return SloStatus(slo, at, figures, windows, alerts)


class SloStatusSource:
    """The statuses of a fixed set of SLOs, read afresh at each call (time from ``now``)."""

    def __init__(self, slos: Sequence[SloDefinition], reader: EventCountReader, *,
                 now: Callable[[], float] = time.time, where: str = "") -> None:
        self.slos = tuple(slos)
        self.reader = reader
        self.now = now
        self.where = where
        """Where the counts come from (a URL safe to show), for messages."""

    def statuses(self) -> tuple[SloStatus, ...]:
        """Every SLO's status now. Raises DependencyUnavailable when the source is down."""
        at = self.now()
        with self.reader.session():
            return tuple(slo_status(slo, self.reader, at) for slo in self.slos)


def describe(status: SloStatus) -> str:
    """One line: the SLO, its budget left and its state."""
    slo = status.slo
    head = f"{slo.name} ({_percent(slo.objective)} over {window_name(slo.window_s)})"
    figures = status.budget
    if not figures.has_data:
        return f"{head}: no data ({figures.counts.note or 'nothing to judge'})"
    left = f"{figures.remaining * 100:.2f}% of the error budget left"
    if status.state is SloState.EXHAUSTED:
        return f"{head}: budget exhausted, {left}"
    return f"{head}: {left}"


def _percent(fraction: float) -> str:
    text = f"{fraction * 100:.4f}".rstrip("0").rstrip(".")
    return f"{text}%"
