"""The rule model of the secret scanner: rules, allowlists and rule sets.

The shape follows gitleaks' TOML configuration (``[[rules]]`` with ``id``, ``description``,
``regex``, ``secretGroup``, ``entropy``, ``keywords``, ``path``, ``tags`` and allowlists by path,
regex, stopword and commit), so a team's gitleaks rules load unchanged. safeship adds a few
optional fields that its own default rules use (``extract``, ``valueRegex``, ``minLength``,
``validator``, ``generic``); a gitleaks file never needs them.

Everything here is a frozen dataclass holding compiled :mod:`re` patterns, so a rule set can be
handed to worker processes as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

DEFAULT_SOURCE = "safeship default rules"
"""The ``source`` of the built-in rules."""


class Condition(StrEnum):
    """How the checks of one allowlist combine (gitleaks ``condition``)."""

    OR = "OR"
    AND = "AND"


class AllowTarget(StrEnum):
    """What an allowlist's ``regexes`` are tested against (gitleaks ``regexTarget``)."""

    SECRET = "secret"  # noqa: S105  (a gitleaks keyword, not a password)
    MATCH = "match"
    LINE = "line"


class Extraction(StrEnum):
    """How a rule finds the secret in its match.

    ``group`` is gitleaks' behaviour: ``secretGroup`` if set, else the first non-empty capture
    group, else the whole match. ``assignment`` reads the value assigned to the name that the
    regex matched (``name = "value"``, ``name: value``, ``"name": "value"``, ``name("value")``):
    the generic rules and the guide's ``pattern:`` work this way, so ``.*=.+`` can be written
    without worrying about which group holds the value.
    """

    GROUP = "group"
    ASSIGNMENT = "assignment"


@dataclass(frozen=True)
class Allowlist:
    """Conditions under which a finding is not reported (gitleaks ``[[rules.allowlists]]``)."""

    description: str = ""
    condition: Condition = Condition.OR
    paths: tuple[re.Pattern[str], ...] = ()
    regexes: tuple[re.Pattern[str], ...] = ()
    regex_target: AllowTarget = AllowTarget.SECRET
    stopwords: tuple[str, ...] = ()
    """Lower-cased words; a secret containing one is allowed."""
    commits: tuple[str, ...] = ()
    target_rules: tuple[str, ...] = ()
    """Global allowlists only: the rule ids it applies to (empty: every rule)."""

    @property
    def path_only(self) -> bool:
        """True when only ``paths`` decide, so a matching file need not be read at all."""
        return bool(self.paths) and not (self.regexes or self.stopwords or self.commits)

    def applies_to(self, rule_id: str) -> bool:
        """True when this allowlist covers findings of ``rule_id``."""
        return not self.target_rules or rule_id in self.target_rules

    def allows(self, *, path: str, secret: str, match: str, line: str,
               commit: str | None) -> bool:
        """True when this allowlist lets the finding go."""
        checks: list[bool] = []
        if self.commits:
            checks.append(commit is not None and any(
                commit.startswith(c) or c.startswith(commit) for c in self.commits))
        if self.paths:
            checks.append(any(p.search(path) for p in self.paths))
        if self.regexes:
            target = {AllowTarget.SECRET: secret, AllowTarget.MATCH: match,
                      AllowTarget.LINE: line}[self.regex_target]
            checks.append(any(r.search(target) for r in self.regexes))
        if self.stopwords:
            lowered = secret.lower()
            checks.append(any(word in lowered for word in self.stopwords))
        if not checks:
            return False
        return all(checks) if self.condition is Condition.AND else any(checks)


@dataclass(frozen=True)
class Rule:
    """One detection rule."""

    id: str
    description: str
    regex: re.Pattern[str] | None
    """None for a path-only rule (the file's name is the finding)."""
    secret_group: int = 0
    entropy: float = 0.0
    """Minimum Shannon entropy (bits per character) of the secret; 0 disables the check."""
    keywords: tuple[str, ...] = ()
    """Lower-cased; the rule runs only on text containing one of them (none: always runs)."""
    path: re.Pattern[str] | None = None
    allowlists: tuple[Allowlist, ...] = ()
    tags: tuple[str, ...] = ()
    extraction: Extraction = Extraction.GROUP
    value_regex: re.Pattern[str] | None = None
    """With ``assignment`` extraction: the value must match this in full."""
    min_length: int = 0
    validator: str | None = None
    """Name of an extra structural check (see ``validators.py``), e.g. ``jwt``."""
    generic: bool = False
    """Generic detections give way to a specific rule that found the same secret."""
    source: str = DEFAULT_SOURCE
    """Where the rule came from: the defaults, a TOML file's path, or ``pattern``."""


@dataclass(frozen=True)
class RuleSet:
    """The rules of a scan and the allowlists that apply to all of them."""

    rules: tuple[Rule, ...]
    allowlists: tuple[Allowlist, ...] = ()
    sources: tuple[str, ...] = field(default=())
    """Human-readable origins, e.g. ``("safeship defaults", "gitleaks.toml")``."""

    def rule(self, rule_id: str) -> Rule:
        """The rule with id ``rule_id``; raises KeyError when there is none."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def with_rules(self, extra: tuple[Rule, ...], source: str) -> RuleSet:
        """This set plus ``extra`` (a rule with an existing id replaces the old one)."""
        ids = {rule.id for rule in extra}
        kept = tuple(rule for rule in self.rules if rule.id not in ids)
        return RuleSet(kept + extra, self.allowlists, (*self.sources, source))
