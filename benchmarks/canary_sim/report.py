"""The results table, the matched failure limits, the targets with PASS/FAIL, and the JSON file.

A matched variant (``<judge>-matched``, see ``matching.py``) is a row like any other; its
failure limit L is shown in the table's ``L`` column (``>60``: no limit matches, the variant
never rolls back) and in the JSON rows as ``failure_limit`` beside ``matched_to``, the A/A
false-rollback rate it was matched to. Both are null for the other rows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from canary_sim.judging import MAX_FAILURE_LIMIT
from canary_sim.matching import Matching, by_variant
from canary_sim.statistics import Row
from canary_sim.targets import Status, Target

Matchings = Mapping[tuple[str, str], Matching]
"""``matching.calibrate``'s result: (competitor judge, check frequency) -> its matching."""


def order_rows(rows: Sequence[Row], judges: Sequence[str], scenarios: Sequence[str],
               checks: Sequence[str]) -> list[Row]:
    """Rows by scenario, then judge, then checking frequency, in the plan's order."""
    def key(row: Row) -> tuple[int, int, int]:
        return (scenarios.index(row.scenario) if row.scenario in scenarios else 999,
                judges.index(row.judge) if row.judge in judges else 999,
                checks.index(row.check_every) if row.check_every in checks else 999)
    return sorted(rows, key=key)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _min(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _pct(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f}"


def _limit(matching: Matching | None) -> str:
    if matching is None:
        return ""
    return str(matching.failure_limit) if matching.matched else f">{MAX_FAILURE_LIMIT}"


def table(rows: Sequence[Row], step_labels: Sequence[str],
          matchings: Matchings | None = None) -> str:
    """A fixed-width table; '-' = not reached (censored) or not applicable.

    Column ``L``: a matched variant's failure limit (``>60``: none matches, never rolls back).
    """
    variants = by_variant(matchings or {})
    jw = max([11, *(len(r.judge) for r in rows)])
    head = (f"{'judge':<{jw}} {'scenario':<19} {'check':<5} {'L':>3} {'runs':>4}  "
            f"{'false-rb % [95% CI]':<19} {'detect %':>8}  {'delay req med/p90':>17}  "
            f"{'delay min med/p90':>17}  {'rolled back by step ' + '/'.join(step_labels):<28} "
            f"{'P(INSUF)':>8}")
    lines = [head, "-" * len(head)]
    previous = None
    for r in rows:
        if previous is not None and r.scenario != previous:
            lines.append("")
        previous = r.scenario
        fr = ""
        if r.false_rollback_rate is not None and r.false_rollback_ci is not None:
            fr = (f"{_pct(r.false_rollback_rate):>5} [{_pct(r.false_rollback_ci[0])},"
                  f"{_pct(r.false_rollback_ci[1])}]")
        detected = _pct(r.detected_rate)
        if r.early_rollback_rate:
            detected += f" (+{_pct(r.early_rollback_rate)} early)"
        by_step = "/".join(f"{100 * p:.0f}" for p in r.rollback_by_step)
        note = f"  judge errors {_pct(r.judge_error_rate)} %" if r.judge_error_rate else ""
        lines.append(
            f"{r.judge:<{jw}} {r.scenario:<19} {r.check_every:<5} "
            f"{_limit(_fit_for(variants, r.judge, r.check_every, r.scenario)):>3} "
            f"{r.runs:>4}  {fr:<19} "
            f"{detected:>8}  {_num(r.median_delay_requests):>8}/{_num(r.p90_delay_requests):<8} "
            f" {_min(r.median_delay_minutes):>8}/{_min(r.p90_delay_minutes):<8}  {by_step:<28} "
            f"{_pct(r.insufficient_data_rate):>8}{note}")
    return "\n".join(lines)


def targets_text(targets: Sequence[Target]) -> str:
    """Targets grouped by id, one line per checking frequency; failures flagged loudly."""
    lines = []
    seen: list[str] = []
    for t in targets:
        if t.id not in seen:
            seen.append(t.id)
    for tid in seen:
        group = [t for t in targets if t.id == tid]
        extra = f"  [extra: {group[0].origin}]" if group[0].extra else ""
        lines.append(f"  {group[0].description}{extra}")
        for t in group:
            mark = {Status.PASS: "PASS", Status.FAIL: "FAIL <<<",
                    Status.NOT_EVALUATED: "N/A"}[t.status]
            lines.append(f"    {t.check_every:>5}  {mark:<8} {t.measured}")
    failed = sum(t.status is Status.FAIL for t in targets)
    lines.append(f"  => {sum(t.status is Status.PASS for t in targets)} passed, {failed} failed, "
                 f"{sum(t.status is Status.NOT_EVALUATED for t in targets)} not evaluated")
    return "\n".join(lines)


def matching_text(matchings: Matchings) -> str:
    """One line per matched variant and checking frequency: its L and what it was matched to."""
    width = max((len(m.variant) for m in matchings.values()), default=0)
    lines = []
    for m in matchings.values():
        lines.append(f"  {m.variant:<{width}} {m.check_every:>5}  {m.describe()}")
        if m.business is not None:
            lines.append(f"  {'':<{width}} {'':>5}  business scenarios, fitted on "
                         f"{m.business.calibrated_on}: {m.business.describe()}")
    return "\n".join(lines)


def json_document(rows: Sequence[Row], targets: Sequence[Target], wall_time_s: float,
                  meta: dict[str, Any], matchings: Matchings | None = None) -> dict[str, Any]:
    """The ``--json`` document: results, targets, wall time, and how it was run.

    Every result has ``failure_limit`` and ``matched_to`` (null except for matched variants).
    """
    variants = by_variant(matchings or {})
    return {
        "results": [
            {
                "judge": r.judge, "scenario": r.scenario, "check_every": r.check_every,
                "runs": r.runs, "false_rollback_rate": r.false_rollback_rate,
                "false_rollback_ci95": list(r.false_rollback_ci) if r.false_rollback_ci else None,
                "detected_rate": r.detected_rate,
                "median_delay_requests": r.median_delay_requests,
                "p90_delay_requests": r.p90_delay_requests,
                "median_delay_minutes": r.median_delay_minutes,
                "p90_delay_minutes": r.p90_delay_minutes,
                "rollback_by_step": list(r.rollback_by_step),
                "early_rollback_rate": r.early_rollback_rate,
                "insufficient_data_rate": r.insufficient_data_rate,
                "judge_error_rate": r.judge_error_rate,
                "mean_looks": r.mean_looks,
                "judge_seconds_per_run": round(r.judge_seconds_per_run, 4),
                **_matching_keys(_fit_for(variants, r.judge, r.check_every, r.scenario)),
            }
            for r in rows
        ],
        "targets": [
            {"id": t.id, "description": t.description, "check_every": t.check_every,
             "status": t.status.value, "measured": t.measured, "extra": t.extra}
            for t in targets
        ],
        "wall_time_s": round(wall_time_s, 2),
        "meta": meta,
    }


def _fit_for(variants: Matchings, judge: str, check: str, scenario_id: str) -> Matching | None:
    """The failure-limit fit behind one row (the business fit for business scenarios)."""
    found = variants.get((judge, check))
    return None if found is None else found.for_scenario(scenario_id)


def _matching_keys(matching: Matching | None) -> dict[str, Any]:
    if matching is None:
        return {"failure_limit": None, "matched_to": None, "matched_from": None}
    return {"failure_limit": matching.failure_limit, "matched_to": matching.matched_to,
            "matched_from": matching.judge}


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write ``document`` to ``path`` (creating its folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, allow_nan=False) + "\n", encoding="utf-8")
