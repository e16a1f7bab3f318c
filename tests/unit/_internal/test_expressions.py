"""The safe condition language: what parses, what it means, and that it never does more."""

from __future__ import annotations

import ast
import json
import math
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safeship._internal.expressions import (
    MAX_EXPRESSION_LENGTH,
    Condition,
    EvaluationError,
    ExpressionError,
    ExpressionSyntaxError,
    FieldMissingError,
    FieldTypeError,
    NonFiniteValueError,
    parse_condition,
)


def holds(text: str, data: Any) -> bool:
    return parse_condition(text).evaluate(data).result


# --- meaning ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "data", "expected"),
    [
        ("budget_remaining > 0.05", {"budget_remaining": 0.06}, True),
        ("budget_remaining > 0.05", {"budget_remaining": 0.05}, False),
        ("budget_remaining > 0.05", {"budget_remaining": 1}, True),
        ("budget_remaining >= 0.05", {"budget_remaining": 0.05}, True),
        ("errors == 0", {"errors": 0}, True),
        ("errors != 0", {"errors": 0.0}, False),
        ("slo.budget_remaining > 0.05", {"slo": {"budget_remaining": 0.5}}, True),
        ("a.b.c < 1", {"a": {"b": {"c": 0}}}, True),
        ("0 < x < 1", {"x": 0.5}, True),
        ("0 < x < 1", {"x": 1}, False),
        ("x > 1 and y > 1", {"x": 2, "y": 0}, False),
        ("x > 1 or y > 1", {"x": 2, "y": 0}, True),
        ("not frozen", {"frozen": False}, True),
        ("frozen", {"frozen": True}, True),
        ("frozen == false", {"frozen": False}, True),
        ("frozen == False", {"frozen": False}, True),
        ("owner == null", {"owner": None}, True),
        ("owner != None", {"owner": "team"}, True),
        ("status == 'ok'", {"status": "ok"}, True),
        ('status == "ok"', {"status": "degraded"}, False),
        ("name < 'b'", {"name": "a"}, True),
        ("bad / total < 0.01", {"bad": 1, "total": 1000}, True),
        ("(good + bad) * 2 - 1 >= 3", {"good": 1, "bad": 1}, True),
        ("total // 3 == 3 and total % 3 == 1", {"total": 10}, True),
        ("-x < 0 and +x > 0", {"x": 1}, True),
        ("true", {}, True),
        ("  x > 1  ", {"x": 2}, True),
    ],
)
def test_meaning(text: str, data: Any, expected: bool) -> None:
    assert holds(text, data) is expected


def test_fields_are_collected_once_in_order() -> None:
    condition = parse_condition("b > 1 and slo.x < 2 and b < 5 and not flag")
    assert condition.fields == ("b", "slo.x", "flag")
    evaluation = condition.evaluate({"b": 2, "slo": {"x": 1}, "flag": False})
    assert evaluation.result is True
    assert dict(evaluation.values) == {"b": 2, "slo.x": 1, "flag": False}


def test_constants_are_not_fields() -> None:
    assert parse_condition("x == true or x == null").fields == ("x",)


# --- refused at parse time -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("x >", "not a valid condition"),
        ("x = 1", "not a valid condition"),
        ("x > 1; y", "not a valid condition"),
        ("x\x00 > 1", "not a valid condition"),
        ("f(x) > 1", "function call"),
        ("__import__('os').system('id')", "function call"),
        ("x.lower() == 'a'", "function call"),
        ("eval('1') == 1", "function call"),
        ("(lambda: 1)() == 1", "function call"),
        ("x[0] > 1", "Subscript"),
        ("x ** 2 > 1", "'**'"),
        ("9 ** 9 ** 9 > 1", "'**'"),
        ("x << 2 > 1", "'<<'"),
        ("x | 1 > 1", "'|'"),
        ("~x > 1", "'~'"),
        ("x in [1, 2]", "'in'"),
        ("x is None", "'is'"),
        ("x if y else z", "IfExp"),
        ("[x for x in y]", "ListComp"),
        ("{'a': 1} == x", "Dict"),
        ("(1, 2) == x", "Tuple"),
        ("f'{x}' == 'a'", "JoinedStr"),
        ("b'x' == x", "bytes literal"),
        ("1j == x", "complex literal"),
        ("... == x", "ellipsis literal"),
        ("(1).real > 0", "attribute access on a value"),
        ("'a'.upper == x", "attribute access on a value"),
        ("x.true > 1", "inside a field path"),
        ("(x := 1) > 0", "NamedExpr"),
        ("await x", "Await"),
        ("1e999 > x", "too large"),
        ("x + 1", "not a yes/no condition"),
        ("0.05", "not a yes/no condition"),
        ("'yes'", "not a yes/no condition"),
        ("-x", "not a yes/no condition"),
        ("x > 1 " + "and x > 1 " * 200, "characters long"),
        ("(" * 40 + "x" + ")" * 40 + " > 1", None),
        ("-" * 60 + "x > 1", "nested too deeply"),
    ],
)
def test_refused(text: str, message: str | None) -> None:
    if message is None:  # deep parentheses alone do not nest the tree
        parse_condition(text)
        return
    with pytest.raises(ExpressionSyntaxError, match=re.escape(message)):
        parse_condition(text)


