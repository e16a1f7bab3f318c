"""The maturity criteria: each a pure function of the :class:`Evidence`, met or not, with why.

Every criterion says what shows it (the file, the line, the fact) and, when it is not met, the
concrete change that would meet it. Which criterion belongs to which level is in
:mod:`safeship.assess.levels`.

The risk policy's table of mandatory gates is not repeated here: it comes from
:mod:`safeship.engine.risk_policy`, which also supplies the "add `- type: X` to stage Y" advice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from safeship._internal.durations import format_duration
from safeship._internal.percents import format_percent
from safeship.assess.evidence import ConfiguredGate, Evidence, FileState
from safeship.engine.risk_policy import (
    EXTENDED_CANARY_S,
    missing_requirements,
    needs_extended_canary,
    requirements_for,
)
from safeship.model.enums import RiskLevel

PROGRESSIVE_STRATEGIES = ("canary", "blue_green", "feature_flag")
"""Strategies that expose a new version to part of the traffic (or users) first."""
STATISTICAL_JUDGES = ("sequential", "kayenta")
"""Judges that compare canary with baseline statistically, not just against fixed limits."""
MIN_FINISHED_RELEASES = 3
"""Fewer finished releases than this are too few to call a service zero-touch."""
ZERO_TOUCH_SHARE = 0.8
"""The share of finished releases that must have ended without a person's command."""

_TARGET_EXAMPLE = "target: {type: local, command: 'python -m app --port {port}'}"
_ROUTER_EXAMPLE = "router: {type: embedded}"
_METRICS_EXAMPLE = "metrics: {type: prometheus, url: http://127.0.0.1:9090}"
_NOT_PROGRESSIVE = {"recreate": "stops the old version, then starts the new one",
                    "rolling": "replaces instances a few at a time, with no analysis between"}


@dataclass(frozen=True)
class Criterion:
    """One criterion of one level: met or not, what shows it, and what to do when it is not."""

    level: int
    id: str
    title: str
    met: bool
    evidence: str
    action: str | None = None


CriterionCheck = Callable[[Evidence], Criterion]


def _result(level: int, ident: str, title: str, problems: list[str], actions: list[str],
            met_evidence: str) -> Criterion:
    if problems:
        return Criterion(level, ident, title, False, "; ".join(problems),
                         "; ".join(dict.fromkeys(actions)) or None)
    return Criterion(level, ident, title, True, met_evidence)


def gate_advice(gate_type: str) -> str:
    """The risk policy's own advice for adding a gate of ``gate_type``."""
    for requirement in requirements_for(RiskLevel.CRITICAL):
        if gate_type in requirement.any_of:
            return requirement.advice()
    return f"add `- type: {gate_type}` to gates.yaml"  # pragma: no cover - every type is listed


def _describe(gates: tuple[ConfiguredGate, ...]) -> str:
    return ", ".join(f"`{g.type}` (stage {g.stage}, {g.action})" for g in gates)


def _create(e: Evidence, path: str, holding: str) -> str:
    """How to create a missing file: ``safeship init`` only while none of its files exist."""
    if not (e.service.present or e.gates.present or e.canary.present):
        return f"run `safeship init` (it writes {path} with {holding})"
    # init refuses to touch a .pipeline/ that has any of its files already.
    return (f"create {path} with {holding} (`safeship init` in an empty folder writes a "
            "template to copy)")


# --- level 1 --------------------------------------------------------------------------------


def deploy_definition(e: Evidence) -> Criterion:
    """L1: deploying is scripted: service.yaml names a target, or a deploy script exists."""
    s = e.service
    title = "Deployment is scripted"
    if s.target:
        return Criterion(1, "deploy_definition", title, True,
                         f"{s.path}: `target:` is `{s.target}`")
    if e.deploy_scripts:
        return Criterion(1, "deploy_definition", title, True,
                         "deploy script: " + ", ".join(e.deploy_scripts))
    where = f"{s.path} has no `target:`" if s.present else f"no {s.path}"
    action = (f"add `{_TARGET_EXAMPLE}` to {s.path}" if s.present
              else _create(e, s.path, f"`{_TARGET_EXAMPLE}`"))
    return Criterion(1, "deploy_definition", title, False,
                     f"{where}, and no deploy script (deploy*, scripts/deploy*, bin/deploy*, "
                     "a Makefile `deploy` target): deployments are manual", action)


