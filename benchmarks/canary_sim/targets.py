"""The acceptance targets for the sequential judge, each with PASS, FAIL or N/A.

From the issue (evaluated at every checking frequency):

1. A/A false rollback <= 5 % with the Wilson upper 95 % bound <= 6 %;
2. 2x errors at a 0.1 % base rate, 1 % traffic, 10 canary rps: median <= 10,000 canary requests
   and >= 95 % of runs detected within 60 minutes (during the 1 % step);
3. +20 % p95: median <= 1,200 canary requests;
4. never a longer median delay than kayenta or threshold in any regression scenario.

Extra, from research section 7.2 (marked ``extra``): 2x errors at a 1 % base rate <= 1,500
canary requests; tail-only +20 % p95 <= 3,600; false rollback no higher than kayenta's and
threshold's in every A/A-like scenario. N/A means a judge or scenario needed was not run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from canary_sim.statistics import Row, wilson

OURS = "sequential"
OTHERS = ("kayenta", "threshold")
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


def evaluate(rows: Sequence[Row], check_every: Sequence[str]) -> list[Target]:
    """Every target at every checking frequency."""
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
        text = "never a longer median delay than kayenta or threshold (every regression)"
        losses = []
        for s in regressions:
            ours = index.get((OURS, s, check))
            for other in present:
                theirs = index.get((other, s, check))
                if ours is None or theirs is None:
                    continue
                if not _leq(ours.median_delay_requests, theirs.median_delay_requests):
                    aa = index.get((other, "aa", check))
                    fr = (f", {other} A/A false rollback {aa.false_rollback_rate:.0%}"
                          if aa is not None and aa.false_rollback_rate is not None else "")
                    losses.append(f"{s}: {_fmt(ours.median_delay_requests)} vs {other} "
                                  f"{_fmt(theirs.median_delay_requests)}{fr}")
        if losses:
            shown = "; ".join(losses[:MAX_LISTED])
            more = f"; ... {len(losses) - MAX_LISTED} more" if len(losses) > MAX_LISTED else ""
            status, measured = Status.FAIL, f"{len(losses)} slower: {shown}{more}"
        elif missing:
            status = Status.NOT_EVALUATED
            measured = f"judge(s) not run: {', '.join(missing)}"
        else:
            status = Status.PASS
            measured = f"sequential median <= both in all {len(regressions)} regression scenarios"
        targets.append(Target("never_slower", text, check, status, measured))

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
    return targets
