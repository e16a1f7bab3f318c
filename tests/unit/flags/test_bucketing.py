"""Consistent bucketing: accurate shares, monotonic rollouts, independent flags."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safeship.flags import EvaluationContext, Reason, evaluate
from safeship.flags.bucketing import (
    BUCKETS,
    bucket,
    cumulative_bounds,
    percent_text,
    pick,
    weight_of,
)
from safeship.flags.changes import set_rollout
from safeship.flags.model import Rollout, Serve, Weight
from tests.unit.flags.flag_samples import boolean_flag, string_flag

KEYS = [f"user-{index}" for index in range(10_000)]


def on_keys(flag_percent: float, key: str = "beta", keys: list[str] = KEYS) -> set[str]:
    flag = boolean_flag(key, percent=flag_percent)
    on = set()
    for user in keys:
        result = evaluate(flag, EvaluationContext(user))
        assert result.reason is Reason.SPLIT
        if result.value is True:
            on.add(user)
    return on


def test_ten_percent_of_ten_thousand_keys_is_within_one_point() -> None:
    assert 900 <= len(on_keys(0.10)) <= 1100


@pytest.mark.parametrize("fraction", [0.01, 0.25, 0.5, 0.9])
def test_other_shares_are_accurate_too(fraction: float) -> None:
    count = len(on_keys(fraction))
    assert abs(count - fraction * len(KEYS)) <= 0.01 * len(KEYS)


def test_zero_and_one_hundred_percent_are_exact() -> None:
    assert on_keys(0.0) == set()
    assert on_keys(1.0) == set(KEYS)


def test_a_key_keeps_its_bucket() -> None:
    assert [bucket("beta", key) for key in KEYS[:100]] == [bucket("beta", k) for k in KEYS[:100]]
    assert all(0 <= bucket("beta", key) < BUCKETS for key in KEYS)


_SAMPLE_KEYS = KEYS[:300]


@settings(max_examples=60, deadline=None)
@given(
    low=st.floats(min_value=0.0, max_value=1.0),
    high=st.floats(min_value=0.0, max_value=1.0),
    salt=st.text(min_size=1, max_size=20),
)
def test_raising_the_percentage_keeps_everyone_who_was_on(low: float, high: float,
                                                          salt: str) -> None:
    low, high = min(low, high), max(low, high)
    flag = replace(boolean_flag("monotonic"), salt=salt)
    before = set_rollout(flag, "production", low)
    after = set_rollout(before, "production", high)
    was_on = {k for k in _SAMPLE_KEYS if evaluate(before, EvaluationContext(k)).value is True}
    now_on = {k for k in _SAMPLE_KEYS if evaluate(after, EvaluationContext(k)).value is True}
    assert was_on <= now_on
    # and the buckets themselves say the same: on exactly when below the boundary
    assert was_on == {k for k in _SAMPLE_KEYS if bucket(salt, k) < weight_of(low)}


def test_different_flags_bucket_independently() -> None:
    first, second = on_keys(0.10, "checkout"), on_keys(0.10, "search")
    assert first != second
    # Independent 10 % samples overlap on about 1 % of keys (100 of 10,000); identical
    # bucketing would overlap on all ~1,000.
    assert 50 <= len(first & second) <= 160


def test_salts_change_buckets() -> None:
    same_key = [bucket(salt, "user-1") for salt in ("a", "b", "c", "d", "e", "f")]
    assert len(set(same_key)) == len(same_key)


def test_multivariate_weights_split_by_bucket_ranges() -> None:
    flag = string_flag()
    rollout = Rollout((Weight("classic", 20_000), Weight("dark", 30_000),
                       Weight("light", 50_000)))
    production = replace(flag.environments["production"], default=Serve(rollout=rollout))
    flag = replace(flag, environments={"production": production})
    counts = {"classic": 0, "dark": 0, "light": 0}
    for key in KEYS:
        result = evaluate(flag, EvaluationContext(key))
        assert result.variant is not None
        counts[result.variant] += 1
        # the variant is the one whose range holds the key's bucket
        slot = bucket(flag.salt, key)
        expected = "classic" if slot < 20_000 else ("dark" if slot < 50_000 else "light")
        assert result.variant == expected
    assert abs(counts["classic"] - 2000) <= 100
    assert abs(counts["dark"] - 3000) <= 100
    assert abs(counts["light"] - 5000) <= 100


def test_bucket_ranges() -> None:
    bounds = cumulative_bounds((5000, 0, 95_000))
    assert bounds == (5000, 5000, 100_000)
    assert pick(bounds, 0) == 0
    assert pick(bounds, 4999) == 0
    assert pick(bounds, 5000) == 2  # an empty range never wins
    assert pick(bounds, 99_999) == 2
    with pytest.raises(ValueError, match="beyond"):
        pick(bounds, 100_000)


@pytest.mark.parametrize(("weight", "text"), [
    (0, "0%"), (5000, "5%"), (5125, "5.125%"), (33_333, "33.333%"), (100_000, "100%"),
    (1, "0.001%"),
])
def test_percent_text_is_exact(weight: int, text: str) -> None:
    assert percent_text(weight) == text


def test_weight_of_checks_its_range() -> None:
    assert weight_of(0.05) == 5000
    assert weight_of(1 / 3) == 33_333
    for bad in (-0.1, 1.1):
        with pytest.raises(ValueError, match="between 0 and 1"):
            weight_of(bad)
