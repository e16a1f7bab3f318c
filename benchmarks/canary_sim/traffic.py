"""The traffic model: one seeded run of a rollout as Prometheus would have scraped it.

Every 10 s (``interval_s``) each arm's cumulative counters are scraped: requests, errors, the
latency histogram's cumulative ``le`` buckets and good events (conversions). What a judge sees
is the delta between consecutive *successful* scrapes, so a missed scrape gives NaN for that
interval and the next delta covers both intervals, exactly as ``increase()`` would.

The model, all vectorised over intervals:

* **Steps.** The canary's share follows the plan (1/5/25/100 % by default), each step lasting its
  ``T_max``. The baseline is the rest of the fleet by default (``BaselineMode.FLEET``: a safeship
  rollout compares the canary with the stable version, which serves every other request) or, with
  ``BaselineMode.EQUAL``, an equal-size fresh pool (Kayenta practice: per-interval baseline
  requests ~ canary requests).
  An equal-size pool can hold at most half the traffic, so the 100 % step is played as a 50/50
  split (canary and baseline pools at full size); in fleet mode the canary is capped at 50 %
  for the same reason: a judge needs a baseline to compare with.
* **Diurnal load.** Total request rate x ``diurnal_ratio`` peak/trough over ``day_s`` with a
  random phase per run; requests per interval are Poisson.
* **Errors.** Each arm has ``pods_per_arm`` pods. A pod's errors in an interval are Poisson with
  a Gamma(k, 1/k) rate multiplier (a negative-binomial count: overdispersed and bursty), times
  shared bursts that hit both arms (a flaky dependency), times the scenario's effects (a
  global incident, one bad pod, the canary regression).
* **Latency.** Lognormal (median ``latency_median_s``, log-sd ``latency_sigma``) or a
  Pareto-tailed variant, with its log-location moved by AR(1) shocks: a slow shared one
  (load, cancels between the arms) and a small, short-lived per-arm one (GC pauses, noisy
  neighbours: a real difference between the arms that the judges have to live with). Bucket
  counts are multinomial draws over the histogram's cells.
* **Conversions.** Binomial per request with a shared AR(1) modulation.
* **Telemetry gaps.** A scrape is missing with probability ``gap_probability`` (and the next
  one with ``gap_continue``), for both arms at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray
from scipy.signal import lfilter
from scipy.special import ndtr, ndtri

from canary_sim.scenarios import BadPod, LatencyFamily, Onset, Scenario

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

CANARY = 0
BASELINE = 1
ARMS = ("canary", "baseline")

PROMETHEUS_DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _fine_buckets() -> tuple[float, ...]:
    # ~12 % steps between 50 ms and 700 ms, around the typical latency (median 100 ms, p95
    # ~230 ms, p99 ~320 ms), so a +10 % shift moves requests across bucket boundaries. Edges
    # within 5 % of a default bucket are dropped: they would add nothing. Judges pay per bucket
    # on every look, so the histogram stays at a realistic size (~30 buckets).
    edges = 0.05 * 1.12 ** np.arange(0, 24)
    return tuple(round(float(e), 3) for e in edges if e <= 0.7 and all(
        abs(e / d - 1.0) > 0.05 for d in PROMETHEUS_DEFAULT_BUCKETS))


BUCKETS: tuple[float, ...] = tuple(sorted(set(PROMETHEUS_DEFAULT_BUCKETS) | set(_fine_buckets())))
"""Finite ``le`` bounds in seconds; ``+Inf`` is implied."""


class BaselineMode(StrEnum):
    """What the canary is compared with."""

    EQUAL = "equal"
    """A fresh baseline pool of the canary's size (Kayenta practice)."""
    FLEET = "fleet"
    """The rest of the fleet: the stable version a safeship rollout compares with (the default)."""


@dataclass(frozen=True)
class StepPlan:
    """One traffic step: the canary's percentage and how long it lasts (its T_max)."""

    percentage: float
    duration_s: float


DEFAULT_STEPS = (StepPlan(1, 3600), StepPlan(5, 600), StepPlan(25, 600), StepPlan(100, 600))
"""1 % for 60 min (the 2x-errors target is "within 60 minutes at 1 %"), then 10 min each."""