# --- level 2 --------------------------------------------------------------------------------


def version_control(e: Evidence) -> Criterion:
    """L2: the pipeline is code: service.yaml, gates.yaml (and the canary file) are committed."""
    title = "Pipeline and config are versioned"
    files = [(e.service.path, e.service.present, True), (e.gates.path, e.gates.present, True),
             (e.canary.path, e.canary.present, False)]
    if e.vcs.work_tree is None:
        return Criterion(2, "version_control", title, False,
                         f"{e.root} is not inside a git work tree",
                         "put the repository under git (`git init`) and commit .pipeline/ and "
                         "the CI configuration")
    problems: list[str] = []
    actions: list[str] = []
    committed: list[str] = []
    for path, present, required in files:
        state = e.vcs.state_of(path) if present else FileState.MISSING
        if state is FileState.MISSING:
            if required:
                problems.append(f"{path} is missing")
                actions.append(_create(e, path, "the pipeline's settings") + ", then commit it")
        elif state.in_history:
            committed.append(path + (" (with uncommitted changes)"
                                     if state is FileState.MODIFIED else ""))
        elif state is FileState.OUTSIDE:
            problems.append(f"{path} is outside the git work tree {e.vcs.work_tree}")
            actions.append(f"keep {path} inside the repository and commit it")
        elif state is FileState.IGNORED:
            problems.append(f"{path} is ignored by git")
            actions.append(f"stop ignoring {path} (`git check-ignore -v {path}` names the "
                           "rule), then commit it")
        else:
            problems.append(f"{path} is {state.value}, not committed")
            actions.append(f"commit it: `git add {path} && git commit`")
    return _result(2, "version_control", title, problems, actions,
                   f"committed in the git work tree {e.vcs.work_tree}: " + ", ".join(committed))


def test_gates(e: Evidence) -> Criterion:
    """L2: automated test gates: a blocking coverage gate and a blocking compile or lint gate."""
    title = "Automated test gates"
    g = e.gates
    if not g.present:
        return Criterion(2, "test_gates", title, False, f"no {g.path}: nothing is tested "
                         "automatically", _create(e, g.path, "lint, compile and coverage gates"))
    problems: list[str] = []
    actions: list[str] = []
    for wanted, label in ((("coverage",), "`coverage` (unit tests)"),
                          (("compile", "lint"), "`compile` or `lint` (build check)")):
        if g.blocking(*wanted):
            continue
        weak = g.of_type(*wanted)
        if weak:
            problems.append(f"the {label} gate only {weak[0].action.value}s on failure in "
                            f"{g.path}")
            actions.append(f"remove `on_fail: {weak[0].action.value}` from the `{weak[0].type}` "
                           f"gate in stage {weak[0].stage}")
        else:
            problems.append(f"{g.path} has no {label} gate")
            actions.append(gate_advice(wanted[0]))
    return _result(2, "test_gates", title, problems, actions,
                   f"{g.path}: " + _describe(g.blocking("coverage", "compile", "lint")))


