"""The severity policy: which severity blocks, which warns, and which passes.

The guide's policy is "critical blocks, high warns". Most PyPA records carry no CVSS vector,
so the policy for an *unknown* severity must be explicit; by default it is treated like high
(warn): a vulnerability whose severity nobody rated never passes silently.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from safeship.scanners.osv.severity import SeverityLevel


class Decision(StrEnum):
    """What a finding (or the whole scan) means for the change."""

    BLOCK = "block"
    WARN = "warn"
    PASS = "pass"  # noqa: S105 - a decision, not a password
    IGNORED = "ignored"
    """A finding covered by a valid ignore entry (never a scan-level decision)."""


_DECISION_RANK = {Decision.IGNORED: 0, Decision.PASS: 0, Decision.WARN: 1, Decision.BLOCK: 2}


@dataclass(frozen=True)
class SeverityPolicy:
    """The decision for each severity level (``none`` always passes)."""

    critical: Decision = Decision.BLOCK
    high: Decision = Decision.WARN
    medium: Decision = Decision.PASS
    low: Decision = Decision.PASS
    unknown: Decision = Decision.WARN

    def decide(self, level: SeverityLevel) -> Decision:
        """The decision for a finding of severity ``level``."""
        table = {
            SeverityLevel.CRITICAL: self.critical,
            SeverityLevel.HIGH: self.high,
            SeverityLevel.MEDIUM: self.medium,
            SeverityLevel.LOW: self.low,
            SeverityLevel.UNKNOWN: self.unknown,
        }
        return table.get(level, Decision.PASS)


def overall(decisions: Iterable[Decision]) -> Decision:
    """The scan's decision: block if any finding blocks, else warn if any warns, else pass."""
    worst = Decision.PASS
    for decision in decisions:
        if _DECISION_RANK[decision] > _DECISION_RANK[worst]:
            worst = decision
    return worst
