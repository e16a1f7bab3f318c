"""Kayenta's preprocessing, checked against ``TransformSuite``, ``DetectorSuite``,
``StatisticSuite`` and ``UtilsSuite`` (spinnaker/kayenta ``kayenta-judge/src/test/scala/com/
netflix/kayenta/judge/``). The KSigma detector and ``MapUtils`` are not part of the judge and
are not ported."""

from __future__ import annotations

import math

import numpy as np
import pytest

from safeship.judge.kayenta_preprocess import (
    SummaryStats,
    add_gaussian_noise,
    handle_missing,
    handle_outliers,
    iqr_outliers,
    mean,
    percentile,
    remove_missing,
    remove_outliers,
    replace_missing,
    summarize,
)
from safeship.model.canary import NanStrategy, OutlierStrategy

NAN = math.nan

# --- TransformSuite -----------------------------------------------------------------------------


def test_kayenta_remove_single_nan() -> None:
    """TransformSuite "Remove Single NaN"."""
    assert remove_missing((0.0, 1.0, NAN, 1.0, 0.0)) == (0.0, 1.0, 1.0, 0.0)


def test_kayenta_remove_multiple_nan() -> None:
    """TransformSuite "Remove Multiple NaN"."""
    assert remove_missing((NAN, NAN, NAN)) == ()


def test_kayenta_replace_nans() -> None:
    """TransformSuite "Replace NANs"."""
    assert replace_missing((NAN, 10.10, 20.20, 30.30, NAN, 40.40), 0.0) == (
        0.0, 10.10, 20.20, 30.30, 0.0, 40.40)


def test_kayenta_iqr_outlier_removal() -> None:
    """TransformSuite "IQR Outlier Removal"."""
    data = (21.0, 23.0, 24.0, 25.0, 50.0, 29.0, 23.0, 21.0)
    assert remove_outliers(data, 1.5) == (21.0, 23.0, 24.0, 25.0, 29.0, 23.0, 21.0)


@pytest.mark.xfail(strict=True, reason=(
    "seed-specific: Kayenta's five draws come from scala.util.Random(12345); NumPy's "
    "default_rng(12345) gives mean 0.72695 (0.27305 from 1.0, tolerance 0.2) and deviation "
    "1.01025 (within tolerance)"))
def test_kayenta_add_gaussian_noise() -> None:
    """TransformSuite "Add Gaussian Noise": mean 1 +- 0.2, deviation 1 +- 0.2, same length.

    Five draws only, so whether it holds depends on the generator behind the seed 12345.
    ``test_noise_has_the_asked_for_distribution`` checks the same property on enough draws.
    """
    rng = np.random.default_rng(12345)
    noisy = np.asarray(add_gaussian_noise((0.0,) * 5, 1.0, rng)) + 1.0  # Kayenta's mean = 1.0
    assert float(noisy.mean()) == pytest.approx(1.0, abs=0.2)
    assert float(noisy.std(ddof=1)) == pytest.approx(1.0, abs=0.2)
    assert len(noisy) == 5


# --- DetectorSuite ------------------------------------------------------------------------------

NIST = (
    30, 171, 184, 201, 212, 250, 265, 270, 272, 289, 305, 306, 322, 322, 336, 346, 351, 370, 390,
    404, 409, 411, 436, 437, 439, 441, 444, 448, 451, 453, 470, 480, 482, 487, 494, 495, 499, 503,
    514, 521, 522, 527, 548, 550, 559, 560, 570, 572, 574, 578, 585, 592, 592, 607, 616, 618, 621,
    629, 637, 638, 640, 656, 668, 707, 709, 719, 737, 739, 752, 758, 766, 792, 792, 794, 802, 818,
    830, 832, 843, 858, 860, 869, 918, 925, 953, 991, 1000, 1005, 1068, 1441,
)

DETECTOR_SUITE = [
    ("IQR Detection", (21.0, 23.0, 24.0, 25.0, 50.0, 29.0, 23.0, 21.0), 1.5, False,
     (False, False, False, False, True, False, False, False)),
    ("IQR Detect Two Sided", (1.0, 1.0, 1.0, 5.0, -1.0, -1.0, -1.0, -5.0), 1.5, False,
     (False, False, False, True, False, False, False, True)),
    ("IQR Empty Data", (), 1.5, False, ()),
    ("IQR NIST Test", tuple(float(v) for v in NIST), 1.5, False,
     (False,) * (len(NIST) - 1) + (True,)),
    # Only in the older DetectorSuite (spinnaker/kayenta): see the xfail below.
    pytest.param(
        "IQR Reduce Sensitivity", (1.0,) * 5 + (20.0,) + (1.0,) * 5, 3.0, True, (False,) * 11,
        marks=pytest.mark.xfail(strict=True, reason=(
            "written when Kayenta's IQRDetector used StatUtils.percentile (Apache's LEGACY "
            "estimate, whose p99 of these 11 points is the maximum 20.0, so nothing is "
            "flagged); current Kayenta and this port use R-7 percentiles (StatisticSuite's "
            "NIST case needs R-7), whose p99 is 18.1, so the fence is 18.1 and 20.0 is an "
            "outlier (1.9 beyond); current Kayenta's DetectorSuite no longer has this case"))),
]