def ci_runs_gates(e: Evidence) -> Criterion:
    """L2: a committed CI definition runs ``safeship gates run`` (directly or via make)."""
    title = "CI runs safeship's gates"
    running = [f for f in e.ci if f.runs_safeship]
    for ci in running:
        files = (ci.path, *ci.via)
        if all(e.vcs.state_of(path).in_history for path in files):
            return Criterion(2, "ci", title, True, ci.how)
    if running:
        ci = running[0]
        uncommitted = [p for p in (ci.path, *ci.via) if not e.vcs.state_of(p).in_history]
        return Criterion(2, "ci", title, False,
                         f"{ci.how}, but {', '.join(uncommitted)} is not committed, so CI "
                         "never sees it",
                         f"commit {', '.join(uncommitted)}")
    if e.ci:
        names = ", ".join(f.path for f in e.ci)
        return Criterion(2, "ci", title, False,
                         f"CI configuration found ({names}) but none runs `safeship gates run`",
                         f"add a step running `safeship gates run` to {e.ci[0].path}")
    return Criterion(2, "ci", title, False,
                     "no CI configuration (.ci/, .github/workflows/, .gitlab-ci.yml, ...)",
                     "add a CI job that runs `safeship gates run` (e.g. "
                     ".github/workflows/safeship.yml) and commit it")


def one_command_deploy(e: Evidence) -> Criterion:
    """L2: single-click deploy: `safeship rollout start` has a target and a router to drive."""
    s = e.service
    title = "Single-command deploy"
    if not s.present:
        return Criterion(2, "one_command_deploy", title, False,
                         f"no {s.path}: `safeship rollout start` has nothing to deploy with",
                         _create(e, s.path, f"`{_TARGET_EXAMPLE}` and `{_ROUTER_EXAMPLE}`"))
    problems: list[str] = []
    actions: list[str] = []
    if not s.target:
        problems.append(f"{s.path} has no `target:`")
        actions.append(f"add `{_TARGET_EXAMPLE}` to {s.path}")
    if not s.router:
        problems.append(f"{s.path} has no `router:`")
        actions.append(f"add `{_ROUTER_EXAMPLE}` to {s.path}")
    return _result(2, "one_command_deploy", title, problems, actions,
                   f"`safeship rollout start` deploys with target `{s.target}` and router "
                   f"`{s.router}` ({s.path})")


# --- level 3 --------------------------------------------------------------------------------


def progressive_strategy(e: Evidence) -> Criterion:
    """L3: rollouts are progressive: canary, blue/green or a feature flag."""
    s = e.service
    title = "Progressive rollout strategy"
    action = f"set `strategy: {{type: canary}}` in {s.path} (or blue_green)"
    if not s.present or s.strategy is None:
        return Criterion(3, "progressive_strategy", title, False,
                         f"no {s.path}: no rollout strategy",
                         _create(e, s.path, "`strategy: {type: canary}`"))
    if s.strategy in PROGRESSIVE_STRATEGIES:
        default = "" if s.strategy_explicit else " (the default: no `strategy.type` is written)"
        return Criterion(3, "progressive_strategy", title, True,
                         f"{s.path}: strategy.type is `{s.strategy}`{default}")
    how = _NOT_PROGRESSIVE.get(s.strategy, "is not a progressive strategy")
    return Criterion(3, "progressive_strategy", title, False,
                     f"{s.path}: strategy.type is `{s.strategy}`, which {how}: every user gets "
                     "the new version at once", action)


def risk_gates(e: Evidence) -> Criterion:
    """L3: the gates the risk level makes mandatory are all configured."""
    s = e.service
    risk = s.risk
    title = f"Automated gates meet the {risk} risk policy"
    source = f"risk {risk} from {s.path}" if s.risk_explicit else (
        f"risk {risk}, the default" + ("" if s.present else f": no {s.path}"))
    required = requirements_for(risk)
    if not e.gates.present:
        return Criterion(3, "risk_gates", title, False,
                         f"{source}; no {e.gates.path}",
                         _create(e, e.gates.path, f"the gates {risk} risk makes mandatory: "
                                 + ", ".join(r.any_of[0] for r in required)))
    missing = missing_requirements(risk, e.gates.types())
    if missing:
        return Criterion(3, "risk_gates", title, False,
                         f"{source}; {e.gates.path} lacks: "
                         + ", ".join(r.name for r in missing),
                         "; ".join(r.advice() for r in missing))
    return Criterion(3, "risk_gates", title, True,
                     f"{source}; every mandatory gate is in {e.gates.path}: "
                     + ", ".join(r.name for r in required))


