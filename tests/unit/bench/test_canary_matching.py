"""Tests of the matched failure limits in the canary-detection benchmark (benchmarks/canary_sim).

They check the harness, not any judge: ``judge_trace`` keeps the raw first ROLLBACK while it
collects the later ROLLBACK looks of the calibrated judges (with a fake judge defined here), the
calibration picks the smallest failure limit whose A/A false-rollback rate is at most the
sequential judge's, the L-th look gives the matched variant's delay, and the "never slower"
target compares the sequential judge with the matched variants.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from safeship.model.analysis import AnalysisInput, AnalysisVerdict, Decision
from safeship.model.canary import CanarySpec

if TYPE_CHECKING:
    from canary_sim.judging import JudgeFn, RunRecord
    from canary_sim.targets import Target
    from canary_sim.traffic import Trace

BENCHMARKS = Path(__file__).resolve().parents[3] / "benchmarks"
ROLLBACK = Decision.ROLLBACK.value


@pytest.fixture(autouse=True, scope="module")
def _benchmarks_on_path() -> Iterator[None]:
    sys.path.insert(0, str(BENCHMARKS))
    yield
    sys.path.remove(str(BENCHMARKS))


def _trace(scenario_id: str) -> Trace:
    from canary_sim.harness import run_rng
    from canary_sim.scenarios import scenario
    from canary_sim.traffic import StepPlan, TrafficConfig, simulate

    config = TrafficConfig(steps=(StepPlan(1, 600), StepPlan(25, 300)))
    return simulate(scenario(scenario_id), config, run_rng(5, scenario_id, 0))


def _spec(trace: Trace) -> CanarySpec:
    from canary_sim.spec import build_spec

    return build_spec(trace.config, alpha=0.05, business=False,
                      slo_target=trace.scenario.slo_target)


def _scripted(trace: Trace, decisions: dict[int, str]) -> JudgeFn:
    """A fake judge answering ``decisions[k]`` at the end of interval k, PROCEED otherwise."""
    def judge(data: AnalysisInput, spec: CanarySpec) -> AnalysisVerdict:
        k = int(np.searchsorted(trace.ends, data.now))
        decision = decisions.get(k, Decision.PROCEED.value)
        if decision == "raise":
            raise RuntimeError("scripted failure")
        return AnalysisVerdict(Decision(decision), "fake", (), ())
    return judge


def test_judge_trace_keeps_the_raw_first_rollback_and_collects_later_ones() -> None:
    from canary_sim.judging import judge_trace

    trace = _trace("aa")
    script = {3: ROLLBACK, 5: ROLLBACK, 11: ROLLBACK, 12: Decision.INSUFFICIENT_DATA.value,
              17: ROLLBACK}
    judges = {"kayenta": _scripted(trace, script), "sequential": _scripted(trace, script)}
    outcomes = {(o.judge, o.check_every): o
                for o in judge_trace(trace, _spec(trace), judges, ["10s", "1m"])}

    asked_on = outcomes[("kayenta", "10s")]
    assert (asked_on.rollback_index, asked_on.final_decision, asked_on.looks) == (3, ROLLBACK, 4)
    assert asked_on.error is None
    assert asked_on.rollback_looks == (3, 5, 11, 17)  # accumulated, not consecutive
    assert asked_on.looks_at_rollbacks == (4, 6, 12, 18)
    assert asked_on.ending().looks == trace.intervals  # asked to the end: fewer than 60 failed

    stopped = outcomes[("sequential", "10s")]  # not calibrated: its ROLLBACK is final
    assert (stopped.rollback_index, stopped.looks, stopped.rollback_looks) == (3, 4, (3,))
    assert stopped.ending().looks == 4

    minute = outcomes[("kayenta", "1m")]  # looks at k = 5, 11, 17, ...: only those count
    assert (minute.rollback_index, minute.looks) == (5, 1)
    assert minute.rollback_looks == (5, 11, 17)
    assert minute.looks_at_rollbacks == (1, 2, 3)


def test_judge_trace_stops_a_calibrated_judge_at_the_limit_or_at_an_error() -> None:
    from canary_sim.judging import MAX_FAILURE_LIMIT, judge_trace

    trace = _trace("aa")
    assert trace.intervals > MAX_FAILURE_LIMIT + 5
    always = dict.fromkeys(range(trace.intervals), ROLLBACK)
    broken = {2: ROLLBACK, 4: "raise"}
    judges = {"kayenta": _scripted(trace, always), "threshold": _scripted(trace, broken)}
    outcomes = {o.judge: o for o in judge_trace(trace, _spec(trace), judges, ["10s"])}

    capped = outcomes["kayenta"]
    assert capped.rollback_index == 0
    assert capped.rollback_looks == tuple(range(MAX_FAILURE_LIMIT))
    assert capped.ending().looks == MAX_FAILURE_LIMIT  # then it is asked no more

    failed = outcomes["threshold"]
    assert (failed.rollback_index, failed.final_decision, failed.error) == (2, ROLLBACK, None)
    ending = failed.ending()
    assert ending.decision == "ERROR"
    assert ending.error is not None
    assert "scripted failure" in ending.error
    assert ending.looks == 5


def test_records_measure_every_rollback_look_like_the_first() -> None:
    from canary_sim.judging import Outcome, records, with_failure_limit
    from canary_sim.traffic import CANARY

    trace = _trace("mid_step")
    onset = trace.onset_index
    assert onset > 3
    looks = (onset - 3, onset + 4, onset + 10)
    outcome = Outcome("kayenta", "10s", looks[0], ROLLBACK, looks[0] + 1, None, 0.5, looks,
                      tuple(k + 1 for k in looks))
    (raw,) = records(trace, [outcome], run=0)
    assert raw.rolled_back
    assert raw.early  # the first look is before the onset
    assert raw.delay_requests is None
    assert with_failure_limit(raw, 1, "kayenta") == raw

    second = with_failure_limit(raw, 2, "kayenta-matched")
    assert second.judge == "kayenta-matched"
    assert second.rolled_back
    assert not second.early
    expected = float(trace.true_requests[CANARY][onset:looks[1] + 1].sum())
    assert second.delay_requests == pytest.approx(expected)
    assert second.delay_minutes == pytest.approx((trace.ends[looks[1]] - trace.onset_time) / 60)
    assert second.rollback_step == int(trace.step_of[looks[1]])
    assert (second.final_decision, second.looks) == (ROLLBACK, looks[1] + 1)

    third = with_failure_limit(raw, 3, "kayenta-matched")
    assert third.delay_requests is not None
    assert second.delay_requests is not None
    assert third.delay_requests > second.delay_requests


def _record(scenario: str, run: int, judge: str, delays: Sequence[float | None],
            check: str = "10s", ends: str = Decision.PROCEED.value) -> RunRecord:
    """A raw record whose judge said ROLLBACK once per entry of ``delays`` (None: early)."""
    from canary_sim.judging import Ending, RollbackLook, RunRecord, with_failure_limit

    hits = tuple(RollbackLook(6 * i, i + 1, 0, d is None, d, None if d is None else d / 600)
                 for i, d in enumerate(delays))
    base = RunRecord(scenario, run, judge, check, False, False, None, None, None, ends, 540,
                     None, 0.0, hits, Ending(ends, 540))
    return with_failure_limit(base, 1, judge)


def test_the_l_th_look_decides_and_fewer_looks_never_roll_back() -> None:
    from canary_sim.judging import with_failure_limit

    record = _record("mid_step", 0, "kayenta", [None, 2_000.0, 5_000.0])
    assert record.rolled_back
    assert record.early
    assert record.delay_requests is None
    at_two = with_failure_limit(record, 2, "kayenta-matched")
    assert (at_two.rolled_back, at_two.early, at_two.delay_requests) == (True, False, 2_000.0)
    assert at_two.looks == 2
    for limit in (4, None):
        never = with_failure_limit(record, limit, "kayenta-matched")
        assert not never.rolled_back
        assert not never.early
        assert never.delay_requests is None
        assert never.rollback_step is None
        assert (never.final_decision, never.looks) == (Decision.PROCEED.value, 540)


def test_false_rollback_curve_is_monotone_and_the_smallest_limit_wins() -> None:
    from canary_sim.matching import false_rollback_curve, smallest_limit

    counts = [0, 0, 0, 0, 0, 0, 1, 3, 3, 7]
    curve = false_rollback_curve(counts, max_limit=10)
    assert len(curve) == 10
    assert all(a >= b for a, b in pairwise(curve))
    assert curve[0] == pytest.approx(0.4)
    assert curve[2] == pytest.approx(0.3)
    assert curve[3] == pytest.approx(0.1)
    assert curve[7] == 0.0
    assert smallest_limit(curve, 0.4) == 1
    assert smallest_limit(curve, 0.3) == 2  # FR(2) = 0.3 already: not 3
    assert smallest_limit(curve, 0.1) == 4
    assert smallest_limit(curve, 0.0) == 8
    assert smallest_limit(false_rollback_curve([10, 12], max_limit=10), 0.0) is None


def _aa(judge: str, counts: Sequence[int], check: str = "10s") -> list[RunRecord]:
    return [_record("aa", run, judge, [None] * n, check) for run, n in enumerate(counts)]


def test_calibrate_matches_the_sequential_rate_or_five_percent_or_nothing() -> None:
    from canary_sim.judging import MAX_FAILURE_LIMIT
    from canary_sim.matching import FALLBACK_RATE, FIXED, calibrate, matched_records

    sequential = _aa("sequential", [1] + [0] * 9)  # 10 % of A/A runs rolled back
    kayenta = _aa("kayenta", [0] * 6 + [1, 2, 4, 9])  # FR: 40 %, 30 %, 20 %, 20 %, 10 % ...
    threshold = _aa("threshold", [MAX_FAILURE_LIMIT] * 10)  # fails at every look
    regression = [_record("errors_x2_base1", 0, "kayenta", [100.0, 200.0, 300.0, 400.0, 500.0])]
    records = [*sequential, *kayenta, *threshold, *regression]

    found = calibrate(records)
    k = found[("kayenta", "10s")]
    assert (k.failure_limit, k.reference) == (5, "sequential")
    assert k.matched_to == pytest.approx(0.1)
    assert k.aa_false_rollback_raw == pytest.approx(0.4)
    assert k.aa_false_rollback == pytest.approx(0.1)
    t = found[("threshold", "10s")]
    assert t.failure_limit is None
    assert not t.matched
    assert "cannot be matched within 60 failed looks" in t.describe()

    derived = {(r.judge, r.scenario, r.run): r for r in matched_records(records, found)}
    assert derived[("kayenta-matched", "errors_x2_base1", 0)].delay_requests == 500.0
    assert sum(r.rolled_back for r in derived.values()
               if r.judge == "kayenta-matched" and r.scenario == "aa") == 1
    assert not any(r.rolled_back for r in derived.values() if r.judge == "threshold-matched")
    assert not any(r.judge.startswith("sequential") for r in derived.values())

    alone = calibrate([*kayenta, *regression])  # sequential not run: match to 5 %
    k = alone[("kayenta", "10s")]
    assert (k.matched_to, k.reference, k.failure_limit) == (FALLBACK_RATE, FIXED, 10)

    no_aa = calibrate([*sequential, *regression])
    assert no_aa[("kayenta", "10s")].aa_runs == 0
    assert matched_records([*sequential, *regression], no_aa) == []


def test_business_scenarios_use_the_business_a_a_fit() -> None:
    from canary_sim.matching import AA, AA_BUSINESS, calibrate, matched_records

    plain = _aa("kayenta", [0] * 9 + [1])  # L = 2 on aa
    noisy = [_record(AA_BUSINESS, run, "kayenta", [None] * n)
             for run, n in enumerate([0] * 6 + [3, 4, 5, 6])]  # L = 7 on aa_business
    ours = [*_aa("sequential", [0] * 10),
            *(_record(AA_BUSINESS, run, "sequential", []) for run in range(10))]
    business = _record("conversions_minus2", 0, "kayenta", [float(100 * i) for i in range(1, 9)])
    errors = _record("errors_x2_base1", 0, "kayenta", [float(100 * i) for i in range(1, 9)])
    records = [*plain, *noisy, *ours, business, errors]
    found = calibrate(records)[("kayenta", "10s")]
    assert (found.failure_limit, found.calibrated_on) == (2, AA)
    assert found.business is not None
    assert (found.business.failure_limit, found.business.calibrated_on) == (7, AA_BUSINESS)
    assert found.for_scenario("conversions_minus2") is found.business
    assert found.for_scenario("errors_x2_base1") is found
    derived = {r.scenario: r for r in matched_records(records, {("kayenta", "10s"): found})}
    assert derived["conversions_minus2"].delay_requests == 700.0  # the 7th failed look
    assert derived["errors_x2_base1"].delay_requests == 200.0  # the 2nd
    assert not derived[AA_BUSINESS].rolled_back
    # Without the business A/A scenario, business scenarios keep the aa fit.
    alone = calibrate([*plain, *ours[:10], business])[("kayenta", "10s")]
    assert alone.business is None
    assert alone.for_scenario("conversions_minus2") is alone


def _targets(regression_delays: Sequence[float], aa_runs: int = 64) -> dict[str, Target]:
    from canary_sim.matching import calibrate, matched_records
    from canary_sim.statistics import aggregate
    from canary_sim.targets import evaluate

    # Half of kayenta's A/A runs have 1 or 2 failed looks: 50 % raw false rollbacks, L = 3.
    half = aa_runs // 2
    records = [*_aa("sequential", [0] * aa_runs),
               *_aa("kayenta", [0] * half + [1, 2] * (half // 2)),
               *_aa("threshold", [60] * aa_runs)]
    for run in range(3):
        records += [_record("errors_x2_base1", run, "sequential", [1_000.0]),
                    _record("errors_x2_base1", run, "kayenta", regression_delays),
                    _record("errors_x2_base1", run, "threshold", [10.0] * 60)]
    matchings = calibrate(records)
    rows = aggregate([*records, *matched_records(records, matchings)], steps=4)
    return {t.id: t for t in evaluate(rows, ["10s"], matchings)}


def test_never_slower_compares_with_the_matched_variants() -> None:
    from canary_sim.targets import Status

    # kayenta is matched at L = 3 (no A/A run has 3 failed looks); threshold cannot be matched
    passed = _targets([50.0, 60.0, 1_500.0])  # raw kayenta: 50; matched: 1,500 > 1,000
    target = passed["never_slower"]
    assert target.status is Status.PASS
    assert "kayenta L = 3" in target.measured
    assert "never rolls back" in target.measured
    raw = passed["never_slower_raw"]
    assert raw.status is Status.FAIL
    assert raw.extra
    assert "kayenta 50 %" in raw.description
    assert "threshold 100 %" in raw.description

    failed = _targets([50.0, 60.0, 900.0])["never_slower"]
    assert failed.status is Status.FAIL
    assert "1,000 vs kayenta-matched 900 (L = 3)" in failed.measured

    # Fitted on too few A/A runs, a limit is luck, not a match: shown, not decided.
    few = _targets([50.0, 60.0, 900.0], aa_runs=8)["never_slower"]
    assert few.status is Status.NOT_EVALUATED
    assert "fitted on 8 A/A runs (needs >= 61)" in few.measured
    assert "1,000 vs kayenta-matched 900" in few.measured


def test_report_shows_the_failure_limit_of_matched_rows() -> None:
    from canary_sim.matching import calibrate, matched_records, matching_meta
    from canary_sim.report import json_document, table
    from canary_sim.statistics import aggregate

    records = [*_aa("sequential", [0, 0]), *_aa("kayenta", [0, 2]), *_aa("threshold", [60, 60])]
    matchings = calibrate(records)
    rows = aggregate([*records, *matched_records(records, matchings)], steps=4)
    document = json_document(rows, [], 1.0, {"matching": matching_meta(matchings)}, matchings)
    by_judge = {r["judge"]: r for r in document["results"]}
    assert by_judge["kayenta-matched"]["failure_limit"] == 3
    assert by_judge["kayenta-matched"]["matched_to"] == 0.0
    assert by_judge["threshold-matched"]["failure_limit"] is None
    assert by_judge["threshold-matched"]["matched_from"] == "threshold"
    assert by_judge["kayenta"]["failure_limit"] is None
    assert by_judge["kayenta"]["matched_to"] is None
    assert set(by_judge["kayenta"]) == set(by_judge["kayenta-matched"])
    assert document["meta"]["matching"]["kayenta"]["10s"]["failure_limit"] == 3
    lines = table(rows, ["1", "5", "25", "100"], matchings).splitlines()
    assert any(line.startswith("threshold-matched") and ">60" in line for line in lines)


def test_cli_reports_matched_variants(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    import json

    import canary_detection
    import canary_sim.harness
    from canary_sim.judging import standin_judge

    # The stand-in plays every judge: this checks the wiring, not any judge.
    monkeypatch.setattr(canary_sim.harness, "load_judge", lambda name: standin_judge)
    out = tmp_path / "result.json"
    code = canary_detection.main([
        "--judges", "sequential,kayenta,threshold", "--runs", "2", "--workers", "1",
        "--scenarios", "aa,errors_x5_base1", "--steps", "1:10,25:5", "--check-every", "1m",
        "--json", str(out)])
    assert code == 0
    assert "matching: each of kayenta, threshold" in capsys.readouterr().out
    document = json.loads(out.read_text(encoding="utf-8"))
    judges = {r["judge"] for r in document["results"]}
    assert {"kayenta-matched", "threshold-matched"} <= judges
    assert set(document["meta"]["matching"]) == {"kayenta", "threshold"}
    assert {t["id"] for t in document["targets"]} >= {"never_slower", "never_slower_raw"}
