"""A small, safe condition language over JSON documents, such as ``budget_remaining > 0.05``.

Conditions come from version-controlled config (``condition:`` of the ``api_call`` gate) and are
evaluated against a JSON response. They are parsed with :mod:`ast`, checked against a short list
of allowed constructs, and evaluated by :mod:`simpleeval`; Python's ``eval`` is never used.

The language:

* names are fields of the JSON object; dotted names (``slo.budget_remaining``) walk nested
  objects. ``true``/``false``/``null`` (and ``True``/``False``/``None``) are constants.
* literals: integers, floats, strings.
* comparisons ``== != < <= > >=`` (chains allowed), ``and``, ``or``, ``not``.
* arithmetic ``+ - * / // %`` and unary ``-``/``+`` on numbers.

Nothing else parses: no calls, subscripts, attribute access on values, lambdas, comprehensions,
conditional expressions or ``**``. Evaluation is strict so that a condition never passes by
accident: every referenced field must exist, numbers only compare with numbers, NaN and
infinities are refused, and the result must be a boolean. Every problem raises a subclass of
:class:`ExpressionError` (a :class:`ValueError`, so pydantic validators report it as a field
error); nothing else escapes.
"""

from __future__ import annotations

import ast
import math
import operator
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from simpleeval import InvalidExpression, SimpleEval

Scalar: TypeAlias = int | float | str | bool | None
"""A value a condition can see: JSON's scalars."""

MAX_EXPRESSION_LENGTH = 1000
"""Longer conditions are refused; a deployment condition is one line."""

MAX_DEPTH = 32
"""Deepest allowed nesting of the syntax tree (bounds recursion during evaluation)."""

_CONSTANTS: Mapping[str, Scalar] = {
    "true": True,
    "false": False,
    "null": None,
    "True": True,
    "False": False,
    "None": None,
}

_BINARY_OPERATORS: Mapping[type[ast.operator], tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", operator.add),
    ast.Sub: ("-", operator.sub),
    ast.Mult: ("*", operator.mul),
    ast.Div: ("/", operator.truediv),
    ast.FloorDiv: ("//", operator.floordiv),
    ast.Mod: ("%", operator.mod),
}

_COMPARISONS: Mapping[type[ast.cmpop], tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Eq: ("==", operator.eq),
    ast.NotEq: ("!=", operator.ne),
    ast.Lt: ("<", operator.lt),
    ast.LtE: ("<=", operator.le),
    ast.Gt: (">", operator.gt),
    ast.GtE: (">=", operator.ge),
}

_ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)

# Symbols of refused operators, so an error names what the user wrote.
_REFUSED_SYMBOLS: Mapping[type[ast.AST], str] = {
    ast.Pow: "**",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.MatMult: "@",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
}


