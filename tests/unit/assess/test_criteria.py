"""Every maturity criterion, met and not met, with the evidence and action it reports."""

from __future__ import annotations

from dataclasses import replace

import pytest

from safeship.assess import criteria
from safeship.assess.criteria import Criterion, CriterionCheck
from safeship.assess.evidence import (
    CanaryFacts,
    CiFile,
    ConfiguredGate,
    FileState,
    GatesFacts,
    HistoryFacts,
    ServiceFacts,
    VersionControl,
)
from safeship.assess.levels import LEVELS
from safeship.model.enums import FailAction, RiskLevel
from tests.unit.assess.samples import (
    CANARY,
    CI,
    GATES,
    SERVICE,
    evidence,
    gates_without,
    history,
    service,
    with_states,
)

ALL_CHECKS: list[CriterionCheck] = [check for level in LEVELS for check in level.checks]


def missing(result: Criterion, *evidence_parts: str, action: str) -> None:
    """``result`` is not met, names every part in its evidence, and proposes ``action``."""
    assert not result.met, result
    for part in evidence_parts:
        assert part in result.evidence, (part, result.evidence)
    assert result.action is not None
    assert action in result.action, (action, result.action)


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__)
def test_the_full_sample_meets_every_criterion_without_an_action(check: CriterionCheck) -> None:
    result = check(evidence())
    assert result.met, result
    assert result.action is None
    assert result.evidence


def test_criteria_belong_to_their_level_and_have_unique_ids() -> None:
    for level in LEVELS:
        for check in level.checks:
            assert check(evidence()).level == level.number
    ids = [check(evidence()).id for check in ALL_CHECKS]
    assert len(ids) == len(set(ids)) == 13


# --- level 1 --------------------------------------------------------------------------------


def test_deploy_definition_by_target_or_script() -> None:
    assert "`target:` is `local`" in criteria.deploy_definition(evidence()).evidence
    scripted = evidence(service=service(target=None), deploy_scripts=("scripts/deploy.sh",))
    result = criteria.deploy_definition(scripted)
    assert result.met
    assert "scripts/deploy.sh" in result.evidence


def test_deploy_definition_missing() -> None:
    missing(criteria.deploy_definition(evidence(service=service(target=None))),
            f"{SERVICE} has no `target:`", "deployments are manual",
            action=f"add `target: {{type: local, command: 'python -m app --port {{port}}'}}` "
                   f"to {SERVICE}")
    no_file = evidence(service=ServiceFacts(SERVICE, False, "shop"))
    missing(criteria.deploy_definition(no_file), f"no {SERVICE}", action="safeship init")


def test_safeship_init_is_advised_only_while_no_pipeline_file_exists() -> None:
    bare = evidence(service=ServiceFacts(SERVICE, False, "shop"), gates=GatesFacts(GATES, False),
                    canary=CanaryFacts(CANARY, False))
    for check in (criteria.deploy_definition, criteria.test_gates, criteria.canary_analysis,
                  criteria.slo_gate, criteria.progressive_strategy):
        action = check(bare).action or ""
        assert action.startswith("run `safeship init` (it writes"), action
    # With one file in place, init would refuse to run: the advice is to create the file.
    partial = replace(bare, service=service())
    action = criteria.test_gates(partial).action or ""
    assert action.startswith(f"create {GATES} with lint, compile and coverage gates"), action


# --- level 2 --------------------------------------------------------------------------------


def test_version_control_lists_the_committed_files() -> None:
    result = criteria.version_control(evidence(vcs=with_states(gates=FileState.MODIFIED)))
    assert result.met
    assert f"{GATES} (with uncommitted changes)" in result.evidence
    assert "/src/shop" in result.evidence


def test_version_control_outside_git() -> None:
    missing(criteria.version_control(evidence(vcs=VersionControl(None))),
            "not inside a git work tree", action="git init")


