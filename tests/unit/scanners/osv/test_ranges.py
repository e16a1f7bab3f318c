"""OSV range evaluation with PEP 440 ordering: introduced/fixed/last_affected/limit, lists."""

from __future__ import annotations

import pytest
from packaging.version import Version

from safeship.scanners.osv.ranges import compile_affected, compile_range
from safeship.scanners.osv.records import (
    Advisory,
    AffectedPackage,
    RangeEvent,
    VersionRange,
)


def entry(*events: tuple[str, str], versions: tuple[str, ...] = (), kind: str = "ECOSYSTEM"):
    rng = VersionRange(kind, tuple(RangeEvent(k, v) for k, v in events))
    affected = AffectedPackage("PyPI", "pkg", (rng,) if events else (), versions)
    return compile_affected(Advisory("OSV-1", (), "", (affected,)), affected)


def affects(compiled, text: str) -> bool:
    try:
        parsed: Version | None = Version(text)
    except ValueError:
        parsed = None
    return compiled.affects(parsed, text)


@pytest.mark.parametrize(("version", "expected"), [
    ("0.1", True), ("1.4.9", True), ("1.5.0rc1", True), ("1.5", False), ("1.5.0", False),
    ("2.0", False), ("1.5.0.post1", False),
])
def test_introduced_zero_to_fixed_is_half_open(version: str, expected: bool) -> None:
    compiled = entry(("introduced", "0"), ("fixed", "1.5.0"))
    assert affects(compiled, version) is expected


@pytest.mark.parametrize(("version", "expected"), [
    ("1.9", False), ("2.0", True), ("2.3", True), ("2.3.0", True), ("2.3.1", False),
    ("2.3.post1", False),
])
def test_last_affected_is_inclusive(version: str, expected: bool) -> None:
    compiled = entry(("introduced", "2.0"), ("last_affected", "2.3"))
    assert affects(compiled, version) is expected


def test_open_range_affects_everything_from_introduced() -> None:
    compiled = entry(("introduced", "3.0"))
    assert affects(compiled, "99.0")
    assert not affects(compiled, "2.9")


def test_events_out_of_order_make_two_intervals_with_their_fixes() -> None:
    compiled = entry(("introduced", "2.0"), ("fixed", "2.1"), ("introduced", "1.0"),
                     ("fixed", "1.2"))
    assert [affects(compiled, v) for v in ("0.9", "1.0", "1.1.9", "1.2", "1.5", "2.0.5", "2.1")
            ] == [False, True, True, False, False, True, False]
    assert compiled.fixed_after(Version("1.1")) == (Version("1.2"),)
    assert compiled.fixed_after(Version("2.0.5")) == (Version("2.1"),)


def test_limit_caps_an_open_range() -> None:
    compiled = entry(("introduced", "1.0"), ("limit", "1.8"))
    assert affects(compiled, "1.7")
    assert not affects(compiled, "1.8")


def test_versions_list_matches_by_pep440_equality() -> None:
    compiled = entry(versions=("1.0", "2.0rc1", "not-a-version"))
    assert affects(compiled, "1.0.0")
    assert affects(compiled, "2.0c1")  # normalises to 2.0rc1
    assert affects(compiled, "not-a-version")  # exact text still matches
    assert not affects(compiled, "1.0.1")


def test_invalid_version_in_a_range_skips_the_range_with_a_note() -> None:
    compiled = entry(("introduced", "0"), ("fixed", "v1-final!!"), versions=("0.5",))
    assert not compiled.intervals
    assert any("not a PEP 440 version" in note for note in compiled.notes)
    assert affects(compiled, "0.5")  # the list still matches


def test_query_that_is_not_pep440_matches_lists_only() -> None:
    compiled = entry(("introduced", "0"))
    assert not affects(compiled, "2.0-custom+build/1")


def test_git_only_entry_is_reported() -> None:
    compiled = entry(("introduced", "0"), ("fixed", "deadbeef"), kind="GIT")
    assert not compiled.intervals
    assert any("only GIT ranges" in note for note in compiled.notes)


def test_semver_range_is_ordered_with_pep440_when_it_parses() -> None:
    compiled = entry(("introduced", "1.2.3"), ("fixed", "1.4.0"), kind="SEMVER")
    assert affects(compiled, "1.3.0")


def test_compile_range_reports_the_advisory() -> None:
    rng = VersionRange("ECOSYSTEM", (RangeEvent("introduced", "x.y.z"),))
    intervals, note = compile_range(rng, "PYSEC-1")
    assert intervals == ()
    assert note is not None
    assert note.startswith("PYSEC-1")
