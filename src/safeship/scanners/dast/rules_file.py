"""The rules file: per-rule levels (FAIL, WARN, INFO, IGNORE), as the ZAP baseline reads them.

Two spellings are read:

* ZAP's tab-separated config (``zap-baseline.py -c``), one rule per line, ``#`` comments::

      10038	FAIL	(Content Security Policy (CSP) Header Not Set)
      10036	IGNORE

  The third column is a comment. Spaces may separate the columns too.
* YAML (a file ending in ``.yaml`` or ``.yml``), either the mapping itself or under ``rules:``::

      rules:
        "10038": FAIL
        10036: IGNORE

Rule ids this scanner does not implement are accepted at WARN, INFO or IGNORE (a ZAP-generated
file lists many) and reported as unknown here. At FAIL they are refused: a FAIL that can never
trigger would silently weaken the gate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from safeship.errors import ConfigError, ConfigProblem, ConfigSyntaxError, NotFound, SourceLocation
from safeship.scanners.dast.model import Level
from safeship.scanners.dast.rules import RULES

MAX_RULES_FILE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class RulesConfig:
    """Levels by rule id, and the ids the file named that this scanner does not implement."""

    levels: Mapping[str, Level]
    not_implemented: tuple[str, ...] = ()


def load_rules_file(path: Path) -> RulesConfig:
    """Read the rules file at ``path`` (TSV or YAML, by extension)."""
    try:
        if path.stat().st_size > MAX_RULES_FILE_BYTES:
            raise ConfigError([ConfigProblem(SourceLocation(str(path)), "",
                                             "the rules file is larger than 1 MiB")])
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound(f"rules file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigProblem(SourceLocation(str(path)), "",
                                         f"cannot read the rules file: {exc}")]) from exc
    if path.suffix.lower() in {".yaml", ".yml"}:
        return parse_rules_yaml(text, str(path))
    return parse_rules_tsv(text, str(path))


def parse_rules_tsv(text: str, source: str) -> RulesConfig:
    """Levels from ZAP's tab-separated rule config."""
    entries: list[tuple[str, str, SourceLocation]] = []
    problems: list[ConfigProblem] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        parts = stripped.split("\t") if "\t" in stripped else stripped.split(None, 2)
        parts = [part.strip() for part in parts]
        where = SourceLocation(source, number, 1)
        if len(parts) < 2:
            problems.append(ConfigProblem(where, "", f"expected '<rule id>\\t<level>', got "
                                          f"{stripped[:60]!r}"))
            continue
        entries.append((parts[0], parts[1], where))
    return _build(entries, problems)


def parse_rules_yaml(text: str, source: str) -> RulesConfig:
    """Levels from a YAML mapping of rule id to level (optionally under ``rules:``)."""
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        root: Any = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = SourceLocation(source, mark.line + 1 if mark else None,
                               mark.column + 1 if mark else None)
        raise ConfigSyntaxError([ConfigProblem(where, "", f"YAML syntax error: {exc.problem}")]
                                ) from exc
    except YAMLError as exc:
        raise ConfigSyntaxError([ConfigProblem(SourceLocation(source), "",
                                               f"YAML syntax error: {exc}")]) from exc
    if root is None:
        return RulesConfig({})
    if isinstance(root, CommentedMap) and set(root) == {"rules"}:
        root = root["rules"]
    if root is None:
        return RulesConfig({})
    if not isinstance(root, CommentedMap):
        raise ConfigError([ConfigProblem(SourceLocation(source, 1, 1), "",
                                         "expected a mapping of rule id to level")])
    entries = []
    for key, value in root.items():
        line, column = root.lc.key(key)
        entries.append((str(key), str(value), SourceLocation(source, line + 1, column + 1)))
    return _build(entries)


def _build(entries: list[tuple[str, str, SourceLocation]],
           problems: list[ConfigProblem] | None = None) -> RulesConfig:
    levels: dict[str, Level] = {}
    unknown: list[str] = []
    problems = list(problems or [])
    for rule_id, level_text, where in entries:
        try:
            level = Level(level_text.strip().upper())
        except ValueError:
            problems.append(ConfigProblem(where, rule_id, f"level {level_text!r} is not one of "
                                          "FAIL, WARN, INFO, IGNORE"))
            continue
        if not rule_id.isdigit():
            problems.append(ConfigProblem(where, rule_id, "a rule id is a number, e.g. 10038"))
            continue
        if rule_id not in RULES:
            if level is Level.FAIL:
                problems.append(ConfigProblem(
                    where, rule_id, "this scanner does not implement the rule, so a FAIL on it "
                    "could never trigger; set it to WARN or IGNORE, or remove it"))
                continue
            unknown.append(rule_id)
        levels[rule_id] = level
    if problems:
        problems.sort(key=lambda problem: problem.location.line or 0)
        raise ConfigError(problems, hint="`safeship dast rules` lists the rule ids and defaults")
    return RulesConfig(levels, tuple(unknown))
