"""The acceptance targets for the sequential judge, each with PASS, FAIL or N/A.

From the issue (evaluated at every checking frequency):

1. A/A false rollback <= 5 % with the Wilson upper 95 % bound <= 6 %;
2. 2x errors at a 0.1 % base rate, 1 % traffic, 10 canary rps: median <= 10,000 canary requests
   and >= 95 % of runs detected within 60 minutes (during the 1 % step);
3. +20 % p95: median <= 1,200 canary requests;
4. never a longer median delay than kayenta or threshold in any regression scenario, at a
   matched A/A false-rollback rate. Configured as the guide says, those judges roll back at
   their first failed look and many healthy canaries with it, so their raw delays say little.
   They are compared through their ``-matched`` variants (``matching.py``): each rolls back at
   its L-th ROLLBACK look, counted cumulatively (Argo ``failureLimit``, Flagger
   ``threshold``), L being the smallest failure limit in 1..60 whose share of A/A runs rolled
   back is <= the sequential judge's own A/A false-rollback rate at that checking frequency in
   the same run (5 % when the sequential judge did not run ``aa``). A judge that no L matches
   never rolls back in its matched variant.

Extra, from research section 7.2 (marked ``extra``): 2x errors at a 1 % base rate <= 1,500
canary requests; tail-only +20 % p95 <= 3,600; false rollback no higher than the raw kayenta's
and threshold's in every A/A-like scenario. Extra and informational: target 4 against the raw,
guide-configured judges (``never_slower_raw``), with the A/A rate they roll back at. N/A means a
judge or scenario needed was not run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from canary_sim.judging import CALIBRATED_JUDGES, MAX_FAILURE_LIMIT, SEQUENTIAL
from canary_sim.matching import AA, Matching, matched_name
from canary_sim.statistics import Row, wilson

OURS = SEQUENTIAL
OTHERS = CALIBRATED_JUDGES
RESEARCH = "research section 7.2"
MAX_LISTED = 6
FEW_RUNS = 20
"""Below this many runs a PASS/FAIL on a median or a rate is flagged as indicative only."""
MIN_AA_RUNS = 61
"""Fewest A/A runs whose Wilson upper bound can be <= 6 % (with no false rollback at all)."""


class Status(StrEnum):
    """A target's outcome."""

    PASS = "PASS"  # noqa: S105 - a status, not a password
    FAIL = "FAIL"
    NOT_EVALUATED = "N/A"


@dataclass(frozen=True)
class Target:
    """One target at one checking frequency."""

    id: str
    description: str
    check_every: str
    status: Status
    measured: str
    extra: bool = False
    origin: str = RESEARCH
    """Why an extra target is there (shown beside it)."""


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "not reached"
    return f"{value:,.0f}{unit}" if unit != " min" else f"{value:.1f}{unit}"


def _few(runs: int) -> str:
    return f" (only {runs} runs: indicative)" if runs < FEW_RUNS else ""


def _index(rows: Sequence[Row]) -> dict[tuple[str, str, str], Row]:
    return {(r.judge, r.scenario, r.check_every): r for r in rows}


def _leq(a: float | None, b: float | None) -> bool:
    """a <= b with None meaning infinity (not reached)."""
    if a is None:
        return b is None
    return b is None or a <= b


def _median_target(tid: str, text: str, rows: dict[tuple[str, str, str], Row], scenario: str,
                   check: str, limit: float, *, extra: bool = False) -> Target:
    row = rows.get((OURS, scenario, check))
    if row is None:
        return Target(tid, text, check, Status.NOT_EVALUATED, f"{OURS} x {scenario} not run",
                      extra)
    ok = row.median_delay_requests is not None and row.median_delay_requests <= limit
    measured = (f"median {_fmt(row.median_delay_requests)} canary requests "
                f"(limit {limit:,.0f}), detected {row.detected_rate or 0:.0%} of {row.runs}"
                f"{_few(row.runs)}")
    return Target(tid, text, check, Status.PASS if ok else Status.FAIL, measured, extra)


def _slower(index: dict[tuple[str, str, str], Row], regressions: Sequence[str], check: str,
            others: Sequence[tuple[str, str]]) -> list[str]:
    """Regression scenarios where the sequential median delay is longer than an other's.

    ``others`` pairs each compared judge's row name with a note shown beside its delay.
    """
    losses = []
    for s in regressions:
        ours = index.get((OURS, s, check))
        for other, note in others:
            theirs = index.get((other, s, check))
            if ours is None or theirs is None:
                continue
            if not _leq(ours.median_delay_requests, theirs.median_delay_requests):
                losses.append(f"{s}: {_fmt(ours.median_delay_requests)} vs {other} "
                              f"{_fmt(theirs.median_delay_requests)}{note}")
    return losses


