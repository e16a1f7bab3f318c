"""Error-budget arithmetic: ratios, burn rates, budget left, and every way of having no data."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safeship.errors import InternalError
from safeship.model.slo import SliKind
from safeship.slo.budget import (
    COUNT_TOLERANCE,
    DataState,
    budget,
    burn,
    event_counts,
    no_data,
)

DAY = 86400.0


def test_bad_total_counts_are_taken_as_they_are() -> None:
    counts = event_counts(SliKind.BAD_TOTAL, 25.0, 10_000.0)
    assert counts.has_data
    assert (counts.total, counts.bad, counts.good) == (10_000.0, 25.0, 9_975.0)
    assert counts.note == ""


def test_good_total_counts_turn_into_bad_ones() -> None:
    counts = event_counts(SliKind.GOOD_TOTAL, 9_975.0, 10_000.0)
    assert counts.has_data
    assert counts.bad == 25.0


@pytest.mark.parametrize(("events", "total", "state", "words"), [
    (1.0, None, DataState.NO_DATA, "total events: no series"),
    (None, 100.0, DataState.NO_DATA, "bad events: no series"),
    (1.0, math.nan, DataState.NO_DATA, "total events: nan"),
    (math.nan, 100.0, DataState.NO_DATA, "bad events: nan"),
    (1.0, math.inf, DataState.NO_DATA, "total events: inf"),
    (-1.0, 100.0, DataState.NO_DATA, "bad events: -1"),
    (0.0, 0.0, DataState.NO_EVENTS, "no events"),
    (150.0, 100.0, DataState.INCONSISTENT, "exceed the total"),
])
def test_unusable_counts_are_no_data_never_healthy(
        events: float | None, total: float | None, state: DataState, words: str) -> None:
    counts = event_counts(SliKind.BAD_TOTAL, events, total)
    assert counts.state is state
    assert not counts.has_data
    assert words in counts.note
    figures = budget(counts, 0.999, 30 * DAY)
    assert not figures.has_data
    assert not figures.exhausted  # unknown is neither fine nor exhausted
    assert math.isnan(figures.remaining)
    assert math.isnan(figures.consumed)
    assert math.isnan(burn(counts, 0.999, 300).burn_rate)


def test_good_events_name_themselves_in_the_reason() -> None:
    assert "good events" in event_counts(SliKind.GOOD_TOTAL, None, 5.0).note


def test_an_overshoot_within_the_tolerance_is_clamped_with_a_note() -> None:
    total = 10_000.0
    good = total * (1 + COUNT_TOLERANCE / 2)
    counts = event_counts(SliKind.GOOD_TOTAL, good, total)
    assert counts.has_data
    assert counts.bad == 0.0
    assert "clamped" in counts.note
    just_over = event_counts(SliKind.GOOD_TOTAL, total * (1 + 2 * COUNT_TOLERANCE), total)
    assert just_over.state is DataState.INCONSISTENT


def test_a_note_from_the_reader_is_kept() -> None:
    counts = event_counts(SliKind.BAD_TOTAL, 0.0, 10.0, "counted as 0")
    assert counts.note == "counted as 0"


def test_burn_rate_is_the_bad_ratio_over_the_budget() -> None:
    objective = 0.999
    counts = event_counts(SliKind.BAD_TOTAL, 72.0, 5_000.0)
    result = burn(counts, objective, 3600.0)
    assert result.has_data
    assert result.window_s == 3600.0
    assert result.bad_ratio == pytest.approx(72.0 / 5_000.0)
    assert result.burn_rate == pytest.approx((72.0 / 5_000.0) / (1 - objective))


def test_budget_over_the_window_remaining_and_consumed() -> None:
    objective, total = 0.99, 1_000_000.0
    allowed = (1 - objective) * total  # 10 000 bad events are allowed
    counts = event_counts(SliKind.BAD_TOTAL, allowed / 4, total)
    figures = budget(counts, objective, 30 * DAY)
    assert figures.error_budget == pytest.approx(1 - objective)
    assert figures.allowed_bad == pytest.approx(allowed)
    assert figures.consumed == pytest.approx(0.25)
    assert figures.remaining == pytest.approx(0.75)
    assert not figures.exhausted


def test_more_bad_events_than_allowed_leave_a_negative_budget() -> None:
    counts = event_counts(SliKind.BAD_TOTAL, 30.0, 10_000.0)  # 3x the 0.1 % budget
    figures = budget(counts, 0.999, 30 * DAY)
    assert figures.remaining == pytest.approx(-2.0)
    assert figures.exhausted


def test_exactly_the_budget_spent_is_exhausted_despite_float_noise() -> None:
    # 1 - 0.999 is 0.0010000000000000009 in binary; exactly one allowed bad event in 1000
    # must leave exactly nothing, not a hair.
    figures = budget(event_counts(SliKind.BAD_TOTAL, 1.0, 1000.0), 0.999, DAY)
    assert figures.error_budget == 0.001
    assert figures.remaining == 0.0
    assert figures.exhausted


def test_exactly_five_percent_left_is_five_percent() -> None:
    figures = budget(event_counts(SliKind.BAD_TOTAL, 0.95, 1000.0), 0.999, DAY)
    assert figures.remaining == 0.05
    assert not figures.remaining > 0.05


@pytest.mark.parametrize("objective", [0.0, 1.0, -0.5, 1.5, math.nan])
def test_an_impossible_objective_is_a_bug(objective: float) -> None:
    with pytest.raises(InternalError, match="strictly between 0 and 1"):
        budget(event_counts(SliKind.BAD_TOTAL, 1.0, 10.0), objective, DAY)


def test_no_data_helper_carries_its_reason() -> None:
    counts = no_data("nothing here")
    assert counts.state is DataState.NO_DATA
    assert counts.note == "nothing here"
    assert math.isnan(counts.total)


@settings(max_examples=200, deadline=None)
@given(total=st.floats(min_value=1.0, max_value=1e12),
       bad_share=st.floats(min_value=0.0, max_value=1.0),
       objective=st.floats(min_value=0.5, max_value=0.99999))
def test_budget_figures_agree_with_each_other(total: float, bad_share: float,
                                              objective: float) -> None:
    counts = event_counts(SliKind.BAD_TOTAL, total * bad_share, total)
    figures = budget(counts, objective, 30 * DAY)
    window = burn(counts, objective, 30 * DAY)
    assert figures.has_data
    assert 0.0 <= figures.bad_ratio <= 1.0
    assert figures.consumed == pytest.approx(window.burn_rate, rel=1e-9, abs=1e-11)
    assert figures.remaining + figures.consumed == pytest.approx(1.0, abs=1e-11)
    assert figures.exhausted == (figures.remaining <= 0.0)
    # More bad events never leave more budget.
    worse = budget(event_counts(SliKind.BAD_TOTAL, min(total, total * bad_share + 1), total),
                   objective, 30 * DAY)
    assert worse.remaining <= figures.remaining