@pytest.mark.parametrize(("state", "said", "action"), [
    (FileState.UNTRACKED, f"{SERVICE} is untracked", f"git add {SERVICE}"),
    (FileState.ADDED, f"{SERVICE} is added, not committed", "git commit"),
    (FileState.IGNORED, f"{SERVICE} is ignored by git", f"git check-ignore -v {SERVICE}"),
    (FileState.OUTSIDE, f"{SERVICE} is outside the git work tree /src/shop",
     "inside the repository"),
])
def test_version_control_needs_the_files_committed(state: FileState, said: str,
                                                    action: str) -> None:
    missing(criteria.version_control(evidence(vcs=with_states(service=state))), said,
            action=action)


def test_version_control_needs_service_and_gates_but_not_the_canary_file() -> None:
    no_canary = evidence(canary=CanaryFacts(CANARY, False))
    assert criteria.version_control(no_canary).met
    no_gates = evidence(gates=GatesFacts(GATES, False))
    missing(criteria.version_control(no_gates), f"{GATES} is missing", action="safeship init")
    untracked_canary = evidence(vcs=with_states(canary=FileState.UNTRACKED))
    missing(criteria.version_control(untracked_canary), f"{CANARY} is untracked",
            action=f"git add {CANARY}")


def test_test_gates_need_blocking_coverage_and_a_build_check() -> None:
    missing(criteria.test_gates(evidence(gates=gates_without("coverage"))),
            f"{GATES} has no `coverage` (unit tests) gate",
            action="add `- type: coverage` to the `unit_test` stage of gates.yaml")
    missing(criteria.test_gates(evidence(gates=gates_without("compile", "lint"))),
            f"{GATES} has no `compile` or `lint` (build check) gate",
            action="add `- type: compile` to the `build` stage of gates.yaml")
    only_lint = criteria.test_gates(evidence(gates=gates_without("compile")))
    assert only_lint.met
    assert "`lint` (stage pre_commit, block)" in only_lint.evidence


def test_a_test_gate_that_only_warns_does_not_count() -> None:
    weak = GatesFacts(GATES, True, (
        ConfiguredGate("unit_test", "coverage", "coverage", FailAction.WARN),
        ConfiguredGate("build", "compile", "compile", FailAction.FAIL),
    ))
    missing(criteria.test_gates(evidence(gates=weak)),
            "the `coverage` (unit tests) gate only warns",
            action="remove `on_fail: warn` from the `coverage` gate in stage unit_test")
    unavailable = GatesFacts(GATES, True, (
        ConfiguredGate("unit_test", "coverage", "coverage", FailAction.FAIL, available=False),
        ConfiguredGate("build", "compile", "compile", FailAction.FAIL),
    ))
    assert not criteria.test_gates(evidence(gates=unavailable)).met


def test_test_gates_without_a_gates_file() -> None:
    missing(criteria.test_gates(evidence(gates=GatesFacts(GATES, False))),
            f"no {GATES}", action="safeship init")


def test_ci_must_run_safeship_and_be_committed() -> None:
    assert criteria.ci_runs_gates(evidence()).evidence == f"{CI}:12 runs `safeship gates run`"
    missing(criteria.ci_runs_gates(evidence(vcs=with_states(ci=FileState.UNTRACKED))),
            "is not committed", action=f"commit {CI}")
    silent = (CiFile(".gitlab-ci.yml", False, "does not run it"),)
    missing(criteria.ci_runs_gates(evidence(ci=silent)), "none runs `safeship gates run`",
            action="add a step running `safeship gates run` to .gitlab-ci.yml")
    missing(criteria.ci_runs_gates(evidence(ci=())), "no CI configuration",
            action=".github/workflows/safeship.yml")


def test_ci_through_make_needs_the_makefile_committed_too() -> None:
    chained = (CiFile(CI, True, "runs make test", via=("Makefile",)),)
    missing(criteria.ci_runs_gates(evidence(ci=chained)), "Makefile is not committed",
            action="commit Makefile")


def test_one_command_deploy_needs_target_and_router() -> None:
    assert "target `local` and router `embedded`" in criteria.one_command_deploy(
        evidence()).evidence
    missing(criteria.one_command_deploy(evidence(service=service(router=None))),
            f"{SERVICE} has no `router:`", action="add `router: {type: embedded}`")
    missing(criteria.one_command_deploy(evidence(service=ServiceFacts(SERVICE, False, "x"))),
            f"no {SERVICE}", action="safeship init")