@dataclass(frozen=True)
class TrafficConfig:
    """Knobs of the traffic model. Rates are per second unless the name says otherwise."""

    steps: tuple[StepPlan, ...] = DEFAULT_STEPS
    interval_s: float = 10.0
    total_rps: float = 1000.0
    """Mean total traffic: 1 % of it is 10 canary requests per second."""
    baseline: BaselineMode = BaselineMode.FLEET
    start_time: float = 1_767_225_600.0
    diurnal_ratio: float = 3.0
    day_s: float = 86_400.0
    pods_per_arm: int = 4
    error_gamma_shape: float = 4.0
    shared_bursts_per_hour: float = 1.0
    burst_mean_intervals: float = 3.0
    burst_mean_extra: float = 4.0
    """A shared burst multiplies both arms' error rates by 1 + Exp(mean ``burst_mean_extra``)."""
    bad_pod_gamma_shape: float = 1.0
    incident_window_s: tuple[float, float] = (300.0, 2400.0)
    """A global incident starts uniformly in this window (seconds after the start)."""
    latency_median_s: float = 0.1
    latency_sigma: float = 0.5
    pareto_alpha: float = 2.5
    pareto_from_quantile: float = 0.9
    shared_shock_sd: float = 0.10
    shared_shock_phi: float = 0.95
    arm_shock_sd: float = 0.01
    arm_shock_phi: float = 0.5
    conversion_rate: float = 0.10
    conversion_shock_sd: float = 0.05
    conversion_shock_phi: float = 0.95
    gap_probability: float = 0.005
    gap_continue: float = 0.3
    buckets: tuple[float, ...] = field(default=BUCKETS)

    @property
    def intervals(self) -> int:
        """Number of scrape intervals in the whole rollout."""
        return sum(round(s.duration_s / self.interval_s) for s in self.steps)

    def shares(self, percentage: float) -> tuple[float, float]:
        """(canary, baseline) share of all traffic during a step at ``percentage``."""
        canary = min(percentage, 50.0) / 100.0
        if self.baseline is BaselineMode.EQUAL:
            return canary, canary
        return canary, 1.0 - canary


@dataclass(frozen=True)
class Trace:
    """One simulated rollout. Arrays are indexed ``[arm, interval]`` (arm 0 canary, 1 baseline).

    ``true_*`` hold what happened in each interval; ``cum_*`` the scraped cumulative counters
    (``[arm, scrape]``, scrape 0 at the start); ``*_delta`` what a judge sees: deltas between
    successful scrapes, NaN where the scrape is missing.
    """

    scenario: Scenario
    config: TrafficConfig
    ends: FloatArray
    step_of: IntArray
    step_starts: FloatArray
    step_ends: FloatArray
    onset_index: int
    true_requests: IntArray
    true_errors: IntArray
    true_buckets: IntArray
    """``[arm, interval, le]`` cumulative over ``le`` (last column = ``+Inf`` = requests)."""
    true_good: IntArray
    scraped: NDArray[np.bool_]
    """``[scrape]``: False where the scrape is missing (index 0 = start, always present)."""
    cum_requests: IntArray
    cum_errors: IntArray
    cum_buckets: IntArray
    cum_good: IntArray
    requests_delta: FloatArray
    errors_delta: FloatArray
    buckets_delta: FloatArray
    good_delta: FloatArray
    slow_le: float
    """The bucket bound above the baseline's nominal p99: requests above it are "slow"."""

    @property
    def intervals(self) -> int:
        """Number of intervals."""
        return int(self.ends.shape[0])

    @property
    def onset_time(self) -> float:
        """When the regression began (the start of the interval ``onset_index``)."""
        return float(self.ends[self.onset_index] - self.config.interval_s)

    def bad_event_intervals(self) -> NDArray[np.bool_]:
        """Intervals in which a bad event was observed on either arm: an error, a request
        slower than ``slow_le``, or (business scenarios) a conversion, whose attribution is
        the business test's evidence. NaN (missed scrapes) carries no information."""
        slow_col = self.config.buckets.index(self.slow_le)
        slow = self.requests_delta - self.buckets_delta[:, :, slow_col]
        any_bad = (np.nan_to_num(self.errors_delta) > 0) | (np.nan_to_num(slow) > 0)
        if self.scenario.business:
            any_bad |= np.nan_to_num(self.good_delta) > 0
        return np.asarray(any_bad.any(axis=0))


