"""Which rules can match a text, decided before any rule regex runs.

gitleaks' keyword prefilter: a rule runs only on text containing one of its keywords. Checking
500 keywords one ``in`` at a time costs 500 passes over every file. Instead the text is split
at whitespace (no keyword contains any, so every keyword occurrence lies inside one token), and
each distinct token is looked up in a cache of "token -> rules its keywords imply". Source code
repeats its vocabulary, so after the first files nearly every token is a cache hit and a file
costs one split and a few hundred dictionary look-ups.

When the optional ``hyperscan`` wheel (Vectorscan) is installed, :class:`HyperscanPrefilter`
finds every keyword in one pass over the bytes at gigabytes per second. On large scans it can
go further: the same database then also holds every rule regex (in hyperscan's *prefilter*
mode, which may match more than the regex, never less), so one scan says which rules can match
at all; the ``re`` regexes then run only for those. Hyperscan
sees ASCII text only, where its ASCII classes and Python's Unicode classes agree; other text,
and any rule hyperscan cannot compile, goes through the keyword path. Either way the result is
a superset of the rules that match, so the fast path never changes what is found.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any, Protocol

from safeship.scanners.secrets.rules import Rule

log = logging.getLogger(__name__)

_CACHE_LIMIT = 200_000
_CACHEABLE_TOKEN = 64
_EMPTY: frozenset[int] = frozenset()
# Hyperscan compiles large bounded repeats slowly ({60,32000} takes seconds); for a prefilter a
# looser repeat is as good, since re confirms every candidate.
_REPEAT = re.compile(r"\{(\d+)(,(\d*))?\}\??")
_LOOSE_ABOVE = 40


class Prefilter(Protocol):
    """Returns the indexes (into the rule list) of the rules worth running on a text."""

    def candidates(self, text: str, data: bytes | None) -> list[int]:
        """Rule indexes for ``text`` (``data``: the same text as bytes, when at hand)."""
        ...


def _trie_regex(words: Sequence[str]) -> str:
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items())
                    if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" in node:
            # The word may end here; the longer words are tried first (greedy).
            body = f"(?:{body})?"
        return body

    return build(trie)


class KeywordPrefilter:
    """gitleaks' keyword prefilter over whitespace tokens, with a token cache."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.always = frozenset(i for i, rule in enumerate(rules) if not rule.keywords)
        by_keyword: dict[str, set[int]] = {}
        for index, rule in enumerate(rules):
            for keyword in rule.keywords:
                by_keyword.setdefault(keyword, set()).add(index)
        words = sorted(by_keyword)
        # The trie reports the longest keyword at each position; a shorter keyword that is its
        # prefix is present too.
        self.implied: dict[str, frozenset[int]] = {
            word: frozenset(i for other in words if word.startswith(other)
                            for i in by_keyword[other])
            for word in words
        }
        self.regex = re.compile(f"(?=({_trie_regex(words)}))") if words else None
        self.cache: dict[str, frozenset[int]] = {}

    def rules_for_token(self, token: str) -> frozenset[int]:
        """Rules whose keywords occur in one lower-cased token."""
        if self.regex is None:
            return _EMPTY
        found = {match.group(1) for match in self.regex.finditer(token)}
        if not found:
            return _EMPTY
        return frozenset().union(*(self.implied[word] for word in found))

    def candidates(self, text: str, data: bytes | None = None) -> list[int]:
        """Rules whose keywords occur in ``text`` (case-insensitive), plus keyword-less ones."""
        cache = self.cache
        selected = set(self.always)
        for token in set(text.lower().split()):
            hit = cache.get(token)
            if hit is None:
                hit = self.rules_for_token(token)
                if len(token) <= _CACHEABLE_TOKEN:
                    if len(cache) >= _CACHE_LIMIT:
                        cache.clear()
                    cache[token] = hit
            if hit:
                selected |= hit
        return sorted(selected)


def loosen_for_hyperscan(pattern: str) -> str:
    """``pattern`` with large bounded repeats made open (a superset, compiled much faster)."""

    def loosen(match: re.Match[str]) -> str:
        low = int(match.group(1))
        if match.group(2) is None:
            return match.group(0) if low <= _LOOSE_ABOVE else "{16,}"
        high = match.group(3)
        if high and int(high) <= _LOOSE_ABOVE:
            return match.group(0)
        return f"{{{min(low, 16)},}}"

    return _REPEAT.sub(loosen, pattern)


