"""The sequential judge's statistics: the rate-ratio e-process, its confidence sequence, the
Bernoulli bounds, the sample-ratio check and the frozen latency thresholds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from safeship.judge.burn_guard import rate_guard
from safeship.judge.confidence_sequence import (
    log_e_above,
    log_e_below,
    lower_bound,
    upper_bound,
)
from safeship.judge.e_process import (
    LATTICE_STEP,
    RATIO_RANGE,
    half_normal_offsets,
    lattice_step,
    log_likelihood_ratio,
    logsumexp,
    ratio_evidence,
)
from safeship.judge.latency_thresholds import (
    LOOKBACK_S,
    FrozenThreshold,
    freeze_threshold,
    metric_quantile,
    min_calibration_requests,
    min_provisional_requests,
    quantile_label,
    snap_threshold,
)
from safeship.judge.sample_ratio import sample_ratio_check
from safeship.model.canary import CanaryMetric, Direction

LOG_20 = math.log(20.0)


def arrays(*values: list[float]) -> tuple[np.ndarray, ...]:
    return tuple(np.asarray(v, dtype=np.float64) for v in values)


def betaln(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


# --------------------------------------------------------------------------- building blocks


def test_logsumexp() -> None:
    values = np.array([[1000.0, -np.inf], [1000.0, -np.inf]])
    assert logsumexp(values, axis=0)[0] == pytest.approx(1000.0 + math.log(2.0))
    assert logsumexp(values, axis=0)[1] == -np.inf
    assert float(logsumexp(np.log(np.array([1.0, 2.0, 3.0])))) == pytest.approx(math.log(6.0))


@pytest.mark.parametrize("sigma", [0.01, 0.2, 0.75, 1.0])
def test_half_normal_prior(sigma: float) -> None:
    offsets, log_weights = half_normal_offsets(sigma)
    assert float(np.exp(log_weights).sum()) == pytest.approx(1.0)
    assert (offsets > 0).all()
    step = lattice_step(sigma)
    assert step == min(LATTICE_STEP, sigma / 4)
    assert np.allclose(offsets / step, np.rint(offsets / step))
    assert offsets[0] == pytest.approx(step)
    # Three prior standard deviations are covered, with at least four points per sigma.
    assert offsets[-1] >= 3 * sigma - 1e-12
    assert offsets.size >= 12 or step == LATTICE_STEP
    assert (np.diff(log_weights) <= 0).all()


def test_a_narrow_prior_can_see_a_small_drop() -> None:
    # 2 % fewer good events on the canary over 400,000 canary events at a 50 % share: the
    # 0.1 prior (2.5 % lattice) finds it; on a 5 % lattice the nearest bet loses money.
    rng = np.random.default_rng(3)
    totals = rng.poisson(2_000, 400)
    p = 0.98 * 0.5 / (0.98 * 0.5 + 0.5)
    k_c = rng.binomial(totals, p).astype(float)
    rho = np.full(400, 0.5)
    narrow = ratio_evidence(k_c, totals - k_c, rho, harm=Direction.DECREASE, sigma=0.1,
                            log_threshold=math.log(100))
    coarse = ratio_evidence(k_c, totals - k_c, rho, harm=Direction.DECREASE, sigma=0.2,
                            log_threshold=math.log(100))
    assert lattice_step(0.1) == 0.025
    assert narrow.log_e_now >= math.log(100)
    assert narrow.log_e_now > coarse.log_e_now
    assert narrow.cs_lower < 0.98 < narrow.cs_upper < 1.0


def test_likelihood_ratio_matches_the_product_formula() -> None:
    k_c, k_b, rho = arrays([3, 0, 5], [20, 7, 30], [0.1, 0.05, 0.25])
    for delta in (-1.0, 0.0, 0.7):
        p = rho * math.exp(delta) / (rho * math.exp(delta) + 1 - rho)
        direct = float(np.sum(k_c * np.log(p / rho) + k_b * np.log((1 - p) / (1 - rho))))
        ours = log_likelihood_ratio(np.array([delta]), k_c, k_c + k_b, rho)[0]
        assert ours == pytest.approx(direct)
    assert log_likelihood_ratio(np.array([0.0]), k_c, k_c + k_b, rho)[0] == pytest.approx(0.0)


@pytest.mark.parametrize(("k_c", "k_b", "rho"), [(40, 2000, 0.01), (3, 10, 0.3), (0, 50, 0.05)])
def test_cross_check_with_the_beta_mixture_closed_form(k_c: int, k_b: int, rho: float) -> None:
    # With a constant rho the likelihood ratio at delta(p) = logit(p) - logit(rho) is the
    # binomial ratio, so integrating it against Beta(c rho, c (1 - rho)) must give Lindon &
    # Malek's closed form (research note 6.1; 5.22 for 40 vs 2000 events at rho = 0.01).
    a, b = 100 * rho, 100 * (1 - rho)
    closed = betaln(a + k_c, b + k_b) - betaln(a, b) - k_c * math.log(rho) - k_b * math.log(
        1 - rho)
    logit = np.linspace(-16.0, 8.0, 200_001)
    p = 1.0 / (1.0 + np.exp(-logit))
    deltas = logit - math.log(rho / (1 - rho))
    log_lr = log_likelihood_ratio(deltas, np.array([float(k_c)]), np.array([float(k_c + k_b)]),
                                  np.array([rho]))
    # Beta density in logit space: p^a (1-p)^b / B(a, b).
    log_density = a * np.log(p) + b * np.log1p(-p) - betaln(a, b)
    numeric = float(logsumexp(log_lr + log_density)) + math.log(logit[1] - logit[0])
    assert numeric == pytest.approx(closed, abs=1e-3)
    if (k_c, k_b) == (40, 2000):
        assert closed == pytest.approx(5.22, abs=0.01)


# --------------------------------------------------------------------------- the e-process


def test_no_events_means_no_evidence() -> None:
    empty = np.zeros(0)
    evidence = ratio_evidence(empty, empty, empty, harm=Direction.INCREASE, sigma=0.75,
                              log_threshold=math.log(100))
    assert (evidence.log_e, evidence.log_e_now) == (0.0, 0.0)
    assert (evidence.cs_lower, evidence.cs_upper) == (0.0, math.inf)
    zeros = ratio_evidence(*arrays([0, 0], [0, 0], [0.1, 0.1]), harm=Direction.EITHER,
                           sigma=0.75, log_threshold=math.log(100))
    assert zeros.intervals == 0
    assert zeros.cs_upper == math.inf


def test_rollback_evidence_agrees_with_the_lower_bound() -> None:
    rng = np.random.default_rng(11)
    threshold = math.log(200)
    agreements = 0
    for _ in range(60):
        n = 40
        rho = rng.uniform(0.05, 0.3, n)
        ratio = rng.choice([1.0, 1.5, 2.0, 3.0])
        k_b = rng.poisson(5.0 * (1 - rho)).astype(float)
        k_c = rng.poisson(5.0 * rho * ratio).astype(float)
        ev = ratio_evidence(k_c, k_b, rho, harm=Direction.INCREASE, sigma=0.75,
                            log_threshold=threshold)
        assert ev.cs_lower <= ev.cs_upper
        crossed_now = ev.log_e_now >= threshold
        # The inverted test excludes ratio 1 from below exactly when the e-value crosses now.
        if abs(ev.log_e_now - threshold) > 0.05:
            assert crossed_now == (ev.cs_lower > 1.0)
            agreements += 1
        assert ev.log_e >= max(ev.log_e_now, 0.0)
    assert agreements > 50


def test_bounds_are_monotone_in_the_evidence() -> None:
    rho = np.full(200, 0.1)
    k_b = np.full(200, 9.0)
    wide = ratio_evidence(np.ones(20), k_b[:20], rho[:20], harm=Direction.INCREASE, sigma=0.75,
                          log_threshold=math.log(100))
    narrow = ratio_evidence(np.ones(200), k_b, rho, harm=Direction.INCREASE, sigma=0.75,
                            log_threshold=math.log(100))
    assert narrow.cs_lower >= wide.cs_lower
    assert narrow.cs_upper <= wide.cs_upper
    assert narrow.cs_lower < 1.0 < narrow.cs_upper
    # Stricter alpha, wider bounds.
    strict = ratio_evidence(np.ones(200), k_b, rho, harm=Direction.INCREASE, sigma=0.75,
                            log_threshold=math.log(10_000))
    assert strict.cs_lower <= narrow.cs_lower
    assert strict.cs_upper >= narrow.cs_upper


def test_swapping_the_arms_inverts_the_interval() -> None:
    k_c, k_b, rho = arrays([4, 6, 5, 7] * 10, [30, 40, 35, 38] * 10, [0.2, 0.25, 0.2, 0.22] * 10)
    forward = ratio_evidence(k_c, k_b, rho, harm=Direction.EITHER, sigma=0.75,
                             log_threshold=math.log(100))
    backward = ratio_evidence(k_b, k_c, 1 - rho, harm=Direction.EITHER, sigma=0.75,
                              log_threshold=math.log(100))
    step = math.exp(LATTICE_STEP / 16)
    assert forward.cs_lower == pytest.approx(1 / backward.cs_upper, rel=step - 1)
    assert forward.cs_upper == pytest.approx(1 / backward.cs_lower, rel=step - 1)


def test_bounds_at_the_edges_of_the_searched_range() -> None:
    huge = ratio_evidence(np.full(50, 50.0), np.zeros(50), np.full(50, 0.01),
                          harm=Direction.INCREASE, sigma=0.75, log_threshold=math.log(100))
    assert huge.cs_lower == pytest.approx(math.exp(RATIO_RANGE))
    assert huge.cs_upper == math.inf
    assert huge.log_e > 100
    tiny = ratio_evidence(np.zeros(50), np.full(50, 100.0), np.full(50, 0.5),
                          harm=Direction.DECREASE, sigma=0.75, log_threshold=math.log(100))
    assert tiny.cs_upper == pytest.approx(math.exp(-RATIO_RANGE))
    assert tiny.cs_lower == 0.0
    assert tiny.log_e > 100
    # The same drop is no evidence for an "increase" test.
    wrong_way = ratio_evidence(np.zeros(50), np.full(50, 100.0), np.full(50, 0.5),
                               harm=Direction.INCREASE, sigma=0.75, log_threshold=math.log(100))
    assert wrong_way.log_e == 0.0


def test_false_rollbacks_stay_below_alpha_across_steps() -> None:
    # A/A with the canary's share moving 1% -> 5% -> 25%, the e-value looked at after every
    # interval: Ville's inequality bounds the chance of ever crossing 1/alpha by alpha.
    rng = np.random.default_rng(2024)
    alpha, runs = 0.05, 1000
    shares = np.repeat([0.01, 0.05, 0.25], 60)
    offsets, log_weights = half_normal_offsets(0.75)
    crossed = 0
    for _ in range(runs):
        totals = rng.poisson(30.0, shares.size).astype(float)
        k_c = rng.binomial(totals.astype(np.int64), shares).astype(float)
        ev = ratio_evidence(k_c, totals - k_c, shares, harm=Direction.INCREASE, sigma=0.75,
                            log_threshold=math.log(1 / alpha))
        crossed += ev.log_e >= math.log(1 / alpha)
    assert offsets.size == log_weights.size
    assert crossed / runs <= alpha * 1.2


def test_confidence_bounds_cover_the_true_ratio() -> None:
    rng = np.random.default_rng(7)
    alpha, runs, misses = 0.05, 300, 0
    for _ in range(runs):
        rho = np.full(100, 0.2)
        k_b = rng.poisson(8.0, 100).astype(float)
        k_c = rng.poisson(2.0 * 1.5, 100).astype(float)  # true ratio 1.5 at rho 0.2
        ev = ratio_evidence(k_c, k_b, rho, harm=Direction.INCREASE, sigma=0.75,
                            log_threshold=math.log(1 / alpha))
        misses += not ev.cs_lower <= 1.5 <= ev.cs_upper
    assert misses / runs <= 2 * alpha


# --------------------------------------------------------------------------- Bernoulli bounds


def test_bernoulli_bounds_bracket_the_estimate() -> None:
    for successes, trials in ((50, 1000), (1, 10), (999, 1000), (0, 500), (500, 500)):
        low = lower_bound(successes, trials, math.log(100))
        high = upper_bound(successes, trials, math.log(100))
        assert 0.0 <= low <= successes / trials <= high <= 1.0
    assert lower_bound(0, 0, math.log(100)) == 0.0
    assert upper_bound(0, 0, math.log(100)) == 1.0
    assert lower_bound(50, 1000, math.log(100)) > lower_bound(5, 100, math.log(100))


def test_bernoulli_e_values() -> None:
    successes = np.cumsum(np.full(100, 10.0))
    trials = np.cumsum(np.full(100, 100.0))
    assert log_e_above(successes, trials, 0.05)[-1] > 100
    assert log_e_above(successes, trials, 0.2)[-1] < 0
    assert log_e_below(successes, trials, 0.2)[-1] > 100
    assert (log_e_above(successes, trials, 1.0) == 0).all()
    assert log_e_above(np.zeros(0), np.zeros(0), 0.1).size == 0


def test_bernoulli_guard_is_valid_at_the_limit() -> None:
    rng = np.random.default_rng(5)
    alpha, fired = 0.05, 0
    for _ in range(500):
        bad = rng.binomial(100, 0.02, 120).astype(float)
        guard = rate_guard(bad, np.full(120, 100.0), limit=0.02, log_threshold=math.log(20))
        fired += guard.fired
    assert fired / 500 <= alpha * 1.2


def test_rate_guard_handles_gaps_and_inconsistent_counts() -> None:
    bad, total = arrays([np.nan, 150, 5], [100, 100, np.nan])
    guard = rate_guard(bad, total, limit=0.5, log_threshold=math.log(100))
    assert (guard.bad, guard.total) == (100.0, 100.0)  # capped at the requests
    nothing = rate_guard(np.zeros(0), np.zeros(0), limit=0.5, log_threshold=math.log(100))
    assert nothing.estimate is None
    assert not nothing.fired


# --------------------------------------------------------------------------- sample ratio


def test_sample_ratio_layouts() -> None:
    rng = np.random.default_rng(3)
    totals = rng.poisson(1000, 60)
    for share, broken in ((0.10, False), (0.5, False), (0.2, True), (0.05, True)):
        canary = rng.binomial(totals, share).astype(float)
        check = sample_ratio_check(canary, totals - canary, percentage=10,
                                   log_threshold=math.log(100))
        assert check.broken is broken, share
        assert check.observed == pytest.approx(share, abs=0.01)
    all_canary = sample_ratio_check(np.full(10, 100.0), np.zeros(10), percentage=100,
                                    log_threshold=math.log(100))
    assert not all_canary.broken
    stray = sample_ratio_check(np.full(30, 990.0), np.full(30, 10.0), percentage=100,
                               log_threshold=math.log(100))
    assert stray.broken  # 1 % still reaches the old version at a 100 % step
    empty = sample_ratio_check(np.zeros(0), np.zeros(0), percentage=5,
                               log_threshold=math.log(100))
    assert (empty.broken, empty.observed) == (False, None)


# --------------------------------------------------------------------------- latency thresholds


@pytest.mark.parametrize(("name", "query", "quantile"), [
    ("latency_p95", "histogram_quantile(0.95, sum(rate(x[2m])) by (le))", 0.95),
    ("latency", "histogram_quantile( 0.99 , x)", 0.99),
    ("latency_p999", "q", 0.999),
    ("p50_latency", "q", 0.5),
    ("median_latency", "q", 0.5),
    ("response_time", "q", 0.95),
])
def test_metric_quantile(name: str, query: str, quantile: float) -> None:
    assert metric_quantile(CanaryMetric(name, query)) == pytest.approx(quantile)


def test_quantile_label_and_calibration_size() -> None:
    assert quantile_label(0.95) == "p95"
    assert quantile_label(0.999) == "p99.9"
    assert min_calibration_requests(0.95) == pytest.approx(400)
    assert min_calibration_requests(0.5) == 200
    assert min_provisional_requests(0.95) == 100
    assert min_provisional_requests(0.99) == pytest.approx(500)


def test_snap_threshold() -> None:
    bounds = np.array([0.1, 0.25, 0.5, 1.0])
    # exceedances 60 %, 20 %, 4 %, 0.5 %: the first at most 5 % is 0.5.
    assert snap_threshold(bounds, np.array([400, 800, 960, 995.0]), 1000, 0.95) == 0.5
    # 5.5 % is nearer to 5 % than 1 %, but the threshold errs above the quantile.
    assert snap_threshold(bounds, np.array([400, 945, 990, 995.0]), 1000, 0.95) == 0.5
    assert snap_threshold(bounds, np.array([400, 950, 990, 995.0]), 1000, 0.95) == 0.25
    assert snap_threshold(bounds, np.array([1000, 1000, 1000, 1000.0]), 1000, 0.95) == 0.1
    assert snap_threshold(bounds, np.zeros(4), 1000, 0.95) == 1.0


def _freeze(below: np.ndarray, total: np.ndarray, stamps: np.ndarray, in_step: np.ndarray,
            start: float) -> FrozenThreshold:
    return freeze_threshold(bounds=np.array([0.1, 0.5]), baseline_below=below,
                            baseline_total=total, stamps=stamps, in_step=in_step,
                            step_start=start, quantile=0.95)


def test_freeze_uses_the_lookback_window() -> None:
    stamps = np.arange(10.0, 130.0, 10.0)  # 12 intervals; the step starts at 60
    in_step = stamps > 60
    below = np.vstack([np.full(12, 50.0), np.full(12, 95.0)])
    frozen = _freeze(below, np.full(12, 100.0), stamps, in_step, 60.0)
    assert frozen.tau == 0.5
    assert frozen.baseline_exceedance == pytest.approx(0.05)
    assert (frozen.calibration_intervals, frozen.provisional_intervals) == (0, 0)
    assert frozen.frozen
    assert (frozen.rows[in_step] == 1).all()
    assert (frozen.rows[~in_step] == -1).all()
    outside = _freeze(below, np.full(12, 100.0), stamps, in_step, 60.0 + LOOKBACK_S + 100)
    assert outside.calibration_intervals == 1  # the history is too old to use


def test_freeze_calibrates_inside_a_step_without_history() -> None:
    stamps = np.arange(10.0, 130.0, 10.0)
    below = np.vstack([np.full(12, 50.0), np.full(12, 95.0)])
    fresh = _freeze(below, np.full(12, 100.0), stamps, stamps > 0, 0.0)
    # Interval 0 has nothing before it; 1-3 use a provisional threshold (>= 100 requests
    # before them); from interval 4 on it is frozen (400 requests).
    assert (fresh.calibration_intervals, fresh.provisional_intervals) == (1, 3)
    assert fresh.frozen
    assert fresh.rows.tolist() == [-1] + [1] * 11
    starved = _freeze(below[:, :2], np.full(2, 100.0), stamps[:2], np.array([True, True]), 0.0)
    assert (starved.tau, starved.frozen) == (0.5, False)
    nothing = _freeze(below[:, :1], np.full(1, 100.0), stamps[:1], np.array([True]), 0.0)
    assert nothing.tau is None
    assert (nothing.rows == -1).all()


def test_an_interval_never_sets_its_own_threshold() -> None:
    stamps = np.array([10.0, 20.0, 30.0])
    # Interval 0: every baseline request fast; interval 1: every one slow.
    below = np.array([[100.0, 0.0, 50.0], [100.0, 0.0, 50.0]])
    frozen = _freeze(below, np.full(3, 100.0), stamps, np.ones(3, dtype=bool), 0.0)
    assert frozen.rows[1] == 0  # from interval 0 alone: nothing above 0.1 s
    assert frozen.rows[2] == 1  # intervals 0 and 1: half above either bound -> the largest
    missing = _freeze(np.array([[np.nan, 0.0, 0.0], [np.nan, 0.0, 0.0]]), np.full(3, 100.0),
                      stamps, np.ones(3, dtype=bool), 0.0)
    assert missing.rows.tolist() == [-1, -1, 1]


# --------------------------------------------------------------------------- indifference zone


def test_a_tolerance_lowers_the_evidence_and_zero_is_the_point_null() -> None:
    k_c, k_b, rho = arrays([3, 4, 2, 5] * 25, [20, 25, 18, 22] * 25, [0.1] * 100)
    plain = ratio_evidence(k_c, k_b, rho, harm=Direction.INCREASE, sigma=0.5,
                           log_threshold=math.log(100))
    zero = ratio_evidence(k_c, k_b, rho, harm=Direction.INCREASE, sigma=0.5,
                          log_threshold=math.log(100), tolerance=0.0)
    tolerant = ratio_evidence(k_c, k_b, rho, harm=Direction.INCREASE, sigma=0.5,
                              log_threshold=math.log(100), tolerance=math.log(1.05))
    assert zero == plain
    assert tolerant.log_e_now < plain.log_e_now
    assert tolerant.log_e <= plain.log_e
    # The confidence bounds do not depend on the rollback tolerance.
    assert (tolerant.cs_lower, tolerant.cs_upper) == (plain.cs_lower, plain.cs_upper)
    down = ratio_evidence(k_b / 8, k_c * 2, rho, harm=Direction.DECREASE, sigma=0.5,
                          log_threshold=math.log(100), tolerance=math.log(1.05))
    down_plain = ratio_evidence(k_b / 8, k_c * 2, rho, harm=Direction.DECREASE, sigma=0.5,
                                log_threshold=math.log(100))
    assert down.log_e_now < down_plain.log_e_now


def test_a_tolerance_keeps_a_small_real_difference_from_rolling_back() -> None:
    # 3 % more slow requests on the canary, 200,000 events: certain, but inside a 5 % zone.
    rho = np.full(400, 0.5)
    rng = np.random.default_rng(5)
    totals = rng.poisson(500, 400).astype(float)
    p = 0.5 * 1.03 / (0.5 * 1.03 + 0.5)
    k_c = rng.binomial(totals.astype(np.int64), p).astype(float)
    k_b = totals - k_c
    threshold = math.log(80)
    exact = ratio_evidence(k_c, k_b, rho, harm=Direction.INCREASE, sigma=0.5,
                           log_threshold=threshold)
    zone = ratio_evidence(k_c, k_b, rho, harm=Direction.INCREASE, sigma=0.5,
                          log_threshold=threshold, tolerance=math.log(1.05))
    assert exact.log_e >= threshold
    assert zone.log_e < threshold
    assert 1.0 <= exact.cs_lower < 1.05 < exact.cs_upper


def test_the_centred_test_keeps_its_level_on_the_null_side() -> None:
    # Canary at exactly 1.05x (the edge of a 5 % zone) and at 0.9x: simulated crossing rates of
    # the tolerant test stay at or under its level (1/20), as the composite null promises.
    rng = np.random.default_rng(17)
    threshold = math.log(20)
    for ratio, limit in ((1.05, 0.10), (0.9, 0.02)):
        crossed = 0
        runs = 200
        for _ in range(runs):
            rho = rng.uniform(0.05, 0.5, 120)
            totals = rng.poisson(20, 120)
            p = rho * ratio / (rho * ratio + 1 - rho)
            k_c = rng.binomial(totals, p).astype(float)
            ev = ratio_evidence(k_c, totals - k_c, rho, harm=Direction.INCREASE, sigma=0.5,
                                log_threshold=threshold, tolerance=math.log(1.05))
            crossed += ev.log_e >= threshold
        assert crossed / runs <= limit, (ratio, crossed)
