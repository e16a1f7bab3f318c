"""Scope injection into PromQL, the parser's round trip, and counter queries from query shapes."""

from __future__ import annotations

import promql_parser as pp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safeship.metrics import promql_scope
from safeship.metrics.promql_scope import (
    CounterShape,
    PromQLScopeError,
    counter_queries,
    histogram_quantile_of,
    parse_query,
    round_trips,
    scope_for_arm,
    scope_query,
)
from safeship.model.analysis import Arm
from safeship.model.canary import Scope

GUIDE_ERROR_RATE = (
    'sum(rate(http_requests_total{status=~"5.."}[2m])) / sum(rate(http_requests_total[2m]))'
)
GUIDE_LATENCY_P95 = (
    "histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket[2m])) by (le))"
)

CORPUS = [
    GUIDE_ERROR_RATE,
    GUIDE_LATENCY_P95,
    "histogram_quantile(0.99, sum by (le, route) "
    '(rate(http_request_duration_seconds_bucket{job="api"}[5m])))',
    'sum(increase(http_requests_total{code=~"5.."}[1h])) / sum(increase(http_requests_total[1h]))',
    "rate(http_requests_total[5m] offset 10m)",
    "rate(http_requests_total[5m] @ 1700000000)",
    "http_requests_total @ start()",
    "rate(http_requests_total[5m] @ end() offset -1m)",
    "sum without (instance, pod) (rate(http_requests_total[1m]))",
    "sum by (job) (rate(a_total[5m])) / on (job) group_left sum by (job) (rate(b_total[5m]))",
    "rate(a_total[5m]) / ignoring (code) group_right (team) rate(b_total[5m])",
    "max by (job) (avg_over_time(rate(http_requests_total[1m])[10m:30s]))",
    'topk(3, sum by (route) (rate(http_requests_total{method!="GET", route!~"/health.*"}[5m])))',
    "quantile(0.9, rate(cpu_seconds_total[5m]))",
    'count_values("version", build_info)',
    'label_replace(up, "host", "$1", "instance", "(.*):.*")',
    'absent(up{job="api"}) or vector(0)',
    'sum(rate(http_requests_total{version="v1", status="500"}[5m]))',
    "-sum(rate(x_total[5m])) + 2 * 3 ^ 2 % 5",
    "(sum(rate(a_total[5m])) > bool 0.5) and on () (sum(b) unless sum(c))",
    "clamp_min(sum(rate(errors_total[5m])), 0) / clamp_min(sum(rate(requests_total[5m])), 1e-9)",
    "1 - (sum(rate(good_total[5m])) / sum(rate(all_total[5m])))",
    "rate(http_requests_total[1h30m])",
    "sort_desc(sum by (code) (irate(http_requests_total[30s])))",
    "predict_linear(node_filesystem_free_bytes[1h], 4 * 3600) < 0",
    "time() - process_start_time_seconds",
    'scalar(sum(up{job="x"})) * 2',
    '{__name__=~"http_.*_total", job="x"}',
    "avg(up == 1)",
    "stddev_over_time(x[5m]) / 0x10",
    "x > Inf or x < -Inf or x != NaN",
    "rate(x[5m:1m] offset 1w)",
    "x @ 1.5",
    "x @ 1.2345",  # stored and printed in milliseconds, as Prometheus does
    'x{a="tab\\there"}',
]

# Constructs promql_parser 0.12 does not print back faithfully: scoping must refuse them.
NOT_ROUND_TRIPPING = [
    'x{a="q\\"uote"}',  # quotes are printed unescaped
    'x{status=~"5\\\\d\\\\d"}',  # backslashes are printed unescaped
    'label_replace(up, "host", "$1", "instance", "(.*):\\\\d+")',
    "max_over_time(up[1h:])",  # a default-step subquery prints as a range vector
    "rate(x[2s500ms])",  # sub-second parts of durations are dropped
    "x offset 1500ms",
]