def _listed(losses: Sequence[str]) -> str:
    shown = "; ".join(losses[:MAX_LISTED])
    more = f"; ... {len(losses) - MAX_LISTED} more" if len(losses) > MAX_LISTED else ""
    return f"{len(losses)} slower: {shown}{more}"


def _limit_text(matching: Matching | None) -> str:
    if matching is None:
        return "L unknown"
    if matching.failure_limit is None:
        text = f"no L <= {MAX_FAILURE_LIMIT} matches: never rolls back"
    else:
        text = f"L = {matching.failure_limit}"
    if matching.business is not None:
        text += f"; with the business metric {_limit_text(matching.business)}"
    return text


def _never_slower(index: dict[tuple[str, str, str], Row], regressions: Sequence[str],
                  judges: set[str], check: str,
                  matchings: Mapping[tuple[str, str], Matching]) -> Target:
    """Target 4: the sequential judge against each competitor's matched variant."""
    text = ("never a longer median delay than kayenta or threshold at a matched A/A "
            "false-rollback rate (failure limit L; every regression)")
    compared = [(j, matchings.get((j, check))) for j in OTHERS if matched_name(j) in judges]
    missing = [j for j in (OURS, *(matched_name(o) for o in OTHERS)) if j not in judges]
    losses = _slower(index, regressions, check,
                     [(matched_name(j), f" ({_limit_text(m)})") for j, m in compared])
    limits = ", ".join(f"{j} {_limit_text(m)}" for j, m in compared)
    fitted_on = [m.aa_runs for _, m in compared if m is not None]
    if fitted_on and min(fitted_on) < MIN_AA_RUNS:
        # With a handful of A/A runs "no false rollback yet" fits L = 1 by luck: the limits
        # are not matched to anything yet, so the comparison is shown but not decided.
        shown = _listed(losses) if losses else "none slower"
        return Target("never_slower", text, check, Status.NOT_EVALUATED,
                      f"undecidable: failure limits fitted on {min(fitted_on)} A/A runs "
                      f"(needs >= {MIN_AA_RUNS}); indicative: {shown} [{limits}]")
    if losses:
        return Target("never_slower", text, check, Status.FAIL, f"{_listed(losses)} [{limits}]")
    if missing:
        return Target("never_slower", text, check, Status.NOT_EVALUATED,
                      f"not run: {', '.join(missing)} (a matched variant needs its judge run "
                      f"on {AA})")
    return Target("never_slower", text, check, Status.PASS,
                  f"sequential median <= both in all {len(regressions)} regression scenarios "
                  f"[{limits}]")


def _aa_rates(rows: Sequence[Row], judges: Sequence[str]) -> list[float]:
    return [r.false_rollback_rate for r in rows if r.judge in judges and r.scenario == AA
            and r.false_rollback_rate is not None]


def _rate_range(rates: Sequence[float]) -> str:
    if not rates:
        return "an unmeasured share"
    low, high = min(rates), max(rates)
    return f"{100 * low:.0f} %" if low == high else f"{100 * low:.0f}-{100 * high:.0f} %"


def _never_slower_raw(index: dict[tuple[str, str, str], Row], regressions: Sequence[str],
                      judges: set[str], check: str, rows: Sequence[Row]) -> Target:
    """Target 4 against the raw, guide-configured judges (informational)."""
    present = [j for j in OTHERS if j in judges]
    each = "; ".join(f"{j} {_rate_range(_aa_rates(rows, [j]))}" for j in present)
    text = (f"never a longer median delay than kayenta and threshold as the guide configures "
            f"them, which roll back {_rate_range(_aa_rates(rows, present))} of A/A runs "
            f"({each or 'not run'}; unmatched)")
    here = []
    for j in present:
        aa = index.get((j, AA, check))
        if aa is not None and aa.false_rollback_rate is not None:
            here.append(f"{j} {aa.false_rollback_rate:.0%}")
    note = f" [A/A false rollback here: {', '.join(here)}]" if here else ""
    losses = _slower(index, regressions, check, [(j, "") for j in present])
    missing = [j for j in (OURS, *OTHERS) if j not in judges]
    if losses:
        status, measured = Status.FAIL, _listed(losses) + note
    elif missing:
        status, measured = Status.NOT_EVALUATED, f"judge(s) not run: {', '.join(missing)}"
    else:
        status = Status.PASS
        measured = (f"sequential median <= both in all {len(regressions)} regression "
                    f"scenarios{note}")
    return Target("never_slower_raw", text, check, status, measured, extra=True,
                  origin="informational, unmatched judges")