def canary_analysis(e: Evidence) -> Criterion:
    """L3: a canary analysis with metrics that carry limits (24 h or more at critical risk)."""
    c = e.canary
    title = "Canary analysis configured"
    if not c.present:
        return Criterion(3, "canary_analysis", title, False, f"no {c.path}",
                         _create(e, c.path, "traffic steps and metrics with thresholds"))
    problems: list[str] = []
    actions: list[str] = []
    if not c.metrics_with_threshold:
        problems.append(f"none of the {c.metric_count} metrics in {c.path} has a threshold")
        actions.append(f"give a metric in {c.path} a `threshold:` (e.g. `max_increase_ratio: "
                       "2.0` on the error rate)")
    if needs_extended_canary(e.service.risk) and c.total_duration_s < EXTENDED_CANARY_S:
        problems.append(f"the analysis lasts {format_duration(c.total_duration_s)}; critical "
                        f"risk needs at least {format_duration(EXTENDED_CANARY_S)}")
        actions.append(f"lengthen the steps in {c.path} to "
                       f"{format_duration(EXTENDED_CANARY_S)} or more in total")
    return _result(3, "canary_analysis", title, problems, actions,
                   f"{c.path}: {c.steps} steps over {format_duration(c.total_duration_s)}, "
                   f"{len(c.metrics_with_threshold)} of {c.metric_count} metrics with "
                   f"thresholds ({', '.join(c.metrics_with_threshold)})")


def metrics_provider(e: Evidence) -> Criterion:
    """L3: the rollout's analysis has live metrics: service.yaml names a metrics provider."""
    s = e.service
    title = "Live metrics for the analysis"
    if s.metrics:
        return Criterion(3, "metrics_provider", title, True,
                         f"{s.path}: metrics provider `{s.metrics}`")
    where = f"{s.path} has no `metrics:`" if s.present else f"no {s.path}"
    return Criterion(3, "metrics_provider", title, False,
                     f"{where}: a rollout's analysis has no data to judge",
                     f"add `{_METRICS_EXAMPLE}` (or `metrics: {{type: builtin}}` with the "
                     f"embedded router) to {s.path}")


# --- level 4 --------------------------------------------------------------------------------


def auto_rollback(e: Evidence) -> Criterion:
    """L4: a failing analysis rolls back on its own, judged statistically, never waiting."""
    c = e.canary
    s = e.service
    title = "Automatic rollback"
    if not c.present:
        return Criterion(4, "auto_rollback", title, False,
                         f"no {c.path}: nothing decides a rollback",
                         _create(e, c.path, "`rollback_on_failure: true` and the sequential "
                                 "judge"))
    judge = s.judge_override or c.judge
    judge_from = f"{s.path} strategy.judge" if s.judge_override else c.path
    problems: list[str] = []
    actions: list[str] = []
    if not c.rollback_on_failure:
        problems.append(f"{c.path}: rollback_on_failure is false, so a failing analysis waits "
                        "for a person")
        actions.append(f"set `rollback_on_failure: true` in {c.path}")
    if judge not in STATISTICAL_JUDGES:
        problems.append(f"the `{judge}` judge ({judge_from}) only compares fixed limits")
        actions.append(f"use `judge: {{name: sequential}}` under `spec:` in {c.path}"
                       + (f" and drop strategy.judge from {s.path}" if s.judge_override else ""))
    if s.on_insufficient_data == "hold":
        problems.append(f"{s.path}: strategy.on_insufficient_data is hold, so a rollout short "
                        "of data waits for a person")
        actions.append(f"set `on_insufficient_data: rollback` under `strategy:` in {s.path}")
    return _result(4, "auto_rollback", title, problems, actions,
                   f"rollback_on_failure: true, judge `{judge}` ({judge_from}), "
                   f"on_insufficient_data: {s.on_insufficient_data}")