def _selectors(query: str) -> list[pp.VectorSelector]:
    found: list[pp.VectorSelector] = []
    pp.walk(pp.parse(query), lambda n: found.append(n) if isinstance(n, pp.VectorSelector)
            else None)
    return found


def _matchers(selector: pp.VectorSelector) -> set[tuple[str, str, str]]:
    return {(str(m.op), m.name, m.value) for m in selector.matchers.matchers}


@pytest.mark.parametrize("query", CORPUS)
def test_corpus_round_trips(query: str) -> None:
    tree = parse_query(query)
    assert repr(pp.parse(str(tree))) == repr(tree)
    assert round_trips(query)


def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 17


@pytest.mark.parametrize("query", NOT_ROUND_TRIPPING)
def test_constructs_the_printer_gets_wrong_are_detected(query: str) -> None:
    assert not round_trips(query)
    with pytest.raises(PromQLScopeError):
        scope_query(query, "version", "canary")


@pytest.mark.parametrize("query", CORPUS)
def test_every_selector_gets_exactly_one_scope_matcher(query: str) -> None:
    scoped = scope_query(query, "version", "canary")
    before = _selectors(query)
    after = _selectors(scoped)
    assert len(after) == len(before) > 0
    for old, new in zip(before, after, strict=True):
        kept = {m for m in _matchers(old) if m[1] != "version"}
        assert _matchers(new) == kept | {(str(pp.MatchOp.Equal), "version", "canary")}
        assert old.name == new.name
        assert old.offset == new.offset
    assert round_trips(scoped)
    assert scope_query(scoped, "version", "canary") == scoped  # idempotent


@pytest.mark.parametrize("query", CORPUS)
def test_scoping_changes_nothing_but_the_matchers(query: str) -> None:
    # Scoping then removing the matcher again gives the original tree back.
    scoped = pp.parse(scope_query(query, "version", "canary"))

    def strip(node: pp.Expr) -> pp.Expr | None:
        if not isinstance(node, pp.VectorSelector):
            return None
        node.matchers = pp.Matchers([m for m in node.matchers.matchers
                                     if m.name != "version"])
        return pp.parse(str(node))

    original = pp.parse(query)
    unscoped_original = pp.transform(original, strip)
    assert repr(pp.transform(scoped, strip)) == repr(unscoped_original)


def test_guide_queries_scoped_exactly() -> None:
    assert scope_query(GUIDE_ERROR_RATE, "version", "canary") == (
        'sum(rate(http_requests_total{status=~"5..",version="canary"}[2m])) / '
        'sum(rate(http_requests_total{version="canary"}[2m]))'
    )
    assert scope_query(GUIDE_LATENCY_P95, "version", "baseline") == (
        "histogram_quantile(0.95, sum by (le)"
        '(rate(http_request_duration_seconds_bucket{version="baseline"}[2m])))'
    )


def test_scope_for_arm_uses_the_scope_label_and_values() -> None:
    scope = Scope(label="track", baseline="stable", canary="next")
    assert 'track="next"' in scope_for_arm("up", scope, Arm.CANARY)
    assert 'track="stable"' in scope_for_arm("up", scope, Arm.BASELINE)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("rate(x[5m] offset 10m)", 'rate(x{version="c"}[5m] offset 10m)'),
        ("x @ start()", 'x{version="c"} @ start()'),
        ("max_over_time(rate(x[1m])[10m:30s])", 'max_over_time(rate(x{version="c"}[1m])[10m:30s])'),
        ("a / on (le) b", 'a{version="c"} / on (le) b{version="c"}'),
        ('{__name__="up"}', '{__name__="up",version="c"}'),
        ('clamp_max(x{job="j"}, 1)', 'clamp_max(x{job="j",version="c"}, 1)'),
    ],
)
def test_injection_reaches_every_kind_of_selector(query: str, expected: str) -> None:
    assert scope_query(query, "version", "c") == expected


