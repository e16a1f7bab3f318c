"""Kayenta's weighted-sum scorer, checked against Kayenta's ``ScorerSuite``.

Cases named after a ``ScorerSuite`` test come from spinnaker/kayenta ``kayenta-judge/src/test/
scala/com/netflix/kayenta/judge/ScorerSuite.scala`` (Kayenta compares the summary exactly, and
with ``===`` for 33.33).
"""

from __future__ import annotations

import pytest

from safeship.judge.kayenta_scorer import (
    DEFAULT_GROUP,
    NODATA_THRESHOLD,
    GroupScore,
    ScoreClass,
    ScoredMetric,
    classify_score,
    group_score,
    round_score,
    score,
    summary_score,
)
from safeship.model.analysis import Classification
from safeship.model.canary import ScoreThresholds

PASS, HIGH, LOW = Classification.PASS, Classification.HIGH, Classification.LOW
NODATA, NODATA_FAIL = Classification.NODATA, Classification.NODATA_FAIL


def metric(name: str, label: Classification, group: str = "test-group", *,
           critical: bool = False) -> ScoredMetric:
    return ScoredMetric(name, label, critical, (group,))


SCORER_SUITE = [
    ("Weighted Sum Group Scorer: Single Metric Pass", {},
     [metric("test-metric-pass", PASS)], 100.0),
    ("Weighted Sum Group Scorer: Single Metric Fail", {},
     [metric("test-metric-high", HIGH)], 0.0),
    ("Weighted Sum Group Scorer: One Group, Two Metrics", {},
     [metric("test-metric-pass", PASS), metric("test-metric-high", HIGH)], 50.0),
    ("Weighted Sum Group Scorer: One Group, Three Metrics", {},
     [metric("test-metric-pass", PASS), metric("test-metric-high", HIGH),
      metric("test-metric-low", LOW)], 33.33),
    ("Weighted Sum Group Scorer: Two Groups, Three Metrics", {"group-1": 75.0, "group-2": 25.0},
     [metric("test-metric-pass-1", PASS, "group-1"), metric("test-metric-pass-2", PASS, "group-1"),
      metric("test-metric-fail", HIGH, "group-2")], 75.0),
    ("Weighted Sum Group Scorer: Two Groups, Three Metrics (Equal Weight)",
     {"group-1": 50.0, "group-2": 50.0},
     [metric("test-metric-pass", PASS, "group-1"), metric("test-metric-fail-1", HIGH, "group-1"),
      metric("test-metric-fail-2", HIGH, "group-2")], 25.0),
    ("Weighted Sum Group Scorer: Two Groups, Three Metrics (Equal Weight), one NoData",
     {"group-1": 50.0, "group-2": 50.0},
     [metric("test-metric-pass", PASS, "group-1"), metric("test-metric-nodata", NODATA, "group-1"),
      metric("test-metric-fail", HIGH, "group-2")], 50.0),
    ("Weighted Sum Group Scorer: Two Metrics, one good (normal), one fail (critical)", {},
     [metric("test-metric-pass", PASS), metric("test-metric-high", HIGH, critical=True)], 0.0),
    ("Weighted Sum Group Scorer: Two Metrics, one low (normal), one good (critical)", {},
     [metric("test-metric-low", LOW), metric("test-metric-pass2", PASS, critical=True)], 50.0),
    ("Weighted Sum Group Scorer: Two Metrics, one good (normal), one nodata (critical)", {},
     [metric("test-metric-pass", PASS), metric("test-metric-nodata", NODATA, critical=True)],
     0.0),
    ("Weighted Sum Group Scorer: Two Groups (Unequal Weight), Four Metrics",
     {"group1": 15.0, "group2": 85.0},
     [metric("test-metric-high", HIGH, "group1"), metric("test-metric-low", LOW, "group1"),
      metric("test-metric-pass", PASS, "group1"), metric("test-metric-pass2", HIGH, "group2")],
     5.0),
]


@pytest.mark.parametrize(("name", "weights", "results", "expected"), SCORER_SUITE,
                         ids=[row[0] for row in SCORER_SUITE])
def test_kayenta_scorer_suite(name: str, weights: dict[str, float],
                              results: list[ScoredMetric], expected: float) -> None:
    assert score(results, weights).summary == expected


def test_kayenta_single_group_nodata() -> None:
    """ScorerSuite "Weighted Sum Group Scorer: Single group Nodata"."""
    result = score([metric("test-metric-nodata", NODATA, "test-group-nodata")], {})
    assert len(result.groups) == 1
    assert result.groups[0].score == 0.0
    assert result.summary == 0.0