class ExpressionError(ValueError):
    """A condition that does not parse, is not allowed, or cannot be evaluated on the data."""

    def __init__(self, message: str, *, expression: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.expression = expression


class ExpressionSyntaxError(ExpressionError):
    """The condition text is not valid, or uses a construct the language does not allow."""


class FieldMissingError(ExpressionError):
    """A field the condition refers to is absent from the data."""

    def __init__(self, message: str, *, field: str, expression: str = "") -> None:
        super().__init__(message, expression=expression)
        self.field = field


class FieldTypeError(ExpressionError):
    """A value has the wrong type for what the condition does with it (e.g. text > number)."""


class NonFiniteValueError(ExpressionError):
    """A field holds NaN or an infinity, which no condition may judge."""

    def __init__(self, message: str, *, field: str, expression: str = "") -> None:
        super().__init__(message, expression=expression)
        self.field = field


class EvaluationError(ExpressionError):
    """The condition failed while computing (division by zero, overflow, non-boolean result)."""


@dataclass(frozen=True)
class Evaluation:
    """The outcome of a condition on one document: the boolean and the field values it saw."""

    result: bool
    values: Mapping[str, Scalar]


@dataclass(frozen=True)
class Condition:
    """A parsed, validated condition. Build it with :func:`parse_condition`."""

    text: str
    fields: tuple[str, ...]
    """The dotted field paths the condition reads, in order of first appearance."""
    _tree: ast.Expression = field(repr=False, compare=False)

    def resolve(self, data: object) -> dict[str, Scalar]:
        """The value of every referenced field in ``data``; raises when one is missing or bad."""
        return {path: _lookup(data, path, self.text) for path in self.fields}

    def evaluate(self, data: object) -> Evaluation:
        """Evaluate against ``data`` (the decoded JSON). Raises :class:`ExpressionError` only."""
        values = self.resolve(data)
        evaluator = _StrictEval(values, self.text)
        try:
            result = evaluator.eval(self.text, previously_parsed=self._tree.body)
        except ExpressionError:
            raise
        except ZeroDivisionError as exc:
            raise EvaluationError(
                f"division by zero in '{self.text}'", expression=self.text
            ) from exc
        except (OverflowError, RecursionError, MemoryError) as exc:
            raise EvaluationError(
                f"'{self.text}' could not be computed: {type(exc).__name__}", expression=self.text
            ) from exc
        except (InvalidExpression, ArithmeticError, TypeError, ValueError) as exc:
            # Defence in depth: the tree was validated, so this means a bug or an odd value.
            raise EvaluationError(
                f"'{self.text}' could not be evaluated: {exc}", expression=self.text
            ) from exc
        if not isinstance(result, bool):
            raise EvaluationError(
                f"'{self.text}' gave {result!r}, not true or false; write a comparison such as "
                "'budget_remaining > 0.05'",
                expression=self.text,
            )
        return Evaluation(result, values)


def parse_condition(text: str) -> Condition:
    """Parse and validate ``text``; raises :class:`ExpressionSyntaxError` when it is not allowed."""
    if not isinstance(text, str):
        raise ExpressionSyntaxError(f"a condition must be text, not {type(text).__name__}")
    source = text.strip()
    if not source:
        raise ExpressionSyntaxError("the condition is empty; write e.g. 'budget_remaining > 0.05'")
    if len(source) > MAX_EXPRESSION_LENGTH:
        raise ExpressionSyntaxError(
            f"the condition is {len(source)} characters long; at most "
            f"{MAX_EXPRESSION_LENGTH} are allowed",
            expression=source,
        )
    try:
        # Python's own warnings about the text ("is" with a literal, odd escapes) must not be
        # printed from here; what matters is refused below with a proper error.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        where = f" at column {exc.offset}" if exc.offset and exc.offset > 0 else ""
        raise ExpressionSyntaxError(
            f"'{source}' is not a valid condition{where}: {exc.msg}", expression=source
        ) from exc
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ExpressionSyntaxError(
            f"'{source}' is not a valid condition: {exc}", expression=source
        ) from exc
    fields: list[str] = []
    body = _Validator(source, fields).check(tree.body, depth=0)
    _check_boolean_shape(body, source)
    return Condition(source, tuple(fields), ast.Expression(body=body))


def _check_boolean_shape(node: ast.expr, source: str) -> None:
    """Refuse conditions that can never be true or false (``x + 1``, ``'text'``, ``0.05``)."""
    if isinstance(node, ast.Compare | ast.BoolOp | ast.Name):
        return
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return
    raise ExpressionSyntaxError(
        f"'{source}' is not a yes/no condition; write a comparison such as "
        "'budget_remaining > 0.05'",
        expression=source,
    )


class _Validator:
    """Checks a parsed tree against the allowed constructs and rewrites dotted paths to names."""

    def __init__(self, source: str, fields: list[str]) -> None:
        self.source = source
        self.fields = fields

    def refuse(self, what: str) -> ExpressionSyntaxError:
        return ExpressionSyntaxError(
            f"'{self.source}' uses {what}, which conditions do not allow (allowed: field names, "
            "numbers, strings, comparisons, and/or/not, + - * / // %)",
            expression=self.source,
        )

    def check(self, node: ast.expr, depth: int) -> ast.expr:
        """Return ``node`` validated, with ``a.b.c`` chains replaced by ``Name('a.b.c')``."""
        if depth > MAX_DEPTH:
            raise ExpressionSyntaxError(
                f"'{self.source}' is nested too deeply (more than {MAX_DEPTH} levels)",
                expression=self.source,
            )
        inner = depth + 1
        if isinstance(node, ast.Constant):
            return self._constant(node)
        if isinstance(node, ast.Name | ast.Attribute):
            return self._field(node)
        if isinstance(node, ast.BoolOp):
            values = [self.check(value, inner) for value in node.values]
            return ast.copy_location(ast.BoolOp(op=node.op, values=values), node)
        if isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.Not | ast.USub | ast.UAdd):
                raise self.refuse("the '~' operator")
            operand = self.check(node.operand, inner)
            return ast.copy_location(ast.UnaryOp(op=node.op, operand=operand), node)
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _BINARY_OPERATORS:
                raise self.refuse(f"the operator '{_REFUSED_SYMBOLS.get(type(node.op), '?')}'")
            left = self.check(node.left, inner)
            right = self.check(node.right, inner)
            return ast.copy_location(ast.BinOp(left=left, op=node.op, right=right), node)
        if isinstance(node, ast.Compare):
            for op in node.ops:
                if type(op) not in _COMPARISONS:
                    raise self.refuse(f"the comparison '{_REFUSED_SYMBOLS.get(type(op), '?')}'")
            left = self.check(node.left, inner)
            comparators = [self.check(value, inner) for value in node.comparators]
            return ast.copy_location(
                ast.Compare(left=left, ops=node.ops, comparators=comparators), node
            )
        if isinstance(node, ast.Call):
            raise self.refuse("a function call")
        raise self.refuse(f"a {type(node).__name__} expression")

    def _constant(self, node: ast.Constant) -> ast.expr:
        value = node.value
        if isinstance(value, bool) or value is None or isinstance(value, int | str):
            return node
        if isinstance(value, float):
            if not math.isfinite(value):
                raise self.refuse("a number too large to represent")
            return node
        raise self.refuse(f"a {type(value).__name__} literal")

    def _field(self, node: ast.Name | ast.Attribute) -> ast.expr:
        parts: list[str] = []
        current: ast.expr = node
        while isinstance(current, ast.Attribute):
            parts.append(current.attr)
            current = current.value
        if not isinstance(current, ast.Name):
            raise self.refuse("attribute access on a value (only field.path names may use dots)")
        parts.append(current.id)
        parts.reverse()
        if len(parts) == 1 and parts[0] in _CONSTANTS:
            return ast.copy_location(ast.Constant(value=_CONSTANTS[parts[0]]), node)
        if any(part in _CONSTANTS for part in parts):
            constant = next(part for part in parts if part in _CONSTANTS)
            raise self.refuse(f"the constant {constant!r} inside a field path")
        path = ".".join(parts)
        if path not in self.fields:
            self.fields.append(path)
        return ast.copy_location(ast.Name(id=path, ctx=ast.Load()), node)


