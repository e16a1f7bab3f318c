"""The DAST scan's data: rule levels, rules, alerts, and the report of one scan.

Levels follow the OWASP ZAP baseline's rule configuration: ``FAIL`` fails the scan (and the
gate), ``WARN`` is reported without failing, ``INFO`` is reported as a note, ``IGNORE`` turns the
rule off (its probes are not even sent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Level(StrEnum):
    """What an alert of a rule does to the scan's outcome."""

    FAIL = "FAIL"
    WARN = "WARN"
    INFO = "INFO"
    IGNORE = "IGNORE"


class Risk(StrEnum):
    """How dangerous a rule's finding usually is (ZAP's risk scale)."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "informational"


class Kind(StrEnum):
    """How a rule looks: reading answers, requesting known paths, or sending safe markers."""

    PASSIVE = "passive"
    EXPOSURE = "exposure"
    ACTIVE = "active"


@dataclass(frozen=True)
class Rule:
    """One check, with its ZAP-compatible id and its OWASP Top 10 2021 category."""

    id: str
    name: str
    kind: Kind
    risk: Risk
    owasp: str
    """OWASP Top 10 2021 category, e.g. ``A05:2021-Security Misconfiguration``."""
    cwe: int
    default_level: Level
    description: str
    solution: str


@dataclass(frozen=True)
class Alert:
    """One instance of a rule's finding: where, what was seen, and why it matters.

    ``url`` is display-safe (no user:password, query values hidden) and ``evidence`` never
    holds a secret value (cookie values, the contents of an exposed ``.env``).
    """

    rule_id: str
    url: str
    evidence: str
    detail: str
    param: str | None = None
    status: int | None = None


@dataclass(frozen=True)
class RuleResult:
    """The alerts of one rule, at the level the configuration gave it."""

    rule: Rule
    level: Level
    alerts: tuple[Alert, ...]
    instances: int
    """How many alerts there were (``alerts`` keeps at most a bounded number)."""


@dataclass(frozen=True)
class ScanReport:
    """Everything one scan found and did."""

    target: str
    started_at: str
    duration_s: float
    pages: tuple[str, ...]
    requests: int
    bytes_read: int
    results: tuple[RuleResult, ...]
    active: bool
    openapi_paths: int = 0
    limits_reached: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    ignored_rules: tuple[str, ...] = ()
    skipped: tuple[str, ...] = field(default_factory=tuple)
    """Parts of the scan that did not run (e.g. probes cut short by ``max_seconds``)."""

    def at_level(self, level: Level) -> tuple[RuleResult, ...]:
        """The rule results at ``level``."""
        return tuple(result for result in self.results if result.level is level)

    @property
    def failed(self) -> bool:
        """True when any FAIL rule alerted, or part of the scan could not run (fail closed)."""
        return bool(self.at_level(Level.FAIL)) or bool(self.skipped)

    def counts(self) -> dict[str, int]:
        """Alerting rules per level: ``{"FAIL": n, "WARN": n, "INFO": n}``."""
        return {level.value: len(self.at_level(level)) for level in
                (Level.FAIL, Level.WARN, Level.INFO)}