def test_kayenta_two_groups_one_pass_one_nodata() -> None:
    """ScorerSuite "Weighted Sum Group Scorer: Two Groups, one Pass, one Nodata"."""
    result = score([metric("test-metric-pass1a", PASS, "test-group-pass"),
                    metric("test-metric-pass1b", PASS, "test-group-pass"),
                    metric("test-metric-nodata", NODATA, "test-group-nodata")], {})
    assert len(result.groups) == 2
    assert sorted(group.score for group in result.groups) == [0.0, 100.0]
    assert result.summary == 100.0


# --- every branch --------------------------------------------------------------------------


def test_group_score_counts() -> None:
    group = group_score("g", [PASS, PASS, HIGH, LOW, NODATA_FAIL, NODATA])
    assert group.score == pytest.approx(100 * 2 / 5)
    assert not group.no_data
    assert group.metric_count == 6
    assert group.counts[PASS] == 2
    assert group.counts[NODATA] == 1


def test_nodata_fail_counts_against_the_group_but_not_as_nodata() -> None:
    result = score([metric("a", PASS), metric("b", NODATA_FAIL)])
    assert result.summary == 50.0
    assert result.reason is None
    assert result.nodata_percent == 0.0


def test_a_nodata_only_group_counts_as_100_in_the_summary() -> None:
    groups = (group_score("a", [NODATA]), group_score("b", [HIGH, PASS]))
    assert groups[0] == GroupScore("a", 0.0, True, groups[0].counts, 1)
    assert summary_score(groups, {}) == 75.0


def test_unweighted_groups_share_what_is_left() -> None:
    groups = (group_score("a", [PASS]), group_score("b", [HIGH]), group_score("c", [PASS]))
    # a is 50; b and c share the other 50 equally.
    assert summary_score(groups, {"a": 50.0}) == 75.0
    # Configured weights of groups with no metrics still take their share.
    assert summary_score(groups[:1], {"a": 50.0, "absent": 50.0}) == 50.0


def test_rounding_is_half_up_to_two_decimals() -> None:
    assert round_score(2 / 3 * 100) == 66.67
    assert round_score(12.345) == 12.35  # repr 12.345: half up, unlike round()
    assert round_score(-12.345) == -12.35
    assert round_score(100.0) == 100.0


@pytest.mark.parametrize(("nodata", "total", "zeroed"), [(1, 2, True), (2, 3, True),
                                                         (1, 3, False), (0, 1, False)])
def test_nodata_threshold(nodata: int, total: int, zeroed: bool) -> None:
    results = [metric(f"n{i}", NODATA) for i in range(nodata)]
    results += [metric(f"p{i}", PASS) for i in range(total - nodata)]
    result = score(results)
    assert (result.summary == 0.0) is zeroed
    assert (result.reason is not None) is zeroed
    if result.reason is not None:
        assert f"{NODATA_THRESHOLD:g}% or more metrics returned NODATA" in result.reason


def test_critical_failure_comes_first_and_names_the_metric() -> None:
    results = [ScoredMetric("lat", HIGH, True, ("g",), "lat was classified as High (critical)"),
               metric("n1", NODATA), metric("n2", NODATA)]
    result = score(results)
    assert result.summary == 0.0
    assert result.reason == "Canary Failed: lat was classified as High (critical)"
    assert result.critical_failures == ("lat",)
    unnamed = score([ScoredMetric("err", NODATA_FAIL, True)])
    assert unnamed.reason == "Canary Failed: err was classified as NodataFailMetric"


def test_a_passing_critical_metric_is_not_a_failure() -> None:
    assert score([metric("a", PASS, critical=True)]).summary == 100.0


def test_metric_without_groups_joins_the_default_group() -> None:
    lonely = ScoredMetric("a", HIGH)
    assert lonely.effective_groups == (DEFAULT_GROUP,)
    result = score([lonely, metric("b", PASS, "other")])
    assert {group.name for group in result.groups} == {DEFAULT_GROUP, "other"}
    assert result.summary == 50.0  # Kayenta would have ignored "a" and scored 100


def test_a_metric_in_two_groups_counts_in_both() -> None:
    result = score([ScoredMetric("a", HIGH, groups=("x", "y")), metric("b", PASS, "x")])
    scores = {group.name: group.score for group in result.groups}
    assert scores == {"x": 50.0, "y": 0.0}
    assert result.summary == 25.0


def test_no_results() -> None:
    result = score([])
    assert (result.summary, result.groups, result.reason, result.metric_count) == (
        0.0, (), None, 0)


@pytest.mark.parametrize(("value", "expected"), [
    (100.0, ScoreClass.PASS), (95.0, ScoreClass.PASS), (94.99, ScoreClass.MARGINAL),
    (75.0, ScoreClass.MARGINAL), (74.99, ScoreClass.FAIL), (0.0, ScoreClass.FAIL),
])
def test_score_classification(value: float, expected: ScoreClass) -> None:
    """ThresholdScoreClassifier with test-config.json's pass 95 / marginal 75."""
    assert classify_score(value, ScoreThresholds(95.0, 75.0)) is expected
