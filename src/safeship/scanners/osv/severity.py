"""Severity of an advisory: from its CVSS vectors, else the database's label, else unknown.

Resolution, for one record:

1. every ``CVSS_V3`` vector (record level and package level) is scored with
   :func:`~safeship.scanners.osv.cvss.cvss3_base_score`;
2. a ``CVSS_V4`` entry counts only when it carries a plain number (``"8.7"``) or the database
   states a numeric score (``database_specific.cvss_score``): the v4 base score comes from the
   specification's macro-vector table, which this module does not reproduce, so a bare v4
   vector alone leaves the score unknown;
3. the database's own label (GHSA ``database_specific.severity``: LOW, MODERATE, HIGH,
   CRITICAL) gives a level without a score.

The highest of everything found wins (the safe choice when sources disagree). With none of
them the severity is ``unknown``, and the policy's ``unknown_severity`` decides.
Qualitative bands follow CVSS: critical >= 9.0, high >= 7.0, medium >= 4.0, low >= 0.1, none 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from safeship.scanners.osv.cvss import CvssError, cvss3_base_score
from safeship.scanners.osv.records import Advisory, SeverityEntry


class SeverityLevel(StrEnum):
    """Qualitative severity, in CVSS bands, plus ``unknown``."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    NONE = "none"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        """Higher is worse; unknown ranks below none (the policy, not the rank, decides it)."""
        return _RANK[self]


_RANK = {
    SeverityLevel.UNKNOWN: -1,
    SeverityLevel.NONE: 0,
    SeverityLevel.LOW: 1,
    SeverityLevel.MEDIUM: 2,
    SeverityLevel.HIGH: 3,
    SeverityLevel.CRITICAL: 4,
}

DATABASE_LABELS = {
    "CRITICAL": SeverityLevel.CRITICAL,
    "HIGH": SeverityLevel.HIGH,
    "MODERATE": SeverityLevel.MEDIUM,
    "MEDIUM": SeverityLevel.MEDIUM,
    "LOW": SeverityLevel.LOW,
}


def level_of_score(score: float) -> SeverityLevel:
    """The CVSS qualitative band of a 0-10 score."""
    if score >= 9.0:
        return SeverityLevel.CRITICAL
    if score >= 7.0:
        return SeverityLevel.HIGH
    if score >= 4.0:
        return SeverityLevel.MEDIUM
    if score > 0.0:
        return SeverityLevel.LOW
    return SeverityLevel.NONE


@dataclass(frozen=True)
class SeverityAssessment:
    """A resolved severity: the level, the score behind it (if any) and where it came from."""

    level: SeverityLevel
    score: float | None = None
    source: str = "none"
    """``cvss_v3`` (computed), ``cvss_v4`` (stated score), ``database`` (label) or ``none``."""
    notes: tuple[str, ...] = ()


UNKNOWN = SeverityAssessment(SeverityLevel.UNKNOWN)


def _entry_score(entry: SeverityEntry, advisory: Advisory) -> tuple[float | None, str | None]:
    kind = entry.type.upper()
    if kind == "CVSS_V3":
        try:
            return cvss3_base_score(entry.score), None
        except CvssError as exc:
            return None, f"{advisory.id}: {exc}"
    if kind == "CVSS_V4":
        try:
            value = float(entry.score)
        except ValueError:
            return None, None
        return (value, None) if 0.0 <= value <= 10.0 else (None, None)
    return None, None


def assess(advisory: Advisory) -> SeverityAssessment:
    """Resolve one record's severity (see the module docstring)."""
    best: tuple[float, str] | None = None
    notes: list[str] = []
    entries = [*advisory.severity, *(e for a in advisory.affected for e in a.severity)]
    has_v4 = False
    for entry in entries:
        has_v4 = has_v4 or entry.type.upper() == "CVSS_V4"
        score, note = _entry_score(entry, advisory)
        if note:
            notes.append(note)
        if score is not None:
            source = "cvss_v3" if entry.type.upper() == "CVSS_V3" else "cvss_v4"
            if best is None or score > best[0]:
                best = (score, source)
    if has_v4 and advisory.database_score is not None and (
        best is None or advisory.database_score > best[0]
    ):
        best = (advisory.database_score, "cvss_v4")
    label = DATABASE_LABELS.get(advisory.database_severity or "")
    if best is not None:
        level = level_of_score(best[0])
        if label is not None and label.rank > level.rank:
            return SeverityAssessment(label, best[0], "database", tuple(notes))
        return SeverityAssessment(level, best[0], best[1], tuple(notes))
    if label is not None:
        return SeverityAssessment(label, None, "database", tuple(notes))
    if advisory.database_score is not None:
        level = level_of_score(advisory.database_score)
        return SeverityAssessment(level, advisory.database_score, "database", tuple(notes))
    return SeverityAssessment(SeverityLevel.UNKNOWN, None, "none", tuple(notes))


def worst(assessments: Iterable[SeverityAssessment]) -> SeverityAssessment:
    """The most severe of several assessments (merged aliases); highest score breaks ties."""
    chosen = UNKNOWN
    for item in assessments:
        key = (item.level.rank, item.score if item.score is not None else -1.0)
        best = (chosen.level.rank, chosen.score if chosen.score is not None else -1.0)
        if key > best:
            chosen = item
    return chosen
