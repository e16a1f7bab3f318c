"""Assembling the rules of a scan: safeship's defaults, a team's TOML file, the guide's pattern.

``load_ruleset()`` is what the CLI and the gate call:

* no ``config``: the default rules;
* ``config``: that gitleaks-style TOML file (which keeps the defaults only with
  ``[extend] useDefault = true``, as in gitleaks);
* ``pattern`` (gates.yaml ``pattern:``, ``--pattern``): one more rule, id ``gates-pattern``.
  Its value is read as an assignment (the text after ``=`` or ``:``), so the guide's
  ``(?i)(password|secret|key).*=.+`` reports ``db_password = "..."`` but not ``if password ==``,
  ``key = None`` or ``monkey = 3``; entropy and placeholder filters keep it quiet.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from safeship.errors import UsageError
from safeship.scanners.secrets.default_rules import default_rules, raw_default_rules
from safeship.scanners.secrets.gitleaks_toml import compile_pattern, load_rules_file
from safeship.scanners.secrets.rules import Extraction, Rule, RuleSet

PATTERN_RULE_ID = "gates-pattern"
PATTERN_ENTROPY = 3.0
PATTERN_MIN_LENGTH = 8


@cache
def default_ruleset() -> RuleSet:
    """safeship's built-in rules."""
    return RuleSet(default_rules(), (), ("safeship default rules",))


def pattern_rule(pattern: str) -> Rule:
    """The rule for a gates.yaml ``pattern:`` (RE2 or Python syntax); ValueError if invalid."""
    regex = compile_pattern(pattern)
    return Rule(
        id=PATTERN_RULE_ID,
        description=f"matches the configured pattern {pattern}",
        regex=regex,
        entropy=PATTERN_ENTROPY,
        extraction=Extraction.ASSIGNMENT,
        min_length=PATTERN_MIN_LENGTH,
        generic=True,
        source="pattern",
    )


def load_ruleset(config: Path | None = None, pattern: str | None = None) -> RuleSet:
    """The rules for one scan; raises ``ConfigError`` (file:line) or ``NotFound``."""
    ruleset = default_ruleset() if config is None else load_rules_file(
        config, raw_default_rules())
    if pattern:
        try:
            rule = pattern_rule(pattern)
        except ValueError as exc:
            raise UsageError(f"pattern {pattern!r}: {exc}") from exc
        ruleset = ruleset.with_rules((rule,), "pattern")
    return ruleset
