"""Smoke tests of the canary-detection simulator (benchmarks/canary_sim) with a stand-in judge.

They check the facts the benchmark's conclusions rest on: every judge sees the same evidence,
the scraped counters add up, a 5x error scenario has about 5x the errors, and the JSON output
has its documented keys. No real judge and no wall-clock assertion.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from safeship.model.analysis import AnalysisInput, AnalysisVerdict
from safeship.model.canary import CanarySpec

if TYPE_CHECKING:
    from canary_sim.traffic import TrafficConfig

BENCHMARKS = Path(__file__).resolve().parents[3] / "benchmarks"


@pytest.fixture(autouse=True, scope="module")
def _benchmarks_on_path() -> Iterator[None]:
    sys.path.insert(0, str(BENCHMARKS))
    yield
    sys.path.remove(str(BENCHMARKS))


def _short_config() -> TrafficConfig:
    from canary_sim.traffic import StepPlan, TrafficConfig

    return TrafficConfig(steps=(StepPlan(1, 600), StepPlan(25, 300)))


def test_same_seed_same_trace_and_every_judge_gets_the_same_input() -> None:
    from canary_sim.harness import run_rng
    from canary_sim.judging import judge_trace, standin_judge
    from canary_sim.scenarios import scenario
    from canary_sim.spec import build_spec
    from canary_sim.traffic import simulate

    config = _short_config()
    a = simulate(scenario("aa"), config, run_rng(7, "aa", 1))
    b = simulate(scenario("aa"), config, run_rng(7, "aa", 1))
    for name in ("requests_delta", "errors_delta", "buckets_delta", "good_delta"):
        assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name
    other = simulate(scenario("aa"), config, run_rng(7, "aa", 2))
    assert not np.array_equal(a.cum_requests, other.cum_requests)

    seen: dict[str, list[AnalysisInput]] = {"one": [], "two": []}

    def recorder(label: str) -> Callable[[AnalysisInput, CanarySpec], AnalysisVerdict]:
        def judge(data: AnalysisInput, spec: CanarySpec) -> AnalysisVerdict:
            seen[label].append(data)
            return standin_judge(data, spec)
        return judge

    spec = build_spec(config, alpha=0.05, business=False)
    judge_trace(a, spec, {"one": recorder("one"), "two": recorder("two")}, ["10s", "1m"])
    assert len(seen["one"]) == a.intervals  # 1m looks are served from the 10 s verdicts
    assert all(x is y for x, y in zip(seen["one"], seen["two"], strict=True))


def test_scraped_counters_are_cumulative_and_deltas_add_up() -> None:
    from canary_sim.harness import run_rng
    from canary_sim.scenarios import scenario
    from canary_sim.traffic import simulate

    config = replace(_short_config(), gap_probability=0.05)
    trace = simulate(scenario("errors_x2_base1"), config, run_rng(3, "gaps", 0))
    assert (~trace.scraped).any(), "the test needs at least one missed scrape"
    assert np.all(np.diff(trace.cum_requests, axis=1) >= 0)
    assert np.all(np.diff(trace.cum_buckets, axis=2) >= 0)  # le-cumulative
    assert np.array_equal(trace.cum_buckets[:, :, -1], trace.cum_requests)
    for delta, cum in ((trace.requests_delta, trace.cum_requests),
                       (trace.errors_delta, trace.cum_errors),
                       (trace.good_delta, trace.cum_good)):
        assert np.array_equal(np.isnan(delta[0]), ~trace.scraped[1:])
        running = np.nancumsum(delta, axis=1)
        ok = trace.scraped[1:]
        assert np.array_equal(running[:, ok], (cum[:, 1:] - cum[:, :1])[:, ok])
    assert np.array_equal(trace.cum_requests[:, -1] - trace.cum_requests[:, 0],
                          trace.true_requests.sum(axis=1))


def test_five_x_errors_scenario_has_about_five_x_errors() -> None:
    from canary_sim.harness import run_rng
    from canary_sim.scenarios import scenario
    from canary_sim.traffic import CANARY, simulate

    config = _short_config()
    rates = np.zeros(2)
    for run in range(2):
        trace = simulate(scenario("errors_x5_base1"), config, run_rng(11, "x5", run))
        rates += trace.true_errors.sum(axis=1) / trace.true_requests.sum(axis=1)
    ratio = rates[CANARY] / rates[1 - CANARY]
    assert 4.0 < ratio < 6.2


def test_histogram_quantile_interpolates_like_prometheus() -> None:
    from canary_sim.traffic import histogram_quantile

    les = np.array([0.1, 0.2])
    rows = np.array([[50.0, 100.0, 100.0], [10.0, 20.0, 100.0], [0.0, 0.0, 0.0]])
    p95 = histogram_quantile(0.95, les, rows)
    assert p95[0] == pytest.approx(0.19)
    assert p95[1] == pytest.approx(0.2)  # in +Inf: the largest finite bound
    assert math.isnan(p95[2])


def test_cli_writes_the_documented_json(tmp_path: Path) -> None:
    import canary_detection

    out = tmp_path / "result.json"
    code = canary_detection.main([
        "--judges", "standin-NOT-A-REAL-JUDGE", "--runs", "2", "--workers", "1",
        "--scenarios", "aa,errors_x5_base1", "--steps", "1:10,25:5", "--json", str(out)])
    assert code == 0
    document = json.loads(out.read_text(encoding="utf-8"))
    assert {"results", "targets", "wall_time_s"} <= document.keys()
    keys = {"judge", "scenario", "check_every", "runs", "false_rollback_rate", "detected_rate",
            "median_delay_requests", "p90_delay_requests", "median_delay_minutes",
            "insufficient_data_rate", "failure_limit", "matched_to"}
    assert len(document["results"]) == 2 * 3  # scenarios x check frequencies
    for row in document["results"]:
        assert keys <= row.keys()
        assert row["runs"] == 2
    by_scenario = {r["scenario"]: r for r in document["results"] if r["check_every"] == "10s"}
    assert by_scenario["aa"]["detected_rate"] is None
    assert by_scenario["errors_x5_base1"]["false_rollback_rate"] is None
    assert all(t["status"] in {"PASS", "FAIL", "N/A"} for t in document["targets"])
