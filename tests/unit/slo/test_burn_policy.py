"""The multiwindow, multi-burn-rate policy: the SRE Workbook's table and its scaling."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safeship.slo.burn_policy import (
    DAY_S,
    HOUR_S,
    SRE_WORKBOOK_POLICY,
    BurnRateAlert,
    PolicyRow,
    Severity,
    burn_factor,
    burn_policy,
    policy_windows,
)

MINUTE_S = 60.0


def _rows(window_s: float) -> list[tuple[str, float, float, float]]:
    return [(a.severity.value, a.long_window_s, a.short_window_s, a.burn_factor)
            for a in burn_policy(window_s).alerts]


def test_a_30_day_window_gives_the_workbook_table() -> None:
    assert _rows(30 * DAY_S) == [
        ("page", HOUR_S, 5 * MINUTE_S, 14.4),
        ("page", 6 * HOUR_S, 30 * MINUTE_S, 6.0),
        ("ticket", DAY_S, 2 * HOUR_S, 3.0),
        ("ticket", 3 * DAY_S, 6 * HOUR_S, 1.0),
    ]


def test_other_windows_keep_the_windows_and_rescale_the_factors() -> None:
    assert _rows(28 * DAY_S) == [
        ("page", HOUR_S, 5 * MINUTE_S, 13.44),
        ("page", 6 * HOUR_S, 30 * MINUTE_S, 5.6),
        ("ticket", DAY_S, 2 * HOUR_S, 2.8),
        ("ticket", 3 * DAY_S, 6 * HOUR_S, pytest.approx(28 / 30)),
    ]
    assert [r[3] for r in _rows(7 * DAY_S)] == [3.36, 1.4, 0.7, pytest.approx(7 / 30)]


@settings(max_examples=80, deadline=None)
@given(window_s=st.floats(min_value=3 * DAY_S, max_value=400 * DAY_S))
def test_each_alert_means_the_same_share_of_the_budget(window_s: float) -> None:
    # Burning at the alert's factor for its long window spends exactly its share of the budget.
    policy = burn_policy(window_s)
    assert [a.budget_share for a in policy.alerts] == [0.02, 0.05, 0.10, 0.10]
    for alert in policy.alerts:
        spent = alert.burn_factor * alert.long_window_s / window_s
        assert spent == pytest.approx(alert.budget_share, rel=1e-9)


def test_rows_longer_than_the_slo_window_are_dropped_and_said_so() -> None:
    policy = burn_policy(DAY_S)
    assert [a.long_window_s for a in policy.alerts] == [HOUR_S, 6 * HOUR_S, DAY_S]
    assert policy.dropped == (SRE_WORKBOOK_POLICY[3],)
    notes = policy.notes(0.001)
    assert len(notes) == 1
    assert "3d/6h" in notes[0]
    assert "longer than the 1d SLO window" in notes[0]
    assert burn_policy(2 * HOUR_S).windows_s == (300.0, HOUR_S, 2 * HOUR_S)


def test_alerts_that_can_never_fire_are_noted() -> None:
    policy = burn_policy(30 * DAY_S)
    assert policy.notes(0.001) == ()
    notes = policy.notes(0.1)  # a 90 % objective: 14.4 x 10 % > 100 % of events
    assert len(notes) == 1
    assert notes[0].startswith("the page 1h/5m alert can never fire")
    assert len(policy.notes(0.5)) == 3  # 6 x 50 % and 3 x 50 % cannot fire either


def test_windows_cover_every_alert_and_the_slo_window_once() -> None:
    assert policy_windows(30 * DAY_S) == (
        300.0, 1800.0, HOUR_S, 2 * HOUR_S, 6 * HOUR_S, DAY_S, 3 * DAY_S, 30 * DAY_S)
    assert policy_windows(3 * DAY_S) == (300.0, 1800.0, HOUR_S, 2 * HOUR_S, 6 * HOUR_S, DAY_S,
                                         3 * DAY_S)


def test_thresholds_exhaustion_and_labels() -> None:
    alert = burn_policy(30 * DAY_S).alerts[0]
    assert alert.error_ratio_threshold(0.001) == pytest.approx(0.0144)
    assert alert.exhaustion_s(30 * DAY_S) == pytest.approx(50 * HOUR_S)
    assert alert.label == "page 1h/5m"
    assert alert.severity is Severity.PAGE


def test_custom_rows_and_invalid_windows() -> None:
    rows = (PolicyRow(Severity.TICKET, 2 * HOUR_S, 10 * MINUTE_S, 0.5),)
    assert burn_policy(DAY_S, rows).alerts == (
        BurnRateAlert(Severity.TICKET, 2 * HOUR_S, 10 * MINUTE_S, 0.5, 6.0),)
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError, match="longer than zero"):
            burn_policy(bad)
        with pytest.raises(ValueError, match="longer than zero"):
            burn_factor(0.02, bad, HOUR_S)
    assert burn_factor(0.02, 30 * DAY_S, HOUR_S) == 14.4