def _ar1(rng: np.random.Generator, size: tuple[int, ...], sd: float, phi: float) -> FloatArray:
    """Stationary AR(1) paths along the last axis with marginal sd ``sd``."""
    noise = rng.standard_normal(size) * sd * math.sqrt(1.0 - phi * phi)
    noise[..., 0] = rng.standard_normal(size[:-1]) * sd
    return np.asarray(lfilter([1.0], [1.0, -phi], noise, axis=-1), dtype=np.float64)


def _bursts(rng: np.random.Generator, n: int, per_interval: float, mean_len: float,
            mean_extra: float) -> FloatArray:
    """A multiplier path: 1, raised by 1 + Exp(mean_extra) during each burst."""
    mult = np.ones(n)
    starts = np.flatnonzero(rng.random(n) < per_interval)
    for start in starts:
        length = int(rng.geometric(1.0 / mean_len))
        mult[start:start + length] += rng.exponential(mean_extra)
    return mult


def _lognormal_cdf(x: FloatArray, log_loc: FloatArray, sigma: float) -> FloatArray:
    return np.asarray(ndtr((np.log(x) - log_loc) / sigma), dtype=np.float64)


def _pareto_tail_cdf(x: FloatArray, log_loc: FloatArray, sigma: float, u0: float,
                     alpha: FloatArray | float) -> FloatArray:
    """Lognormal below its ``u0`` quantile, Pareto(alpha) above it (continuous at the join)."""
    join = np.exp(log_loc + sigma * ndtri(u0))
    body = _lognormal_cdf(x, log_loc, sigma)
    ratio = np.maximum(join / x, 1e-300)
    tail = 1.0 - (1.0 - u0) * ratio ** alpha
    return np.asarray(np.where(x <= join, body, tail), dtype=np.float64)


def tail_alpha_for(p95_mult: float, config: TrafficConfig, family: LatencyFamily) -> float:
    """The Pareto index that puts the tail's p95 at ``p95_mult`` x the baseline family's p95."""
    u0, sigma = config.pareto_from_quantile, config.latency_sigma
    join = math.exp(sigma * float(ndtri(u0)))
    if family is LatencyFamily.PARETO_TAIL:
        base_p95 = join * ((1.0 - u0) / 0.05) ** (1.0 / config.pareto_alpha)
    else:
        base_p95 = math.exp(sigma * float(ndtri(0.95)))
    return math.log((1.0 - u0) / 0.05) / math.log(p95_mult * base_p95 / join)


def nominal_quantile(q: float, config: TrafficConfig) -> float:
    """The baseline's nominal latency quantile in seconds (no shocks, lognormal body)."""
    return config.latency_median_s * math.exp(config.latency_sigma * float(ndtri(q)))


def _cell_counts(rng: np.random.Generator, n: IntArray, cdf: FloatArray) -> IntArray:
    """Multinomial counts over histogram cells given per-interval CDFs at the finite bounds."""
    cdf = np.clip(cdf, 0.0, 1.0)
    cdf = np.maximum.accumulate(cdf, axis=-1)
    probs = np.diff(cdf, axis=-1, prepend=0.0, append=1.0)
    probs = np.clip(probs, 0.0, 1.0)
    probs /= probs.sum(axis=-1, keepdims=True)
    return np.asarray(rng.multinomial(n, probs), dtype=np.int64)


def _gaps(rng: np.random.Generator, scrapes: int, config: TrafficConfig) -> NDArray[np.bool_]:
    scraped = np.ones(scrapes, dtype=bool)
    draws = rng.random(scrapes)
    missing = False
    for k in range(1, scrapes):
        p = config.gap_continue if missing else config.gap_probability
        missing = bool(draws[k] < p)
        scraped[k] = not missing
    return scraped


def _observed(cum: IntArray, scraped: NDArray[np.bool_]) -> FloatArray:
    """Deltas between successful scrapes along axis 1; NaN where the scrape is missing."""
    scrapes = cum.shape[1]
    last_ok = np.maximum.accumulate(np.where(scraped, np.arange(scrapes), 0))
    prev = np.concatenate([[0], last_ok[:-1]])
    delta = (cum[:, 1:] - cum[:, prev[1:]]).astype(np.float64)
    delta[:, ~scraped[1:]] = np.nan
    return delta


