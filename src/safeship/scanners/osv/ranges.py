"""Which versions an OSV ``affected[]`` entry covers, evaluated with PEP 440 ordering.

An entry is compiled once into sorted intervals and a set of listed versions:

* ``ECOSYSTEM`` ranges (and ``SEMVER`` ranges whose versions parse as PEP 440, which release
  versions like ``1.2.3`` do) become intervals. Events are sorted by version, ``introduced: 0``
  first; ``introduced`` opens an interval, ``fixed`` closes it (exclusive), ``last_affected``
  closes it (inclusive), and ``limit`` caps every interval of the range (exclusive).
* ``versions`` lists are matched exactly, by PEP 440 equality (``1.0 == 1.0.0``).
* ``GIT`` ranges name commits, not releases; they are skipped. A package entry with nothing but
  GIT ranges cannot be matched offline and is reported as a note.

A version is affected when it falls in any interval or is listed. A range holding a version that
is not valid PEP 440 cannot be ordered; it is skipped with a note (the listed versions still
match), and a queried version that is not PEP 440 is matched against the lists only.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from safeship.scanners.osv.records import Advisory, AffectedPackage, VersionRange

ORDERED_RANGE_TYPES = frozenset({"ECOSYSTEM", "SEMVER"})
_ZERO = "0"


@dataclass(frozen=True, slots=True)
class Interval:
    """Versions from ``low`` (inclusive; None: from the first) to ``high`` (None: no end)."""

    low: Version | None
    high: Version | None
    high_inclusive: bool = False
    fixed: Version | None = None
    """The ``fixed`` version that closes this interval, if one does."""

    def contains(self, version: Version) -> bool:
        """True when ``version`` lies in the interval."""
        if self.low is not None and version < self.low:
            return False
        if self.high is None:
            return True
        return version <= self.high if self.high_inclusive else version < self.high


@dataclass(frozen=True, slots=True)
class CompiledAffected:
    """One advisory's ``affected[]`` entry for one package, ready to match versions."""

    advisory: Advisory
    intervals: tuple[Interval, ...]
    versions: frozenset[Version]
    raw_versions: frozenset[str]
    notes: tuple[str, ...] = ()

    def affects(self, version: Version | None, raw: str) -> bool:
        """True when the version (parsed, or None when it is not PEP 440) is affected."""
        if raw in self.raw_versions:
            return True
        if version is None:
            return False
        if version in self.versions:
            return True
        return any(interval.contains(version) for interval in self.intervals)

    def fixed_after(self, version: Version | None) -> tuple[Version, ...]:
        """Fix versions that close an interval holding ``version`` (or all, if unknown)."""
        found = {
            interval.fixed
            for interval in self.intervals
            if interval.fixed is not None and (version is None or interval.contains(version))
        }
        return tuple(sorted(found))


def _parse(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def compile_range(versions_range: VersionRange, advisory_id: str) -> tuple[
        tuple[Interval, ...], str | None]:
    """The intervals of one ordered range, or ``((), note)`` when it cannot be evaluated."""
    parsed: list[tuple[int, Version | None, str]] = []
    limit: Version | None = None
    order = {"introduced": 0, "last_affected": 1, "fixed": 2}
    for event in versions_range.events:
        if event.kind == "introduced" and event.version == _ZERO:
            parsed.append((order["introduced"], None, event.kind))
            continue
        version = _parse(event.version)
        if version is None:
            return (), (f"{advisory_id}: {versions_range.type} range skipped, "
                        f"'{event.version}' is not a PEP 440 version")
        if event.kind == "limit":
            limit = version if limit is None else min(limit, version)
        else:
            parsed.append((order[event.kind], version, event.kind))
    # "introduced: 0" (None) sorts first; ties keep introduced before the events that close.
    parsed.sort(key=lambda item: (item[1] is not None, item[1] or Version("0"), item[0]))
    intervals: list[Interval] = []
    open_at: Version | None = None
    is_open = False
    for _, version, kind in parsed:
        if kind == "introduced":
            if not is_open:
                open_at, is_open = version, True
        elif is_open and kind == "fixed":
            intervals.append(Interval(open_at, version, False, version))
            is_open = False
        elif is_open and kind == "last_affected":
            intervals.append(Interval(open_at, version, True))
            is_open = False
    if is_open:
        intervals.append(Interval(open_at, None))
    if limit is not None:
        intervals = [_cap(interval, limit) for interval in intervals]
        intervals = [i for i in intervals if i.low is None or i.low < limit]
    return tuple(intervals), None


def _cap(interval: Interval, limit: Version) -> Interval:
    if interval.high is None or interval.high > limit or (
        interval.high == limit and interval.high_inclusive
    ):
        return Interval(interval.low, limit, False, interval.fixed)
    return interval


def compile_affected(advisory: Advisory, affected: AffectedPackage) -> CompiledAffected:
    """Compile one ``affected[]`` entry (see the module docstring for the rules)."""
    intervals: list[Interval] = []
    notes: list[str] = []
    ordered = 0
    for versions_range in affected.ranges:
        if versions_range.type not in ORDERED_RANGE_TYPES:
            continue
        ordered += 1
        compiled, note = compile_range(versions_range, advisory.id)
        intervals.extend(compiled)
        if note:
            notes.append(note)
    listed: set[Version] = set()
    raw: set[str] = set()
    for text in affected.versions:
        raw.add(text)
        version = _parse(text)
        if version is not None:
            listed.add(version)
    if not ordered and not raw and affected.ranges:
        notes.append(f"{advisory.id}: {affected.name} has only GIT ranges; "
                     "it cannot be matched to released versions offline")
    return CompiledAffected(advisory, tuple(intervals), frozenset(listed), frozenset(raw),
                            tuple(notes))