@pytest.mark.parametrize(("name", "data", "factor", "reduce", "truth"), DETECTOR_SUITE,
                         ids=["IQR Detection", "IQR Detect Two Sided", "IQR Empty Data",
                              "IQR NIST Test", "IQR Reduce Sensitivity"])
def test_kayenta_detector_suite(name: str, data: tuple[float, ...], factor: float,
                                reduce: bool, truth: tuple[bool, ...]) -> None:
    assert iqr_outliers(data, factor, reduce_sensitivity=reduce) == truth


# --- StatisticSuite: summaries and percentiles ------------------------------------------------


def test_kayenta_summary_scalar() -> None:
    """StatisticSuite "Summary Statistics: Scalar"."""
    assert summarize((4.0,)) == SummaryStats(4, 4, 4, 0, 1)


def test_kayenta_summary_list() -> None:
    """StatisticSuite "Summary Statistics: List"."""
    result = summarize((1.0, 1.0, 1.0, 10.0, 10.0, 10.0))
    assert (result.min, result.max, result.mean, result.count) == (1.0, 10.0, 5.5, 6)
    assert result.std == pytest.approx(4.9295, abs=1e-4)


def test_kayenta_summary_no_data() -> None:
    """StatisticSuite "Summary Statistics: No Data"."""
    assert summarize(()) == SummaryStats(0, 0, 0, 0, 0)


PERCENTILE_ESTIMATE = (
    0.07142857142857144, 0.02083333333333332, 0.16666666666666666, 0.03448275862068966,
    0.038461538461538464, 0.03225806451612904, 0.027777777777777773, 0.0, 0.23076923076923078,
    0.10344827586206898, 0.04545454545454542, 0.0, 0.028571428571428564, 0.0, 0.0, 0.04, 0.0,
    0.0, 0.05128205128205127, 0.10714285714285716, 0.0263157894736842, 0.04166666666666667,
    0.09523809523809522, 0.02941176470588235, 0.024999999999999984, 0.0, 0.0,
    0.023809523809523794, 0.0, 0.02564102564102563, 0.0, 0.0, 0.028571428571428564,
    0.07142857142857144, 0.047619047619047596, 0.021276595744680833, 0.02564102564102563,
    0.03125, 0.03125, 0.03125, 0.11363636363636356, 0.03571428571428572, 0.0,
    0.02777777777777777, 0.0, 0.0, 0.055555555555555546, 0.028571428571428564,
    0.03225806451612904,
)
NIST_PERCENTILE = (95.1772, 95.1567, 95.1937, 95.1959, 95.1442, 95.0610, 95.1591, 95.1195,
                   95.1772, 95.0925, 95.1990, 95.1682)
BASIC = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5)

# (StatisticSuite test name, data, p, expected, tolerance); tolerance 0 is Kayenta's exact ===.
PERCENTILES = [
    ("Summary Statistics: Basic Percentile", BASIC, 5, 0.175, 1e-4),
    ("Summary Statistics: Basic Percentile", BASIC, 50, 1.75, 0.0),
    ("Summary Statistics: Basic Percentile", BASIC, 100, 3.5, 0.0),
    ("Summary Statistics: Basic Percentile Estimate (Linear Interpolation)",
     tuple(float(v) for v in range(10)), 50, 4.5, 0.0),
    ("Summary Statistics: Percentile (NIST Data)", NIST_PERCENTILE, 90, 95.19568, 0.0),
    ("Summary Statistics: Percentile Metric Object", (1.0,), 100, 1.0, 0.0),
    ("Summary Statistics: Percentile Estimate (Linear Interpolation)", PERCENTILE_ESTIMATE, 25,
     0.0, 0.0),
    ("Summary Statistics: Percentile Estimate (Linear Interpolation)", PERCENTILE_ESTIMATE, 75,
     0.0416, 1e-4),
]


@pytest.mark.parametrize(("name", "data", "p", "expected", "tolerance"), PERCENTILES,
                         ids=[f"{row[0]} p{row[2]}" for row in PERCENTILES])
