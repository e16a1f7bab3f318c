"""CVSS v3.0/v3.1 base scores, computed from a vector string with the specification's formulas.

Only the *base* metric group is scored (temporal and environmental metrics in a vector are
accepted and ignored): OSV records carry vectors whose base score is what the severity policy
judges. The weights and equations are those of the CVSS v3.1 specification, section 7; v3.0
vectors use the same base equations with v3.0's simpler round-up (ceiling to one decimal).

CVSS v4.0 is not computed here. Its base score comes from a published lookup table of
macro-vectors rather than a formula; when a database gives a v4 *score* we take it, otherwise
the v4 severity is unknown (see :mod:`safeship.scanners.osv.severity`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

_BASE_METRICS: dict[str, dict[str, float]] = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "PR": {"N": 0.85, "L": 0.62, "H": 0.27},
    "UI": {"N": 0.85, "R": 0.62},
    "S": {"U": 0.0, "C": 0.0},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
    "I": {"H": 0.56, "L": 0.22, "N": 0.0},
    "A": {"H": 0.56, "L": 0.22, "N": 0.0},
}
# Privileges Required weighs more when the scope changes (spec 7.4).
_PR_SCOPE_CHANGED = {"N": 0.85, "L": 0.68, "H": 0.5}
_OTHER_METRICS: dict[str, frozenset[str]] = {
    "E": frozenset("XUPFH"),
    "RL": frozenset("XOTWU"),
    "RC": frozenset("XURC"),
    "CR": frozenset("XLMH"),
    "IR": frozenset("XLMH"),
    "AR": frozenset("XLMH"),
    "MAV": frozenset("XNALP"),
    "MAC": frozenset("XLH"),
    "MPR": frozenset("XNLH"),
    "MUI": frozenset("XNR"),
    "MS": frozenset("XUC"),
    "MC": frozenset("XNLH"),
    "MI": frozenset("XNLH"),
    "MA": frozenset("XNLH"),
}


class CvssError(ValueError):
    """A vector string that is not a valid CVSS v3.x vector."""


@dataclass(frozen=True)
class Cvss3Vector:
    """The base metrics of a parsed CVSS v3.x vector."""

    version: str
    metrics: dict[str, str]

    @property
    def scope_changed(self) -> bool:
        """True when the vector says ``S:C``."""
        return self.metrics["S"] == "C"


def parse_cvss3(vector: str) -> Cvss3Vector:
    """Parse ``CVSS:3.1/AV:N/...``; raise :class:`CvssError` when it is malformed."""
    parts = vector.strip().split("/")
    head = parts[0]
    if head not in ("CVSS:3.0", "CVSS:3.1"):
        raise CvssError(f"not a CVSS v3 vector (prefix {head!r}): {vector!r}")
    metrics: dict[str, str] = {}
    for part in parts[1:]:
        key, sep, value = part.partition(":")
        if not sep:
            raise CvssError(f"metric {part!r} has no value in {vector!r}")
        if key in metrics:
            raise CvssError(f"metric {key} appears twice in {vector!r}")
        allowed = _BASE_METRICS.get(key)
        if allowed is not None:
            if value not in allowed:
                raise CvssError(f"{key}:{value} is not a valid value in {vector!r}")
        elif key in _OTHER_METRICS:
            if value not in _OTHER_METRICS[key]:
                raise CvssError(f"{key}:{value} is not a valid value in {vector!r}")
        else:
            raise CvssError(f"unknown metric {key!r} in {vector!r}")
        metrics[key] = value
    missing = [key for key in _BASE_METRICS if key not in metrics]
    if missing:
        raise CvssError(f"base metric(s) {', '.join(missing)} missing in {vector!r}")
    return Cvss3Vector(head.removeprefix("CVSS:"), metrics)


def roundup_31(value: float) -> float:
    """CVSS v3.1 Roundup: the smallest one-decimal number >= ``value``, float-error proof.

    The spec works in integers (x 100 000) so that 4.000000000000001 rounds to 4.0, not 4.1.
    """
    as_int = round(value * 100_000)
    if as_int % 10_000 == 0:
        return as_int / 100_000.0
    return (math.floor(as_int / 10_000) + 1) / 10.0


def roundup_30(value: float) -> float:
    """CVSS v3.0 round-up: ceiling to one decimal."""
    return math.ceil(value * 10) / 10


def base_score(vector: Cvss3Vector) -> float:
    """The CVSS v3.x base score (0.0 to 10.0) of a parsed vector."""
    m = vector.metrics
    weights = {key: _BASE_METRICS[key][m[key]] for key in ("AV", "AC", "UI", "C", "I", "A")}
    changed = vector.scope_changed
    privileges = (_PR_SCOPE_CHANGED if changed else _BASE_METRICS["PR"])[m["PR"]]
    iss = 1 - (1 - weights["C"]) * (1 - weights["I"]) * (1 - weights["A"])
    impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if changed else 6.42 * iss
    exploitability = 8.22 * weights["AV"] * weights["AC"] * privileges * weights["UI"]
    if impact <= 0:
        return 0.0
    roundup = roundup_31 if vector.version == "3.1" else roundup_30
    total = (impact + exploitability) * (1.08 if changed else 1.0)
    return roundup(min(total, 10.0))


def cvss3_base_score(vector: str) -> float:
    """Parse ``vector`` and return its base score; raise :class:`CvssError` if malformed."""
    return base_score(parse_cvss3(vector))
