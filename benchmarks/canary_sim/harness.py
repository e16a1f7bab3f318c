"""The driver: one task per (scenario, run), spread over worker processes.

A task simulates one trace from a seed derived from (base seed, scenario id, run index), so the
trace does not depend on which worker runs it or in what order, and runs every judge on it at
every checking frequency. Workers load the judges and build the specs once.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
import zlib
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from canary_sim.judging import JudgeFn, RunRecord, judge_trace, load_judge, records
from canary_sim.scenarios import Scenario
from canary_sim.scenarios import scenario as scenario_by_id
from canary_sim.spec import build_spec
from canary_sim.traffic import Trace, TrafficConfig, simulate
from safeship.model.canary import CanarySpec


@dataclass(frozen=True)
class Plan:
    """What to run."""

    scenarios: tuple[str, ...]
    runs: dict[str, dict[str, int]]
    """Runs per scenario id and judge. Run r of a scenario is the same trace for every judge
    that runs it; a judge with fewer runs sees the first ones."""
    judges: tuple[str, ...]
    check_every: tuple[str, ...]
    config: TrafficConfig
    alpha: float
    seed: int
    workers: int = 2
    warmup_s: float = 0.0
    """No judge is asked before this many seconds into the rollout."""
    dispatch_deadline_s: float | None = None
    """Start no new run after this many seconds (a safety net for slow machines)."""

    def judges_for(self, scenario_id: str, run: int) -> tuple[str, ...]:
        """The judges that take part in run ``run`` of ``scenario_id``."""
        per_judge = self.runs[scenario_id]
        return tuple(j for j in self.judges if run < per_judge.get(j, 0))


def run_rng(seed: int, scenario_id: str, run: int) -> np.random.Generator:
    """The generator of one run: independent of scheduling, shared by every judge."""
    return np.random.default_rng([seed, zlib.crc32(scenario_id.encode()), run])


def trace_for(plan: Plan, scenario_id: str, run: int) -> Trace:
    """The trace every judge sees in run ``run`` of ``scenario_id``."""
    return simulate(scenario_by_id(scenario_id), plan.config,
                    run_rng(plan.seed, scenario_id, run))


_worker_plan: Plan | None = None
_worker_judges: dict[str, JudgeFn] = {}
_worker_specs: dict[tuple[bool, float], CanarySpec] = {}


def _init_worker(plan: Plan) -> None:
    global _worker_plan
    _worker_plan = plan
    _worker_judges.clear()
    _worker_judges.update({name: load_judge(name) for name in plan.judges})
    _worker_specs.clear()


def spec_for(plan: Plan, scenario: Scenario) -> CanarySpec:
    """The spec the judges get in ``scenario`` (cached per worker)."""
    key = (scenario.business, scenario.slo_target)
    if key not in _worker_specs:
        _worker_specs[key] = build_spec(plan.config, alpha=plan.alpha, business=key[0],
                                        slo_target=key[1])
    return _worker_specs[key]


def _task(task: tuple[str, int]) -> list[RunRecord]:
    scenario_id, run = task
    plan = _worker_plan
    assert plan is not None, "worker not initialised"
    trace = trace_for(plan, scenario_id, run)
    spec = spec_for(plan, trace.scenario)
    judges = {name: _worker_judges[name] for name in plan.judges_for(scenario_id, run)}
    outcomes = judge_trace(trace, spec, judges, plan.check_every, plan.warmup_s)
    return records(trace, outcomes, run)


def tasks(plan: Plan) -> list[tuple[str, int]]:
    """All (scenario, run) pairs, round-robin over scenarios so that a run cut short by the
    deadline leaves every scenario with about as many runs."""
    most = max((max(per.values(), default=0) for per in plan.runs.values()), default=0)
    return [(s, r) for r in range(most) for s in plan.scenarios if plan.judges_for(s, r)]


@dataclass
class Progress:
    """How far a plan got."""

    done: int = 0
    total: int = 0
    not_started: int = 0


def run_plan(plan: Plan, progress: Callable[[Progress], None] | None = None,
             ) -> tuple[list[RunRecord], Progress]:
    """Run the tasks of ``plan`` until done or past the dispatch deadline."""
    todo = deque(tasks(plan))
    state = Progress(total=len(todo))
    results: list[RunRecord] = []
    started = time.perf_counter()

    def may_start() -> bool:
        return plan.dispatch_deadline_s is None or (
            time.perf_counter() - started < plan.dispatch_deadline_s)

    if plan.workers <= 1:
        _init_worker(plan)
        while todo and may_start():
            results.extend(_task(todo.popleft()))
            state.done += 1
            if progress:
                progress(state)
        state.not_started = len(todo)
        return results, state
    finished: queue.Queue[list[RunRecord] | BaseException] = queue.Queue()
    with multiprocessing.get_context().Pool(plan.workers, initializer=_init_worker,
                                            initargs=(plan,)) as pool:
        def submit() -> None:
            pool.apply_async(_task, (todo.popleft(),), callback=finished.put,
                             error_callback=finished.put)

        in_flight = 0
        while todo and in_flight < 2 * plan.workers:
            submit()
            in_flight += 1
        while in_flight:
            item = finished.get()
            in_flight -= 1
            if isinstance(item, BaseException):
                raise item
            results.extend(item)
            state.done += 1
            if progress:
                progress(state)
            if todo and may_start():
                submit()
                in_flight += 1
    state.not_started = len(todo)
    return results, state


def sort_records(records_: Sequence[RunRecord]) -> list[RunRecord]:
    """Records in a deterministic order (workers finish in any order)."""
    return sorted(records_, key=lambda r: (r.scenario, r.run, r.judge, r.check_every))
