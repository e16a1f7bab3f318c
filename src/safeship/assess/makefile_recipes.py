"""Just enough of a Makefile to answer "does ``make TARGET`` run this command?".

CI often calls ``make test`` rather than a tool directly, so the assessment follows a target's
recipe and, transitively, its prerequisites and ``$(MAKE) other`` calls. It reads rules, their
prerequisites and their tab-indented recipe lines; variables are not expanded (a recipe line
``$(BIN)/safeship gates run`` still names safeship). The walk is bounded in the number of
targets it visits.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

MAX_TARGETS_VISITED = 64

_RULE = re.compile(r"^(?P<targets>[^\s:=#][^:=#]*?)\s*::?(?!=)(?P<prereqs>[^=]*)$")
_SUB_MAKE = re.compile(r"\$[({]MAKE[)}]\s+(?P<args>[^\n;&|#]*)")
# make options that take a separate value: their value is not a target.
_VALUED_OPTIONS = frozenset({"-C", "-f", "-I", "-o", "-W", "--directory", "--file",
                             "--include-dir", "--old-file", "--what-if", "-j", "-l"})


@dataclass(frozen=True)
class Rule:
    """One target: what it depends on and its recipe lines (1-based line number, text)."""

    target: str
    prerequisites: tuple[str, ...]
    recipe: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class RecipeHit:
    """A recipe line that matched, and the target it belongs to."""

    target: str
    line: int
    text: str


def parse_makefile(text: str) -> tuple[dict[str, Rule], str | None]:
    """The rules of a Makefile, and its default goal (the first ordinary target)."""
    rules: dict[str, Rule] = {}
    default: str | None = None
    current: list[str] = []
    for number, line in _logical_lines(text):
        if line.startswith("\t"):
            for target in current:
                old = rules[target]
                rules[target] = Rule(target, old.prerequisites,
                                     (*old.recipe, (number, line.strip())))
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _RULE.match(stripped)
        if match is None:
            current = []  # an assignment or directive ends the previous recipe
            continue
        prereqs, _, inline = match["prereqs"].partition(";")
        current = match["targets"].split()
        for target in current:
            old = rules.get(target, Rule(target, (), ()))
            recipe = old.recipe + (((number, inline.strip()),) if inline.strip() else ())
            rules[target] = Rule(target, old.prerequisites + tuple(
                word for word in prereqs.split() if word != "|"), recipe)
            if default is None and not target.startswith(".") and "%" not in target:
                default = target
    return rules, default


def make_targets(arguments: str) -> list[str]:
    """The targets named in the arguments of a ``make`` command line (options skipped)."""
    words = arguments.split()
    targets: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in _VALUED_OPTIONS:
            skip = True
        elif not word.startswith("-") and "=" not in word:
            targets.append(word)
    return targets


def find_in_recipes(rules: dict[str, Rule], goals: list[str],
                    matches: Callable[[str], bool]) -> RecipeHit | None:
    """The first recipe line reached from ``goals`` for which ``matches`` is true."""
    queue = list(goals)
    seen: set[str] = set()
    while queue and len(seen) < MAX_TARGETS_VISITED:
        target = queue.pop(0)
        if target in seen or target not in rules:
            continue
        seen.add(target)
        rule = rules[target]
        for number, text in rule.recipe:
            if matches(text):
                return RecipeHit(target, number, text)
            for call in _SUB_MAKE.finditer(text):
                queue.extend(make_targets(call["args"]))
        queue.extend(rule.prerequisites)
    return None


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines with backslash continuations joined, each with its first physical line number."""
    lines: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        if pending is not None:
            start, head = pending
            joined = head + " " + raw.strip()
        else:
            start, joined = number, raw
        if joined.endswith("\\"):
            pending = (start, joined[:-1].rstrip())
            continue
        pending = None
        lines.append((start, joined))
    if pending is not None:
        lines.append(pending)
    return lines