def test_not_text_is_refused() -> None:
    with pytest.raises(ExpressionSyntaxError, match="must be text"):
        parse_condition(42)  # type: ignore[arg-type]


def test_syntax_error_is_a_value_error_for_pydantic() -> None:
    with pytest.raises(ValueError, match="not a valid condition"):
        parse_condition("x >")


# --- refused at evaluation time (fail closed) ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "data", "error", "message"),
    [
        ("x > 1", {}, FieldMissingError, "field 'x' not found (fields there: none)"),
        ("x > 1", {"y": 1}, FieldMissingError, "(fields there: y)"),
        ("a.b > 1", {"a": {"c": 1}}, FieldMissingError, "field 'a.b' not found in 'a'"),
        ("a.b > 1", {"a": 3}, FieldMissingError, "'a' is a number, not an object"),
        ("x > 1", [1], FieldMissingError, "the document is a list, not an object"),
        ("x > 1", "text", FieldMissingError, "the document is text, not an object"),
        ("x > 1", None, FieldMissingError, "the document is null"),
        ("x > 0.05", {"x": "0.5"}, FieldTypeError, "cannot compare field 'x' (text '0.5') >"),
        ("x > 0.05", {"x": None}, FieldTypeError, "cannot compare field 'x' (null None)"),
        ("x > 0.05", {"x": True}, FieldTypeError, "(boolean True)"),
        ("x == 1", {"x": "1"}, FieldTypeError, "cannot compare"),
        ("x == 1", {"x": True}, FieldTypeError, "cannot compare"),
        ("x > 'a'", {"x": 1}, FieldTypeError, "cannot compare"),
        ("x > 1", {"x": [1]}, FieldTypeError, "field 'x' is a list"),
        ("x > 1", {"x": {}}, FieldTypeError, "field 'x' is an object"),
        ("x > 1", {"x": math.nan}, NonFiniteValueError, "field 'x' is nan"),
        ("x > 1", {"x": math.inf}, NonFiniteValueError, "field 'x' is inf"),
        ("x > 1", {"x": -math.inf}, NonFiniteValueError, "field 'x' is -inf"),
        ("x + 1 > 1", {"x": "a"}, FieldTypeError, "'+' needs numbers, got field 'x'"),
        ("x + 'a' == 'ba'", {"x": "b"}, FieldTypeError, "'+' needs numbers"),
        ("-x < 0", {"x": True}, FieldTypeError, "sign applied to field 'x'"),
        ("not x", {"x": 0}, FieldTypeError, "'not' needs true or false"),
        ("x and y > 1", {"x": 1, "y": 2}, FieldTypeError, "'and' needs true or false"),
        ("x or y", {"x": True, "y": "s"}, FieldTypeError, "'or' needs true or false"),
        ("x", {"x": 1}, EvaluationError, "not true or false"),
        ("x / y > 1", {"x": 1, "y": 0}, EvaluationError, "division by zero"),
        ("x % y > 1", {"x": 1, "y": 0}, EvaluationError, "division by zero"),
        ("x * x > 1", {"x": 1e200}, EvaluationError, "overflowed"),
        ("x * 1.0 > 1", {"x": 10**400}, EvaluationError, "could not be computed"),
        # Every operand is evaluated, so a bad field cannot hide behind a short circuit.
        ("x > 1 or y > 1", {"x": 2, "y": "no"}, FieldTypeError, "field 'y'"),
        ("x > 1 and y > 1", {"x": 0}, FieldMissingError, "field 'y'"),
        ("0 > x > y", {"x": 1, "y": "s"}, FieldTypeError, "field 'y'"),
    ],
)
def test_fails_closed(text: str, data: Any, error: type[ExpressionError], message: str) -> None:
    with pytest.raises(error) as caught:
        parse_condition(text).evaluate(data)
    assert message in caught.value.message


