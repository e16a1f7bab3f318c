"""Seeded simulations of the whole sequential judge: false rollbacks, power, non-inferiority.

The judge decides ROLLBACK on the largest e-value seen after *any* interval so far, so one call at
the end of a run says whether a check after every interval would ever have rolled back
(``test_sequential_judge.test_rollback_seen_at_any_look_is_seen_by_the_last`` checks that
equivalence). That keeps a 200-run A/A simulation with every-interval checks fast.
"""

from __future__ import annotations

import statistics

from safeship.engine.analysis import evidence_until
from safeship.judge.sequential import sequential_judge
from safeship.model.analysis import AnalysisInput, Decision
from safeship.model.canary import CanarySpec
from tests.unit.judge.test_sequential_simulator import ERRORS, make_spec, simulate


def test_aa_false_rollbacks_across_steps() -> None:
    # A/A through 1 % -> 5 % -> 25 %, errors and p95 tested, alpha 0.05 for the rollout.
    alpha, runs = 0.05, 200
    spec = make_spec(alpha=alpha)
    rollbacks = proceeds = 0
    for seed in range(runs):
        data = simulate(1000 + seed, steps=((1, 300), (5, 300), (25, 300)), rps=50.0,
                        error_rate=0.02)
        decision = sequential_judge(data, spec).decision
        rollbacks += decision is Decision.ROLLBACK
        proceeds += decision is Decision.PROCEED
    assert rollbacks / runs <= alpha * 1.5
    assert proceeds > 0  # the judge is not simply silent


def _first_rollback(data: AnalysisInput, spec: CanarySpec, intervals: int) -> int | None:
    """The first interval after which the judge says ROLLBACK (decisions are monotone)."""
    if sequential_judge(data, spec).decision is not Decision.ROLLBACK:
        return None
    low, high = 0, intervals
    while high - low > 1:
        middle = (low + high) // 2
        if sequential_judge(evidence_until(data, 10.0 * middle), spec).decision is (
                Decision.ROLLBACK):
            high = middle
        else:
            low = middle
    return high


def test_power_doubled_errors_at_one_percent_and_ten_percent_traffic() -> None:
    # 100 rps, 10 % to the canary (10 rps), errors 1 % -> 2 %, alpha 0.01, checks every 10 s.
    spec = make_spec(ERRORS)
    delays = [_first_rollback(simulate(100 + seed, steps=((10, 1800),), error_ratio=2.0), spec,
                              180) for seed in range(20)]
    assert all(d is not None and d <= 60 for d in delays), delays  # within 10 minutes
    assert statistics.median(d or 0 for d in delays) <= 30  # median within 5 minutes


def test_no_proceed_when_the_harm_exceeds_the_margin() -> None:
    # True error ratio 1.6 > margin 1.5: PROCEED would be a non-inferiority error.
    spec = make_spec(ERRORS)
    decisions = [sequential_judge(simulate(300 + seed, steps=((25, 1800),), rps=200.0,
                                           error_ratio=1.6), spec).decision
                 for seed in range(60)]
    assert Decision.PROCEED not in decisions
    healthy = [sequential_judge(simulate(300 + seed, steps=((25, 1800),), rps=200.0),
                                spec).decision for seed in range(20)]
    assert healthy.count(Decision.PROCEED) >= 18