def simulate(scenario: Scenario, config: TrafficConfig, rng: np.random.Generator) -> Trace:
    """Simulate one rollout of ``scenario``; the same ``rng`` state gives the same trace."""
    dt = config.interval_s
    per_step = [round(s.duration_s / dt) for s in config.steps]
    n = sum(per_step)
    ends = config.start_time + dt * np.arange(1, n + 1)
    mids = ends - dt / 2.0
    step_of = np.repeat(np.arange(len(per_step)), per_step)
    bounds = config.start_time + dt * np.concatenate([[0], np.cumsum(per_step)])
    step_starts, step_ends = bounds[:-1], bounds[1:]

    onset = 0 if scenario.onset is Onset.START else per_step[0] // 2
    regressed = np.arange(n) >= onset

    # traffic
    phase = rng.uniform(0.0, 2.0 * math.pi)
    diurnal = config.diurnal_ratio ** (0.5 * np.sin(2.0 * math.pi * mids / config.day_s + phase))
    shares = np.array([config.shares(config.steps[s].percentage) for s in step_of]).T
    expected = config.total_rps * dt * diurnal * shares  # [arm, interval]
    requests = rng.poisson(expected).astype(np.int64)

    # errors per pod
    pods = config.pods_per_arm
    pod_requests = np.stack([rng.multinomial(requests[a], np.full(pods, 1.0 / pods))
                             for a in range(2)])  # [arm, interval, pod]
    shape = np.full((2, 1, pods), config.error_gamma_shape)
    pod_mult = np.ones((2, 1, pods))
    if scenario.bad_pod is not BadPod.NONE:
        arm = CANARY if scenario.bad_pod is BadPod.CANARY else BASELINE
        pod_mult[arm, 0, 0] = scenario.bad_pod_mult
        shape[arm, 0, 0] = config.bad_pod_gamma_shape
    gamma = rng.gamma(shape, 1.0 / shape, size=(2, n, pods))
    shared = _bursts(rng, n, config.shared_bursts_per_hour * dt / 3600.0,
                     config.burst_mean_intervals, config.burst_mean_extra)
    incident = np.ones(n)
    if scenario.incident_mult != 1.0:
        begin = rng.uniform(*config.incident_window_s)
        offset = ends - dt - config.start_time
        incident[(offset >= begin) & (offset < begin + 60.0 * scenario.incident_minutes)] = (
            scenario.incident_mult)
    regression = np.ones((2, n))
    regression[CANARY, regressed] = scenario.canary_error_mult
    rate = (scenario.base_error_rate * (shared * incident)[None, :] * regression)[:, :, None]
    lam = pod_requests * rate * gamma * pod_mult
    errors = np.minimum(rng.poisson(lam), pod_requests).sum(axis=2).astype(np.int64)

    # latency
    log_loc = (math.log(config.latency_median_s)
               + _ar1(rng, (n,), config.shared_shock_sd, config.shared_shock_phi)[None, :]
               + _ar1(rng, (2, n), config.arm_shock_sd, config.arm_shock_phi))
    log_loc[CANARY, regressed] += math.log(scenario.canary_latency_scale)
    les = np.asarray(config.buckets, dtype=np.float64)[None, None, :]
    loc3 = log_loc[:, :, None]
    if scenario.latency_family is LatencyFamily.PARETO_TAIL:
        cdf = _pareto_tail_cdf(les, loc3, config.latency_sigma, config.pareto_from_quantile,
                               config.pareto_alpha)
    else:
        cdf = _lognormal_cdf(les, loc3, config.latency_sigma)
    if scenario.canary_tail_p95_mult != 1.0:
        alpha = tail_alpha_for(scenario.canary_tail_p95_mult, config, scenario.latency_family)
        tail = _pareto_tail_cdf(les, loc3[CANARY], config.latency_sigma,
                                config.pareto_from_quantile, alpha)
        cdf[CANARY] = np.where(regressed[:, None], tail[0], cdf[CANARY])
    cells = np.stack([_cell_counts(rng, requests[a], cdf[a]) for a in range(2)])
    buckets = np.cumsum(cells, axis=2)  # [arm, interval, le incl. +Inf]

    # conversions
    conv = config.conversion_rate * np.exp(
        _ar1(rng, (n,), config.conversion_shock_sd, config.conversion_shock_phi))
    conv_arm = np.tile(conv, (2, 1))
    conv_arm[CANARY, regressed] *= scenario.canary_conversion_mult
    good = rng.binomial(requests, np.clip(conv_arm, 0.0, 1.0)).astype(np.int64)

    # scraping: cumulative counters from a random offset (the process ran before the rollout)
    scraped = _gaps(rng, n + 1, config)
    offsets = rng.integers(10_000, 1_000_000, size=2)
    cum_requests = np.concatenate([offsets[:, None], offsets[:, None] + np.cumsum(requests, 1)],
                                  axis=1)
    base_errors = rng.binomial(offsets, scenario.base_error_rate)
    cum_errors = np.concatenate([base_errors[:, None],
                                 base_errors[:, None] + np.cumsum(errors, 1)], axis=1)
    base_cells = _cell_counts(rng, offsets, _lognormal_cdf(
        les[0], np.full((2, 1), math.log(config.latency_median_s)), config.latency_sigma))
    base_buckets = np.cumsum(base_cells, axis=1)
    cum_buckets = np.concatenate([base_buckets[:, None, :],
                                  base_buckets[:, None, :] + np.cumsum(buckets, axis=1)], axis=1)
    base_good = rng.binomial(offsets, config.conversion_rate)
    cum_good = np.concatenate([base_good[:, None], base_good[:, None] + np.cumsum(good, 1)],
                              axis=1)
    buckets_delta = np.stack([_observed(cum_buckets[:, :, j], scraped)
                              for j in range(cum_buckets.shape[2])], axis=2)
    p99 = nominal_quantile(0.99, config)
    slow_le = min(le for le in config.buckets if le >= p99)
    return Trace(
        scenario=scenario, config=config, ends=ends, step_of=step_of, step_starts=step_starts,
        step_ends=step_ends, onset_index=onset, true_requests=requests, true_errors=errors,
        true_buckets=buckets, true_good=good, scraped=scraped, cum_requests=cum_requests,
        cum_errors=cum_errors, cum_buckets=cum_buckets, cum_good=cum_good,
        requests_delta=_observed(cum_requests, scraped),
        errors_delta=_observed(cum_errors, scraped), buckets_delta=buckets_delta,
        good_delta=_observed(cum_good, scraped), slow_le=slow_le,
    )


