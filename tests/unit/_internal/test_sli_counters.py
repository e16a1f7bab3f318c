"""SLI counter expressions: the accepted language, wrapping over a window, Sloth templates."""

from __future__ import annotations

from datetime import timedelta

import promql_parser as pp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safeship._internal.promql_roundtrip import (
    PromQLTextError,
    parse_faithful,
    selector_text,
    vector_selectors,
)
from safeship._internal.sli_counters import (
    CounterExpressionError,
    check_counter_expression,
    prometheus_range,
    unwrap_window_template,
    wrap_counters,
)


@pytest.mark.parametrize(("text", "function", "window_s", "expected"), [
    ('sum(http_requests_total{job="shop",code!~"5.."})', "rate", 300,
     'sum(rate(http_requests_total{job="shop",code!~"5.."}[5m]))'),
    ("sum(x)", "increase", 30 * 86400, "sum(increase(x[30d]))"),
    ("sum by (route) (x)", "rate", 3600, "sum by (route) (rate(x[1h]))"),
    ("sum(a) + sum(b)", "rate", 21600, "sum(rate(a[6h])) + sum(rate(b[6h]))"),
    ("sum(x) or vector(0)", "rate", 300, "sum(rate(x[5m])) or vector(0)"),
    ('2 * sum(x{a="1"}) / 3', "rate", 300, '2 * sum(rate(x{a="1"}[5m])) / 3'),
    ("(sum(x))", "rate", 300, "(sum(rate(x[5m])))"),
    ("sum(a - b)", "rate", 1800, "sum(rate(a[30m]) - rate(b[30m]))"),
    ("sum(a or b unless c)", "rate", 300,
     "sum(rate(a[5m]) or rate(b[5m]) unless rate(c[5m]))"),
    ('sum(label_replace(x, "a", "$1", "b", "(.*)"))', "rate", 300,
     'sum(label_replace(rate(x[5m]), "a", "$1", "b", "(.*)"))'),
    ("sum(x) + on () group_left () sum(y)", "rate", 300,
     "sum(rate(x[5m])) + on () group_left () sum(rate(y[5m]))"),
    ("sum(sum by (a) (x))", "rate", 36 * 3600, "sum(sum by (a) (rate(x[1d12h])))"),
    ("sum(x) / (60 * 60)", "rate", 300, "sum(rate(x[5m])) / (60 * 60)"),
    ("sum(x or vector(0))", "rate", 300, "sum(rate(x[5m]) or vector(0))"),
])
def test_wrapping_puts_every_selector_in_the_function(text: str, function: str,
                                                      window_s: float, expected: str) -> None:
    wrapped = wrap_counters(text, function, window_s)  # type: ignore[arg-type]
    assert wrapped == expected
    # What came out is PromQL whose every selector sits in function(...[window]).
    tree = pp.parse(wrapped)
    calls: list[pp.Call] = []
    pp.walk(tree, lambda n: calls.append(n) if isinstance(n, pp.Call)
            and n.func.name == function else None)
    assert len(calls) == len(vector_selectors(pp.parse(text)))
    assert all(c.args[0].range == timedelta(seconds=window_s) for c in calls)


@pytest.mark.parametrize(("text", "grouping"), [
    ("sum(x)", frozenset()),
    ("sum by (route, code) (x)", frozenset({"route", "code"})),
    ("sum by (a) (x) + sum by (a) (y)", frozenset({"a"})),
    ("sum by (a) (x) or vector(0)", frozenset({"a"})),
    ("3 * sum by (a) (x)", frozenset({"a"})),
])
def test_the_result_labels_are_those_of_the_outer_sum(text: str,
                                                      grouping: frozenset[str]) -> None:
    checked = check_counter_expression(f"  {text} ")
    assert checked.grouping == grouping
    assert checked.text == text


@pytest.mark.parametrize(("text", "fragment"), [
    ("", "empty"),
    ("sum(x{", "not valid PromQL"),
    ("rate(x[5m])", "remove rate()"),
    ("sum(rate(x[5m]))", "remove rate()"),
    ("sum(increase(x[1h]))", "remove increase()"),
    ("sum(avg_over_time(x[1h]))", "remove avg_over_time()"),
    ("x", "bare selector"),
    ("max(x)", "'max' is not allowed"),
    ("sum(count(x))", "'count' is not allowed"),
    ("sum(x) * sum(y)", "must be a sum of counters"),
    ("sum(x * y)", "'*' between series"),
    ("sum(x offset 5m)", "'offset' and '@'"),
    ("sum(x @ 100)", "'offset' and '@'"),
    ("sum by (a) (x) + sum(y)", "same labels"),
    ("sum without (a) (x)", "sum without"),
    ("sum(abs(x))", "abs() is not allowed"),
    ("sum(x) > 1", "must be a sum of counters"),
    ("sum(x > 1)", "'>' between series"),
    ("sum(x + 1)", "a number (1) is not allowed"),
    ("1 / sum(x)", "must be a sum of counters"),
    ("sum(-x)", "unary minus"),
    ("sum(x) + sum(y > bool 1)", "'>' between series"),
    ("sum(a + bool b)", "not valid PromQL"),
    ('sum(x{a="q\\"x"})', "printer cannot reproduce"),
    ("vector(1)", "must be a sum of counters"),
    ("1", "a number"),
    ("sum(vector(1))", "selects no series"),
])
def test_what_would_change_meaning_is_refused_with_a_reason(text: str, fragment: str) -> None:
    with pytest.raises(CounterExpressionError, match=None) as caught:
        check_counter_expression(text)
    assert fragment in str(caught.value)
    with pytest.raises(CounterExpressionError):
        wrap_counters(text, "rate", 300)


