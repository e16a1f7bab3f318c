"""Derived metrics: safe arithmetic over other metrics, alignment, NaN, order; counter deltas."""

from __future__ import annotations

import ast
import builtins
import math
from typing import Any

import pytest

from safeship.metrics.derived import (
    ExpressionError,
    compile_expression,
    counter_deltas,
    evaluate,
    evaluation_order,
    fetch_all,
)
from safeship.metrics.interface import MetricsProvider, TimeRange
from safeship.model.analysis import Arm, Series
from safeship.model.canary import CanaryMetric, CanarySpec, CanaryStep, Scope

NAN = math.nan


def _same(actual: tuple[float, ...], expected: list[float]) -> bool:
    return len(actual) == len(expected) and all(
        (math.isnan(a) and math.isnan(e)) or a == pytest.approx(e)
        for a, e in zip(actual, expected, strict=True)
    )


def test_guide_slo_burn_rate() -> None:
    error_rate = Series((10.0, 20.0, 30.0, 40.0), (0.001, 0.0025, NAN, 0.0))
    burn = evaluate("(error_rate / (1 - 0.999))", {"error_rate": error_rate})
    assert burn.timestamps == (10.0, 20.0, 30.0, 40.0)
    assert _same(burn.values, [1.0, 2.5, NAN, 0.0])


def test_series_are_aligned_by_timestamp_and_gaps_are_nan() -> None:
    a = Series((1.0, 2.0, 3.0), (1.0, 2.0, 3.0))
    b = Series((2.0, 3.0, 4.0), (10.0, 20.0, 30.0))
    result = evaluate("a + b", {"a": a, "b": b})
    assert result.timestamps == (1.0, 2.0, 3.0, 4.0)
    assert _same(result.values, [NAN, 12.0, 23.0, NAN])


def test_timestamps_match_to_the_millisecond() -> None:
    a = Series((1.0000001,), (1.0,))
    b = Series((1.0,), (2.0,))
    assert _same(evaluate("a * b", {"a": a, "b": b}).values, [2.0])


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("x / 0", NAN),
        ("x / (x - x)", NAN),
        ("x % 0", NAN),
        ("-x % 3", -1.0),  # fmod: the sign follows the dividend, as in PromQL
        ("(-x) ** 0.5", NAN),
        ("10 ** 1000", NAN),
        ("x ** 2", 49.0),
        ("-x + +x * 2", 7.0),
        ("2 ** -1", 0.5),
        ("1e-3 * 1000", 1.0),
    ],
)
def test_arithmetic_never_raises_on_data(expression: str, expected: float) -> None:
    value = evaluate(expression if "x" in expression else f"{expression} + x - x",
                     {"x": Series((1.0,), (7.0,))}).values[0]
    assert (math.isnan(value) and math.isnan(expected)) or value == pytest.approx(expected)


def test_nan_propagates_through_every_operator() -> None:
    series = {"a": Series((1.0,), (NAN,)), "b": Series((1.0,), (2.0,))}
    for expression in ("a + b", "b - a", "a * 0", "0 ** a", "b / a", "a % b", "-a"):
        assert math.isnan(evaluate(expression, series).values[0]), expression


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os').system('true')",
        "error_rate.real",
        "error_rate[0]",
        "error_rate > 1",
        "abs(error_rate)",
        "'text'",
        "True + error_rate",
        "lambda: 1",
        "error_rate if 1 else 2",
        "error_rate // 2",
        "error_rate << 1",
        "not error_rate",
        "[error_rate]",
        "1j * error_rate",
        "error_rate +",
    ],
)
def test_anything_but_arithmetic_is_refused(expression: str) -> None:
    with pytest.raises(ExpressionError):
        compile_expression(expression)


