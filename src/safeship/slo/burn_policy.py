"""The multiwindow, multi-burn-rate alerting policy, scaled to any SLO window.

The SRE Workbook's policy ("Alerting on SLOs", chapter 5) for a 30-day SLO:

======== ============ ============= =========== ============================
severity long window short window burn factor share of the budget spent
======== ============ ============= =========== ============================
page     1h           5m            14.4        2 % in 1 h
page     6h           30m           6           5 % in 6 h
ticket   1d           2h            3           10 % in 1 d
ticket   3d           6h            1           10 % in 3 d
======== ============ ============= =========== ============================

An alert fires when the error ratio exceeds ``burn_factor x error_budget`` over **both** its
long window (the budget really is burning) and its short window (it still is, so the alert
resets soon after the problem is fixed).

What a row really fixes is the share of the budget it lets burn within its long window, so for
any other SLO window the windows stay and the burn factor is rescaled (as Sloth does):
``burn_factor = share x slo_window / long_window``. A 28-day SLO pages at 13.44x over 1h/5m.
A row whose long window is longer than the SLO window itself is dropped (it would watch events
the objective no longer counts).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from safeship._internal.durations import format_duration


class Severity(StrEnum):
    """How urgently a burning budget needs a person."""

    PAGE = "page"
    """Wake someone up: the budget will be gone within days."""
    TICKET = "ticket"
    """Look at it in working hours: the budget is burning faster than it refills."""


@dataclass(frozen=True)
class PolicyRow:
    """One row of the policy, independent of any SLO window."""

    severity: Severity
    long_window_s: float
    short_window_s: float
    budget_share: float
    """The fraction of the whole error budget allowed to burn within the long window."""


HOUR_S = 3600.0
DAY_S = 86400.0
REFERENCE_WINDOW_S = 30 * DAY_S
"""The SLO window the SRE Workbook's burn factors (14.4, 6, 3, 1) are quoted for."""

SRE_WORKBOOK_POLICY: tuple[PolicyRow, ...] = (
    PolicyRow(Severity.PAGE, HOUR_S, 300.0, 0.02),
    PolicyRow(Severity.PAGE, 6 * HOUR_S, 1800.0, 0.05),
    PolicyRow(Severity.TICKET, DAY_S, 2 * HOUR_S, 0.10),
    PolicyRow(Severity.TICKET, 3 * DAY_S, 6 * HOUR_S, 0.10),
)
"""The SRE Workbook's four rows, as budget shares."""


def burn_factor(budget_share: float, slo_window_s: float, long_window_s: float) -> float:
    """How many times faster than sustainable the budget burns when ``budget_share`` of it
    goes within ``long_window_s`` (rounded to 10 significant digits: 14.4, not 14.400000001)."""
    if slo_window_s <= 0 or long_window_s <= 0:
        raise ValueError("windows must be longer than zero")
    return float(f"{budget_share * slo_window_s / long_window_s:.10g}")


@dataclass(frozen=True)
class BurnRateAlert:
    """A policy row scaled to one SLO window."""

    severity: Severity
    long_window_s: float
    short_window_s: float
    budget_share: float
    burn_factor: float

    def error_ratio_threshold(self, error_budget: float) -> float:
        """The bad-event ratio above which this alert fires: ``burn_factor x error_budget``."""
        return self.burn_factor * error_budget

    def exhaustion_s(self, slo_window_s: float) -> float:
        """Seconds until the whole budget is gone at exactly the alerting burn rate."""
        return slo_window_s / self.burn_factor

    @property
    def label(self) -> str:
        """``page 1h/5m`` - how the row is named in messages."""
        return (f"{self.severity} {format_duration(self.long_window_s)}/"
                f"{format_duration(self.short_window_s)}")


@dataclass(frozen=True)
class BurnPolicy:
    """The alerts of one SLO window, and the rows that had to be left out."""

    slo_window_s: float
    alerts: tuple[BurnRateAlert, ...]
    dropped: tuple[PolicyRow, ...] = ()

    @property
    def windows_s(self) -> tuple[float, ...]:
        """Every window the alerts read, and the SLO window, shortest first, no duplicates."""
        windows = {self.slo_window_s}
        for alert in self.alerts:
            windows.update((alert.long_window_s, alert.short_window_s))
        return tuple(sorted(windows))

    def notes(self, error_budget: float) -> tuple[str, ...]:
        """What a reader of generated rules should know about this policy for ``error_budget``.

        Dropped rows, and alerts that can never fire because their threshold needs more than
        100 % of events to be bad (a loose objective with a fast burn factor).
        """
        window = format_duration(self.slo_window_s)
        notes = [
            f"the {row.severity} alert over {format_duration(row.long_window_s)}/"
            f"{format_duration(row.short_window_s)} is left out: its long window is longer "
            f"than the {window} SLO window"
            for row in self.dropped
        ]
        for alert in self.alerts:
            threshold = alert.error_ratio_threshold(error_budget)
            if threshold >= 1.0:
                notes.append(
                    f"the {alert.label} alert can never fire: it needs an error ratio of "
                    f"{threshold:.4g} ({alert.burn_factor:g} x the {error_budget:.4g} budget), "
                    "more than all events; tighten the objective or rely on the slower alerts")
        return tuple(notes)


def burn_policy(slo_window_s: float,
                rows: tuple[PolicyRow, ...] = SRE_WORKBOOK_POLICY) -> BurnPolicy:
    """``rows`` scaled to an SLO measured over ``slo_window_s`` seconds."""
    if slo_window_s <= 0:
        raise ValueError("the SLO window must be longer than zero")
    kept: list[BurnRateAlert] = []
    dropped: list[PolicyRow] = []
    for row in rows:
        if row.long_window_s > slo_window_s:
            dropped.append(row)
            continue
        kept.append(BurnRateAlert(
            row.severity, row.long_window_s, row.short_window_s, row.budget_share,
            burn_factor(row.budget_share, slo_window_s, row.long_window_s)))
    return BurnPolicy(slo_window_s, tuple(kept), tuple(dropped))


def policy_windows(slo_window_s: float) -> tuple[float, ...]:
    """The windows (seconds) to measure burn rates over for an SLO window: the policy's
    short and long windows that fit in it, and the SLO window itself, shortest first."""
    return burn_policy(slo_window_s).windows_s
