"""evaluate(): reasons, error codes, kill switch, prerequisites and fail-closed behaviour."""

from __future__ import annotations

from dataclasses import replace

import pytest

from safeship.flags import (
    ErrorCode,
    EvaluationContext,
    Flag,
    FlagType,
    Prerequisite,
    Reason,
    changes,
    evaluate,
    failed,
)
from safeship.flags.compact import parse_rule
from safeship.flags.model import Environment, Serve
from tests.unit.flags.flag_samples import boolean_flag, string_flag

USER = EvaluationContext("user-1", {"country": "DE", "email": "ann@example.com"})


def test_a_new_flag_serves_its_off_variant_everywhere() -> None:
    flag = changes.new_flag("fresh", environments=["dev", "production"])
    for environment in ("dev", "production", "nowhere"):
        result = evaluate(flag, USER, environment)
        assert (result.variant, result.value, result.reason) == ("off", False, Reason.DISABLED)
        assert result.error_code is None


def test_enabled_without_rules_is_static() -> None:
    result = evaluate(boolean_flag(), USER)
    assert (result.variant, result.value, result.reason) == ("on", True, Reason.STATIC)
    assert result.rule_id is None
    assert evaluate(boolean_flag(), USER, "dev").reason is Reason.DISABLED


def test_the_first_matching_rule_wins() -> None:
    flag = boolean_flag(rules=("germany: country equals DE -> off",
                               "staff: email regex @example\\.com$ -> on"))
    result = evaluate(flag, USER)
    assert (result.variant, result.reason, result.rule_id) == ("off", Reason.TARGETING_MATCH,
                                                               "germany")
    french = EvaluationContext("user-1", {"country": "FR", "email": "ann@example.com"})
    assert evaluate(flag, french).rule_id == "staff"


def test_no_matching_rule_serves_the_default() -> None:
    flag = boolean_flag(rules=("country equals FR -> off",))
    result = evaluate(flag, USER)
    assert (result.variant, result.reason, result.rule_id) == ("on", Reason.DEFAULT, None)


def test_a_rule_without_conditions_always_matches() -> None:
    flag = boolean_flag(rules=("everyone: -> off",))
    assert evaluate(flag, EvaluationContext()).rule_id == "everyone"


def test_a_rollout_is_a_split_and_needs_a_bucketing_key() -> None:
    flag = boolean_flag(percent=0.5)
    assert evaluate(flag, USER).reason is Reason.SPLIT
    missing = evaluate(flag, EvaluationContext(None, {"country": "DE"}))
    assert missing.reason is Reason.ERROR
    assert missing.error_code is ErrorCode.TARGETING_KEY_MISSING
    assert (missing.variant, missing.value) == ("off", False)  # fails closed
    assert "targetingKey" in (missing.error_message or "")


def test_a_rule_can_split_and_bucket_by_another_attribute() -> None:
    flag = boolean_flag()
    flag = changes.set_rollout(flag, "production", 1.0, bucket_by="org")
    with_org = evaluate(flag, EvaluationContext(None, {"org": "acme"}))
    assert (with_org.variant, with_org.reason) == ("on", Reason.SPLIT)
    assert evaluate(flag, USER).error_code is ErrorCode.TARGETING_KEY_MISSING


def test_a_split_rule_reports_its_id() -> None:
    flag = boolean_flag()
    production = flag.environments["production"]
    rollout = changes.set_rollout(flag, "production", 1.0).environments["production"].default
    rule = replace(parse_rule("de: country equals DE -> on", 1), serve=rollout)
    flag = replace(flag, environments={"production": replace(production, rules=(rule,))})
    result = evaluate(flag, USER)
    assert (result.variant, result.reason, result.rule_id) == ("on", Reason.SPLIT, "de")


def test_kill_overrides_rules_and_rollouts_everywhere_until_unkill() -> None:
    flag = changes.enable(boolean_flag(percent=1.0, rules=("-> on",)), "dev")
    killed = changes.kill(flag)
    assert killed.killed
    for environment in ("dev", "production"):
        result = evaluate(killed, USER, environment)
        assert (result.variant, result.reason, result.rule_id) == ("off", Reason.DISABLED, None)
    restored = changes.unkill(killed)
    assert restored == flag
    assert evaluate(restored, USER).variant == "on"


def test_enable_lifts_the_kill_in_one_environment_only() -> None:
    killed = changes.kill(changes.enable(boolean_flag(), "dev"))
    revived = changes.enable(killed, "dev")
    assert evaluate(revived, USER, "dev").variant == "on"
    assert evaluate(revived, USER, "production").reason is Reason.DISABLED
    assert not revived.killed


def test_type_mismatch_has_no_variant() -> None:
    result = evaluate(boolean_flag(), USER, expected_type=FlagType.STRING)
    assert (result.variant, result.value, result.reason) == (None, None, Reason.ERROR)
    assert result.error_code is ErrorCode.TYPE_MISMATCH
    assert evaluate(boolean_flag(), USER, expected_type=FlagType.BOOLEAN).value is True