def histogram_quantile(q: float, les: FloatArray, buckets: FloatArray) -> FloatArray:
    """Prometheus' ``histogram_quantile`` over rows of cumulative bucket counts.

    ``les`` are the finite bounds, ``buckets`` has one extra last column for ``+Inf``. The rank
    q x total is located in the first bucket whose count reaches it and interpolated linearly
    inside it (from 0 for the first bucket); a rank in the ``+Inf`` bucket gives the largest
    finite bound. An empty or missing row gives NaN.
    """
    total = buckets[..., -1]
    rank = q * total
    finite = buckets[..., :-1]
    reached = finite >= rank[..., None]
    idx = np.argmax(reached, axis=-1)
    in_inf = ~reached.any(axis=-1)
    idx_c = np.minimum(idx, len(les) - 1)
    upper = les[idx_c]
    lower = np.where(idx_c > 0, les[np.maximum(idx_c - 1, 0)], 0.0)
    count_hi = np.take_along_axis(finite, idx_c[..., None], axis=-1)[..., 0]
    count_lo = np.where(idx_c > 0,
                        np.take_along_axis(finite, np.maximum(idx_c - 1, 0)[..., None],
                                           axis=-1)[..., 0], 0.0)
    width = count_hi - count_lo
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(width > 0, (rank - count_lo) / width, 1.0)
        value = lower + (upper - lower) * frac
    value = np.where(in_inf, les[-1], value)
    bad = ~np.isfinite(total) | (total <= 0)
    return np.asarray(np.where(bad, np.nan, value), dtype=np.float64)
