"""Allow comments: a person accepts a finding, with a reason, inside the migration itself.

Syntax (``--`` in SQL, ``#`` in Python; ``--`` also works inside SQL strings in Python)::

    -- safeship: allow drop_column reason=the column was unused since v41 (ticket OPS-12)
    # safeship: allow missing_rollback, drop_table reason=data migration; restore from backup

A comment accepts findings of the rules it names:

* about a statement (a dangerous operation, unparseable SQL, an irreversible Django
  operation): when it sits on one of the statement's lines, or in the run of comment lines
  directly above it;
* about the migration as a whole (a missing or empty rollback): anywhere in the migration's
  files.

A comment without ``reason=...``, naming no rule or an unknown one, or trying to accept what
only an approval can (``schema_change_at_high_risk``) is itself a finding (``invalid_allow``),
and an accepted finding is still listed, as *accepted*, with its reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from safeship.scanners.migrations.model import (
    AllowComment,
    Level,
    MigrationFinding,
    Place,
    Scope,
)
from safeship.scanners.migrations.rules import RULES, Rule

_ALLOW = re.compile(r"(?:--|#)\s*safeship:\s*allow\b(?P<rest>.*)$", re.IGNORECASE)
_COMMENT_ONLY = re.compile(r"^\s*(?:--|#)")
_RULE_WORD = re.compile(r"[A-Za-z_]+")
_KNOWN = frozenset(rule.value for rule in Rule)


def read_allows(text: str, file: str, migration: str,
                ) -> tuple[list[AllowComment], list[MigrationFinding]]:
    """The allow comments of one file, and a finding for each malformed one."""
    lines = text.splitlines()
    allows: list[AllowComment] = []
    problems: list[MigrationFinding] = []
    for index, line in enumerate(lines):
        match = _ALLOW.search(line)
        if match is None:
            continue
        number = index + 1
        rules, reason, problem = _parse(match.group("rest"))
        if problem is not None:
            problems.append(MigrationFinding(
                Rule.INVALID_ALLOW, Place(file, number), migration,
                f"allow comment {problem}; write `safeship: allow RULE reason=WHY`"))
            continue
        allows.append(AllowComment(file, number, rules, reason, _block_end(lines, index)))
    return allows, problems


def _parse(rest: str) -> tuple[tuple[str, ...], str, str | None]:
    names_part, has_reason, reason_part = rest.partition("reason=")
    names = tuple(word.lower() for word in _RULE_WORD.findall(names_part))
    reason = reason_part.strip().strip("\"'").strip()
    if not names:
        return names, reason, "names no rule"
    unknown = [n for n in names if n not in _KNOWN]
    if unknown:
        return names, reason, (f"names unknown rule(s) {', '.join(unknown)} (known: "
                               f"{', '.join(r.value for r in RULES if RULES[r].acceptable)})")
    refused = [n for n in names if not RULES[Rule(n)].acceptable]
    if refused:
        return names, reason, (f"cannot accept {', '.join(refused)}: it needs an approval "
                               "(`safeship approve`) or a fix, not a comment")
    if not has_reason or not reason:
        return names, reason, "has no reason=... (say why the operation is safe here)"
    return names, reason, None


def _block_end(lines: Sequence[str], index: int) -> int:
    """Last line (1-based) of the comment run starting at ``index``; for a trailing comment,
    the line before it (so that it applies to the statement on its own line)."""
    if not _COMMENT_ONLY.match(lines[index]):
        return index
    end = index
    while end + 1 < len(lines) and (not lines[end + 1].strip()
                                    or _COMMENT_ONLY.match(lines[end + 1])):
        end += 1
    return end + 1


def apply_allows(findings: Iterable[MigrationFinding], allows: Sequence[AllowComment],
                 ) -> tuple[list[MigrationFinding], set[AllowComment]]:
    """``findings`` with those an allow comment covers marked accepted; and the used comments."""
    result: list[MigrationFinding] = []
    used: set[AllowComment] = set()
    for finding in findings:
        allow = _covering(finding, allows) if RULES[finding.rule].acceptable else None
        if allow is None:
            result.append(finding)
        else:
            used.add(allow)
            result.append(finding.accepted(allow.reason))
    return result, used


def unused_allow_findings(allows: Iterable[AllowComment], used: set[AllowComment],
                          migration: str) -> list[MigrationFinding]:
    """A warning for every allow comment that accepted nothing (a stale or misplaced one)."""
    return [
        MigrationFinding(
            Rule.UNUSED_ALLOW, Place(a.file, a.line), migration,
            f"allow comment for {', '.join(a.rules)} accepted nothing: remove it, or move it "
            "onto (or right above) the statement it is about", level=Level.WARNING)
        for a in allows if a not in used
    ]


def _covering(finding: MigrationFinding, allows: Sequence[AllowComment]) -> AllowComment | None:
    for allow in allows:
        if finding.rule.value not in allow.rules:
            continue
        if finding.scope is Scope.MIGRATION:
            return allow
        if allow.file != finding.place.file:
            continue
        first = min(finding.place.line, finding.start_line or finding.place.line)
        last = max(finding.place.line, finding.end_line or finding.place.line)
        if first <= allow.line <= last or allow.block_end + 1 == first:
            return allow
    return None
