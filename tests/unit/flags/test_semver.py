"""Strict SemVer 2.0 parsing and precedence (semver.org, section 11)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safeship.flags.semver import (
    MAX_VERSION_LENGTH,
    SemverSyntaxError,
    Version,
    compare,
    parse_version,
    precedence_key,
)

# The specification's own example, lowest precedence first.
SPEC_ORDER = [
    "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
    "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "2.0.0", "10.0.0",
]


def test_the_specification_example_sorts_in_order() -> None:
    versions = [parse_version(text) for text in SPEC_ORDER]
    for lower, higher in itertools.pairwise(versions):
        assert lower < higher
        assert higher > lower
        assert compare(lower, higher) == -1
        assert compare(higher, lower) == 1
    shuffled = [versions[i] for i in (5, 0, 11, 3, 8, 1, 10, 2, 7, 4, 9, 6)]
    assert sorted(shuffled, key=Version.key) == versions


def test_parts_are_read() -> None:
    version = parse_version("v1.22.333-rc.1+build.5")
    assert (version.major, version.minor, version.patch) == (1, 22, 333)
    assert version.prerelease == ("rc", "1")
    assert version.build == ("build", "5")
    assert str(version) == "1.22.333-rc.1+build.5"


def test_build_metadata_does_not_change_precedence() -> None:
    left, right = parse_version("1.0.0+a"), parse_version("1.0.0+b")
    assert compare(left, right) == 0
    assert left <= right
    assert left >= right
    assert left != right  # structurally different, same precedence


@pytest.mark.parametrize("text", [
    "1", "1.0", "1.0.0.0", "01.0.0", "1.02.0", "1.0.0-", "1.0.0-01", "1.0.0+", "1.0.0-a..b",
    "", "vv1.0.0", " 1.0.0", "1.0.0 ", "1.0.0-ä", "latest",
])
def test_invalid_versions_are_refused(text: str) -> None:
    with pytest.raises(SemverSyntaxError):
        parse_version(text)
    assert precedence_key(text) is None


def test_non_strings_and_overlong_text_are_refused() -> None:
    with pytest.raises(SemverSyntaxError, match="not a version"):
        parse_version(1.0)  # type: ignore[arg-type]
    with pytest.raises(SemverSyntaxError, match="at most"):
        parse_version("1.0.0-" + "a" * MAX_VERSION_LENGTH)


def test_numeric_identifiers_sort_below_alphanumeric_ones() -> None:
    assert parse_version("1.0.0-1") < parse_version("1.0.0-a")
    assert parse_version("1.0.0-a.1") < parse_version("1.0.0-a.a")
    assert parse_version("1.0.0-0a") > parse_version("1.0.0-999")


_parts = st.integers(min_value=0, max_value=10_000)


@settings(max_examples=200, deadline=None)
@given(_parts, _parts, _parts, _parts, _parts, _parts)
def test_releases_compare_like_number_tuples(a: int, b: int, c: int, x: int, y: int,
                                             z: int) -> None:
    left, right = parse_version(f"{a}.{b}.{c}"), parse_version(f"{x}.{y}.{z}")
    expected = ((a, b, c) > (x, y, z)) - ((a, b, c) < (x, y, z))
    assert compare(left, right) == expected
    # A pre-release sits just below its release and above the previous patch.
    pre = parse_version(f"{a}.{b}.{c}-rc.1")
    assert pre < left
    if c > 0:
        assert parse_version(f"{a}.{b}.{c - 1}") < pre