def _a(kind: str) -> str:
    """``kind`` with its article, for sentences ("a number", "text", "null")."""
    return kind if kind in {"text", "null"} else f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _kind(value: object) -> str:
    """The JSON kind of a value, as error messages name it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _lookup(data: object, path: str, expression: str) -> Scalar:
    """Walk ``path`` (dotted) through nested objects of ``data`` and check the leaf value."""
    current: object = data
    walked: list[str] = []
    for part in path.split("."):
        if not isinstance(current, Mapping):
            where = f"'{'.'.join(walked)}'" if walked else "the document"
            raise FieldMissingError(
                f"field '{path}' not found: {where} is {_a(_kind(current))}, not an object",
                field=path,
                expression=expression,
            )
        if part not in current:
            where = f" in '{'.'.join(walked)}'" if walked else ""
            keys = ", ".join(sorted(str(key) for key in current)[:10]) or "none"
            raise FieldMissingError(
                f"field '{path}' not found{where} (fields there: {keys})",
                field=path,
                expression=expression,
            )
        current = current[part]
        walked.append(part)
    if isinstance(current, float) and not math.isfinite(current):
        raise NonFiniteValueError(
            f"field '{path}' is {current!r}, which cannot be judged",
            field=path,
            expression=expression,
        )
    if current is None or isinstance(current, bool | int | float | str):
        return current
    raise FieldTypeError(
        f"field '{path}' is {_a(_kind(current))}, not a number, text or boolean",
        expression=expression,
    )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _StrictEval(SimpleEval):  # type: ignore[misc]  # simpleeval ships no type hints
    """simpleeval with only the validated node types and type-checked operators."""

    def __init__(self, names: Mapping[str, Scalar], expression: str) -> None:
        super().__init__(operators={}, functions={}, names=dict(names))
        self.expression = expression
        # Only what the validator lets through; anything else is a bug and must not run.
        self.nodes = {
            ast.Name: self._eval_name,
            ast.Constant: self._eval_constant,
            ast.UnaryOp: self._eval_unaryop,
            ast.BinOp: self._eval_binop,
            ast.BoolOp: self._eval_boolop,
            ast.Compare: self._eval_compare,
        }

    def describe(self, node: ast.expr, value: object) -> str:
        if isinstance(node, ast.Name):
            return f"field '{node.id}' ({_kind(value)} {value!r})"
        if isinstance(node, ast.Constant):
            return f"{_kind(value)} {value!r}"
        return f"'{ast.unparse(node)}' ({_kind(value)} {value!r})"

    def type_error(self, message: str) -> FieldTypeError:
        return FieldTypeError(f"{message} in '{self.expression}'", expression=self.expression)

    def _eval_unaryop(self, node: ast.UnaryOp) -> Any:
        value = self._eval(node.operand)
        if isinstance(node.op, ast.Not):
            if not isinstance(value, bool):
                got = self.describe(node.operand, value)
                raise self.type_error(f"'not' needs true or false, got {got}")
            return not value
        if not _is_number(value):
            raise self.type_error(f"sign applied to {self.describe(node.operand, value)}")
        return -value if isinstance(node.op, ast.USub) else +value

    def _eval_binop(self, node: ast.BinOp) -> Any:
        symbol, function = _BINARY_OPERATORS[type(node.op)]
        left = self._eval(node.left)
        right = self._eval(node.right)
        for side, value in ((node.left, left), (node.right, right)):
            if not _is_number(value):
                raise self.type_error(f"'{symbol}' needs numbers, got {self.describe(side, value)}")
        result = function(left, right)
        if isinstance(result, float) and not math.isfinite(result):
            raise EvaluationError(
                f"'{ast.unparse(node)}' overflowed in '{self.expression}'",
                expression=self.expression,
            )
        return result

    def _eval_boolop(self, node: ast.BoolOp) -> Any:
        word = "and" if isinstance(node.op, ast.And) else "or"
        # Every operand is evaluated (no short circuit) so that type errors always surface.
        values = [self._eval(value) for value in node.values]
        for value_node, value in zip(node.values, values, strict=True):
            if not isinstance(value, bool):
                raise self.type_error(
                    f"'{word}' needs true or false, got {self.describe(value_node, value)}"
                )
        return all(values) if word == "and" else any(values)

    def _eval_compare(self, node: ast.Compare) -> Any:
        left_node: ast.expr = node.left
        left = self._eval(left_node)
        outcome = True
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self._eval(right_node)
            symbol, function = _COMPARISONS[type(op)]
            self.check_comparable(
                symbol, isinstance(op, _ORDERING), (left_node, left), (right_node, right)
            )
            outcome = outcome and bool(function(left, right))
            left_node, left = right_node, right
        return outcome

    def check_comparable(
        self,
        symbol: str,
        ordering: bool,
        left: tuple[ast.expr, object],
        right: tuple[ast.expr, object],
    ) -> None:
        (left_node, left_value), (right_node, right_value) = left, right
        left_kind, right_kind = _kind(left_value), _kind(right_value)
        if ordering:
            if left_kind == right_kind and left_kind in {"number", "text"}:
                return
        elif left_kind == right_kind or "null" in {left_kind, right_kind}:
            return
        raise self.type_error(
            f"cannot compare {self.describe(left_node, left_value)} {symbol} "
            f"{self.describe(right_node, right_value)}"
        )