@pytest.mark.parametrize("existing", ['version="v1"', 'version!="x"', 'version=~"v.*"'])
def test_an_existing_scope_matcher_is_replaced_not_duplicated(existing: str) -> None:
    scoped = scope_query(f'sum(rate(x{{{existing}, job="a"}}[1m]))', "version", "canary")
    assert scoped == 'sum(rate(x{job="a",version="canary"}[1m]))'


@pytest.mark.parametrize(
    ("query", "label", "value", "needle"),
    [
        ("vector(1)", "version", "c", "selects no series"),
        ("1 + 2", "version", "c", "selects no series"),
        ("sum(rate(x[5m]", "version", "c", "not a valid PromQL"),
        ("x{a=`raw\\d`}", "version", "c", "not a valid PromQL"),  # parser bug: escapes
        ("holt_winters(x[5m], 0.5, 0.5)", "version", "c", "not a valid PromQL"),
        ('x{a="1" or b="2"}', "version", "c", "printer"),
        ("x", "version", 'a"b', "escape"),
        ("x", "version", "a\\b", "faithfully"),
        ("x", "version", "a\nb", "escape"),
        ("x", "bad-label", "c", "label name"),
        ("x", "__name__", "c", "label name"),
    ],
)
def test_unsupported_input_fails_closed(query: str, label: str, value: str,
                                        needle: str) -> None:
    with pytest.raises(PromQLScopeError, match=needle):
        scope_query(query, label, value)


def test_scope_error_is_a_value_error() -> None:
    assert issubclass(PromQLScopeError, ValueError)


_SAFE_VALUES = st.text(
    alphabet=st.characters(exclude_characters='"\\\n\r', exclude_categories=["Cs"]),
    max_size=20,
)


@settings(max_examples=200, deadline=None)
@given(value=_SAFE_VALUES)
def test_any_plain_label_value_is_injected_verbatim(value: str) -> None:
    scoped = scope_query(GUIDE_ERROR_RATE, "version", value)
    for selector in _selectors(scoped):
        assert [m.value for m in selector.matchers.matchers if m.name == "version"] == [value]


@settings(max_examples=200, deadline=None)
@given(value=st.text(max_size=12))
def test_any_label_value_is_injected_verbatim_or_refused(value: str) -> None:
    try:
        scoped = scope_query("rate(x[1m]) / y", "version", value)
    except PromQLScopeError:
        return
    for selector in _selectors(scoped):
        assert [m.value for m in selector.matchers.matchers if m.name == "version"] == [value]


# --- counter queries ---------------------------------------------------------------------------


def test_error_ratio_counter_queries_read_the_cumulative_counters() -> None:
    found = counter_queries(GUIDE_ERROR_RATE)
    assert found is not None
    assert found.shape is CounterShape.ERROR_RATIO
    assert found.errors == 'sum (http_requests_total{status=~"5.."})'
    assert found.requests == "sum (http_requests_total{})"
    assert found.same_metric
    assert found.buckets is None


def test_histogram_counter_queries_read_the_cumulative_buckets() -> None:
    found = counter_queries(GUIDE_LATENCY_P95)
    assert found is not None
    assert found.shape is CounterShape.LATENCY_HISTOGRAM
    assert found.buckets == "sum by (le) (http_request_duration_seconds_bucket{})"
    assert found.quantile == 0.95