def test_kayenta_percentiles(name: str, data: tuple[float, ...], p: float, expected: float,
                             tolerance: float) -> None:
    if tolerance:
        assert percentile(data, p) == pytest.approx(expected, abs=tolerance)
    else:
        assert percentile(data, p) == expected


# --- UtilsSuite: the noise generator ----------------------------------------------------------


@pytest.mark.parametrize(("name", "centre", "stdev", "count"), [
    ("RandomUtils List of Random Samples (Zero Mean)", 0.0, 1.0, 500),
    ("RandomUtils List of Random Samples (Non-zero Mean)", 10.0, 3.0, 1000),
])
def test_kayenta_random_samples(name: str, centre: float, stdev: float, count: int) -> None:
    """UtilsSuite: seeded normal draws have the asked-for mean and spread (+- 0.2)."""
    rng = np.random.default_rng(123456789)
    sample = np.asarray(add_gaussian_noise((centre,) * count, stdev, rng))
    assert len(sample) == count
    assert float(sample.mean()) == pytest.approx(centre, abs=0.2)
    assert float(sample.std(ddof=1)) == pytest.approx(stdev, abs=0.2)


def test_kayenta_random_sample_zero_variance() -> None:
    """UtilsSuite "RandomUtils Random Sample (Zero Variance)"."""
    assert add_gaussian_noise((0.0,), 0.0, np.random.default_rng(1)) == (0.0,)


# --- beyond Kayenta's suites ----------------------------------------------------------------


def test_infinite_points_are_missing_too() -> None:
    data = (1.0, math.inf, -math.inf, NAN, 2.0)
    assert remove_missing(data) == (1.0, 2.0)
    assert replace_missing(data) == (1.0, 0.0, 0.0, 0.0, 2.0)


@pytest.mark.parametrize(("strategy", "expected"), [
    (NanStrategy.REMOVE, (1.0, 3.0)),
    (NanStrategy.REPLACE, (1.0, 0.0, 3.0)),
])
def test_nan_strategies(strategy: NanStrategy, expected: tuple[float, ...]) -> None:
    assert handle_missing((1.0, NAN, 3.0), strategy) == expected


def test_all_nan_under_both_strategies() -> None:
    assert handle_missing((NAN, NAN), NanStrategy.REMOVE) == ()
    assert handle_missing((NAN, NAN), NanStrategy.REPLACE) == (0.0, 0.0)


def test_outlier_strategy_keep_and_remove_with_widened_fences() -> None:
    data = (*tuple(float(v) for v in range(1, 101)), 10000.0)
    assert handle_outliers(data, OutlierStrategy.KEEP, 3.0) == data
    # Widened to the 99th percentile, the fence still drops the one far point.
    assert handle_outliers(data, OutlierStrategy.REMOVE, 3.0) == data[:-1]
    # Without widening a tighter factor drops more; with it, at most ~1 % per side goes.
    assert handle_outliers(data, OutlierStrategy.REMOVE, 0.01) == data[1:-1]


def test_percentile_edges() -> None:
    assert math.isnan(percentile((), 50))
    assert percentile((3.0, 1.0, 2.0), 100) == 3.0
    assert percentile((3.0, 1.0, 2.0), 1e-9) == pytest.approx(1.0)
    for bad in (0.0, -1.0, 100.5):
        with pytest.raises(ValueError, match="percentile"):
            percentile((1.0,), bad)


def test_iqr_factor_must_be_positive() -> None:
    with pytest.raises(ValueError, match="greater than zero"):
        iqr_outliers((1.0, 2.0), 0.0)


def test_mean() -> None:
    assert math.isnan(mean(()))
    assert mean((0.1, 0.2, 0.3)) == pytest.approx(0.2, rel=1e-15)
    assert mean((2.0, 4.0)) == 3.0
    assert mean((1e16, 1.0, -1e16)) == pytest.approx(1 / 3)


def test_noise_has_the_asked_for_distribution() -> None:
    noisy = np.asarray(add_gaussian_noise((1.0,) * 5000, 1.0, np.random.default_rng(12345)))
    assert float(noisy.mean()) == pytest.approx(1.0, abs=0.05)
    assert float(noisy.std(ddof=1)) == pytest.approx(1.0, abs=0.05)


def test_noise_with_a_negative_deviation_is_like_a_positive_one() -> None:
    up = add_gaussian_noise((5.0,) * 3, 0.5, np.random.default_rng(3))
    down = add_gaussian_noise((5.0,) * 3, -0.5, np.random.default_rng(3))
    assert [a - 5.0 for a in up] == pytest.approx([5.0 - b for b in down])