class HyperscanPrefilter:
    """Rule regexes and keywords in one hyperscan database; keyword path as the fallback."""

    def __init__(self, rules: Sequence[Rule], hyperscan: Any,
                 serialized: tuple[bytes, frozenset[int]] | None = None, *,
                 with_regexes: bool = False) -> None:
        self.keywords = KeywordPrefilter(rules)
        self.hs = hyperscan
        self.rule_count = len(rules)
        keyword_index: dict[str, int] = {}
        self.keyword_rules: list[list[int]] = []
        for index, rule in enumerate(rules):
            for keyword in rule.keywords:
                if keyword not in keyword_index:
                    keyword_index[keyword] = len(self.keyword_rules)
                    self.keyword_rules.append([])
                self.keyword_rules[keyword_index[keyword]].append(index)
        self.needs_keyword = [bool(rule.keywords) for rule in rules]
        rule_flags = (hyperscan.HS_FLAG_PREFILTER | hyperscan.HS_FLAG_SINGLEMATCH
                      | hyperscan.HS_FLAG_ALLOWEMPTY)
        word_flags = hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_SINGLEMATCH
        words = [(self.rule_count + n, re.escape(word).encode("utf-8"))
                 for word, n in keyword_index.items()]
        if serialized is not None:
            self.database = hyperscan.loadb(serialized[0], hyperscan.HS_MODE_BLOCK)
            self.in_db = set(serialized[1])
        else:
            # Keywords alone compile in milliseconds; the rule regexes take about a second and
            # pay off only on large scans.
            candidates = [(i, loosen_for_hyperscan(rule.regex.pattern).encode("utf-8"))
                          for i, rule in enumerate(rules)
                          if rule.regex is not None and with_regexes]
            accepted = self._compilable(candidates, rule_flags) if candidates else []
            self.in_db = {i for i, _ in accepted}
            entries = [(i, e, rule_flags) for i, e in accepted] + [
                (i, e, word_flags) for i, e in words]
            self.database = self._compile(entries)
        self.scratch = hyperscan.Scratch(self.database)
        self.database.scratch = self.scratch
        self.with_regexes = bool(self.in_db)

    def serialize(self) -> tuple[bytes, frozenset[int]]:
        """The compiled database and the rules in it, for worker processes."""
        return self.hs.dumpb(self.database), frozenset(self.in_db)

    def _compile(self, entries: list[tuple[int, bytes, int]]) -> Any:
        database = self.hs.Database(mode=self.hs.HS_MODE_BLOCK)
        database.compile(expressions=[e for _, e, _ in entries], ids=[i for i, _, _ in entries],
                         elements=len(entries), flags=[f for _, _, f in entries])
        return database

    def _compilable(self, candidates: list[tuple[int, bytes]],
                    flags: int) -> list[tuple[int, bytes]]:
        try:
            self._compile([(i, e, flags) for i, e in candidates])
            return candidates
        except self.hs.error:
            if len(candidates) == 1:
                return []
        middle = len(candidates) // 2
        return (self._compilable(candidates[:middle], flags)
                + self._compilable(candidates[middle:], flags))

    def candidates(self, text: str, data: bytes | None) -> list[int]:
        """Rules that can match ``text``; non-ASCII text takes the keyword path."""
        if data is None or not data.isascii():
            return self.keywords.candidates(text)
        hits: set[int] = set()

        def on_match(pattern_id: int, start: int, end: int, flags: int, context: Any) -> None:
            hits.add(pattern_id)

        self.database.scan(data, match_event_handler=on_match)
        keyword_hit = [False] * self.rule_count
        for hit in hits:
            if hit >= self.rule_count:
                for index in self.keyword_rules[hit - self.rule_count]:
                    keyword_hit[index] = True
        selected = []
        for index in range(self.rule_count):
            if self.needs_keyword[index] and not keyword_hit[index]:
                continue
            if index not in self.in_db or index in hits:
                selected.append(index)
        return selected


def hyperscan_module() -> Any | None:
    """The ``hyperscan`` module when its wheel is installed, else None."""
    try:
        import hyperscan
    except ImportError:
        return None
    return hyperscan


def build_prefilter(rules: Sequence[Rule], accelerate: bool | None = None,
                    serialized: tuple[bytes, frozenset[int]] | None = None, *,
                    with_regexes: bool = False) -> Prefilter:
    """The fastest prefilter available: hyperscan when installed (unless ``accelerate`` is
    False), else the keyword prefilter. ``with_regexes`` also puts the rule regexes into the
    hyperscan database; ``serialized`` reuses a database built elsewhere."""
    if accelerate is False:
        return KeywordPrefilter(rules)
    hyperscan = hyperscan_module()
    if hyperscan is None:
        if accelerate:
            log.warning("hyperscan is not installed; using the keyword prefilter")
        return KeywordPrefilter(rules)
    try:
        return HyperscanPrefilter(rules, hyperscan, serialized, with_regexes=with_regexes)
    except Exception:  # a broken wheel must not stop the scan: the keyword path finds the same
        log.warning("hyperscan could not be used; using the keyword prefilter", exc_info=True)
        return KeywordPrefilter(rules)