def test_evaluation_never_uses_eval(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_compile = builtins.compile

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        calls.append("eval/exec")
        raise AssertionError("eval/exec must not be used")

    def parse_only(source: Any, filename: Any, mode: str, flags: int = 0, *args: Any,
                   **kwargs: Any) -> Any:
        # ast.parse compiles to a syntax tree only; compiling to code is what must not happen.
        if not flags & ast.PyCF_ONLY_AST:
            calls.append("compile")
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(builtins, "eval", forbidden)
        patch.setattr(builtins, "exec", forbidden)
        patch.setattr(builtins, "compile", parse_only)
        result = evaluate("(error_rate / (1 - 0.999))",
                          {"error_rate": Series((1.0,), (0.002,))})
    assert calls == []
    assert result.values[0] == pytest.approx(2.0)


def test_expression_names_and_missing_inputs() -> None:
    assert compile_expression("a * b + a").names == ("a", "b")
    with pytest.raises(ExpressionError, match="uses b"):
        evaluate("a * b", {"a": Series((1.0,), (1.0,))})


# --- fetch_all ---------------------------------------------------------------------------------


class RecordingProvider(MetricsProvider):
    type_name = "recording"

    def __init__(self, values: dict[str, float]) -> None:
        self.values = values
        self.asked: list[tuple[str, Arm]] = []

    def query_range(self, metric: CanaryMetric, arm: Arm, scope: Scope,
                    window: TimeRange) -> Series:
        assert not metric.is_derived, "a derived metric reached the provider"
        self.asked.append((metric.name, arm))
        return Series((window.start, window.end), (self.values[metric.name],) * 2)


def _spec(*metrics: CanaryMetric) -> CanarySpec:
    return CanarySpec("test.yaml", "t", (CanaryStep(10, 60),), metrics)


def test_fetch_all_computes_derived_metrics_in_dependency_order() -> None:
    spec = _spec(
        CanaryMetric("score", "burn * 2 + base", derived_from=("burn", "base")),
        CanaryMetric("burn", "(error_rate / (1 - 0.999))", derived_from=("error_rate",)),
        CanaryMetric("error_rate", "sum(rate(e[1m])) / sum(rate(t[1m]))"),
        CanaryMetric("base", "up"),
    )
    provider = RecordingProvider({"error_rate": 0.002, "base": 1.0})
    result = fetch_all(provider, spec, Arm.CANARY, TimeRange(0, 60, 60))
    assert list(result) == ["score", "burn", "error_rate", "base"]
    assert sorted(provider.asked) == [("base", Arm.CANARY), ("error_rate", Arm.CANARY)]
    assert result["burn"].values == pytest.approx((2.0, 2.0))
    assert result["score"].values == pytest.approx((5.0, 5.0))


def test_evaluation_order_detects_cycles_and_unknown_names() -> None:
    cycle = [CanaryMetric("a", "b + 1", derived_from=("b",)),
             CanaryMetric("b", "a + 1", derived_from=("a",))]
    with pytest.raises(ExpressionError, match="cycle"):
        evaluation_order(cycle)
    with pytest.raises(ExpressionError, match="not a metric"):
        evaluation_order([CanaryMetric("a", "zz + 1", derived_from=("zz",))])
    chain = [CanaryMetric("c", "b", derived_from=("b",)),
             CanaryMetric("b", "a", derived_from=("a",)), CanaryMetric("a", "up")]
    assert [m.name for m in evaluation_order(chain)] == ["b", "c"]


def test_provider_errors_propagate() -> None:
    spec = _spec(CanaryMetric("error_rate", "x"))
    with pytest.raises(KeyError):
        fetch_all(RecordingProvider({}), spec, Arm.BASELINE, TimeRange(0, 1, 1))


# --- counter deltas ----------------------------------------------------------------------------


def test_counter_deltas() -> None:
    assert counter_deltas([]) == []
    assert counter_deltas([5.0]) == []
    assert counter_deltas([0.0, 10.0, 25.0, 25.0]) == [10.0, 15.0, 0.0]


def test_counter_reset_counts_like_prometheus_increase() -> None:
    # 100 -> 130, restart, 20 -> 50: the reset interval contributes the new value (20).
    assert counter_deltas([100.0, 130.0, 20.0, 50.0]) == [30.0, 20.0, 30.0]
    assert counter_deltas([10.0, 0.0]) == [0.0]


def test_counter_nan_sample_spoils_both_neighbouring_intervals() -> None:
    assert _same(tuple(counter_deltas([1.0, NAN, 5.0, 6.0])), [NAN, NAN, 1.0])