def test_only_rate_and_increase_wrap_and_windows_are_whole_seconds() -> None:
    with pytest.raises(CounterExpressionError, match="cannot wrap"):
        wrap_counters("sum(x)", "irate", 300)  # type: ignore[arg-type]
    for bad in (0, 0.5, 90.5, -60):
        with pytest.raises(CounterExpressionError, match="whole number of seconds"):
            prometheus_range(bad)
    assert [prometheus_range(s) for s in (1, 300, 5400, 86400, 2419200)] == [
        "1s", "5m", "1h30m", "1d", "28d"]


@pytest.mark.parametrize(("query", "expected"), [
    ("sum(rate(x[{{.window}}]))", "sum(x)"),
    ('sum(rate(http_requests_total{code=~"5.."}[{{ .window }}]))',
     'sum(http_requests_total{code=~"5.."})'),
    ("sum(increase(a[{{.window}}])) + sum(rate(b[{{.window}}]))", "sum(a) + sum(b)"),
    ("sum by (route) (x)", "sum by (route) (x)"),
    ("sum(x) + sum(rate(y[{{.window}}]))", "sum(x) + sum(y)"),
])
def test_sloth_window_templates_become_counter_expressions(query: str, expected: str) -> None:
    assert unwrap_window_template(query) == expected


@pytest.mark.parametrize(("query", "fragment"), [
    ("sum(avg_over_time(x[{{.window}}]))", "avg_over_time() is not allowed"),
    ("sum(rate(x[{{.window}}])) / sum(rate(y[5m]))", "rate() is not allowed"),
    ("max(rate(x[{{.window}}]))", "'max' is not allowed"),
    ("sum(rate(x[7777777s])) + sum(rate(y[{{.window}}]))", "already uses the range"),
])
def test_templates_used_otherwise_are_refused(query: str, fragment: str) -> None:
    with pytest.raises(CounterExpressionError) as caught:
        unwrap_window_template(query)
    assert fragment in str(caught.value)


def test_round_trip_check_and_selector_printing() -> None:
    with pytest.raises(PromQLTextError, match="not valid PromQL"):
        parse_faithful("sum(")
    with pytest.raises(PromQLTextError, match="printer"):
        parse_faithful('x{a="q\\"x"}')
    # A default-step subquery prints as a range vector: refused, not silently changed.
    with pytest.raises(PromQLTextError, match="changes the meaning"):
        parse_faithful("max_over_time(x[1h:])")
    tree = parse_faithful('sum(x) + y{a="1"}')
    assert [selector_text(s) for s in vector_selectors(tree)] == ["x", 'y{a="1"}']


_names = st.sampled_from(["http_requests_total", "errors_total", "a", "b_c"])
_matchers = st.lists(
    st.tuples(st.sampled_from(["job", "code", "route"]), st.sampled_from(["=", "!=", "=~", "!~"]),
              st.sampled_from(["shop", "5..", "/checkout", "2xx|3xx"])),
    max_size=3, unique_by=lambda m: m[0])


@st.composite
def _selectors(draw: st.DrawFn) -> str:
    matchers = ",".join(f'{k}{op}"{v}"' for k, op, v in draw(_matchers))
    return f"{draw(_names)}{{{matchers}}}" if matchers else draw(_names)


@st.composite
def _inner(draw: st.DrawFn, depth: int = 0) -> str:
    if depth >= 2 or draw(st.booleans()):
        return draw(_selectors())
    left, right = draw(_inner(depth + 1)), draw(_inner(depth + 1))
    return draw(st.sampled_from([f"{left} + {right}", f"{left} - {right}", f"({left})",
                                 f"sum({left})", f"2 * {left}", f"{left} or {right}"]))


@settings(max_examples=60, deadline=None)
@given(inner=_inner(), window=st.sampled_from([300, 1800, 3600, 86400, 2592000]))
def test_any_linear_sum_wraps_faithfully(inner: str, window: int) -> None:
    text = f"sum({inner})"
    wrapped = wrap_counters(text, "rate", window)
    tree = pp.parse(wrapped)
    matrices: list[pp.MatrixSelector] = []
    pp.walk(tree, lambda n: matrices.append(n) if isinstance(n, pp.MatrixSelector) else None)
    original = vector_selectors(pp.parse(text))
    # Same selectors, same order, each one wrapped over the window; nothing else added.
    assert [repr(m.vector_selector) for m in matrices] == [repr(s) for s in original]
    assert {m.range for m in matrices} == {timedelta(seconds=window)}
    assert wrapped.count("rate(") == len(original)
