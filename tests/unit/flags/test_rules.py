"""Targeting conditions: every operator, negations, lists, and definition-time checks."""

from __future__ import annotations

import pytest

from safeship.flags.context import TARGETING_KEY, EvaluationContext
from safeship.flags.rules import (
    MAX_PATTERN_LENGTH,
    MAX_REGEX_INPUT,
    MAX_VALUES,
    Condition,
    Operator,
    canonical_text,
    compile_pattern,
)


def ctx(key: str | None = "user-1", **attributes: object) -> EvaluationContext:
    return EvaluationContext(key, attributes)


def holds(op: str, values: tuple[object, ...], actual: object, attribute: str = "a") -> bool:
    condition = Condition(attribute, Operator(op), values)  # type: ignore[arg-type]
    return condition.matches(ctx(**{attribute: actual}))


@pytest.mark.parametrize(("op", "values", "actual", "expected"), [
    ("equals", ("DE",), "DE", True),
    ("equals", ("DE",), "de", False),
    ("equals", (30,), "30", True),  # command-line text equals a number in a rule
    ("equals", (30,), 30.0, True),
    ("equals", (1.5,), "1.5", True),
    ("equals", (True,), "true", True),
    ("equals", (True,), 1, False),  # a boolean is not the number 1
    ("not_equals", ("DE",), "FR", True),
    ("not_equals", ("DE",), "DE", False),
    ("in", ("DE", "AT"), "AT", True),
    ("in", ("DE", "AT"), "FR", False),
    ("not_in", ("DE", "AT"), "FR", True),
    ("not_in", ("DE", "AT"), "DE", False),
    ("semver_eq", ("2.1.0",), "2.1.0+build.7", True),
    ("semver_lt", ("2.1.0",), "2.1.0-rc.1", True),
    ("semver_lt", ("2.1.0",), "2.1.0", False),
    ("semver_lte", ("2.1.0",), "2.1.0", True),
    ("semver_gt", ("2.1.0",), "2.10.0", True),  # not a text comparison
    ("semver_gt", ("2.1.0",), "2.1.0", False),
    ("semver_gte", ("2.1.0",), "v2.1.0", True),
    ("semver_gte", ("2.1.0",), "2.0.9", False),
    ("regex", (r"@example\.com$",), "ann@example.com", True),
    ("regex", (r"@example\.com$",), "ann@example.com.evil", False),
    ("regex", ("^4",), 42, True),  # numbers are matched by their text
    ("not_regex", (r"^test-",), "prod-1", True),
    ("not_regex", (r"^test-",), "test-1", False),
])
def test_operators(op: str, values: tuple[object, ...], actual: object, expected: bool) -> None:
    assert holds(op, values, actual) is expected


@pytest.mark.parametrize("op", [op.value for op in Operator])
def test_a_missing_attribute_matches_no_operator(op: str) -> None:
    values: tuple[object, ...] = ("1.0.0",) if op.startswith("semver") else ("x",)
    condition = Condition("country", Operator(op), values)  # type: ignore[arg-type]
    assert condition.matches(ctx()) is False
    assert condition.matches(ctx(country={"nested": 1})) is False  # unreadable value


@pytest.mark.parametrize(("op", "actual"), [
    ("semver_lt", "not-a-version"), ("semver_gte", 3), ("not_regex", None),
])
def test_unreadable_values_never_match_even_negated(op: str, actual: object) -> None:
    values: tuple[object, ...] = ("2.0.0",) if op.startswith("semver") else ("x",)
    assert holds(op, values, actual) is False


def test_list_attributes_match_any_element_and_negations_need_none() -> None:
    assert holds("in", ("admin",), ["dev", "admin"]) is True
    assert holds("in", ("admin",), ["dev", "ops"]) is False
    assert holds("not_in", ("admin",), ["dev", "ops"]) is True
    assert holds("not_in", ("admin",), ["dev", "admin"]) is False
    assert holds("regex", ("^b",), ("a", "b")) is True
    assert holds("not_in", ("admin",), []) is True
    assert holds("in", ("admin",), []) is False


def test_the_targeting_key_is_an_attribute() -> None:
    condition = Condition(TARGETING_KEY, Operator.IN, ("user-1", "user-2"))
    assert condition.matches(ctx("user-2")) is True
    assert condition.matches(ctx("user-3")) is False
    assert condition.matches(ctx(None)) is False


def test_overlong_texts_never_match_a_regex() -> None:
    long_text = "a" * (MAX_REGEX_INPUT + 1)
    assert holds("regex", ("a",), long_text) is False
    assert holds("not_regex", ("b",), long_text) is False
    assert holds("regex", ("a",), long_text[:MAX_REGEX_INPUT]) is True


@pytest.mark.parametrize(("op", "values", "message"), [
    ("regex", ("([a-z",), "invalid regular expression"),
    ("regex", ("a" * (MAX_PATTERN_LENGTH + 1),), "at most"),
    ("regex", (5,), "must be a string"),
    ("semver_gt", ("2.x",), "not a semantic version"),
    ("semver_gt", (2,), "version string"),
    ("equals", ("a", "b"), "exactly one value"),
    ("equals", (), "exactly one value"),
    ("in", (), "at least one value"),
    ("in", tuple(str(i) for i in range(MAX_VALUES + 1)), "at most"),
    ("equals", (None,), "not a string, number or boolean"),
    ("equals", (float("nan"),), "not a string, number or boolean"),
    ("bigger_than", ("1",), "unknown operator"),
])
def test_invalid_conditions_are_refused_at_definition_time(op: str, values: tuple[object, ...],
                                                           message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Condition("a", op, values)  # type: ignore[arg-type]


@pytest.mark.parametrize("attribute", ["", "   ", "x" * 129])
def test_attribute_names_are_checked(attribute: str) -> None:
    with pytest.raises(ValueError, match="attribute"):
        Condition(attribute, Operator.EQUALS, ("x",))


def test_operator_text_is_accepted_and_normalised() -> None:
    condition = Condition("a", "in", ["x", "y"])  # type: ignore[arg-type]
    assert condition.operator is Operator.IN
    assert condition.values == ("x", "y")
    assert condition == Condition("a", Operator.IN, ("x", "y"))


def test_compiled_patterns_are_cached() -> None:
    assert compile_pattern(r"^cache-me$") is compile_pattern(r"^cache-me$")


@pytest.mark.parametrize(("value", "text"), [
    ("x", "x"), (True, "true"), (False, "false"), (7, "7"), (7.0, "7"), (0.25, "0.25"),
    (float("inf"), None), (None, None), ([1], None),
])
def test_canonical_text(value: object, text: str | None) -> None:
    assert canonical_text(value) == text
