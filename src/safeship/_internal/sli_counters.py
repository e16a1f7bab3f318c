"""SLI counter expressions: check that they are rate-less sums, and wrap them over a window.

An SLO's indicator is written as plain counter expressions
(``sum(http_requests_total{code!~"5.."})``) and safeship puts ``rate(...[w])`` or
``increase(...[w])`` around **every vector selector** itself, once per window of the alerting
policy. That is only faithful when the expression is *linear* in its counters:
``rate(a + b) = rate(a) + rate(b)``, ``rate(2 * a) = 2 * rate(a)``, the ``sum`` of rates is the
rate of the sum, but ``max``, ``abs`` or ``a * b`` of rates are not what the user meant. So the
accepted language is small and checked on the parsed tree:

* the outermost operation is ``sum(...)`` or ``sum by (labels) (...)`` (so good and total have
  known result labels that can be matched); several such sums may be combined with ``+``, ``-``,
  ``or``, multiplied or divided by a number, and ``or vector(0)`` may stand in for a missing
  series;
* inside: vector selectors, ``sum`` (any grouping), ``+``, ``-``, ``or``, ``and``, ``unless``
  (with ``on``/``ignoring`` if needed), multiplication or division by a number literal,
  ``label_replace`` / ``label_join``, ``vector(N)`` and parentheses;
* refused, with a message that says why: ``rate``/``increase``/``irate`` or any range
  ``[5m]`` or subquery (safeship adds the range), ``offset`` and ``@`` (an SLO measures the
  present), comparisons, unary minus, other functions and aggregations, and an expression
  with no selector at all.

Wrapping prints the tree back with a small printer for exactly that language (``promql_parser``'s
``transform`` crashes the interpreter when a selector is replaced by a call inside a binary
expression), then fails closed: the output is parsed again and must contain the original
selectors, each inside ``rate``/``increase`` over the window, and nothing else changed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, NoReturn

import promql_parser as pp

from safeship._internal.durations import format_duration
from safeship._internal.promql_roundtrip import (
    PromQLTextError,
    parse_faithful,
    selector_text,
    vector_selectors,
)

WrapFunction = Literal["rate", "increase"]

_RANGE_FUNCTIONS = frozenset({
    "rate", "increase", "irate", "delta", "idelta", "deriv", "resets", "changes",
    "predict_linear", "holt_winters", "double_exponential_smoothing",
})
_LABEL_FUNCTIONS = frozenset({"label_replace", "label_join"})
_SET_OPERATORS = frozenset({"or", "and", "unless"})
_WINDOW_TEMPLATE = re.compile(r"\{\{\s*\.window\s*\}\}")
# A range no person writes, standing in for Sloth's {{.window}} while the text is parsed.
_TEMPLATE_SECONDS = 7_777_777


class CounterExpressionError(PromQLTextError):
    """The text is not a rate-less counter expression safeship can wrap faithfully."""


@dataclass(frozen=True)
class CounterExpression:
    """A checked SLI counter expression."""

    text: str
    grouping: frozenset[str]
    """The labels its result carries: the ``by`` labels of its outer ``sum`` (empty for
    ``sum(...)``). Good (or bad) and total must agree on them, or their division matches
    nothing."""
    selectors: int
    """How many vector selectors it reads (each gets wrapped)."""


def check_counter_expression(text: str) -> CounterExpression:
    """Check ``text`` against the accepted language (module docstring) and describe it.

    Raises :class:`CounterExpressionError` naming the offending construct.
    """
    if not text.strip():
        raise CounterExpressionError("the expression is empty")
    try:
        tree = parse_faithful(text)
    except PromQLTextError as exc:
        raise CounterExpressionError(str(exc)) from exc
    grouping = _outer(tree)
    count = len(vector_selectors(tree))
    if count == 0:
        raise CounterExpressionError("the expression selects no series: it counts nothing")
    return CounterExpression(text.strip(), grouping, count)


def prometheus_range(window_s: float) -> str:
    """``window_s`` as a PromQL range (``300`` -> ``5m``, ``2592000`` -> ``30d``).

    Raises :class:`CounterExpressionError` for a window that is not a whole, positive number of
    seconds (PromQL ranges below a second would be printed wrongly by the parser).
    """
    if window_s < 1 or window_s != int(window_s):
        raise CounterExpressionError(
            f"a window must be a whole number of seconds, at least 1s (got {window_s}s)")
    return format_duration(window_s)


def wrap_counters(text: str, function: WrapFunction, window_s: float) -> str:
    """``text`` with every vector selector ``s`` replaced by ``function(s[window])``.

    ``wrap_counters('sum(x{a="1"})', "rate", 300)`` gives ``'sum(rate(x{a="1"}[5m]))'``.
    Raises :class:`CounterExpressionError` when ``text`` is not an accepted counter
    expression, or the result could not be checked to mean exactly that.
    """
    if function not in ("rate", "increase"):
        raise CounterExpressionError(f"cannot wrap counters in {function}()")
    checked = check_counter_expression(text)
    window = prometheus_range(window_s)
    tree = parse_faithful(checked.text)

    def wrap(node: pp.Expr) -> str | None:
        if isinstance(node, pp.VectorSelector):
            return f"{function}({selector_text(node)}[{window}])"
        return None

    wrapped = _render(tree, wrap)
    _verify_wrapped(tree, wrapped, function, window_s, checked.selectors)
    return wrapped


def unwrap_window_template(text: str) -> str:
    """A Sloth-style query (``sum(rate(x[{{.window}}]))``) as a rate-less counter expression.

    Every ``rate(s[{{.window}}])`` / ``increase(s[{{.window}}])`` becomes ``s``; text without
    the template is returned unchanged. Raises :class:`CounterExpressionError` when the
    template is used anywhere else, or the result is not an accepted counter expression.
    """
    if not _WINDOW_TEMPLATE.search(text):
        return text
    placeholder = f"{_TEMPLATE_SECONDS}s"
    if placeholder in text:
        raise CounterExpressionError(f"the query already uses the range {placeholder}")
    tree = parse_faithful(_WINDOW_TEMPLATE.sub(placeholder, text))
    marker = timedelta(seconds=_TEMPLATE_SECONDS)

    def unwrap(node: pp.Expr) -> str | None:
        if (isinstance(node, pp.Call) and node.func.name in ("rate", "increase")
                and len(node.args) == 1 and isinstance(node.args[0], pp.MatrixSelector)
                and node.args[0].range == marker):
            return selector_text(node.args[0].vector_selector)
        return None

    try:
        plain = _render(tree, unwrap)
    except CounterExpressionError as exc:
        raise CounterExpressionError(
            f"after taking out rate(counter[{{{{.window}}}}]) and "
            f"increase(counter[{{{{.window}}}}]), {exc}") from exc
    check_counter_expression(plain)
    return plain


# --- the accepted language -------------------------------------------------------------------


def _outer(node: pp.Expr) -> frozenset[str]:
    """Check an outer expression; return the labels of its result."""
    if isinstance(node, pp.ParenExpr):
        return _outer(node.expr)
    if isinstance(node, pp.AggregateExpr):
        _check_sum(node)
        _inner(node.expr)
        if node.modifier is None:
            return frozenset()
        if node.modifier.type != pp.AggModifierType.By:
            raise CounterExpressionError(
                "'sum without (...)' keeps labels safeship cannot see, so good and total "
                "cannot be matched; write 'sum by (...)' or plain 'sum(...)'")
        return frozenset(node.modifier.labels)
    if isinstance(node, pp.BinaryExpr):
        op = str(node.op)
        scaled = _scaled_side(node)
        if scaled is not None:
            return _outer(scaled)
        if op == "or" and _is_vector_literal(node.rhs):
            return _outer(node.lhs)
        if op in ("+", "-", "or"):
            left, right = _outer(node.lhs), _outer(node.rhs)
            if left != right:
                raise CounterExpressionError(
                    f"both sides of '{op}' must sum by the same labels "
                    f"({_labels(left)} vs {_labels(right)})")
            return left
    if isinstance(node, pp.Call) and _is_range_function(node.func.name):
        _refuse_call(node.func.name)
    raise CounterExpressionError(
        f"the expression must be a sum of counters: sum(...) or sum by (labels) (...), "
        f"optionally combined with +, - or 'or'; got {_describe(node)}")


def _inner(node: pp.Expr) -> None:
    """Check the inside of a sum: only constructs that commute with rate()."""
    if isinstance(node, pp.VectorSelector):
        if node.offset is not None or node.at is not None:
            raise CounterExpressionError(
                f"'offset' and '@' are not allowed ({selector_text(node)}): an SLO measures "
                "the present")
        return
    if isinstance(node, pp.ParenExpr):
        _inner(node.expr)
        return
    if isinstance(node, pp.AggregateExpr):
        _check_sum(node)
        _inner(node.expr)
        return
    if isinstance(node, pp.BinaryExpr):
        scaled = _scaled_side(node)
        if scaled is not None:
            _inner(scaled)
            return
        op = str(node.op)
        if op in ("+", "-") or op in _SET_OPERATORS:
            for side in (node.lhs, node.rhs):
                if not _is_vector_literal(side):
                    _inner(side)
            return
        raise CounterExpressionError(
            f"'{op}' between series is not allowed in a counter expression: safeship wraps "
            "each counter in rate(), which keeps the meaning of sums, +, - and scaling by a "
            "number only")
    if isinstance(node, pp.Call):
        name = node.func.name
        if name in _LABEL_FUNCTIONS and node.args:
            _inner(node.args[0])
            return
        if _is_vector_literal(node):
            return
        _refuse_call(name)
    if isinstance(node, pp.MatrixSelector | pp.SubqueryExpr):  # pragma: no cover - the parser
        # already refuses a range where these constructs take an instant vector.
        raise CounterExpressionError(
            f"write the counter without a range ({node}): safeship adds "
            "rate(...[window]) itself, once per alerting window")
    raise CounterExpressionError(f"{_describe(node)} is not allowed in a counter expression")


def _is_range_function(name: str) -> bool:
    return name in _RANGE_FUNCTIONS or name.endswith("_over_time")


def _refuse_call(name: str) -> NoReturn:
    if _is_range_function(name):
        raise CounterExpressionError(
            f"remove {name}(): write the counter itself, e.g. sum(http_requests_total{{...}}); "
            "safeship adds rate()/increase() over each window")
    raise CounterExpressionError(
        f"{name}() is not allowed in a counter expression: safeship wraps each counter in "
        "rate(), which keeps the meaning of sums, +, -, label_replace/label_join and scaling "
        "by a number only")


def _check_sum(node: pp.AggregateExpr) -> None:
    op = str(node.op)
    if op != "sum":
        raise CounterExpressionError(
            f"'{op}' is not allowed: only sum() keeps its meaning when safeship wraps the "
            "counters in rate()")


def _scaled_side(node: pp.BinaryExpr) -> pp.Expr | None:
    """The vector side of ``vector * number``, ``number * vector`` or ``vector / number``."""
    op = str(node.op)
    if op == "*" and _is_number(node.lhs):
        return node.rhs
    if op in ("*", "/") and _is_number(node.rhs):
        return node.lhs
    return None


def _is_number(node: pp.Expr) -> bool:
    """A number literal, or arithmetic on numbers only (``2 * 3``, ``(100)``)."""
    while isinstance(node, pp.ParenExpr):
        node = node.expr
    if isinstance(node, pp.BinaryExpr) and str(node.op) in ("+", "-", "*", "/"):
        return _is_number(node.lhs) and _is_number(node.rhs)
    return isinstance(node, pp.NumberLiteral)


def _is_vector_literal(node: pp.Expr) -> bool:
    """``vector(N)`` with a number: a constant stand-in for a series that does not exist."""
    return (isinstance(node, pp.Call) and node.func.name == "vector" and len(node.args) == 1
            and _is_number(node.args[0]))


def _labels(labels: frozenset[str]) -> str:
    return f"by ({', '.join(sorted(labels))})" if labels else "no labels"


def _describe(node: pp.Expr) -> str:
    kinds = {
        pp.NumberLiteral: "a number", pp.StringLiteral: "a string", pp.UnaryExpr: "unary minus",
        pp.VectorSelector: "a bare selector (wrap it in sum(...))",
        pp.MatrixSelector: "a range vector", pp.SubqueryExpr: "a subquery",
    }
    for kind, words in kinds.items():
        if isinstance(node, kind):
            return f"{words} ({node})"
    if isinstance(node, pp.Call):
        return f"{node.func.name}()"
    if isinstance(node, pp.BinaryExpr):
        return f"'{node.op}'"
    return str(node)  # pragma: no cover - every node type of the parser is listed above


# --- printing --------------------------------------------------------------------------------


def _render(node: pp.Expr, leaf: Callable[[pp.Expr], str | None]) -> str:
    """Print ``node``; ``leaf`` prints the nodes it recognises (the rewritten ones)."""
    special = leaf(node)
    if special is not None:
        return special
    if isinstance(node, pp.VectorSelector):
        return selector_text(node)
    if isinstance(node, pp.NumberLiteral | pp.StringLiteral):
        return str(node)
    if isinstance(node, pp.ParenExpr):
        return f"({_render(node.expr, leaf)})"
    if isinstance(node, pp.AggregateExpr):
        grouping = f" {node.modifier} " if node.modifier is not None else ""
        return f"{node.op}{grouping}({_render(node.expr, leaf)})"
    if isinstance(node, pp.BinaryExpr):
        modifier = str(node.modifier).strip() if node.modifier is not None else ""
        operator = f"{node.op} {modifier}" if modifier else str(node.op)
        return f"{_render(node.lhs, leaf)} {operator} {_render(node.rhs, leaf)}"
    if isinstance(node, pp.Call) and (node.func.name in _LABEL_FUNCTIONS
                                      or _is_vector_literal(node)):
        args = ", ".join(_render(arg, leaf) for arg in node.args)
        return f"{node.func.name}({args})"
    raise CounterExpressionError(f"{_describe(node)} is not allowed in a counter expression")


def _verify_wrapped(original: pp.Expr, wrapped: str, function: str, window_s: float,
                    count: int) -> None:
    """Fail closed unless ``wrapped`` is ``original`` with each selector wrapped, nothing else."""
    try:
        tree = parse_faithful(wrapped)
    except PromQLTextError as exc:  # pragma: no cover - the printer only emits parseable text
        raise CounterExpressionError(f"wrapping produced invalid PromQL: {exc}") from exc
    window = timedelta(seconds=window_s)
    found: list[pp.VectorSelector] = []

    def unwrap(node: pp.Expr) -> str | None:
        if (isinstance(node, pp.Call) and node.func.name == function and len(node.args) == 1
                and isinstance(node.args[0], pp.MatrixSelector)
                and node.args[0].range == window):
            found.append(node.args[0].vector_selector)
            return selector_text(node.args[0].vector_selector)
        return None

    back = _render(tree, unwrap)
    if len(found) != count or len(vector_selectors(tree)) != count:
        raise CounterExpressionError(  # pragma: no cover - a printer bug
            f"wrapping changed the number of counters: {wrapped}")
    if repr(pp.parse(back)) != repr(original):
        raise CounterExpressionError(  # pragma: no cover - a printer bug
            f"wrapping changed the meaning of the expression: {wrapped}")