def evaluate(rows: Sequence[Row], check_every: Sequence[str],
             matchings: Mapping[tuple[str, str], Matching] | None = None) -> list[Target]:
    """Every target at every checking frequency.

    ``rows`` should hold the matched variants' rows (``<judge>-matched``) beside the raw ones;
    ``matchings`` (from ``matching.calibrate``) only adds their failure limits to the text.
    """
    index = _index(rows)
    targets: list[Target] = []
    scenarios = list(dict.fromkeys(r.scenario for r in rows))
    regressions = [s for s in scenarios if any(r.scenario == s and r.harmful for r in rows)]
    aa_like = [s for s in scenarios if any(r.scenario == s and not r.harmful for r in rows)]
    judges = {r.judge for r in rows}
    for check in check_every:
        row = index.get((OURS, "aa", check))
        text = "A/A false rollback <= 5 % (upper 95 % CI <= 6 %)"
        if row is None or row.false_rollback_rate is None or row.false_rollback_ci is None:
            targets.append(Target("aa_false_rollback", text, check, Status.NOT_EVALUATED,
                                  f"{OURS} x aa not run"))
        else:
            hi = row.false_rollback_ci[1]
            measured = (f"{row.false_rollback_rate:.1%} of {row.runs} runs, 95 % CI "
                        f"[{row.false_rollback_ci[0]:.1%}, {hi:.1%}]")
            if row.false_rollback_rate > 0.05:
                status = Status.FAIL
            elif hi <= 0.06:
                status = Status.PASS
            elif wilson(0, row.runs)[1] > 0.06:
                status = Status.NOT_EVALUATED
                measured += f"; undecidable: even 0 false rollbacks in {row.runs} runs " \
                            f"leave the bound above 6 % (needs >= {MIN_AA_RUNS} runs)"
            else:
                status = Status.FAIL
                measured += "; the bound is above 6 % (more runs may bring it under)"
            targets.append(Target("aa_false_rollback", text, check, status, measured))

        targets.append(_median_target(
            "errors_x2_base0.1_median", "2x errors, base 0.1 %, 1 % traffic, 10 canary rps: "
            "median <= 10,000 canary requests", index, "errors_x2_base0.1", check, 10_000))
        row = index.get((OURS, "errors_x2_base0.1", check))
        text = "2x errors, base 0.1 %, 1 % traffic: >= 95 % detected within 60 min"
        if row is None or row.detected_1pct_within_60m is None:
            targets.append(Target("errors_x2_base0.1_power60", text, check,
                                  Status.NOT_EVALUATED, f"{OURS} x errors_x2_base0.1 not run"))
        else:
            ok = row.detected_1pct_within_60m >= 0.95
            targets.append(Target("errors_x2_base0.1_power60", text, check,
                                  Status.PASS if ok else Status.FAIL,
                                  f"{row.detected_1pct_within_60m:.0%} of {row.runs} runs"
                                  f"{_few(row.runs)}"))
        targets.append(_median_target(
            "p95_plus20_median", "+20 % p95: median <= 1,200 canary requests", index,
            "p95_plus20", check, 1_200))

        missing = [j for j in (OURS, *OTHERS) if j not in judges]
        present = [j for j in OTHERS if j in judges]
        targets.append(_never_slower(index, regressions, judges, check, matchings or {}))
        targets.append(_median_target(
            "errors_x2_base1_median", "2x errors, base 1 %: median <= 1,500 canary requests",
            index, "errors_x2_base1", check, 1_500, extra=True))
        targets.append(_median_target(
            "tail_p95_plus20_median", "tail-only +20 % p95: median <= 3,600 canary requests",
            index, "tail_p95_plus20", check, 3_600, extra=True))
        text = "false rollback <= kayenta's and threshold's (every A/A-like scenario)"
        worse = []
        for s in aa_like:
            ours = index.get((OURS, s, check))
            for other in present:
                theirs = index.get((other, s, check))
                if (ours is None or theirs is None or ours.false_rollback_rate is None
                        or theirs.false_rollback_rate is None):
                    continue
                if ours.false_rollback_rate > theirs.false_rollback_rate:
                    worse.append(f"{s}: {ours.false_rollback_rate:.1%} vs {other} "
                                 f"{theirs.false_rollback_rate:.1%}")
        if worse:
            status, measured = Status.FAIL, "; ".join(worse)
        elif missing:
            status = Status.NOT_EVALUATED
            measured = f"judge(s) not run: {', '.join(missing)}"
        else:
            status, measured = Status.PASS, f"in all {len(aa_like)} A/A-like scenarios"
        targets.append(Target("no_more_false_rollbacks", text, check, status, measured,
                              extra=True))
        targets.append(_never_slower_raw(index, regressions, judges, check, rows))
    return targets
