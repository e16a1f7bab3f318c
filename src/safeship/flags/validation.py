"""Whether a flag holds together, alone (:func:`check_flag`) and among others (prerequisites).

Each problem carries the path of the field it is about, in the shape of the flag document
(``environments.production.rules[0].serve``), so a file loader can point at the line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from safeship.flags.model import Flag, FlagType, Serve, is_json_value

#: Flag keys, variant names, rule ids and environment names: letters, digits, ``_ . -``;
#: they end up in URLs, shell commands and metric labels.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
MAX_KEY_LENGTH = 128
MAX_NAME_LENGTH = 64
MAX_VARIANTS = 100
MAX_RULES = 1000
MAX_DESCRIPTION_LENGTH = 2000
MAX_STRING_VALUE_LENGTH = 65_536

PathKey = tuple[str | int, ...]
# The ``add(path, message_or_none)`` callback the checks below report through.
_Adder = Callable[[PathKey, "str | None"], None]


@dataclass(frozen=True)
class FlagProblem:
    """One thing wrong with a flag definition, at ``path`` in the flag document."""

    path: PathKey
    message: str

    def render(self) -> str:
        """``path: message`` with the path dotted like ``rules[0].serve``."""
        where = ""
        for part in self.path:
            where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else part)
        return f"{where}: {self.message}" if where else self.message


def name_problem(name: object, what: str, limit: int = MAX_NAME_LENGTH) -> str | None:
    """Why ``name`` is not a valid ``what`` (flag key, variant...), or None when it is."""
    if not isinstance(name, str) or not name:
        return f"{what} must be a non-empty string"
    if len(name) > limit:
        return f"{what} '{name[:20]}...' is longer than {limit} characters"
    if not NAME_PATTERN.match(name):
        return (f"{what} '{name}' may hold only letters, digits, '_', '.' and '-', and must "
                "start with a letter or digit")
    return None


def check_flag(flag: Flag) -> list[FlagProblem]:
    """Every problem of ``flag`` taken alone (prerequisites are checked by
    :func:`check_prerequisites`, which needs the other flags)."""
    problems: list[FlagProblem] = []

    def add(path: PathKey, message: str | None) -> None:
        if message:
            problems.append(FlagProblem(path, message))

    add(("key",), name_problem(flag.key, "the flag key", MAX_KEY_LENGTH))
    if len(flag.description) > MAX_DESCRIPTION_LENGTH:
        add(("description",), f"is longer than {MAX_DESCRIPTION_LENGTH} characters")
    if len(flag.salt) > MAX_KEY_LENGTH:
        add(("salt",), f"is longer than {MAX_KEY_LENGTH} characters")
    _check_variants(flag, add)
    if not flag.has_variant(flag.off_variant):
        add(("off_variant",), _unknown_variant(flag, flag.off_variant))
    seen: set[str] = set()
    for index, prerequisite in enumerate(flag.prerequisites):
        path: PathKey = ("prerequisites", index)
        add((*path, "flag"), name_problem(prerequisite.flag, "a prerequisite", MAX_KEY_LENGTH))
        if prerequisite.flag == flag.key:
            add((*path, "flag"), "a flag cannot be its own prerequisite")
        if prerequisite.flag in seen:
            add((*path, "flag"), f"prerequisite '{prerequisite.flag}' is listed twice")
        seen.add(prerequisite.flag)
    for name, environment in flag.environments.items():
        env_path: PathKey = ("environments", name)
        add(env_path, name_problem(name, "an environment name"))
        add((*env_path, "default"), _serve_problem(flag, environment.default))
        if len(environment.rules) > MAX_RULES:
            add((*env_path, "rules"), f"holds more than {MAX_RULES} rules")
        rule_ids: set[str] = set()
        for index, rule in enumerate(environment.rules):
            rule_path: PathKey = (*env_path, "rules", index)
            add((*rule_path, "id"), name_problem(rule.rule_id, "a rule id"))
            if rule.rule_id in rule_ids:
                add((*rule_path, "id"), f"rule id '{rule.rule_id}' is used twice")
            rule_ids.add(rule.rule_id)
            add((*rule_path, "serve"), _serve_problem(flag, rule.serve))
    return problems


def _check_variants(flag: Flag, add: _Adder) -> None:
    if not flag.variants:
        add(("variants",), "a flag needs at least one variant")
    if len(flag.variants) > MAX_VARIANTS:
        add(("variants",), f"a flag has at most {MAX_VARIANTS} variants")
    names: set[str] = set()
    for variant in flag.variants:
        path: PathKey = ("variants", variant.name)
        add(path, name_problem(variant.name, "a variant name"))
        if variant.name in names:
            add(path, f"variant '{variant.name}' is defined twice")
        names.add(variant.name)
        add(path, _value_problem(flag.flag_type, variant.value))


def _value_problem(flag_type: FlagType, value: object) -> str | None:
    if flag_type is FlagType.BOOLEAN and not isinstance(value, bool):
        return f"a boolean flag's values are true or false, not {value!r}"
    if flag_type is FlagType.STRING:
        if not isinstance(value, str):
            return f"a string flag's values are strings, not {value!r}"
        if len(value) > MAX_STRING_VALUE_LENGTH:
            return f"a value is at most {MAX_STRING_VALUE_LENGTH} characters long"
    if flag_type is FlagType.NUMBER and (
        isinstance(value, bool) or not isinstance(value, int | float) or not is_json_value(value)
    ):
        return f"a number flag's values are finite numbers, not {value!r}"
    if flag_type is FlagType.JSON and not is_json_value(value):
        return "the value is not JSON data (objects, arrays, strings, finite numbers, booleans)"
    return None


def _serve_problem(flag: Flag, serve: Serve) -> str | None:
    unknown = [name for name in serve.variants() if not flag.has_variant(name)]
    if unknown:
        return _unknown_variant(flag, unknown[0])
    return None


def _unknown_variant(flag: Flag, name: str) -> str:
    return f"unknown variant '{name}' (variants: {', '.join(flag.variant_names) or 'none'})"


def check_prerequisites(flag: Flag, flags: Mapping[str, Flag]) -> list[FlagProblem]:
    """Problems of ``flag``'s prerequisites among ``flags`` (the other flags, by key): each
    must exist, name variants it has, and no chain of prerequisites may lead back to a flag."""
    problems: list[FlagProblem] = []
    for index, prerequisite in enumerate(flag.prerequisites):
        other = flags.get(prerequisite.flag)
        path: PathKey = ("prerequisites", index)
        if other is None:
            problems.append(FlagProblem((*path, "flag"), f"no flag '{prerequisite.flag}'"))
            continue
        problems.extend(
            FlagProblem((*path, "variants"), f"flag '{other.key}' has no variant '{name}' "
                        f"(variants: {', '.join(other.variant_names)})")
            for name in prerequisite.variants if not other.has_variant(name)
        )
    graph = {key: _prerequisite_keys(other) for key, other in flags.items()}
    graph[flag.key] = _prerequisite_keys(flag)
    cycle = find_cycle(graph, flag.key)
    if cycle is not None:
        problems.append(FlagProblem(
            ("prerequisites",), "prerequisites form a cycle: " + " -> ".join(cycle)))
    return problems


def dependents_problems(flag: Flag, flags: Mapping[str, Flag]) -> list[FlagProblem]:
    """Problems ``flag`` would cause for the flags that name it as a prerequisite (a variant
    they wait for no longer exists)."""
    problems: list[FlagProblem] = []
    for other in flags.values():
        for prerequisite in other.prerequisites:
            if prerequisite.flag != flag.key:
                continue
            missing = [name for name in prerequisite.variants if not flag.has_variant(name)]
            if missing:
                problems.append(FlagProblem(
                    ("variants",),
                    f"flag '{other.key}' needs variant '{missing[0]}' of this flag as a "
                    "prerequisite",
                ))
    return problems


def _prerequisite_keys(flag: Flag) -> tuple[str, ...]:
    return tuple(prerequisite.flag for prerequisite in flag.prerequisites)


def find_cycle(graph: Mapping[str, Iterable[str]], start: str) -> list[str] | None:
    """A cycle reachable from ``start`` in ``graph`` (key -> prerequisite keys) as the list of
    keys along it, its first key repeated at the end; None when there is none."""
    # Iterative depth-first search, so a long chain of prerequisites cannot hit the recursion
    # limit. ``chain`` is the current path from ``start``; ``done`` holds keys fully explored.
    chain: list[str] = [start]
    on_chain = {start}
    done: set[str] = set()
    pending = [iter(graph.get(start, ()))]
    while pending:
        step = next(pending[-1], None)
        if step is None:
            pending.pop()
            finished = chain.pop()
            on_chain.discard(finished)
            done.add(finished)
        elif step in on_chain:
            return [*chain[chain.index(step):], step]
        elif step not in done:
            chain.append(step)
            on_chain.add(step)
            pending.append(iter(graph.get(step, ())))
    return None


def all_problems(flag: Flag, flags: Mapping[str, Flag] | None = None) -> list[FlagProblem]:
    """Every problem of ``flag``: alone, and among ``flags`` (every stored flag) when given."""
    problems = check_flag(flag)
    if flags is not None:
        others = {key: other for key, other in flags.items() if key != flag.key}
        problems += check_prerequisites(flag, others)
        problems += dependents_problems(flag, others)
    return problems
