"""The detection engine: a rule set applied to one text.

For each text: the prefilter names the rules that can match; each of those runs its regex; each
match yields a candidate secret (by capture group, or by reading the assigned value), which must
then pass, in order:

1. the rule's ``valueRegex``, minimum length and entropy;
2. the placeholder filter (``XXXX``, ``${VAR}``, ``<token>``, ``changeme``, redacted values);
   for generic rules also the "this is code, not a literal" filters;
3. the rule's validator (a JWT header must be JSON with ``alg``...);
4. the rule's allowlists, then the global allowlists (paths, regexes, stopwords, commits);
5. no ``safeship:allow`` / ``gitleaks:allow`` / ``pragma: allowlist secret`` on its line.

A generic rule gives way to a specific rule that found the same secret, and one secret is
reported once. The secret itself is turned into its redacted form and fingerprint here and
dropped: nothing this module returns contains it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from safeship.scanners.secrets.assignment import generic_value_ok, name_is_secret, read_assignment
from safeship.scanners.secrets.entropy import shannon_entropy
from safeship.scanners.secrets.placeholders import is_placeholder
from safeship.scanners.secrets.prefilter import (
    HyperscanPrefilter,
    Prefilter,
    build_prefilter,
    hyperscan_module,
)
from safeship.scanners.secrets.redaction import fingerprint, redact
from safeship.scanners.secrets.results import SecretFinding
from safeship.scanners.secrets.rules import DEFAULT_SOURCE, Extraction, Rule, RuleSet
from safeship.scanners.secrets.search import searcher_for
from safeship.scanners.secrets.validators import VALIDATORS

INLINE_ALLOW = ("safeship:allow", "gitleaks:allow", "pragma: allowlist secret")
_INLINE_RE = re.compile("|".join(re.escape(marker) for marker in INLINE_ALLOW))


@dataclass
class TextResult:
    """Findings of one text and how many matches each filter stopped."""

    findings: list[SecretFinding] = field(default_factory=list)
    suppressed: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str) -> None:
        """Record one suppressed match."""
        self.suppressed[kind] = self.suppressed.get(kind, 0) + 1


@dataclass(frozen=True)
class _Hit:
    rule_index: int
    start: int
    end: int
    secret: str
    match_start: int
    match_end: int


class Detector:
    """Applies a :class:`RuleSet` to texts. Build one per process and reuse it."""

    def __init__(self, ruleset: RuleSet, *, accelerate: bool | None = None,
                 prefilter: Prefilter | None = None) -> None:
        self.ruleset = ruleset
        self.rules: tuple[Rule, ...] = tuple(r for r in ruleset.rules if r.regex is not None)
        self.path_rules = tuple(r for r in ruleset.rules if r.regex is None)
        self.searchers = tuple(searcher_for(r.regex) for r in self.rules if r.regex is not None)
        # accelerate: None uses hyperscan for keywords when installed; True also puts the rule
        # regexes in its database (a second to compile, worth it on large scans).
        self.prefilter = prefilter or build_prefilter(self.rules, accelerate,
                                                      with_regexes=accelerate is True)
        self.skip_paths = tuple(a for a in ruleset.allowlists
                                if a.path_only and not a.target_rules)

    @property
    def accelerated(self) -> bool:
        """True when the hyperscan prefilter is in use."""
        return isinstance(self.prefilter, HyperscanPrefilter)

    def accelerate(self) -> bool:
        """Put the rule regexes into a hyperscan prefilter too, when its wheel is installed;
        True when hyperscan is in use."""
        current = self.prefilter
        if hyperscan_module() is not None and not (
                isinstance(current, HyperscanPrefilter) and current.with_regexes):
            self.prefilter = build_prefilter(self.rules, True, with_regexes=True)
        return self.accelerated

    def path_allowed(self, path: str) -> bool:
        """True when a global path allowlist covers ``path`` for every rule."""
        return any(allowlist.allows(path=path, secret="", match="", line="", commit=None)
                   for allowlist in self.skip_paths)

    def path_findings(self, path: str, commit: str | None = None) -> list[SecretFinding]:
        """Findings of path-only rules (``path`` set, no ``regex``) for a file name."""
        found = []
        for rule in self.path_rules:
            if rule.path is None or not rule.path.search(path):
                continue
            if self._allowed(rule, path, "", "", "", commit):
                continue
            found.append(SecretFinding(path, 0, 0, rule.id, rule.description, "",
                                       fingerprint(rule.id, path, ""), commit))
        return found

    def scan(self, text: str, path: str, *, data: bytes | None = None,
             commit: str | None = None,
             line_numbers: Sequence[int] | None = None) -> TextResult:
        """Find the secrets in ``text`` (the content of ``path``).

        ``line_numbers`` maps the text's lines to the file's (for diffs, where the text holds
        only added lines); by default line 1 of the text is line 1 of the file.
        """
        result = TextResult()
        hits: list[_Hit] = []
        lowered: str | None = None
        for index in self.prefilter.candidates(text, data):
            rule = self.rules[index]
            if rule.path is not None and not rule.path.search(path):
                continue
            searcher = self.searchers[index]
            if searcher.lowered and lowered is None:
                lowered = text.lower()
            for match in searcher.matches(text, lowered):
                hit = self._candidate(index, rule, match, text, path, result)
                if hit is not None:
                    hits.append(hit)
        for hit in _prefer_specific(hits, self.rules):
            finding = self._finding(hit, text, path, commit, line_numbers, result)
            if finding is not None:
                result.findings.append(finding)
        return result

    def _candidate(self, index: int, rule: Rule, match: re.Match[str], text: str, path: str,
                   result: TextResult) -> _Hit | None:
        # The match may come from the lower-cased text: take offsets from it, text from text.
        if rule.extraction is Extraction.ASSIGNMENT:
            grouped = bool(match.re.groups) and match.start(1) >= 0
            name_start, name_end = match.span(1) if grouped else match.span()
            assigned = read_assignment(text, name_start, name_end)
            if assigned is None:
                return None
            secret, start, end = assigned.value, assigned.start, assigned.end
            if rule.value_regex is not None:
                if not rule.value_regex.fullmatch(secret) or not name_is_secret(assigned.name):
                    return None
            elif not generic_value_ok(assigned, path, min_length=max(rule.min_length, 1),
                                      min_entropy=rule.entropy,
                                      require_secret_word=rule.source == DEFAULT_SOURCE):
                result.count("filtered")
                return None
        else:
            group = _secret_group(rule, match)
            start, end = match.span(group)
            secret = text[start:end]
            if rule.value_regex is not None and not rule.value_regex.fullmatch(secret):
                return None
        if not secret or len(secret) < rule.min_length:
            return None
        if rule.entropy and shannon_entropy(secret) < rule.entropy:
            result.count("filtered")
            return None
        if is_placeholder(secret) and rule.validator != "private_key":
            result.count("filtered")
            return None
        if rule.validator is not None and not VALIDATORS[rule.validator](
                secret, text[match.start():match.end()]):
            result.count("filtered")
            return None
        return _Hit(index, start, end, secret, match.start(), match.end())

    def _finding(self, hit: _Hit, text: str, path: str, commit: str | None,
                 line_numbers: Sequence[int] | None, result: TextResult) -> SecretFinding | None:
        rule = self.rules[hit.rule_index]
        line_start = text.rfind("\n", 0, hit.start) + 1
        line_end = text.find("\n", hit.start)
        line_text = text[line_start:] if line_end < 0 else text[line_start:line_end]
        match_text = text[hit.match_start:hit.match_end]
        if self._allowed(rule, path, hit.secret, match_text, line_text, commit):
            result.count("allowlist")
            return None
        last_line_start = text.rfind("\n", 0, hit.end) + 1
        last_line_end = text.find("\n", hit.end)
        last_line = text[last_line_start:] if last_line_end < 0 else text[
            last_line_start:last_line_end]
        if _INLINE_RE.search(line_text) or _INLINE_RE.search(last_line):
            result.count("inline")
            return None
        index = text.count("\n", 0, hit.start)
        line = line_numbers[index] if line_numbers is not None and index < len(
            line_numbers) else index + 1
        return SecretFinding(
            file=path, line=line, column=hit.start - line_start + 1, rule_id=rule.id,
            description=rule.description, redacted=redact(hit.secret),
            fingerprint=fingerprint(rule.id, path, hit.secret), commit=commit)

    def _allowed(self, rule: Rule, path: str, secret: str, match: str, line: str,
                 commit: str | None) -> bool:
        for allowlist in (*rule.allowlists, *self.ruleset.allowlists):
            if allowlist.applies_to(rule.id) and allowlist.allows(
                    path=path, secret=secret, match=match, line=line, commit=commit):
                return True
        return False


def _secret_group(rule: Rule, match: re.Match[str]) -> int:
    # gitleaks: secretGroup when set, else the first capture group that matched something.
    if rule.secret_group:
        return rule.secret_group
    for group in range(1, (match.re.groups or 0) + 1):
        if match.group(group):
            return group
    return 0


def _prefer_specific(hits: list[_Hit], rules: Sequence[Rule]) -> list[_Hit]:
    """One hit per secret: a specific rule beats a generic one, then the earlier rule wins."""
    ordered = sorted(hits, key=lambda h: (rules[h.rule_index].generic, h.rule_index, h.start))
    kept: list[_Hit] = []
    for hit in ordered:
        if any(hit.start < other.end and other.start < hit.end for other in kept):
            continue
        kept.append(hit)
    return sorted(kept, key=lambda h: (h.start, h.rule_index))
