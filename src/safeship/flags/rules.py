"""Targeting conditions: one attribute, one operator, its operands, and whether a context matches.

A :class:`Condition` checks its operands when it is built (an invalid regular expression or
version raises :class:`ValueError` at definition time, never during evaluation) and keeps a
prepared test, so matching costs a dictionary lookup and one comparison.

Matching rules, the same for every operator:

- A missing attribute (or a value that is not a string, number or boolean) never matches,
  not even a negated operator: ``country not_in [DE]`` does not match a context without a
  country. A rule therefore never fires on data it cannot read.
- A list attribute matches a positive operator when any element does, and a negated operator
  when no element matches the positive one.
- ``equals``/``in`` compare text forms: strings as they are, booleans as ``true``/``false``,
  whole numbers without a decimal point (``30`` and ``30.0`` are both ``"30"``). So the
  attribute ``"30"`` from a command line equals the number 30 in a rule.
- ``semver_*`` compare by SemVer 2.0 precedence (:mod:`safeship.flags.semver`); an attribute
  that is not a version does not match.
- ``regex`` searches the text (anchor with ``^...$`` for a full match) with Python's :mod:`re`.
  Patterns longer than :data:`MAX_PATTERN_LENGTH` are refused and texts longer than
  :data:`MAX_REGEX_INPUT` never match, which bounds the cost of a hostile or careless pattern.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from safeship.flags.context import EvaluationContext
from safeship.flags.semver import PrecedenceKey, SemverSyntaxError, parse_version, precedence_key

#: Longest regular expression a rule may hold.
MAX_PATTERN_LENGTH = 256
#: Longest attribute text a regular expression is run against; longer text never matches.
MAX_REGEX_INPUT = 1024
#: Most operands an ``in``/``not_in`` condition may list.
MAX_VALUES = 10_000
#: Longest attribute name.
MAX_ATTRIBUTE_LENGTH = 128

Scalar = str | int | float | bool
# A prepared positive test: True (matches), False (does not), None (cannot compare).
_Test = Callable[[object], bool | None]


class Operator(StrEnum):
    """What a condition checks; ``not_*`` operators negate their positive twin."""

    EQUALS = "equals"
    NOT_EQUALS = "not_equals"
    IN = "in"
    NOT_IN = "not_in"
    SEMVER_EQ = "semver_eq"
    SEMVER_LT = "semver_lt"
    SEMVER_LTE = "semver_lte"
    SEMVER_GT = "semver_gt"
    SEMVER_GTE = "semver_gte"
    REGEX = "regex"
    NOT_REGEX = "not_regex"

    @property
    def takes_list(self) -> bool:
        """True for ``in``/``not_in`` (one or more operands); the rest take exactly one."""
        return self in (Operator.IN, Operator.NOT_IN)

    @property
    def negated(self) -> bool:
        """True for the ``not_*`` operators."""
        return self in _NEGATED


_NEGATED = frozenset({Operator.NOT_EQUALS, Operator.NOT_IN, Operator.NOT_REGEX})


@dataclass(frozen=True)
class Condition:
    """``attribute operator values``; build it with valid operands or get a ValueError.

    ``values`` always holds a tuple: one operand for every operator but ``in``/``not_in``.
    """

    attribute: str
    operator: Operator
    values: tuple[Scalar, ...]
    _test: _Test = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.attribute, str) or not self.attribute.strip():
            raise ValueError("the attribute name must be a non-empty string")
        if len(self.attribute) > MAX_ATTRIBUTE_LENGTH:
            raise ValueError(f"an attribute name is at most {MAX_ATTRIBUTE_LENGTH} characters")
        try:
            operator = Operator(self.operator)
        except ValueError:
            choices = ", ".join(op.value for op in Operator)
            raise ValueError(f"unknown operator '{self.operator}'; use one of {choices}") from None
        values = tuple(self.values)
        object.__setattr__(self, "operator", operator)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "_test", _prepare(operator, values))

    def matches(self, context: EvaluationContext) -> bool:
        """True when ``context`` satisfies this condition (see the module's matching rules)."""
        actual = context.get(self.attribute)
        if actual is None:
            return False
        test = self._test
        if isinstance(actual, list | tuple):
            outcomes = [test(item) for item in actual]
            if self.operator in _NEGATED:
                return all(outcome is False for outcome in outcomes)
            return any(outcome is True for outcome in outcomes)
        outcome = test(actual)
        if self.operator in _NEGATED:
            return outcome is False
        return outcome is True


def canonical_text(value: object) -> str | None:
    """The text form ``equals``/``in`` compare, or None for a value rules cannot read."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    return None


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled, memoised (flags are decoded again on every store read); raises
    ValueError for a pattern that is too long or invalid."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ValueError(
            f"a regular expression is at most {MAX_PATTERN_LENGTH} characters long "
            f"(this one has {len(pattern)})"
        )
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None


def _prepare(operator: Operator, values: tuple[Scalar, ...]) -> _Test:
    if operator.takes_list:
        if not values:
            raise ValueError(f"'{operator}' needs at least one value")
        if len(values) > MAX_VALUES:
            raise ValueError(f"'{operator}' takes at most {MAX_VALUES} values")
    elif len(values) != 1:
        raise ValueError(f"'{operator}' takes exactly one value, not {len(values)}")
    if operator in (Operator.EQUALS, Operator.NOT_EQUALS, Operator.IN, Operator.NOT_IN):
        return _membership_test(values)
    if operator in (Operator.REGEX, Operator.NOT_REGEX):
        return _regex_test(values[0])
    return _semver_test(operator, values[0])


def _membership_test(values: tuple[Scalar, ...]) -> _Test:
    wanted: set[str] = set()
    for value in values:
        text = canonical_text(value)
        if text is None:
            raise ValueError(f"{value!r} is not a string, number or boolean")
        wanted.add(text)
    frozen = frozenset(wanted)

    def test(actual: object) -> bool | None:
        text = canonical_text(actual)
        return None if text is None else text in frozen

    return test


def _regex_test(pattern: Scalar) -> _Test:
    if not isinstance(pattern, str):
        raise ValueError(f"a regular expression must be a string, not {pattern!r}")
    search = compile_pattern(pattern).search

    def test(actual: object) -> bool | None:
        text = canonical_text(actual)
        if text is None or len(text) > MAX_REGEX_INPUT:
            return None
        return search(text) is not None

    return test


_SEMVER_COMPARISONS: dict[Operator, Callable[[PrecedenceKey, PrecedenceKey], bool]] = {
    Operator.SEMVER_EQ: lambda a, b: a == b,
    Operator.SEMVER_LT: lambda a, b: a < b,
    Operator.SEMVER_LTE: lambda a, b: a <= b,
    Operator.SEMVER_GT: lambda a, b: a > b,
    Operator.SEMVER_GTE: lambda a, b: a >= b,
}


def _semver_test(operator: Operator, operand: Scalar) -> _Test:
    if not isinstance(operand, str):
        raise ValueError(f"'{operator}' compares with a version string such as \"2.1.0\", "
                         f"not {operand!r}")
    try:
        wanted = parse_version(operand).key()
    except SemverSyntaxError as exc:
        raise ValueError(str(exc)) from None
    compare = _SEMVER_COMPARISONS[operator]

    def test(actual: object) -> bool | None:
        if not isinstance(actual, str):
            return None
        key = precedence_key(actual)
        return None if key is None else compare(key, wanted)

    return test
