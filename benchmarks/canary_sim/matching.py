"""Matched failure limits: competitors replayed at the sequential judge's A/A false-rollback rate.

As the guide configures them, the Kayenta-style and threshold judges roll back at their first
failed look, so on noisy traffic they roll back many healthy (A/A) canaries and their detection
delays are short for the wrong reason. Users of Argo Rollouts (``failureLimit``) and Flagger
(``threshold``) suppress that noise with a failure limit: roll back only at the L-th failed
check, counted cumulatively (not necessarily consecutive). This module picks L from the same
benchmark run and derives a ``<judge>-matched`` variant of each judge in
:data:`~canary_sim.judging.CALIBRATED_JUDGES`.

The matching rule, per competitor judge and checking frequency:

* FR(L) = the share of that judge's ``aa`` runs with at least L ROLLBACK looks (FR(1) is its
  raw A/A false-rollback rate; FR never increases with L);
* the reference rate is the sequential judge's own A/A false-rollback rate at that frequency on
  the same traces, or :data:`FALLBACK_RATE` (5 %) when the sequential judge did not run ``aa``;
* the matched failure limit is the smallest L in 1 .. ``MAX_FAILURE_LIMIT`` with FR(L) <= the
  reference rate: the competitor may not false-roll-back more often than the sequential judge
  did on the same A/A traces;
* when no such L exists the judge cannot be matched within ``MAX_FAILURE_LIMIT`` failed looks:
  its matched variant never rolls back (every delay "not reached");
* a judge not run on ``aa`` gets no matched variant at that frequency;
* scenarios whose spec guards the business metric (``conversions_minus2``) are replayed with a
  limit fitted the same way on ``aa_business`` (the A/A scenario with the same spec), because
  that metric adds its own noise: a limit fitted without it would let the competitor roll back
  many healthy canaries there. Without ``aa_business`` they keep the ``aa`` fit.

The matched variant's record of a run is the raw record replayed with that L
(:func:`~canary_sim.judging.with_failure_limit`): it rolls back at the L-th ROLLBACK look with
that look's delay, step and "early" flag. L is fitted on the very A/A runs whose false-rollback
rate the matched rows then report, so their A/A rate is at most the reference by construction
(in-sample); the regression scenarios are independent of the fit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from canary_sim.judging import (
    CALIBRATED_JUDGES,
    MAX_FAILURE_LIMIT,
    SEQUENTIAL,
    RunRecord,
    with_failure_limit,
)
from canary_sim.scenarios import scenario as scenario_by_id

AA = "aa"
"""The scenario the failure limits are fitted on."""
AA_BUSINESS = "aa_business"
"""The A/A scenario with the business metric guarded: scenarios whose spec has that metric are
replayed with a failure limit fitted here, because the extra metric is extra noise for a
competitor (when it was not run, they fall back to the ``aa`` fit)."""
FALLBACK_RATE = 0.05
"""The reference A/A rate when the sequential judge did not run ``aa`` (the issue's target)."""
FIXED = "fixed"
"""``Matching.reference`` when matched to :data:`FALLBACK_RATE`."""
MATCHED_SUFFIX = "-matched"


def matched_name(judge: str) -> str:
    """The name of ``judge``'s matched variant in the table and the JSON."""
    return judge + MATCHED_SUFFIX


def with_variants(judges: Sequence[str]) -> tuple[str, ...]:
    """``judges`` with each calibrated judge's matched variant right after it (table order)."""
    ordered: list[str] = []
    for judge in judges:
        ordered.append(judge)
        if judge in CALIBRATED_JUDGES:
            ordered.append(matched_name(judge))
    return tuple(ordered)


def false_rollback_curve(rollback_looks: Sequence[int],
                         max_limit: int = MAX_FAILURE_LIMIT) -> tuple[float, ...]:
    """FR(L) for L = 1 .. ``max_limit``: the share of runs with at least L ROLLBACK looks.

    ``rollback_looks`` holds one count per A/A run. Non-increasing in L by construction.
    """
    if not rollback_looks:
        return ()
    runs = len(rollback_looks)
    return tuple(sum(1 for n in rollback_looks if n >= limit) / runs
                 for limit in range(1, max_limit + 1))


def smallest_limit(curve: Sequence[float], rate: float) -> int | None:
    """The smallest failure limit L (1-based) with ``curve[L - 1] <= rate``; None if none."""
    for limit, share in enumerate(curve, start=1):
        if share <= rate:
            return limit
    return None


@dataclass(frozen=True)
class Matching:
    """The failure limit of one competitor judge at one checking frequency."""

    judge: str
    check_every: str
    failure_limit: int | None
    """The matched L; None when no L up to ``MAX_FAILURE_LIMIT`` gets down to ``matched_to``
    or when the judge did not run ``aa``."""
    matched_to: float
    """The reference A/A false-rollback rate (the sequential judge's, or FALLBACK_RATE)."""
    reference: str
    """Where ``matched_to`` comes from: ``sequential`` or :data:`FIXED`."""
    aa_runs: int
    aa_false_rollback_raw: float | None
    """The judge's raw A/A false-rollback rate, FR(1)."""
    aa_false_rollback: float | None
    """FR(L) at the matched L: the matched variant's A/A false-rollback rate."""
    failure_limit_at_fallback: int | None
    """The L that would match the fixed :data:`FALLBACK_RATE` (5 %), for comparison."""
    calibrated_on: str = AA
    """The A/A scenario the limit was fitted on."""
    business: Matching | None = None
    """The fit on :data:`AA_BUSINESS`, used for scenarios that guard the business metric."""

    def for_scenario(self, scenario_id: str) -> Matching:
        """The fit that applies to ``scenario_id`` (the business one for business scenarios)."""
        if self.business is not None and scenario_by_id(scenario_id).business:
            return self.business
        return self

    @property
    def variant(self) -> str:
        """The matched variant's judge name."""
        return matched_name(self.judge)

    @property
    def matched(self) -> bool:
        """True when a failure limit was found."""
        return self.failure_limit is not None

    def describe(self) -> str:
        """One line for the report."""
        if self.aa_runs == 0:
            return f"not run on {AA}: no matched variant"
        raw = f"raw A/A false rollback {_pct(self.aa_false_rollback_raw)}"
        target = (f"the fixed {_pct(self.matched_to)}" if self.reference == FIXED
                  else f"{self.reference}'s {_pct(self.matched_to)}")
        if self.failure_limit is None:
            return (f"cannot be matched within {MAX_FAILURE_LIMIT} failed looks (target "
                    f"{target}, {raw}, {self.aa_runs} runs): treated as never rolling back")
        return (f"L = {self.failure_limit}: A/A false rollback {_pct(self.aa_false_rollback)} "
                f"<= {target} ({raw}; {self.aa_runs} runs; L for {_pct(FALLBACK_RATE)}: "
                f"{_limit(self.failure_limit_at_fallback)})")


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def _limit(value: int | None) -> str:
    return f"> {MAX_FAILURE_LIMIT}" if value is None else str(value)


def calibrate(records: Sequence[RunRecord],
              judges: Sequence[str] = CALIBRATED_JUDGES) -> dict[tuple[str, str], Matching]:
    """The matched failure limit per (competitor judge, checking frequency) present in
    ``records`` (see the module docstring for the rule), with the :data:`AA_BUSINESS` fit
    attached as ``business`` when that scenario was run."""
    fitted = _fit(records, judges, AA)
    business = _fit(records, judges, AA_BUSINESS)
    attached = {key: fit for key, fit in business.items() if fit.aa_runs}
    return {key: replace(m, business=attached.get(key)) for key, m in fitted.items()}


def _fit(records: Sequence[RunRecord], judges: Sequence[str],
         scenario_id: str) -> dict[tuple[str, str], Matching]:
    """Fit every (judge, frequency) on the A/A scenario ``scenario_id``."""
    aa: dict[tuple[str, str], list[RunRecord]] = defaultdict(list)
    checks: dict[str, None] = {}
    present: dict[str, None] = {}
    for record in records:
        checks.setdefault(record.check_every)
        present.setdefault(record.judge)
        if record.scenario == scenario_id:
            aa[(record.judge, record.check_every)].append(record)
    result: dict[tuple[str, str], Matching] = {}
    for judge in (j for j in judges if j in present):
        for check in checks:
            ours = aa.get((SEQUENTIAL, check), [])
            if ours:
                rate = sum(r.rolled_back for r in ours) / len(ours)
                reference = SEQUENTIAL
            else:
                rate, reference = FALLBACK_RATE, FIXED
            theirs = aa.get((judge, check), [])
            curve = false_rollback_curve([len(r.rollback_looks) for r in theirs])
            limit = smallest_limit(curve, rate) if theirs else None
            result[(judge, check)] = Matching(
                judge, check, limit, rate, reference, len(theirs),
                curve[0] if curve else None,
                curve[limit - 1] if limit is not None else None,
                smallest_limit(curve, FALLBACK_RATE) if theirs else None, scenario_id)
    return result


def matched_records(records: Sequence[RunRecord],
                    matchings: Mapping[tuple[str, str], Matching]) -> list[RunRecord]:
    """The matched variant's record for every record of a calibrated judge, every scenario."""
    derived = []
    for record in records:
        found = matchings.get((record.judge, record.check_every))
        if found is None or found.aa_runs == 0:
            continue
        matching = found.for_scenario(record.scenario)
        derived.append(with_failure_limit(record, matching.failure_limit, matching.variant))
    return derived


def by_variant(matchings: Mapping[tuple[str, str], Matching],
               ) -> dict[tuple[str, str], Matching]:
    """The same matchings keyed by (matched variant name, checking frequency)."""
    return {(m.variant, m.check_every): m for m in matchings.values() if m.aa_runs}


def matching_meta(matchings: Mapping[tuple[str, str], Matching]) -> dict[str, Any]:
    """``meta["matching"]`` of the JSON file: judge -> check_every -> the calibration."""
    meta: dict[str, dict[str, dict[str, Any]]] = {}
    for m in matchings.values():
        meta.setdefault(m.judge, {})[m.check_every] = {
            "variant": m.variant if m.aa_runs else None,
            "failure_limit": m.failure_limit,
            "aa_false_rollback": m.aa_false_rollback,
            "aa_false_rollback_raw": m.aa_false_rollback_raw,
            "matched_to": m.matched_to,
            "reference": m.reference,
            "aa_runs": m.aa_runs,
            "failure_limit_at_5pct": m.failure_limit_at_fallback,
            "max_failure_limit": MAX_FAILURE_LIMIT,
            "calibrated_on": m.calibrated_on,
            "business": None if m.business is None else {
                "failure_limit": m.business.failure_limit,
                "aa_false_rollback": m.business.aa_false_rollback,
                "aa_false_rollback_raw": m.business.aa_false_rollback_raw,
                "matched_to": m.business.matched_to, "aa_runs": m.business.aa_runs,
                "calibrated_on": m.business.calibrated_on},
        }
    return meta
