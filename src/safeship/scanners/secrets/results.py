"""What a secret scan reports: findings (redacted), skipped files, and numbers.

A :class:`SecretFinding` never holds a secret: only its first characters and a fingerprint
(see ``redaction.py``), so every writer downstream is safe by construction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

SUPPRESSION_KINDS = ("filtered", "allowlist", "inline", "baseline")
"""Why a match was not reported: a placeholder/entropy/code filter, an allowlist, an inline
``safeship:allow`` comment, or an entry of the baseline."""


@dataclass(frozen=True)
class SecretFinding:
    """One secret found: where, by which rule, shown redacted."""

    file: str
    line: int
    """1-based; 0 for a finding about the whole file (a path-only rule)."""
    column: int
    rule_id: str
    description: str
    redacted: str
    fingerprint: str
    commit: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The finding as the JSON report writes it."""
        data: dict[str, Any] = {
            "file": self.file, "line": self.line, "rule_id": self.rule_id,
            "description": self.description, "redacted": self.redacted,
            "fingerprint": self.fingerprint,
        }
        if self.column:
            data["column"] = self.column
        if self.commit is not None:
            data["commit"] = self.commit
        return data


@dataclass(frozen=True)
class SkippedFile:
    """A file (or commit diff) that was not scanned, and why."""

    file: str
    reason: str

    def to_json(self) -> dict[str, str]:
        """The entry as the JSON report writes it."""
        return {"file": self.file, "reason": self.reason}


def _counts(values: Mapping[str, int] | None = None) -> Mapping[str, int]:
    base = dict.fromkeys(SUPPRESSION_KINDS, 0)
    base.update(values or {})
    return MappingProxyType(base)


@dataclass(frozen=True)
class ScanReport:
    """The outcome of one scan."""

    findings: tuple[SecretFinding, ...]
    skipped: tuple[SkippedFile, ...] = ()
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    suppressed: Mapping[str, int] = field(default_factory=_counts)
    rules: int = 0
    accelerated: bool = False
    source: str = "files"
    """``files``, ``staged`` or ``history``."""

    def without(self, fingerprints: Iterable[str]) -> ScanReport:
        """This report minus the findings whose fingerprint is listed (a baseline)."""
        accepted = frozenset(fingerprints)
        kept = tuple(f for f in self.findings if f.fingerprint not in accepted)
        counts = dict(self.suppressed)
        counts["baseline"] = counts.get("baseline", 0) + len(self.findings) - len(kept)
        return replace(self, findings=kept, suppressed=_counts(counts))

    def to_json(self) -> dict[str, Any]:
        """The stable JSON document of ``safeship secrets scan --format json``."""
        return {
            "findings": [finding.to_json() for finding in self.findings],
            "skipped": [entry.to_json() for entry in self.skipped],
            "stats": {
                "files": self.files, "bytes": self.bytes, "seconds": round(self.seconds, 3),
                "rules": self.rules, "source": self.source,
                "accelerated": self.accelerated,
                "suppressed": dict(self.suppressed),
            },
        }


def merge_counts(*parts: Mapping[str, int]) -> Mapping[str, int]:
    """Suppression counts added up."""
    total = dict.fromkeys(SUPPRESSION_KINDS, 0)
    for part in parts:
        for key, value in part.items():
            total[key] = total.get(key, 0) + value
    return _counts(total)