def test_json_values_are_fresh_plain_data() -> None:
    flag = changes.enable(changes.new_flag(
        "limits", FlagType.JSON, variants=[("off", {"max": 1, "tags": ["a"]}),
                                           ("big", {"max": 100, "tags": ["a", "b"]})]),
        "production")
    first = evaluate(flag, USER)
    assert first.value == {"max": 100, "tags": ["a", "b"]}
    first.value["max"] = 0
    first.value["tags"].append("z")
    assert evaluate(flag, USER).value == {"max": 100, "tags": ["a", "b"]}
    assert evaluate(changes.kill(flag), USER).value == {"max": 1, "tags": ["a"]}


def _with_prerequisite(flag: Flag, on: str, *variants: str) -> Flag:
    return changes.set_prerequisites(flag, [Prerequisite(on, variants or ("on",))])


def test_prerequisites_gate_a_flag() -> None:
    payments = boolean_flag("payments")
    checkout = _with_prerequisite(boolean_flag("checkout"), "payments")
    flags = {"payments": payments, "checkout": checkout}
    assert evaluate(checkout, USER, flags=flags).variant == "on"
    assert evaluate(checkout, USER, flags=flags).reason is Reason.DEFAULT
    flags["payments"] = changes.disable(payments, "production")
    result = evaluate(checkout, USER, flags=flags)
    assert (result.variant, result.reason, result.prerequisite) == ("off", Reason.DISABLED,
                                                                    "payments")


def test_prerequisites_chain_through_several_flags() -> None:
    a = boolean_flag("a")
    b = _with_prerequisite(boolean_flag("b"), "a")
    c = _with_prerequisite(boolean_flag("c"), "b")
    flags = {"a": a, "b": b, "c": c}
    assert evaluate(c, USER, flags=flags).variant == "on"
    flags["a"] = changes.kill(a)
    assert evaluate(c, USER, flags=flags).prerequisite == "b"
    assert evaluate(c, USER, flags=flags).variant == "off"


def test_a_prerequisite_can_require_a_multivariate_value() -> None:
    theme = string_flag()
    theme = changes.set_default(theme, "production", "dark")
    flag = _with_prerequisite(boolean_flag("contrast"), "theme", "dark", "light")
    assert evaluate(flag, USER, flags={"theme": theme}).variant == "on"
    theme = changes.set_default(theme, "production", "classic")
    assert evaluate(flag, USER, flags={"theme": theme}).variant == "off"


def test_a_missing_prerequisite_fails_closed() -> None:
    flag = _with_prerequisite(boolean_flag("checkout"), "payments")
    result = evaluate(flag, USER)
    assert (result.variant, result.reason) == ("off", Reason.ERROR)
    assert result.error_code is ErrorCode.FLAG_NOT_FOUND
    assert result.prerequisite == "payments"


def test_a_prerequisite_error_propagates() -> None:
    payments = boolean_flag("payments", percent=0.5)
    flag = _with_prerequisite(boolean_flag("checkout"), "payments")
    result = evaluate(flag, EvaluationContext(None), flags={"payments": payments})
    assert result.error_code is ErrorCode.TARGETING_KEY_MISSING
    assert result.variant == "off"
    assert "prerequisite 'payments'" in (result.error_message or "")


def test_a_cycle_built_by_hand_fails_closed_instead_of_recursing() -> None:
    a = _with_prerequisite(boolean_flag("a"), "b")
    b = _with_prerequisite(boolean_flag("b"), "a")
    result = evaluate(a, USER, flags={"a": a, "b": b})
    assert (result.variant, result.reason, result.error_code) == ("off", Reason.ERROR,
                                                                  ErrorCode.GENERAL)
    assert "a -> b -> a" in (result.error_message or "")


def test_an_unvalidated_flag_serving_an_unknown_variant_fails_closed() -> None:
    flag = boolean_flag()
    broken = replace(flag, environments={"production": Environment(
        default=Serve(variant="ghost"), enabled=True)})
    result = evaluate(broken, USER)
    assert (result.variant, result.reason, result.error_code) == ("off", Reason.ERROR,
                                                                  ErrorCode.GENERAL)
    no_off = replace(broken, off_variant="ghost")
    assert evaluate(no_off, USER).variant is None
    assert evaluate(no_off, USER).error_code is ErrorCode.GENERAL


def test_failed_builds_a_variantless_error() -> None:
    result = failed("nope", ErrorCode.FLAG_NOT_FOUND, "no flag 'nope'")
    assert result.is_error
    assert (result.flag_key, result.variant, result.value) == ("nope", None, None)
    assert not evaluate(boolean_flag(), USER).is_error


@pytest.mark.parametrize("environment", ["dev", "staging"])
def test_disabled_and_unknown_environments_are_off(environment: str) -> None:
    assert evaluate(boolean_flag(), USER, environment).reason is Reason.DISABLED