def slos_defined(e: Evidence) -> Criterion:
    """L4: the service defines SLOs for deploy decisions to rest on."""
    s = e.service
    title = "SLOs defined"
    if s.slos:
        return Criterion(4, "slos", title, True,
                         f"{s.path} defines {len(s.slos)} SLO(s): {', '.join(s.slos)}")
    where = f"{s.path} has no `slos:`" if s.present else f"no {s.path}"
    return Criterion(4, "slos", title, False, where,
                     f"add an `slos:` section (name, objective, window, good/total queries) to "
                     f"{s.path}")


def slo_gate(e: Evidence) -> Criterion:
    """L4: a deploy is blocked when the error budget is spent.

    Shown by a blocking ``slo_check`` / ``api_call`` gate in gates.yaml, or by the history: the
    rollout controller's own pre-deploy SLO check has decided releases of the service.
    """
    g = e.gates
    h = e.history
    title = "SLO-based deploy decision"
    blocking = g.blocking("slo_check", "api_call")
    if blocking:
        return Criterion(4, "slo_gate", title, True, f"{g.path}: " + _describe(blocking))
    if h.slo_checked or h.slo_refusals:
        return Criterion(4, "slo_gate", title, True,
                         f"the rollout's pre-deploy SLO check decided "
                         f"{h.slo_checked + h.slo_refusals} release(s) of '{h.service}' "
                         f"({h.slo_refusals} refused for lack of error budget)")
    weak = g.of_type("slo_check", "api_call")
    if weak:
        return Criterion(4, "slo_gate", title, False,
                         f"{g.path}: the `{weak[0].type}` gate only {weak[0].action.value}s on "
                         "failure",
                         f"remove `on_fail: {weak[0].action.value}` from the `{weak[0].type}` "
                         f"gate in stage {weak[0].stage}")
    if not g.present:
        return Criterion(4, "slo_gate", title, False, f"no {g.path}",
                         _create(e, g.path, "a `pre_deploy_slo` stage holding `- type: "
                                 "slo_check`"))
    return Criterion(4, "slo_gate", title, False, f"{g.path} has no slo_check or api_call gate",
                     gate_advice("slo_check"))


def zero_touch(e: Evidence) -> Criterion:
    """L4: the history shows releases that finished with no person's command."""
    h = e.history
    title = "Zero-touch releases in the history"
    action = ("release with `safeship rollout start` and let the analysis promote or roll back "
              f"on its own: at least {MIN_FINISHED_RELEASES} finished releases, "
              f"{ZERO_TOUCH_SHARE:.0%} of them without a person's command")
    if not h.available:
        return Criterion(4, "zero_touch", title, False,
                         f"no rollout history ({h.note}): the level-4 evidence of releases "
                         "decided without a person is missing", action)
    share = h.zero_touch_share
    tally = (f"{h.zero_touch} of {h.finished} finished release(s) of '{h.service}' were "
             f"zero-touch" + (f" ({format_percent(share, 0)})" if share is not None else ""))
    if h.finished < MIN_FINISHED_RELEASES:
        return Criterion(4, "zero_touch", title, False,
                         f"{tally}: too few to judge (at least {MIN_FINISHED_RELEASES} needed)",
                         action)
    if share is None or share < ZERO_TOUCH_SHARE:
        return Criterion(4, "zero_touch", title, False,
                         f"{tally}; {h.human_touched} needed a person ({h.aborted} aborted, "
                         f"{h.manual_undos} undone by hand)", action)
    return Criterion(4, "zero_touch", title, True,
                     f"{tally}: {h.zero_touch_promotions} promoted and "
                     f"{h.automatic_rollbacks} rolled back automatically "
                     f"({h.analysis_rollbacks} on the analysis' verdict)")
