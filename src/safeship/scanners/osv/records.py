"""OSV advisory records as frozen dataclasses, and the parser from raw JSON/YAML mappings.

Only the fields the matcher and the severity policy use are kept (id, aliases, summary,
modified, withdrawn, affected packages with their ranges and version lists, severity vectors,
and the database's own severity label), so a whole ecosystem export stays small in memory.
The schema is the OSV schema (ossf.github.io/osv-schema); malformed records raise
:class:`RecordError` and the loader reports them instead of guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")


class RecordError(ValueError):
    """A record that does not follow the OSV schema closely enough to be matched."""


@dataclass(frozen=True, slots=True)
class RangeEvent:
    """One event of an OSV range: ``introduced``, ``fixed``, ``last_affected`` or ``limit``."""

    kind: str
    version: str


@dataclass(frozen=True, slots=True)
class VersionRange:
    """An OSV range: its type (ECOSYSTEM, SEMVER, GIT) and its events in file order."""

    type: str
    events: tuple[RangeEvent, ...]


@dataclass(frozen=True, slots=True)
class SeverityEntry:
    """One entry of an OSV ``severity`` list: a type (CVSS_V3, CVSS_V4, ...) and its score."""

    type: str
    score: str


@dataclass(frozen=True, slots=True)
class AffectedPackage:
    """One ``affected[]`` entry: a package in an ecosystem and the versions it covers."""

    ecosystem: str
    name: str
    ranges: tuple[VersionRange, ...]
    versions: tuple[str, ...]
    severity: tuple[SeverityEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class Advisory:
    """One OSV record, reduced to what matching and severity need."""

    id: str
    aliases: tuple[str, ...]
    summary: str
    affected: tuple[AffectedPackage, ...]
    severity: tuple[SeverityEntry, ...] = ()
    database_severity: str | None = None
    """The database's own label (GHSA's LOW/MODERATE/HIGH/CRITICAL), when it gives one."""
    database_score: float | None = None
    """A numeric CVSS score the database states itself, when it gives one."""
    modified: str | None = None
    withdrawn: str | None = None
    source: str = ""
    """Where the record was read from (file or zip member), for messages."""

    @property
    def ids(self) -> frozenset[str]:
        """The record's id and its aliases."""
        return frozenset((self.id, *self.aliases))


def _text(value: object) -> str | None:
    if value is None:
        return None
    return str(value)


def _strings(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise RecordError(f"{where} is not a list")
    return tuple(str(item) for item in value if item is not None)


def _severity(value: object, where: str) -> tuple[SeverityEntry, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise RecordError(f"{where} is not a list")
    return tuple(
        SeverityEntry(str(item["type"]), str(item["score"]).strip())
        for item in value
        if isinstance(item, Mapping) and item.get("type") and item.get("score") is not None
    )


def _ranges(value: object, where: str) -> tuple[VersionRange, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise RecordError(f"{where} is not a list")
    ranges = []
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise RecordError(f"{where}[{index}] is not a mapping")
        events: list[RangeEvent] = []
        raw_events = item.get("events") or []
        if not isinstance(raw_events, list):
            raise RecordError(f"{where}[{index}].events is not a list")
        for event in raw_events:
            if not isinstance(event, Mapping):
                raise RecordError(f"{where}[{index}].events has an entry that is not a mapping")
            events.extend(
                RangeEvent(kind, str(event[kind]).strip())
                for kind in EVENT_KINDS
                if event.get(kind) is not None
            )
        ranges.append(VersionRange(str(item.get("type", "")).upper(), tuple(events)))
    return tuple(ranges)


def _score(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        score = float(value)
    except ValueError:
        return None
    return score if 0.0 <= score <= 10.0 else None


def parse_record(raw: Mapping[str, Any], source: str = "") -> Advisory:
    """Turn one OSV mapping into an :class:`Advisory`; raise :class:`RecordError` if unusable."""
    if not isinstance(raw, Mapping):
        raise RecordError("the record is not a mapping")
    ident = raw.get("id")
    if not isinstance(ident, str) or not ident.strip():
        raise RecordError("the record has no 'id'")
    affected_raw = raw.get("affected") or []
    if not isinstance(affected_raw, list):
        raise RecordError(f"{ident}: 'affected' is not a list")
    affected = []
    for index, item in enumerate(affected_raw):
        where = f"{ident}: affected[{index}]"
        if not isinstance(item, Mapping):
            raise RecordError(f"{where} is not a mapping")
        package = item.get("package") or {}
        if not isinstance(package, Mapping):
            raise RecordError(f"{where}.package is not a mapping")
        affected.append(AffectedPackage(
            ecosystem=str(package.get("ecosystem") or ""),
            name=str(package.get("name") or ""),
            ranges=_ranges(item.get("ranges"), f"{where}.ranges"),
            versions=_strings(item.get("versions"), f"{where}.versions"),
            severity=_severity(item.get("severity"), f"{where}.severity"),
        ))
    specific = raw.get("database_specific")
    label = score = None
    if isinstance(specific, Mapping):
        label = _text(specific.get("severity"))
        score = _score(specific.get("cvss_score", specific.get("score")))
    return Advisory(
        id=ident.strip(),
        aliases=tuple(a for a in _strings(raw.get("aliases"), f"{ident}: aliases") if a != ident),
        summary=str(raw.get("summary") or raw.get("details") or "").strip().split("\n")[0][:300],
        affected=tuple(affected),
        severity=_severity(raw.get("severity"), f"{ident}: severity"),
        database_severity=label.strip().upper() if label else None,
        database_score=score,
        modified=_text(raw.get("modified")),
        withdrawn=_text(raw.get("withdrawn")),
        source=source,
    )