def test_missing_field_error_names_the_field() -> None:
    with pytest.raises(FieldMissingError) as caught:
        parse_condition("slo.budget > 0").evaluate({"slo": {}})
    assert caught.value.field == "slo.budget"
    assert caught.value.expression == "slo.budget > 0"


def test_an_unvalidated_tree_is_not_evaluated() -> None:
    # Defence in depth: even a Condition built around a call never calls anything.
    called: list[int] = []
    tree = ast.parse("f() == 1", mode="eval")
    rogue = Condition("f() == 1", (), tree)
    with pytest.raises(EvaluationError):
        rogue.evaluate({"f": called.append})
    assert called == []


# --- fuzzing ---------------------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(["a", "b", "x", "y", "slo"]), children, max_size=4),
    ),
    max_leaves=12,
)
documents = st.dictionaries(st.sampled_from(["a", "b", "x", "y", "slo"]), json_values, max_size=5)

TOKENS = [
    "a", "b", "x", "y", "slo", ".", "a.b", "slo.x", "0", "1", "0.05", "-1", "1e308", "'s'", '"t"',
    "True", "false", "null", "None", "(", ")", "+", "-", "*", "/", "//", "%", "**", "==", "!=",
    "<", "<=", ">", ">=", "and", "or", "not", "in", "is", "if", "else", "lambda", ":", ",", "[",
    "]", "{", "}", "f(", "__import__", "__class__", "open(", "eval(", "getattr(", "=", ";", "~",
    "|", "&", "^", "<<", "@", "`", "\\", "\n", "\x00", " ",
]  # fmt: skip


def _calls(text: str) -> bool:
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return any(isinstance(node, ast.Call) for node in ast.walk(tree))


def _check_total(text: str, data: Any) -> None:
    """Parsing and evaluating either succeed with a boolean or raise an ExpressionError."""
    try:
        condition = parse_condition(text)
    except ExpressionError:
        return
    assert not _calls(text), f"a call was accepted: {text!r}"
    try:
        evaluation = condition.evaluate(data)
    except ExpressionError:
        return
    assert isinstance(evaluation.result, bool)
    assert set(evaluation.values) == set(condition.fields)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=60), data=documents)
def test_fuzz_arbitrary_text(text: str, data: Any) -> None:
    _check_total(text, data)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tokens=st.lists(st.sampled_from(TOKENS), min_size=1, max_size=14), data=documents)
def test_fuzz_token_soup(tokens: list[str], data: Any) -> None:
    _check_total(" ".join(tokens), data)


comparisons = st.builds(
    lambda left, op, right: f"{left} {op} {right}",
    st.sampled_from(["a", "b", "x", "slo.x", "a.b", "x + 1", "x / y", "-x", "1", "'s'", "null"]),
    st.sampled_from(["==", "!=", "<", "<=", ">", ">="]),
    st.sampled_from(["0", "0.05", "y", "'s'", "true", "x * 2", "a % 3"]),
)
conditions = st.recursive(
    comparisons,
    lambda inner: st.one_of(
        st.builds(lambda c: f"not ({c})", inner),
        st.builds(lambda a, b: f"({a}) and ({b})", inner, inner),
        st.builds(lambda a, b: f"({a}) or ({b})", inner, inner),
    ),
    max_leaves=6,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=conditions, data=documents)
def test_fuzz_well_formed_conditions(text: str, data: Any) -> None:
    condition = parse_condition(text)  # every generated condition is in the language
    _check_total(text, data)
    # And the same data through a JSON round trip gives the same outcome (no hidden state).
    try:
        first = condition.evaluate(data).result
    except ExpressionError:
        return
    roundtrip = json.loads(json.dumps(data))
    assert condition.evaluate(roundtrip).result is first


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(["f", "open", "eval", "exec", "__import__", "getattr", "x.y"]),
    args=st.lists(st.sampled_from(["1", "'a'", "x", "x.y"]), max_size=3),
)
def test_fuzz_calls_are_always_refused(name: str, args: list[str]) -> None:
    text = f"{name}({', '.join(args)}) == 1"
    with pytest.raises(ExpressionSyntaxError, match="function call"):
        parse_condition(text)


def test_length_limit_is_inclusive() -> None:
    text = "x > " + "1" * (MAX_EXPRESSION_LENGTH - 4)
    assert len(text) == MAX_EXPRESSION_LENGTH
    parse_condition(text)
    with pytest.raises(ExpressionSyntaxError, match="characters long"):
        parse_condition(text + "1")