# --- level 3 --------------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["canary", "blue_green", "feature_flag"])
def test_progressive_strategies(strategy: str) -> None:
    result = criteria.progressive_strategy(evidence(service=service(strategy=strategy)))
    assert result.met
    assert f"strategy.type is `{strategy}`" in result.evidence
    assert "default" not in result.evidence


def test_a_defaulted_strategy_says_so() -> None:
    result = criteria.progressive_strategy(evidence(service=service(strategy_explicit=False)))
    assert result.met
    assert "the default" in result.evidence


@pytest.mark.parametrize(("strategy", "said"), [
    ("recreate", "stops the old version"), ("rolling", "a few at a time"),
    ("shadow", "is not a progressive strategy")])
def test_non_progressive_strategies(strategy: str, said: str) -> None:
    missing(criteria.progressive_strategy(evidence(service=service(strategy=strategy))),
            f"strategy.type is `{strategy}`", said,
            action=f"set `strategy: {{type: canary}}` in {SERVICE}")
    missing(criteria.progressive_strategy(evidence(service=ServiceFacts(SERVICE, False, "x"))),
            "no rollout strategy", action="safeship init")


def test_risk_gates_come_from_the_risk_policy() -> None:
    result = criteria.risk_gates(evidence(gates=gates_without("dast", "signature")))
    missing(result, "risk critical from", "DAST", "artifact signature",
            action="add `- type: dast` to the `security_dast` stage of gates.yaml")
    assert result.action is not None
    assert "add `- type: signature` to the `artifact` stage" in result.action
    # The same gates satisfy low risk, whose policy asks only for compile and coverage.
    low = evidence(service=service(risk=RiskLevel.LOW),
                   gates=gates_without("dast", "signature"))
    assert criteria.risk_gates(low).met


def test_risk_gates_accept_api_call_for_the_slo_requirement_and_say_the_risk_source() -> None:
    gates = GatesFacts(GATES, True, (
        *gates_without("slo_check").gates,
        ConfiguredGate("pre_deploy_slo", "pre_deploy_slo", "api_call", FailAction.BLOCK_DEPLOY),
    ))
    assert criteria.risk_gates(evidence(gates=gates)).met
    defaulted = evidence(service=ServiceFacts(SERVICE, False, "x"), gates=GatesFacts(GATES, False))
    missing(criteria.risk_gates(defaulted), "risk medium, the default: no", f"no {GATES}",
            action=f"create {GATES} with the gates medium risk makes mandatory: compile, "
                   "coverage, api_contract, db_migration, secret_scan, cve_check")


def test_canary_analysis_needs_the_file_and_a_threshold() -> None:
    assert "4 steps over 1d1h, 2 of 2 metrics" in criteria.canary_analysis(evidence()).evidence
    missing(criteria.canary_analysis(evidence(canary=CanaryFacts(CANARY, False))),
            f"no {CANARY}", action=f"create {CANARY} with traffic steps and metrics with "
                                   "thresholds (`safeship init` in an empty folder")
    bare = replace(evidence().canary, metrics_with_threshold=(),
                   metrics_without_threshold=("error_rate",))
    missing(criteria.canary_analysis(evidence(canary=bare)),
            "none of the 1 metrics", action="`threshold:`")


def test_a_critical_canary_lasts_a_day() -> None:
    short = replace(evidence().canary, total_duration_s=3000)
    missing(criteria.canary_analysis(evidence(canary=short)), "lasts 50m", "at least 1d",
            action="lengthen the steps")
    high = evidence(canary=short, service=service(risk=RiskLevel.HIGH))
    assert criteria.canary_analysis(high).met


def test_metrics_provider() -> None:
    assert "`prometheus`" in criteria.metrics_provider(evidence()).evidence
    missing(criteria.metrics_provider(evidence(service=service(metrics=None))),
            f"{SERVICE} has no `metrics:`", action="metrics: {type: prometheus")


# --- level 4 --------------------------------------------------------------------------------


