"""Parse fractions written as percentages (``80%``) or ratios (``0.8``)."""

from __future__ import annotations

import re

_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


class PercentSyntaxError(ValueError):
    """Raised for text that is not a percentage or a ratio between 0 and 1."""


def parse_fraction(value: object) -> float:
    """Return ``value`` as a fraction in [0, 1].

    ``"80%"`` and ``0.8`` both give 0.8. A bare number above 1 is refused rather than guessed
    at, because ``80`` could mean 80 % or a typo for 0.80.
    """
    if isinstance(value, bool):
        raise PercentSyntaxError(f"{value!r} is not a percentage; write e.g. 80% or 0.8")
    if isinstance(value, int | float):
        if 0 <= value <= 1:
            return float(value)
        raise PercentSyntaxError(
            f"{value} is not between 0 and 1; write a percentage with a % sign (e.g. 80%) "
            "or a ratio (e.g. 0.8)"
        )
    if isinstance(value, str):
        match = _PERCENT.match(value)
        if match:
            number = float(match.group(1))
            if number <= 100:
                return number / 100
            raise PercentSyntaxError(f"'{value}' is over 100%")
        try:
            return parse_fraction(float(value))
        except ValueError:
            pass
    raise PercentSyntaxError(f"'{value}' is not a percentage; write e.g. 80% or 0.8")


def format_percent(fraction: float, digits: int = 2) -> str:
    """Render a fraction as a percentage without rounding it up past a threshold."""
    return f"{fraction * 100:.{digits}f}%"