def test_counter_queries_accept_increase_parentheses_and_keep_offsets() -> None:
    found = counter_queries(
        '(sum(increase(errors_total{job="a"}[5m] offset 1m)) / (sum(rate(requests_total[5m]))))'
    )
    assert found is not None
    assert found.errors == 'sum (errors_total{job="a"} offset 1m)'
    assert found.requests == "sum (requests_total{})"
    assert not found.same_metric


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("sum(rate(e[5m] @ 1700000000)) / sum(rate(t[5m]))", "sum (e{} @ 1700000000.000)"),
        ("sum(rate(e[5m] @ end() offset -1m)) / sum(rate(t[5m]))",
         "sum (e{} @ end() offset -1m)"),
        ('sum(rate({__name__="e", a!~"x|y"}[1m])) / sum(rate(t[1m]))',
         'sum ({__name__="e",a!~"x|y"})'),
    ],
)
def test_counter_queries_keep_the_selector_exactly(query: str, errors: str) -> None:
    found = counter_queries(query)
    assert found is not None
    assert found.errors == errors
    # The counter query re-parses to a sum over the very selector of the original query.
    original = pp.parse(query)
    assert isinstance(original, pp.BinaryExpr)
    lhs = original.lhs
    assert isinstance(lhs, pp.AggregateExpr)
    call = lhs.expr
    assert isinstance(call, pp.Call)
    counter = pp.parse(errors)
    assert isinstance(counter, pp.AggregateExpr)
    assert repr(counter.expr) == repr(call.args[0].vector_selector)


def test_counter_queries_can_be_scoped() -> None:
    found = counter_queries(GUIDE_ERROR_RATE)
    assert found is not None
    assert found.errors is not None
    assert found.buckets is None
    assert scope_query(found.errors, "version", "canary") == (
        'sum(http_requests_total{status=~"5..",version="canary"})'
    )
    histogram = counter_queries(GUIDE_LATENCY_P95)
    assert histogram is not None
    assert histogram.buckets is not None
    assert scope_query(histogram.buckets, "version", "canary") == (
        'sum by (le)(http_request_duration_seconds_bucket{version="canary"})'
    )


@pytest.mark.parametrize(
    "query",
    [
        "sum by (route) (rate(a[5m])) / sum(rate(b[5m]))",
        "avg(rate(a[5m])) / sum(rate(b[5m]))",
        "sum(rate(a[5m])) * sum(rate(b[5m]))",
        "sum(rate(a[5m])) / on () sum(rate(b[5m]))",
        "sum(irate(a[5m])) / sum(rate(b[5m]))",
        "sum(rate(a[5m])) / 2",
        "rate(a[5m])",
        "histogram_quantile(0.9, sum by (le, route) (rate(b_bucket[5m])))",
        "histogram_quantile(0.9, rate(b_bucket[5m]))",
        "histogram_quantile(scalar(x), sum by (le) (rate(b_bucket[5m])))",
        "not promql ((",
        "error_rate / (1 - 0.999)",
    ],
)
def test_unrecognised_shapes_give_none(query: str) -> None:
    assert counter_queries(query) is None


@pytest.mark.parametrize(
    ("printed", "parsed"),
    [("http_requests_total", "other_total"), ("sum (", "max ("), ("sum (", "sum by (le) (")],
)
def test_an_unfaithful_counter_query_fails_closed(monkeypatch: pytest.MonkeyPatch, printed: str,
                                                  parsed: str) -> None:
    # If the printed counter query parsed back to something else, it must be refused.
    real_parse = promql_scope.parse_query

    def drifting(query: str) -> pp.Expr:
        return real_parse(query.replace(printed, parsed))

    monkeypatch.setattr(promql_scope, "parse_query", drifting)
    with pytest.raises(PromQLScopeError, match="faithful counter query"):
        promql_scope._cumulative_text(_error_matrix(), [])


def _error_matrix() -> pp.MatrixSelector:
    tree = pp.parse(GUIDE_ERROR_RATE)
    assert isinstance(tree, pp.BinaryExpr)
    assert isinstance(tree.lhs, pp.AggregateExpr)
    call = tree.lhs.expr
    assert isinstance(call, pp.Call)
    matrix = call.args[0]
    assert isinstance(matrix, pp.MatrixSelector)
    return matrix


def test_histogram_quantile_of() -> None:
    assert histogram_quantile_of(GUIDE_LATENCY_P95) == 0.95
    assert histogram_quantile_of(GUIDE_ERROR_RATE) is None
    assert histogram_quantile_of("((") is None
