"""OpenFeature evaluation semantics through ``openfeature.api`` with the provider set: typed
values, variants, reasons, error codes, metadata, and agreement with the service's evaluator."""

from __future__ import annotations

import pytest
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason

from safeship.flags import EvaluationContext as SafeshipContext
from safeship.flags import Flag, FlagType, Prerequisite, changes, evaluate
from safeship.flags.compact import parse_rule
from tests.unit.flags.flag_samples import boolean_flag, string_flag
from tests.unit.openfeature.conftest import ConnectFn
from tests.unit.openfeature.fake_service import FakeFlagService, wait_until

USER = EvaluationContext("user-42", {"country": "DE", "email": "ann@example.com"})


def number_flag() -> Flag:
    return changes.enable(changes.new_flag("limits", FlagType.NUMBER,
                                           variants=[("low", 10), ("half", 2.5)]), "production")


def json_flag() -> Flag:
    return changes.enable(changes.new_flag("layout", FlagType.JSON, variants=[
        ("old", {"columns": 1}), ("new", {"columns": 3, "tags": ["a"]}), ("bare", "text")]),
        "production")


def all_flags() -> FakeFlagService:
    targeted = boolean_flag("targeted", rules=("staff: email regex @example.com$ -> on",
                                                "eu: country in FR,IT -> off"))
    return FakeFlagService(
        boolean_flag("static"),
        targeted,
        boolean_flag("split", percent=0.5),
        boolean_flag("disabled", enabled=False),
        string_flag("theme"),
        number_flag(),
        json_flag(),
    )


def test_each_typed_method_returns_value_variant_and_reason(connect: ConnectFn) -> None:
    client = connect(all_flags()).client
    static = client.get_boolean_details("static", False, USER)
    assert (static.value, static.variant, static.reason) == (True, "on", Reason.STATIC)
    assert static.error_code is None
    theme = client.get_string_details("theme", "x", USER)
    assert (theme.value, theme.variant, theme.reason) == ("d", "dark", Reason.STATIC)
    floating = client.get_float_details("limits", 0.0, USER)
    assert (floating.value, floating.variant) == (2.5, "half")
    assert isinstance(floating.value, float)
    layout = client.get_object_details("layout", {}, USER)
    assert (layout.value, layout.variant) == ({"columns": 3, "tags": ["a"]}, "new")
    assert client.get_boolean_value("disabled", True, USER) is False
    disabled = client.get_boolean_details("disabled", True, USER)
    assert (disabled.variant, disabled.reason) == ("off", Reason.DISABLED)


def test_integer_requests_get_whole_numbers_only(connect: ConnectFn) -> None:
    whole = changes.set_default(number_flag(), "production", "low")
    client = connect(FakeFlagService(whole)).client
    details = client.get_integer_details("limits", 0, USER)
    assert (details.value, details.variant, details.error_code) == (10, "low", None)
    fractional = connect(FakeFlagService(number_flag())).client
    mismatch = fractional.get_integer_details("limits", 7, USER)
    assert (mismatch.value, mismatch.error_code, mismatch.reason) == (
        7, ErrorCode.TYPE_MISMATCH, Reason.ERROR)


def test_targeting_match_split_and_default(connect: ConnectFn) -> None:
    client = connect(all_flags()).client
    staff = client.get_boolean_details("targeted", False, USER)
    assert (staff.value, staff.reason, staff.flag_metadata["rule_id"]) == (
        True, Reason.TARGETING_MATCH, "staff")
    nobody = client.get_boolean_details("targeted", True, EvaluationContext("u1"))
    assert (nobody.variant, nobody.reason) == ("on", Reason.DEFAULT)
    variants = {client.get_boolean_details("split", False, EvaluationContext(f"user-{n}")).variant
                for n in range(40)}
    assert variants == {"on", "off"}
    split = client.get_boolean_details("split", False, EvaluationContext("user-1"))
    assert split.reason == Reason.SPLIT


def test_unknown_flag_gives_the_default_with_flag_not_found(connect: ConnectFn) -> None:
    client = connect(all_flags()).client
    details = client.get_string_details("nope", "fallback", USER)
    assert (details.value, details.reason, details.error_code) == (
        "fallback", Reason.ERROR, ErrorCode.FLAG_NOT_FOUND)
    assert "nope" in (details.error_message or "")


