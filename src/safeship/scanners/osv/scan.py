"""Scan pinned dependencies against an :class:`~safeship.scanners.osv.index.AdvisoryIndex`.

For each dependency (name and exact version) the matching advisories are grouped: records that
share an id or alias (PYSEC-..., GHSA-..., CVE-...) are one vulnerability and become one
finding. The finding's ``id`` is a record id of the database (PYSEC before GHSA before others),
``aliases`` every other id; its severity is the worst of the merged records, and ``fixed_in``
the union of their fixes past the scanned version. The policy turns severity into a decision,
and an active ignore entry turns it into ``ignored``.

Dependencies without an exact version cannot be matched: they are returned in
:attr:`ScanReport.unpinned` so that callers can say so instead of passing them silently.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from safeship.scanners.osv.ignores import IgnoreEntry, check
from safeship.scanners.osv.index import AdvisoryIndex, Match, normalize_name
from safeship.scanners.osv.policy import Decision, SeverityPolicy, overall
from safeship.scanners.osv.severity import SeverityAssessment, assess, worst

_ID_PREFERENCE = ("PYSEC-", "GHSA-", "OSV-")


@dataclass(frozen=True)
class ScanTarget:
    """One dependency to check: its name, its exact version (None if not pinned), its place."""

    name: str
    version: str | None
    path: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class VulnerabilityFinding:
    """One vulnerability (aliases merged) in one package version."""

    package: str
    version: str
    id: str
    aliases: tuple[str, ...]
    severity: SeverityAssessment
    fixed_in: tuple[str, ...]
    decision: Decision
    summary: str = ""
    path: str | None = None
    line: int | None = None
    ignore: IgnoreEntry | None = None
    expired_ignore: IgnoreEntry | None = None

    def to_json(self) -> dict[str, Any]:
        """The finding as the documented JSON object (plus summary, location and ignore)."""
        data: dict[str, Any] = {
            "package": self.package,
            "version": self.version,
            "id": self.id,
            "aliases": list(self.aliases),
            "severity": self.severity.level.value,
            "score": self.severity.score,
            "fixed_in": list(self.fixed_in),
            "decision": self.decision.value,
            "summary": self.summary,
            "location": {"path": self.path, "line": self.line} if self.path else None,
        }
        if self.ignore is not None:
            data["ignored"] = {"reason": self.ignore.reason,
                               "expires": self.ignore.expires.isoformat()}
        if self.expired_ignore is not None:
            data["ignore_expired"] = self.expired_ignore.expires.isoformat()
        return data


@dataclass(frozen=True)
class ScanReport:
    """The result of one scan."""

    findings: tuple[VulnerabilityFinding, ...]
    decision: Decision
    scanned: int
    unpinned: tuple[ScanTarget, ...] = ()
    notes: tuple[str, ...] = ()
    unused_ignores: tuple[IgnoreEntry, ...] = ()
    database: dict[str, Any] = field(default_factory=dict)

    def count(self, decision: Decision) -> int:
        """How many findings got ``decision``."""
        return sum(1 for f in self.findings if f.decision is decision)

    def to_json(self) -> dict[str, Any]:
        """The whole report as JSON-ready data."""
        return {
            "decision": self.decision.value,
            "scanned": self.scanned,
            "findings": [f.to_json() for f in self.findings],
            "unpinned": [
                {"package": t.name, "location": {"path": t.path, "line": t.line}
                 if t.path else None}
                for t in self.unpinned
            ],
            "notes": list(self.notes),
            "database": dict(self.database),
        }


def _representative(ids: Iterable[str]) -> str:
    def rank(ident: str) -> tuple[int, str]:
        for position, prefix in enumerate(_ID_PREFERENCE):
            if ident.upper().startswith(prefix):
                return position, ident
        return len(_ID_PREFERENCE), ident

    return min(ids, key=rank)


def group_aliases(matches: Sequence[Match]) -> list[list[Match]]:
    """Group matches whose ids or aliases overlap (transitively), in first-seen order."""
    parent = list(range(len(matches)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for index, found in enumerate(matches):
        for ident in found.advisory.ids:
            key = ident.upper()
            if key in owner:
                a, b = find(owner[key]), find(index)
                if a != b:
                    parent[max(a, b)] = min(a, b)
            else:
                owner[key] = index
    groups: dict[int, list[Match]] = {}
    for index, found in enumerate(matches):
        groups.setdefault(find(index), []).append(found)
    return list(groups.values())


def _finding(target: ScanTarget, version: str, group: list[Match], policy: SeverityPolicy,
             ignores: Sequence[IgnoreEntry], today: dt.date,
             used: set[IgnoreEntry]) -> VulnerabilityFinding:
    record_ids = sorted({m.advisory.id for m in group})
    every_id = {i for m in group for i in m.advisory.ids}
    main = _representative(record_ids)
    aliases = tuple(sorted(every_id - {main}))
    severity = worst(assess(m.advisory) for m in group)
    fixes = sorted({v for m in group for v in m.fixed_in})
    summary = next((m.advisory.summary for m in group if m.advisory.id == main), "")
    summary = summary or next((m.advisory.summary for m in group if m.advisory.summary), "")
    decision = policy.decide(severity.level)
    applied = check(ignores, every_id, target.name, today)
    if applied.entry is not None:
        used.add(applied.entry)
        decision = Decision.IGNORED
    elif applied.expired is not None:
        used.add(applied.expired)
    return VulnerabilityFinding(
        package=target.name, version=version, id=main, aliases=aliases, severity=severity,
        fixed_in=tuple(str(v) for v in fixes), decision=decision, summary=summary,
        path=target.path, line=target.line, ignore=applied.entry,
        expired_ignore=applied.expired,
    )


def scan(targets: Iterable[ScanTarget], index: AdvisoryIndex, *,
         policy: SeverityPolicy | None = None, ignores: Sequence[IgnoreEntry] = (),
         today: dt.date | None = None) -> ScanReport:
    """Match ``targets`` against ``index`` and decide (see the module docstring).

    ``today`` decides which ignore entries have expired (default: the local date).
    """
    policy = policy or SeverityPolicy()
    today = today or dt.date.today()
    findings: list[VulnerabilityFinding] = []
    unpinned: list[ScanTarget] = []
    seen: set[tuple[str, str]] = set()
    used: set[IgnoreEntry] = set()
    notes: list[str] = []
    scanned = 0
    for target in targets:
        if not target.version:
            unpinned.append(target)
            continue
        key = (normalize_name(target.name), target.version)
        if key in seen:
            continue
        seen.add(key)
        scanned += 1
        # Notes about this package's advisories (a range that could not be evaluated) matter:
        # such an advisory might affect the version and nothing could tell.
        notes.extend(n for entry in index.entries(target.name) for n in entry.notes)
        matches = index.match(target.name, target.version)
        findings.extend(
            _finding(target, target.version, group, policy, ignores, today, used)
            for group in group_aliases(matches)
        )
    findings.sort(key=lambda f: (-_severity_order(f), normalize_name(f.package), f.id))
    for finding in findings:
        notes.extend(n for n in finding.severity.notes if n not in notes)
        if finding.expired_ignore is not None:
            notes.append(f"ignore entry for {finding.expired_ignore.id} expired on "
                         f"{finding.expired_ignore.expires.isoformat()}; the finding counts again")
    unused = tuple(e for e in ignores if e not in used)
    return ScanReport(
        findings=tuple(findings),
        decision=overall(f.decision for f in findings),
        scanned=scanned,
        unpinned=tuple(unpinned),
        notes=tuple(dict.fromkeys(notes)),
        unused_ignores=unused,
    )


def _severity_order(finding: VulnerabilityFinding) -> int:
    order = {Decision.BLOCK: 3, Decision.WARN: 2, Decision.PASS: 1, Decision.IGNORED: 0}
    return order[finding.decision] * 10 + finding.severity.level.rank
