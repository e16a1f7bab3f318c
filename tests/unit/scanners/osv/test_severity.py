"""Severity resolution: CVSS vectors, database labels, v4, and the worst of merged records."""

from __future__ import annotations

import pytest

from safeship.scanners.osv.records import Advisory, AffectedPackage, SeverityEntry
from safeship.scanners.osv.severity import (
    SeverityAssessment,
    SeverityLevel,
    assess,
    level_of_score,
    worst,
)

from .osv_fixtures import V31_CRITICAL, V31_HIGH, V31_MEDIUM, V40


def advisory(*severity: SeverityEntry, label: str | None = None,
             score: float | None = None) -> Advisory:
    return Advisory("X-1", (), "", (), severity, label, score)


@pytest.mark.parametrize(("score", "level"), [
    (10.0, "critical"), (9.0, "critical"), (8.9, "high"), (7.0, "high"), (6.9, "medium"),
    (4.0, "medium"), (3.9, "low"), (0.1, "low"), (0.0, "none"),
])
def test_bands(score: float, level: str) -> None:
    assert level_of_score(score).value == level


def test_vector_is_scored() -> None:
    result = assess(advisory(SeverityEntry("CVSS_V3", V31_HIGH)))
    assert (result.level, result.score, result.source) == (SeverityLevel.HIGH, 7.5, "cvss_v3")


def test_highest_vector_wins() -> None:
    result = assess(advisory(SeverityEntry("CVSS_V3", V31_MEDIUM),
                             SeverityEntry("CVSS_V3", V31_CRITICAL)))
    assert result.score == 9.8


def test_package_level_severity_counts() -> None:
    affected = AffectedPackage("PyPI", "x", (), (), (SeverityEntry("CVSS_V3", V31_HIGH),))
    result = assess(Advisory("X", (), "", (affected,)))
    assert result.level is SeverityLevel.HIGH


@pytest.mark.parametrize(("label", "level"), [
    ("CRITICAL", "critical"), ("HIGH", "high"), ("MODERATE", "medium"), ("LOW", "low"),
])
def test_database_labels(label: str, level: str) -> None:
    result = assess(advisory(label=label))
    assert (result.level.value, result.score, result.source) == (level, None, "database")


def test_label_above_the_vector_wins() -> None:
    result = assess(advisory(SeverityEntry("CVSS_V3", V31_MEDIUM), label="HIGH"))
    assert (result.level, result.score) == (SeverityLevel.HIGH, 5.3)


def test_cvss_v4_with_a_stated_score() -> None:
    assert assess(advisory(SeverityEntry("CVSS_V4", "9.3"))).level is SeverityLevel.CRITICAL
    stated = assess(advisory(SeverityEntry("CVSS_V4", V40), score=8.7))
    assert (stated.level, stated.score, stated.source) == (SeverityLevel.HIGH, 8.7, "cvss_v4")


def test_cvss_v4_vector_alone_is_unknown() -> None:
    assert assess(advisory(SeverityEntry("CVSS_V4", V40))).level is SeverityLevel.UNKNOWN


def test_bad_vector_is_noted_and_unknown() -> None:
    result = assess(advisory(SeverityEntry("CVSS_V3", "CVSS:3.1/AV:N")))
    assert result.level is SeverityLevel.UNKNOWN
    assert result.notes
    assert "X-1" in result.notes[0]


def test_nothing_is_unknown() -> None:
    assert assess(advisory()).level is SeverityLevel.UNKNOWN


def test_worst_of_merged() -> None:
    chosen = worst([SeverityAssessment(SeverityLevel.HIGH, 7.5),
                    SeverityAssessment(SeverityLevel.UNKNOWN),
                    SeverityAssessment(SeverityLevel.HIGH, 8.1)])
    assert chosen.score == 8.1
    assert worst([]).level is SeverityLevel.UNKNOWN