def test_auto_rollback_needs_the_switch_a_statistical_judge_and_no_hold() -> None:
    off = replace(evidence().canary, rollback_on_failure=False)
    missing(criteria.auto_rollback(evidence(canary=off)), "rollback_on_failure is false",
            action="set `rollback_on_failure: true`")
    naive = replace(evidence().canary, judge="threshold")
    missing(criteria.auto_rollback(evidence(canary=naive)), "`threshold` judge",
            action="`judge: {name: sequential}`")
    hold = service(on_insufficient_data="hold")
    missing(criteria.auto_rollback(evidence(service=hold)), "on_insufficient_data is hold",
            action="`on_insufficient_data: rollback`")
    missing(criteria.auto_rollback(evidence(canary=CanaryFacts(CANARY, False))),
            "nothing decides a rollback", action="rollback_on_failure: true")


def test_the_service_judge_overrides_the_canary_file() -> None:
    overridden = evidence(service=service(judge_override="threshold"))
    missing(criteria.auto_rollback(overridden), f"({SERVICE} strategy.judge)",
            action=f"drop strategy.judge from {SERVICE}")
    kayenta = replace(evidence().canary, judge="threshold")
    result = criteria.auto_rollback(evidence(canary=kayenta,
                                             service=service(judge_override="kayenta")))
    assert result.met
    assert "judge `kayenta`" in result.evidence


def test_slos_defined() -> None:
    assert "1 SLO(s): availability" in criteria.slos_defined(evidence()).evidence
    missing(criteria.slos_defined(evidence(service=service(slos=()))),
            f"{SERVICE} has no `slos:`", action="`slos:` section")


def test_slo_gate() -> None:
    assert "`slo_check` (stage pre_deploy_slo, block_deploy)" in criteria.slo_gate(
        evidence()).evidence
    missing(criteria.slo_gate(evidence(gates=gates_without("slo_check"))),
            "no slo_check or api_call gate",
            action="add `- type: slo_check` to the `pre_deploy_slo` stage of gates.yaml")
    logged = GatesFacts(GATES, True, (
        ConfiguredGate("pre_deploy_slo", "slo", "api_call", FailAction.LOG),))
    missing(criteria.slo_gate(evidence(gates=logged)), "only logs",
            action="remove `on_fail: log`")
    missing(criteria.slo_gate(evidence(gates=GatesFacts(GATES, False))), f"no {GATES}",
            action="slo_check")


def test_the_rollouts_own_slo_check_in_the_history_counts_as_an_slo_decision() -> None:
    checked = evidence(gates=gates_without("slo_check"), history=history(slo_checked=3,
                                                                          slo_refusals=1))
    result = criteria.slo_gate(checked)
    assert result.met
    assert "pre-deploy SLO check decided 4 release(s) of 'shop' (1 refused" in result.evidence


def test_zero_touch_history() -> None:
    result = criteria.zero_touch(evidence())
    assert "5 of 5 finished release(s) of 'shop' were zero-touch (100%)" in result.evidence
    assert "4 promoted and 1 rolled back automatically (1 on the analysis' verdict)" in (
        result.evidence)


def test_zero_touch_without_history_says_the_evidence_is_missing() -> None:
    none = HistoryFacts(False, "sqlite:///x", "no state store at /x", "shop")
    missing(criteria.zero_touch(evidence(history=none)), "no state store at /x",
            "level-4 evidence", action="safeship rollout start")


def test_zero_touch_needs_enough_releases() -> None:
    few = history(releases=2, finished=2, zero_touch=2, promotions=2, zero_touch_promotions=2,
                  automatic_rollbacks=0, analysis_rollbacks=0)
    missing(criteria.zero_touch(evidence(history=few)), "too few to judge",
            action="at least 3 finished releases")


def test_zero_touch_needs_most_releases_without_a_person() -> None:
    touched = history(zero_touch=3, human_touched=2, aborted=1, manual_undos=1)
    missing(criteria.zero_touch(evidence(history=touched)), "3 of 5", "(60%)",
            "2 needed a person (1 aborted, 1 undone by hand)", action="80%")
    exactly = history(releases=5, finished=5, zero_touch=4, human_touched=1)
    assert criteria.zero_touch(evidence(history=exactly)).met
