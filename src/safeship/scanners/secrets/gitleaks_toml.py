"""Load rules from gitleaks-style TOML files, and compile raw rule tables into :class:`Rule`.

Supported (gitleaks 8.x configuration, see its README "Configuration"):

* ``[[rules]]`` with ``id``, ``description``, ``regex``, ``secretGroup``, ``entropy``, ``path``,
  ``keywords``, ``tags``; per-rule ``[[rules.allowlists]]`` and the older ``[rules.allowlist]``
  with ``condition``, ``commits``, ``paths``, ``regexes``, ``regexTarget``, ``stopwords``;
* global ``[[allowlists]]`` (with ``targetRules``) and the older ``[allowlist]``;
* ``[extend]`` with ``useDefault`` (safeship's defaults), ``path`` (another file, relative to
  this one) and ``disabledRules``; a rule whose id exists in the base overrides the fields it
  sets and adds its allowlists;
* ``skipReport = true`` rules are dropped; ``[[rules.required]]`` (composite rules) is ignored,
  which reports more, never less.

As in gitleaks, a file without ``[extend]`` *replaces* the default rules; a warning says so.
Regexes are Go RE2 syntax and are translated for Python (see ``go_regex.py``). Every problem is
reported with ``file:line``; all of them at once.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safeship.errors import ConfigError, ConfigProblem, NotFound, SourceLocation
from safeship.scanners.secrets.go_regex import RegexTranslationError, translate
from safeship.scanners.secrets.rules import (
    Allowlist,
    AllowTarget,
    Condition,
    Extraction,
    Rule,
    RuleSet,
)
from safeship.scanners.secrets.validators import VALIDATORS

log = logging.getLogger(__name__)

_TOP_KEYS = frozenset({"title", "description", "minVersion", "extend", "rules", "allowlist",
                       "allowlists"})
_RULE_KEYS = frozenset({
    "id", "description", "regex", "secretGroup", "entropy", "path", "keywords", "tags",
    "allowlist", "allowlists", "required", "skipReport",
    # safeship extensions
    "extract", "valueRegex", "minLength", "validator", "generic",
})
_ALLOWLIST_KEYS = frozenset({"description", "condition", "commits", "paths", "regexes",
                             "regexTarget", "stopwords", "targetRules"})
_EXTEND_KEYS = frozenset({"useDefault", "path", "disabledRules"})
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")
_MAX_EXTEND_DEPTH = 2


@dataclass(frozen=True)
class RawRule:
    """A rule table as written, with where it was written (for error messages)."""

    data: Mapping[str, Any]
    origin: str
    line: int | None = None


class _Problems:
    def __init__(self) -> None:
        self.items: list[ConfigProblem] = []

    def add(self, origin: str, line: int | None, field: str, message: str) -> None:
        self.items.append(ConfigProblem(SourceLocation(origin, line), field, message))

    def raise_if_any(self, hint: str | None = None) -> None:
        if self.items:
            raise ConfigError(self.items, hint=hint)


class _LineIndex:
    """Finds the line of a key inside the n-th ``[[rules]]`` table (tomllib has no positions)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.rule_starts = [i + 1 for i, line in enumerate(self.lines)
                            if re.match(r"\s*\[\[\s*rules\s*\]\]", line)]

    def rule_line(self, index: int) -> int | None:
        return self.rule_starts[index] if index < len(self.rule_starts) else None

    def key_line(self, index: int, key: str) -> int | None:
        start = self.rule_line(index)
        if start is None:
            return None
        end = self.rule_starts[index + 1] if index + 1 < len(self.rule_starts) else len(
            self.lines) + 1
        pattern = re.compile(rf"\s*{re.escape(key)}\s*=")
        for number in range(start, end):
            if pattern.match(self.lines[number - 1]):
                return number
        return start


