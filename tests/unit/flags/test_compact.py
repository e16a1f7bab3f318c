"""The one-line option syntax: variants, attributes, prerequisites, rules, and rendering."""

from __future__ import annotations

import pytest

from safeship.errors import UsageError
from safeship.flags import FlagType, Operator
from safeship.flags.compact import (
    condition_text,
    environment_state,
    parse_attribute,
    parse_prerequisite,
    parse_rule,
    parse_variant,
    rule_text,
    serve_text,
)
from safeship.flags.model import Environment, Serve
from tests.unit.flags.flag_samples import boolean_flag


@pytest.mark.parametrize(("text", "flag_type", "expected"), [
    ("on=TRUE", FlagType.BOOLEAN, ("on", True)),
    ("off=false", FlagType.BOOLEAN, ("off", False)),
    ("small=5", FlagType.NUMBER, ("small", 5)),
    ("half=0.5", FlagType.NUMBER, ("half", 0.5)),
    ("v=a=b", FlagType.STRING, ("v", "a=b")),
    ("empty=", FlagType.STRING, ("empty", "")),
    ('cfg={"max": 5, "tags": ["a"]}', FlagType.JSON, ("cfg", {"max": 5, "tags": ["a"]})),
])
def test_variants(text: str, flag_type: FlagType, expected: tuple[str, object]) -> None:
    assert parse_variant(text, flag_type) == expected


@pytest.mark.parametrize(("text", "flag_type", "message"), [
    ("on=yes", FlagType.BOOLEAN, "true or false"),
    ("n=five", FlagType.NUMBER, "numbers"),
    ("n=inf", FlagType.NUMBER, "numbers"),
    ("j={bad", FlagType.JSON, "not JSON"),
    ("novalue", FlagType.STRING, "NAME=VALUE"),
    ("=x", FlagType.STRING, "NAME=VALUE"),
])
def test_bad_variants(text: str, flag_type: FlagType, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_variant(text, flag_type)


def test_attributes_and_prerequisites() -> None:
    assert parse_attribute("app_version=2.1.0") == ("app_version", "2.1.0")
    prerequisite = parse_prerequisite("theme=dark, light")
    assert (prerequisite.flag, prerequisite.variants) == ("theme", ("dark", "light"))
    with pytest.raises(UsageError, match="names no variant"):
        parse_prerequisite("theme=")


def test_a_full_rule() -> None:
    rule = parse_rule(
        r"staff: email regex @example\.com$ and app_version semver_gte 2.1.0 -> on", 1)
    assert rule.rule_id == "staff"
    assert [(c.attribute, c.operator, c.values) for c in rule.conditions] == [
        ("email", Operator.REGEX, (r"@example\.com$",)),
        ("app_version", Operator.SEMVER_GTE, ("2.1.0",)),
    ]
    assert rule.serve.variant == "on"
    assert parse_rule(rule_text(rule), 9) == rule


def test_rule_ids_values_and_json_operands() -> None:
    assert parse_rule("country in DE, AT -> off", 3).rule_id == "rule-3"
    assert parse_rule("country in DE, AT -> off", 3).conditions[0].values == ("DE", "AT")
    listed = parse_rule('city in ["New York", "São Paulo"] -> on', 1)
    assert listed.conditions[0].values == ("New York", "São Paulo")
    quoted = parse_rule('name equals "a and b" -> on', 1)
    assert quoted.conditions[0].values == ("a and b",)
    always = parse_rule("-> on", 1)
    assert always.conditions == ()
    assert rule_text(always) == "rule-1: -> on"


@pytest.mark.parametrize(("text", "message"), [
    ("country equals DE", "no '-> VARIANT'"),
    ("country equals DE ->", "no '-> VARIANT'"),
    ("country DE -> on", "is not ATTRIBUTE OPERATOR VALUE"),
    ("country like DE -> on", "unknown operator 'like'"),
    ("email regex ([ -> on", "invalid regular expression"),
    ("city in [broken -> on", "not valid JSON"),
    ('city in [{"a": 1}] -> on', "not a string, number or boolean"),
])
def test_bad_rules(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_rule(text, 1)


def test_rendering() -> None:
    flag = boolean_flag(percent=0.125)
    production = flag.environments["production"]
    assert serve_text(production.default) == "on 12.5% / off 87.5%"
    rule = parse_rule('city in ["New York", "Paris"] -> on', 1)
    assert condition_text(rule.conditions[0]) == "city in New York,Paris"
    assert parse_rule(rule_text(rule), 1) == rule
    for text in ('city in ["a,b", "c"] -> on', 'name equals "x and y" -> on',
                 'name equals "[1]" -> on', 'name not_in ["\\"q\\" and", "2"] -> on'):
        tricky = parse_rule(text, 1)
        assert parse_rule(rule_text(tricky), 1) == tricky, rule_text(tricky)
    # The documented limit: a regular expression containing " and " needs a definition file.
    with pytest.raises(UsageError, match="not ATTRIBUTE OPERATOR VALUE"):
        parse_rule("e regex ^a and b$ -> on", 1)
    assert environment_state(production) == "on"
    assert environment_state(flag.environments["dev"]) == "off"
    assert environment_state(Environment(Serve("on"), enabled=True, killed=True)) == "killed"
    assert environment_state(None) == "-"