def test_a_boolean_flag_asked_as_a_string_is_a_type_mismatch(connect: ConnectFn) -> None:
    client = connect(all_flags()).client
    as_string = client.get_string_details("static", "default", USER)
    assert (as_string.value, as_string.error_code) == ("default", ErrorCode.TYPE_MISMATCH)
    as_number = client.get_float_details("theme", 1.5, USER)
    assert (as_number.value, as_number.error_code) == (1.5, ErrorCode.TYPE_MISMATCH)
    scalar_json = changes.set_default(json_flag(), "production", "bare")
    bare = connect(FakeFlagService(scalar_json)).client.get_object_details("layout", [], USER)
    assert (bare.value, bare.error_code) == ([], ErrorCode.TYPE_MISMATCH)


def test_a_split_without_a_targeting_key_is_targeting_key_missing(connect: ConnectFn) -> None:
    client = connect(all_flags()).client
    details = client.get_boolean_details("split", True, EvaluationContext())
    assert (details.value, details.reason, details.error_code) == (
        True, Reason.ERROR, ErrorCode.TARGETING_KEY_MISSING)


def test_an_unreadable_definition_is_a_parse_error_for_that_flag_only(
        connect: ConnectFn) -> None:
    service = FakeFlagService()
    service.snapshot_body = lambda: {"environment": "production", "version": 3, "flags": [
        {"key": "good", "version": 1, "definition": {"key": "good"}},
        {"key": "bad", "version": 1, "definition": {"key": "bad", "type": "colour"}}]}
    client = connect(service, stream=False).client
    bad = client.get_boolean_details("bad", True, USER)
    assert (bad.value, bad.error_code) == (True, ErrorCode.PARSE_ERROR)
    assert client.get_boolean_details("good", True, USER).reason == Reason.DISABLED


def test_prerequisites_are_evaluated_within_the_snapshot(connect: ConnectFn) -> None:
    parent = boolean_flag("payments")
    child = changes.set_prerequisites(
        boolean_flag("checkout"), [Prerequisite("payments", ("on",))])
    service = FakeFlagService(parent, child)
    connected = connect(service)
    on = connected.client.get_boolean_details("checkout", False, USER)
    assert (on.value, on.reason) == (True, Reason.DEFAULT)
    service.set_flag(changes.disable(parent, "production"))
    wait_until(lambda: connected.provider.sync_state.snapshot_version == 3,
               message="the change arrived")
    off = connected.client.get_boolean_details("checkout", True, USER)
    assert (off.value, off.reason, off.flag_metadata["prerequisite"]) == (
        False, Reason.DISABLED, "payments")


def test_metadata_names_environment_and_versions(connect: ConnectFn) -> None:
    details = connect(all_flags()).client.get_boolean_details("static", False, USER)
    assert details.flag_metadata == {"environment": "production", "snapshot_version": 7,
                                     "flag_version": 1}


@pytest.mark.parametrize("environment", ["production", "dev"])
def test_results_equal_the_services_evaluator(connect: ConnectFn, environment: str) -> None:
    flag = boolean_flag("mixed", percent=0.3, environment=environment)
    flag = changes.set_rules(flag, environment, [
        parse_rule("staff: email regex @example.com$ -> on", 1),
        parse_rule("old: app semver_lt 2.0.0 -> off", 2)])
    service = FakeFlagService(flag, environment=environment)
    client = connect(service, environment=environment).client
    for n in range(200):
        attributes = {"app": f"{1 + n % 3}.0.0"}
        if n % 7 == 0:
            attributes["email"] = f"u{n}@example.com"
        ours = client.get_boolean_details("mixed", False, EvaluationContext(f"u{n}", attributes))
        theirs = evaluate(flag, SafeshipContext(f"u{n}", attributes), environment)
        assert (ours.value, ours.variant, str(ours.reason)) == (
            theirs.value, theirs.variant, theirs.reason.value)


def test_provider_not_ready_before_the_first_snapshot(connect: ConnectFn) -> None:
    service = FakeFlagService(boolean_flag("static"))
    service.down = True
    connected = connect(service, wait=False, init_timeout_s=0.05)
    details = connected.client.get_boolean_details("static", False, USER)
    assert (details.value, details.reason, details.error_code) == (
        False, Reason.ERROR, ErrorCode.PROVIDER_NOT_READY)
    direct = connected.provider.resolve_boolean_details("static", False)
    assert direct.error_code == ErrorCode.PROVIDER_NOT_READY
