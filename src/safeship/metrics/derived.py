"""Values computed from other values: derived metrics, and per-interval counter deltas.

A *derived* metric's ``query`` is an arithmetic expression over other metrics of the same file,
like the guide's ``slo_burn_rate: (error_rate / (1 - 0.999))``. Providers never see it:
:func:`fetch_all` queries the other metrics and :func:`evaluate` computes it point by point.

Expressions are parsed with :mod:`ast` and only numbers, metric names, ``+ - * / ** %``, unary
minus (and plus) and parentheses are accepted; nothing is ever passed to ``eval``. Arithmetic
never raises on data: division or modulo by zero, a negative number to a fractional power and
an overflowing power give NaN, and NaN propagates. ``%`` is ``math.fmod`` (the sign follows
the dividend, as in PromQL), not Python's floor modulo.

Series are aligned by timestamp (to the millisecond): the result has a point at every timestamp
any input has, NaN where an input has none.

:func:`counter_deltas` turns cumulative counter samples into per-interval increases, handling a
counter reset the way Prometheus' ``increase`` does; the ``file``, ``builtin`` and
``prometheus`` providers use it.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from safeship.metrics.interface import MetricsProvider, TimeRange
from safeship.model.analysis import Arm, Series
from safeship.model.canary import CanaryMetric, CanarySpec

NAN = math.nan

Evaluator = Callable[[Mapping[str, float]], float]


class ExpressionError(ValueError):
    """A derived metric's expression is not plain arithmetic over metric names."""


def _div(left: float, right: float) -> float:
    return NAN if right == 0 else left / right


def _mod(left: float, right: float) -> float:
    return NAN if right == 0 else math.fmod(left, right)


def _pow(left: float, right: float) -> float:
    try:
        return math.pow(left, right)
    except (ValueError, OverflowError):  # (-8) ** 0.5, 10 ** 1000
        return NAN


_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: _div,
    ast.Mod: _mod,
    ast.Pow: _pow,
}


@dataclass(frozen=True)
class Expression:
    """A compiled derived-metric expression; call :meth:`value` with one value per name."""

    text: str
    names: tuple[str, ...]
    _run: Evaluator

    def value(self, values: Mapping[str, float]) -> float:
        """The expression at one point; NaN when any input is NaN or the arithmetic is not."""
        return self._run(values)


def compile_expression(text: str) -> Expression:
    """Parse ``text`` into an :class:`Expression`; :class:`ExpressionError` if not arithmetic."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"'{text}' is not an arithmetic expression: {exc.msg}") from exc
    names: list[str] = []
    run = _compile(tree.body, text, names)
    return Expression(text, tuple(dict.fromkeys(names)), run)


def _compile(node: ast.expr, text: str, names: list[str]) -> Evaluator:
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ExpressionError(f"'{text}': only numbers are allowed, not {value!r}")
        number = float(value)
        return lambda _values: number
    if isinstance(node, ast.Name):
        name = node.id
        names.append(name)
        return lambda values: float(values[name])
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = _compile(node.operand, text, names)
        if isinstance(node.op, ast.USub):
            return lambda values: -operand(values)
        return operand
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        apply = _BINARY[type(node.op)]
        left = _compile(node.left, text, names)
        right = _compile(node.right, text, names)
        return lambda values: apply(left(values), right(values))
    raise ExpressionError(
        f"'{text}': '{ast.unparse(node)}' is not allowed; use numbers, metric names, "
        "+ - * / ** % and parentheses"
    )


def _key(timestamp: float) -> int:
    return round(timestamp * 1000)


def evaluate(expression: str | Expression, inputs: Mapping[str, Series]) -> Series:
    """``expression`` point by point over ``inputs`` (one series per metric name it uses)."""
    compiled = expression if isinstance(expression, Expression) else compile_expression(
        expression)
    missing = [name for name in compiled.names if name not in inputs]
    if missing:
        raise ExpressionError(
            f"'{compiled.text}' uses {', '.join(missing)}, which is not among the metrics "
            f"({', '.join(sorted(inputs)) or 'none'})"
        )
    by_time: dict[str, dict[int, float]] = {}
    stamps: dict[int, float] = {}
    for name in compiled.names:
        series = inputs[name]
        points: dict[int, float] = {}
        for timestamp, value in zip(series.timestamps, series.values, strict=True):
            key = _key(timestamp)
            points[key] = value
            stamps.setdefault(key, timestamp)
        by_time[name] = points
    if not compiled.names:  # a constant: nothing to align to
        return Series()
    timestamps = tuple(stamps[key] for key in sorted(stamps))
    values = []
    for key in sorted(stamps):
        point = {name: by_time[name].get(key, NAN) for name in compiled.names}
        if any(math.isnan(value) for value in point.values()):
            values.append(NAN)
        else:
            values.append(compiled.value(point))
    return Series(timestamps, tuple(values))


def evaluation_order(metrics: Sequence[CanaryMetric]) -> list[CanaryMetric]:
    """Derived metrics in an order where each comes after every metric it depends on."""
    by_name = {metric.name: metric for metric in metrics}
    ordered: list[CanaryMetric] = []
    state: dict[str, str] = {}

    def visit(metric: CanaryMetric, path: tuple[str, ...]) -> None:
        seen = state.get(metric.name)
        if seen == "done":
            return
        if seen == "visiting":
            cycle = " -> ".join((*path, metric.name))
            raise ExpressionError(f"derived metrics depend on each other in a cycle: {cycle}")
        state[metric.name] = "visiting"
        for name in metric.derived_from:
            dependency = by_name.get(name)
            if dependency is None:
                raise ExpressionError(
                    f"derived metric '{metric.name}' uses '{name}', which is not a metric here"
                )
            if dependency.is_derived:
                visit(dependency, (*path, metric.name))
        state[metric.name] = "done"
        ordered.append(metric)

    for metric in metrics:
        if metric.is_derived:
            visit(metric, ())
    return ordered


def fetch_all(provider: MetricsProvider, spec: CanarySpec, arm: Arm,
              window: TimeRange) -> dict[str, Series]:
    """Every metric of ``spec`` for ``arm``: the provider's answer, or computed if derived.

    Provider errors propagate: a metric that cannot be read is never silently left out.
    """
    order = evaluation_order(spec.metrics)  # validate the graph before any query is sent
    results: dict[str, Series] = {}
    for metric in spec.metrics:
        if not metric.is_derived:
            results[metric.name] = provider.query_range(metric, arm, spec.scope, window)
    for metric in order:
        expression = compile_expression(metric.query)
        inputs = {name: results[name] for name in expression.names if name in results}
        results[metric.name] = evaluate(expression, inputs)
    return {metric.name: results[metric.name] for metric in spec.metrics}


def counter_deltas(values: Iterable[float]) -> list[float]:
    """Per-interval increases of cumulative counter samples (one fewer than the samples).

    A value lower than the one before is a counter reset (the process restarted and counted
    from zero), so the increase over that interval is the new value itself, as in Prometheus'
    ``increase``. A NaN sample makes both intervals around it NaN. Unlike ``increase`` there is
    no extrapolation: the samples are the interval boundaries.
    """
    deltas: list[float] = []
    previous: float | None = None
    for value in values:
        if previous is not None:
            if math.isnan(previous) or math.isnan(value):
                deltas.append(NAN)
            elif value < previous:
                deltas.append(value)
            else:
                deltas.append(value - previous)
        previous = value
    return deltas
