"""Canary detection: safeship's sequential judge beside the Kayenta-style and threshold judges.

All judges see identical synthetic traffic (see ``canary_sim/traffic.py`` for the model) and are
asked at three checking frequencies (every 10 s, every minute, at every bad event). Per judge x
scenario x frequency the script prints false-rollback rates with Wilson 95 % intervals,
detection rates, censored median/p90 detection delays in canary requests and minutes, the share
rolled back by the end of each step, and P(INSUFFICIENT_DATA); then the targets with PASS/FAIL.

As the guide configures them, kayenta and threshold roll back at their first failed look, which
on noisy traffic rolls back many healthy canaries and makes their delays short for the wrong
reason. So each is also reported as ``<judge>-matched``: the same judge with an Argo
``failureLimit`` / Flagger ``threshold`` of L (roll back at the L-th failed look, counted
cumulatively), L being the smallest limit up to 60 whose A/A false-rollback rate in this very
run is <= the sequential judge's at that checking frequency (5 % if the sequential judge did not
run ``aa``; see ``canary_sim/matching.py``). The "never slower" target compares with the matched
variants; the raw comparison stays as an informational extra target. The JSON rows carry
``failure_limit`` and ``matched_to``, and ``meta.matching`` holds the calibration.

    python benchmarks/canary_detection.py --quick --json benchmarks/results/canary_detection.json

``--quick`` (8 A/A runs, 3 per other A/A-like scenario, 4 per regression) finishes in under 3
minutes on 2 cores: it starts no new run after 150 s, so a busy machine gets fewer runs, never a
longer wait. It is a smoke-level measurement; the full run (2,000 runs per A/A-like scenario,
500 per regression, as research section 7.2 asks) takes about 12 hours on 2 idle cores, and
``--runs N`` / ``--aa-runs N`` size anything in between. A judge whose module does not import is
reported as missing and skipped. The exit code is 0 whatever the targets say: this is a
measurement.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

from canary_sim.harness import Plan, Progress, run_plan, sort_records
from canary_sim.judging import (
    CALIBRATED_JUDGES,
    MAX_FAILURE_LIMIT,
    REAL_JUDGES,
    STANDIN,
    CheckEvery,
    real_judge_status,
)
from canary_sim.matching import calibrate, matched_records, matching_meta, with_variants
from canary_sim.report import (
    json_document,
    matching_text,
    order_rows,
    table,
    targets_text,
    write_json,
)
from canary_sim.scenarios import SCENARIOS
from canary_sim.statistics import aggregate
from canary_sim.targets import evaluate
from canary_sim.traffic import BaselineMode, StepPlan, TrafficConfig

# Runs per scenario kind. A judge that never rolls back is asked 540 times per run at 10 s checks;
# sequential and kayenta take ~5 ms per look, so an A/A-like run costs ~7 s of CPU and bounds
# --quick: its A/A run count is far too small to decide the false-rollback target (the 6 % bound
# needs >= 61 clean runs). The full run (research 7.2 sizes) takes ~12 hours on 2 idle cores.
QUICK_RUNS = {"aa": 8, "aa_like": 3, "regression": 4}
FULL_RUNS = {"aa": 2000, "aa_like": 2000, "regression": 500}
QUICK_BUDGET_S = 180.0
QUICK_DISPATCH_DEADLINE_S = 150.0


def run_counts(scenario_ids: tuple[str, ...], judges: tuple[str, ...], *, quick: bool,
               runs: int | None, aa_runs: int | None) -> dict[str, dict[str, int]]:
    """Runs per scenario and judge (every judge runs the same traces)."""
    sizes = QUICK_RUNS if quick else FULL_RUNS
    known = {s.id: s for s in SCENARIOS}
    counts: dict[str, dict[str, int]] = {}
    for sid in scenario_ids:
        harmful = known[sid].harmful
        kind = "aa" if sid == "aa" else ("regression" if harmful else "aa_like")
        n = sizes[kind]
        if runs is not None:
            n = runs
        if aa_runs is not None and not harmful:
            n = aa_runs
        counts[sid] = dict.fromkeys(judges, n)
    return counts


def _steps(text: str) -> tuple[StepPlan, ...]:
    """``1:60,5:20,25:20,100:20`` -> steps (percent : minutes)."""
    steps = []
    for part in text.split(","):
        pct, _, minutes = part.partition(":")
        steps.append(StepPlan(float(pct), 60.0 * float(minutes)))
    return tuple(steps)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="few runs, under 3 minutes on 2 cores (a smoke-level measurement)")
    parser.add_argument("--runs", type=int, default=None,
                        help="runs per scenario (overrides --quick and the full defaults)")
    parser.add_argument("--aa-runs", type=int, default=None,
                        help="runs per A/A-like scenario (aa, global_incident, ...), over --runs")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--alpha", type=float, default=0.05,
                        help="JudgeConfig.alpha given to every judge (default 0.05)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline", choices=[m.value for m in BaselineMode],
                        default=BaselineMode.FLEET.value,
                        help="what the canary is compared with: the rest of the fleet (default: "
                             "a safeship rollout compares the canary with the stable version "
                             "serving the other requests) or an equal-size fresh baseline pool "
                             "(Kayenta practice, about 1.7x slower to detect)")
    parser.add_argument("--steps", type=_steps, default=None, metavar="PCT:MIN,...",
                        help="traffic steps and their T_max (default 1:60,5:10,25:10,100:10)")
    parser.add_argument("--scenarios", default=None,
                        help="comma-separated scenario ids (default: all)")
    parser.add_argument("--check-every", default=",".join(c.value for c in CheckEvery),
                        help="comma-separated subset of 10s,1m,event")
    parser.add_argument("--judges", default=",".join(name for name, _, _ in REAL_JUDGES),
                        help="comma-separated judges to run (default: the three real ones)")
    parser.add_argument("--warmup-s", type=float, default=0.0,
                        help="ask no judge before this many seconds (default 0: from the first "
                             "scrape, as specified)")
    parser.add_argument("--standin", action="store_true",
                        help="also run the harness's stand-in judge (development only)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; always 0 unless the command line is wrong."""
    args = parse_args(argv)
    started = time.perf_counter()
    config = TrafficConfig(baseline=BaselineMode(args.baseline))
    if args.steps:
        config = replace(config, steps=args.steps)
    scenario_ids = (tuple(s.strip() for s in args.scenarios.split(",")) if args.scenarios
                    else tuple(s.id for s in SCENARIOS))
    known = {s.id: s for s in SCENARIOS}
    unknown = [s for s in scenario_ids if s not in known]
    if unknown:
        print(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(known)}",
              file=sys.stderr)
        return 2
    checks = tuple(CheckEvery(c.strip()).value for c in args.check_every.split(","))
    wanted = [j.strip() for j in args.judges.split(",") if j.strip()]
    statuses = [s for s in real_judge_status() if s.name in wanted]
    judges = tuple(s.name for s in statuses if s.available)
    missing = [s for s in statuses if not s.available]
    if args.standin or STANDIN in wanted:
        judges = (*judges, STANDIN)
    mode = "quick" if args.quick else "full"
    print(f"canary detection benchmark ({mode}): seed {args.seed}, alpha {args.alpha}, "
          f"{args.workers} worker(s), baseline = {config.baseline.value}, "
          f"{os.cpu_count()} CPU(s) seen")
    print("steps: " + ", ".join(f"{s.percentage:g} % x {s.duration_s / 60:g} min"
                                for s in config.steps)
          + f"; {config.total_rps:g} rps total on average (1 % = {config.total_rps / 100:g} "
          f"canary rps), scrape every {config.interval_s:g} s, first look after "
          f"{max(args.warmup_s, config.interval_s):g} s")
    print("judges: " + (", ".join(judges) or "none"))
    for status in missing:
        print(f"MISSING JUDGE, skipped (no results are reported for it): {status.name} "
              f"({status.reason})")
    if args.standin:
        print(f"NOTE: {STANDIN} is the harness's stand-in, not a real judge.")
    if any(j in CALIBRATED_JUDGES for j in judges):
        print("matching: each of " + ", ".join(j for j in judges if j in CALIBRATED_JUDGES)
              + " is also shown as '<judge>-matched', rolling back only at its L-th failed look "
              f"(Argo failureLimit / Flagger threshold); L is the smallest limit <= "
              f"{MAX_FAILURE_LIMIT} whose A/A false-rollback rate in this run is <= the "
              "sequential judge's at that frequency (5 % without it).")
    if not judges:
        print("no judge available: nothing to measure")
        return 0
    runs = run_counts(scenario_ids, judges, quick=args.quick, runs=args.runs,
                      aa_runs=args.aa_runs)
    print("runs per scenario (every judge runs the same traces): " + ", ".join(
        f"{s} {max(per.values())}" for s, per in runs.items()))
    plan = Plan(scenario_ids, runs, judges, checks, config, args.alpha, args.seed,
                max(1, args.workers), args.warmup_s,
                QUICK_DISPATCH_DEADLINE_S if args.quick and args.runs is None
                and args.aa_runs is None else None)

    def progress(state: Progress) -> None:
        if state.done == state.total or state.done % max(1, state.total // 20) == 0:
            print(f"  {state.done}/{state.total} runs, {time.perf_counter() - started:.0f} s",
                  file=sys.stderr, flush=True)

    found, state = run_plan(plan, progress)
    records = sort_records(found)
    matchings = calibrate(records)
    records = [*records, *matched_records(records, matchings)]
    rows = order_rows(aggregate(records, len(config.steps)), with_variants(judges), scenario_ids,
                      checks)
    targets = evaluate(rows, checks, matchings)
    wall = time.perf_counter() - started

    step_labels = [f"{s.percentage:g}" for s in config.steps]
    print()
    print(table(rows, step_labels, matchings))
    print()
    print("delays are censored: '-' means fewer than 50 % (median) or 90 % (p90) of runs "
          "detected; 'early' = rolled back before the regression began.")
    if matchings:
        print("matched failure limits (column L; fitted on this run's aa traces):")
        print(matching_text(matchings))
    errors = sorted({(r.judge, r.first_error) for r in rows if r.first_error})
    for judge, message in errors:
        print(f"JUDGE ERROR ({judge}): {message}")
    print()
    print("targets (sequential judge):")
    print(targets_text(targets))
    budget = f" (quick budget {QUICK_BUDGET_S:.0f} s)" if args.quick else ""
    print(f"\nwall time: {wall:.1f} s on {plan.workers} worker(s){budget}")
    if state.not_started:
        print(f"WARNING: the dispatch deadline was reached: {state.not_started} of "
              f"{state.total} runs were not started; the 'runs' column shows what was done")
    if args.quick and wall > QUICK_BUDGET_S:
        print(f"WARNING: the quick run exceeded its {QUICK_BUDGET_S:.0f} s budget")
    if args.json:
        meta = {
            "mode": mode, "seed": args.seed, "alpha": args.alpha, "workers": plan.workers,
            "warmup_s": plan.warmup_s,
            "baseline": config.baseline.value, "check_every": list(checks),
            "steps": [{"percentage": s.percentage, "t_max_s": s.duration_s}
                      for s in config.steps],
            "runs": runs, "runs_not_started": state.not_started, "judges": list(judges),
            "missing_judges": [{"name": s.name, "reason": s.reason} for s in missing],
            "matching": matching_meta(matchings),
        }
        write_json(args.json, json_document(rows, targets, wall, meta, matchings))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