def compile_rule(raw: RawRule, problems: _Problems, key_line: Any = None) -> Rule | None:
    """One rule table -> :class:`Rule`; problems are collected, None is returned on any."""
    data, origin = raw.data, raw.origin

    def where(key: str) -> int | None:
        return key_line(key) if key_line is not None else raw.line

    before = len(problems.items)
    rule_id = data.get("id")
    if not isinstance(rule_id, str) or not rule_id.strip():
        problems.add(origin, raw.line, "rules.id", "every rule needs an `id` (a string)")
        return None
    field = f"rules[{rule_id}]"
    for key in data:
        if key not in _RULE_KEYS:
            problems.add(origin, where(key), f"{field}.{key}", "unknown key in a rule")
    regex = _pattern(data.get("regex"), problems, origin, where("regex"), f"{field}.regex")
    path = _pattern(data.get("path"), problems, origin, where("path"), f"{field}.path")
    if "regex" not in data and "path" not in data:
        problems.add(origin, raw.line, field, "a rule needs `regex`, `path` or both")
    secret_group = _number(data, "secretGroup", int, problems, origin, where, field, 0)
    if regex is not None and secret_group > regex.groups:
        problems.add(origin, where("secretGroup"), f"{field}.secretGroup",
                     f"the regex has {regex.groups} capture groups, not {secret_group}")
    entropy = float(_number(data, "entropy", float, problems, origin, where, field, 0.0))
    keywords = _strings(data, "keywords", problems, origin, where, field)
    tags = _strings(data, "tags", problems, origin, where, field)
    extract = data.get("extract", "group")
    if extract not in ("group", "assignment"):
        problems.add(origin, where("extract"), f"{field}.extract",
                     "must be 'group' or 'assignment'")
        extract = "group"
    value_regex = _pattern(data.get("valueRegex"), problems, origin, where("valueRegex"),
                           f"{field}.valueRegex")
    min_length = _number(data, "minLength", int, problems, origin, where, field, 0)
    validator = data.get("validator")
    if validator is not None and validator not in VALIDATORS:
        problems.add(origin, where("validator"), f"{field}.validator",
                     f"unknown validator; known: {', '.join(sorted(VALIDATORS))}")
    allowlists = _rule_allowlists(data, problems, origin, where, field)
    description = data.get("description", rule_id)
    if len(problems.items) > before:
        return None
    return Rule(
        id=rule_id,
        description=str(description),
        regex=regex,
        secret_group=secret_group,
        entropy=entropy,
        keywords=tuple(dict.fromkeys(k.lower() for k in keywords if k)),
        path=path,
        allowlists=allowlists,
        tags=tuple(tags),
        extraction=Extraction(extract),
        value_regex=value_regex,
        min_length=min_length,
        validator=validator,
        generic=bool(data.get("generic", False)),
        source=origin,
    )


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Translate and compile one RE2 pattern; raises ValueError with a readable reason."""
    try:
        return re.compile(translate(pattern))
    except (RegexTranslationError, re.error) as exc:
        raise ValueError(f"invalid regular expression: {exc}") from exc


def _pattern(value: Any, problems: _Problems, origin: str, line: int | None,
             field: str) -> re.Pattern[str] | None:
    if value is None:
        return None
    if not isinstance(value, str):
        problems.add(origin, line, field, "must be a string (a regular expression)")
        return None
    try:
        return compile_pattern(value)
    except ValueError as exc:
        problems.add(origin, line, field, str(exc))
        return None


def _number(data: Mapping[str, Any], key: str, kind: type, problems: _Problems, origin: str,
            where: Any, field: str, default: Any) -> Any:
    value = data.get(key, default)
    ok = isinstance(value, int | float) if kind is float else isinstance(value, int)
    if isinstance(value, bool) or not ok or value < 0:
        problems.add(origin, where(key), f"{field}.{key}", "must be a number >= 0")
        return default
    return value


def _strings(data: Mapping[str, Any], key: str, problems: _Problems, origin: str, where: Any,
             field: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.add(origin, where(key), f"{field}.{key}", "must be a list of strings")
        return []
    return list(value)


def _rule_allowlists(data: Mapping[str, Any], problems: _Problems, origin: str, where: Any,
                     field: str) -> tuple[Allowlist, ...]:
    tables: list[Any] = []
    if "allowlist" in data:
        tables.append(data["allowlist"])
    if "allowlists" in data:
        value = data["allowlists"]
        tables.extend(value if isinstance(value, list) else [value])
    found = []
    for index, table in enumerate(tables):
        key = "allowlists" if "allowlists" in data else "allowlist"
        allowlist = compile_allowlist(table, problems, origin, where(key),
                                      f"{field}.{key}[{index}]", global_list=False)
        if allowlist is not None:
            found.append(allowlist)
    return tuple(found)


def compile_allowlist(table: Any, problems: _Problems, origin: str, line: int | None,
                      field: str, *, global_list: bool) -> Allowlist | None:
    """One allowlist table -> :class:`Allowlist`."""
    if not isinstance(table, Mapping):
        problems.add(origin, line, field, "an allowlist is a table")
        return None
    before = len(problems.items)
    for key in table:
        if key not in _ALLOWLIST_KEYS or (key == "targetRules" and not global_list):
            problems.add(origin, line, f"{field}.{key}", "unknown key in an allowlist")
    condition = str(table.get("condition", "OR")).upper()
    if condition not in ("OR", "AND"):
        problems.add(origin, line, f"{field}.condition", "must be OR or AND")
        condition = "OR"
    target = str(table.get("regexTarget", "secret")).lower()
    if target not in ("secret", "match", "line"):
        problems.add(origin, line, f"{field}.regexTarget", "must be secret, match or line")
        target = "secret"

    def listed(key: str) -> list[str]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.add(origin, line, f"{field}.{key}", "must be a list of strings")
            return []
        return list(value)

    paths = [p for p in (_pattern(v, problems, origin, line, f"{field}.paths")
                         for v in listed("paths")) if p is not None]
    regexes = [p for p in (_pattern(v, problems, origin, line, f"{field}.regexes")
                           for v in listed("regexes")) if p is not None]
    stopwords, commits, targets = listed("stopwords"), listed("commits"), listed("targetRules")
    if len(problems.items) > before:
        return None
    return Allowlist(
        description=str(table.get("description", "")),
        condition=Condition(condition),
        paths=tuple(paths),
        regexes=tuple(regexes),
        regex_target=AllowTarget(target),
        stopwords=tuple(w.lower() for w in stopwords if w),
        commits=tuple(commits),
        target_rules=tuple(targets),
    )


def compile_rules(raws: Sequence[RawRule]) -> tuple[Rule, ...]:
    """Compile rule tables that are known to be valid (the built-in defaults)."""
    problems = _Problems()
    rules = [rule for rule in (compile_rule(raw, problems) for raw in raws) if rule is not None]
    problems.raise_if_any(hint="this is a bug in safeship's default rules")
    return tuple(rules)


@dataclass
class _Loaded:
    rules: list[RawRule]
    allowlists: list[Allowlist]
    sources: list[str]


def load_rules_file(path: Path, defaults: Sequence[RawRule]) -> RuleSet:
    """The rule set a gitleaks-style TOML file describes (see the module docstring)."""
    problems = _Problems()
    loaded = _load(path, defaults, problems, depth=0)
    problems.raise_if_any(hint="fix the rule file (gitleaks TOML format)")
    compile_problems = _Problems()
    rules = []
    for raw in loaded.rules:
        locate = raw.data.get("__locate__")
        clean = RawRule({k: v for k, v in raw.data.items() if k != "__locate__"},
                        raw.origin, raw.line)
        rule = compile_rule(clean, compile_problems, locate)
        if rule is not None and not clean.data.get("skipReport", False):
            rules.append(rule)
    compile_problems.raise_if_any(hint="fix the rule file (gitleaks TOML format)")
    return RuleSet(tuple(rules), tuple(loaded.allowlists), tuple(loaded.sources))


def _read_toml(path: Path, problems: _Problems) -> tuple[dict[str, Any], str] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise NotFound(f"rule file not found: {path}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        problems.add(str(path), None, "", f"cannot read the rule file: {exc}")
        return None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        position = _TOML_POSITION.search(str(exc))
        message = _TOML_POSITION.sub("", str(exc)).strip()
        if position is None:
            problems.add(str(path), None, "", f"invalid TOML: {message}")
        else:
            problems.items.append(ConfigProblem(
                SourceLocation(str(path), int(position.group(1)), int(position.group(2))),
                "", f"invalid TOML: {message}"))
        return None


def _load(path: Path, defaults: Sequence[RawRule], problems: _Problems, depth: int) -> _Loaded:
    read = _read_toml(path, problems)
    if read is None:
        return _Loaded([], [], [])
    data, text = read
    origin = str(path)
    index = _LineIndex(text)
    for key in data:
        if key not in _TOP_KEYS:
            problems.add(origin, None, key, "unknown top-level key in a rule file")
    base = _base(data.get("extend"), path, defaults, problems, depth)
    if base is None:
        log.warning("%s has no [extend] table: it replaces safeship's default rules "
                    "(add `[extend]` with `useDefault = true` to keep them)", path)
        base = _Loaded([], [], [])
    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list):
        problems.add(origin, None, "rules", "`rules` must be an array of tables ([[rules]])")
        raw_rules = []
    merged = {raw.data["id"]: raw for raw in base.rules if isinstance(raw.data.get("id"), str)}
    order = list(merged)
    for number, table in enumerate(raw_rules):
        if not isinstance(table, dict):
            problems.add(origin, index.rule_line(number), "rules", "a rule is a table")
            continue

        def locate(key: str, number: int = number) -> int | None:
            return index.key_line(number, key)

        rule_id = table.get("id")
        entry = dict(table)
        entry["__locate__"] = locate
        if isinstance(rule_id, str) and rule_id in merged:
            entry = _override(merged[rule_id].data, entry)
        elif isinstance(rule_id, str):
            order.append(rule_id)
        else:
            order.append(f"\x00{number}")
            rule_id = f"\x00{number}"
        merged[rule_id] = RawRule(entry, origin, index.rule_line(number))
    allowlists = list(base.allowlists)
    tables: list[tuple[str, Any]] = []
    if "allowlist" in data:
        tables.append(("allowlist", data["allowlist"]))
    if "allowlists" in data:
        value = data["allowlists"]
        tables.extend(("allowlists", v) for v in (value if isinstance(value, list) else [value]))
    for number, (key, table) in enumerate(tables):
        allowlist = compile_allowlist(table, problems, origin, _table_line(text, key),
                                      f"{key}[{number}]", global_list=True)
        if allowlist is not None:
            allowlists.append(allowlist)
    return _Loaded([merged[key] for key in order], allowlists, [*base.sources, origin])


def _override(base: Mapping[str, Any], extension: dict[str, Any]) -> dict[str, Any]:
    merged = {**base, **{k: v for k, v in extension.items() if k not in ("allowlist",
                                                                          "allowlists")}}
    lists: list[Any] = []
    for source in (base, extension):
        if "allowlist" in source:
            lists.append(source["allowlist"])
        if "allowlists" in source:
            value = source["allowlists"]
            lists.extend(value if isinstance(value, list) else [value])
    merged.pop("allowlist", None)
    if lists:
        merged["allowlists"] = lists
    return merged


def _base(extend: Any, path: Path, defaults: Sequence[RawRule], problems: _Problems,
          depth: int) -> _Loaded | None:
    if extend is None:
        return None
    origin = str(path)
    if not isinstance(extend, dict):
        problems.add(origin, None, "extend", "`extend` must be a table")
        return None
    for key in extend:
        if key not in _EXTEND_KEYS:
            problems.add(origin, None, f"extend.{key}", "unknown key in [extend]")
    base = _Loaded([], [], [])
    if extend.get("useDefault", False):
        base = _Loaded(list(defaults), [], ["safeship default rules"])
    other = extend.get("path")
    if isinstance(other, str) and other:
        if depth >= _MAX_EXTEND_DEPTH:
            problems.add(origin, None, "extend.path",
                         f"rule files may extend at most {_MAX_EXTEND_DEPTH} levels deep")
        else:
            target = (path.parent / other).resolve()
            extra = _load(target, defaults, problems, depth + 1)
            base = _Loaded(base.rules + extra.rules, base.allowlists + extra.allowlists,
                           base.sources + extra.sources)
    disabled = extend.get("disabledRules", [])
    if not isinstance(disabled, list):
        problems.add(origin, None, "extend.disabledRules", "must be a list of rule ids")
        disabled = []
    base.rules = [raw for raw in base.rules if raw.data.get("id") not in set(disabled)]
    return base


def _table_line(text: str, key: str) -> int | None:
    pattern = re.compile(rf"\s*\[\[?\s*{re.escape(key)}\s*\]\]?")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return None
