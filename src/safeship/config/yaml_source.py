"""Load YAML while remembering where every key and value stands in the file.

The data handed on is plain Python (dicts, lists, str, int, float, bool, None). Positions live
beside it in :class:`YamlDocument`, keyed by the path of keys and indexes that reaches a node, so
a validation error about ``stages[2].gates[0].minimum`` can be reported at its line and column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from safeship.errors import ConfigProblem, ConfigSyntaxError, NotFound, SourceLocation

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class YamlDocument:
    """Plain data from one YAML file plus the 1-based positions of its keys and values."""

    source: str
    data: Any
    value_positions: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: PathKey, *, key: bool = False) -> SourceLocation:
        """The position of ``path``, or of its nearest ancestor that has one."""
        table = self.key_positions if key else self.value_positions
        probe = tuple(path)
        while True:
            if probe in table:
                line, column = table[probe]
                return SourceLocation(self.source, line, column)
            if key and probe in self.value_positions:
                line, column = self.value_positions[probe]
                return SourceLocation(self.source, line, column)
            if not probe:
                return SourceLocation(self.source, 1, 1)
            probe = probe[:-1]


def format_path(path: PathKey) -> str:
    """``("stages", 2, "gates", 0, "minimum")`` -> ``stages[2].gates[0].minimum``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _plain(node: Any, path: PathKey, values: dict[PathKey, tuple[int, int]],
           keys: dict[PathKey, tuple[int, int]]) -> Any:
    if isinstance(node, CommentedMap):
        result: dict[Any, Any] = {}
        for key, value in node.items():
            child = (*path, str(key))
            key_line, key_col = node.lc.key(key)
            keys[child] = (key_line + 1, key_col + 1)
            value_line, value_col = node.lc.value(key)
            values[child] = (value_line + 1, value_col + 1)
            result[str(key) if not isinstance(key, str) else key] = _plain(
                value, child, values, keys
            )
        return result
    if isinstance(node, CommentedSeq):
        items = []
        for index, value in enumerate(node):
            child = (*path, index)
            line, col = node.lc.item(index)
            values[child] = (line + 1, col + 1)
            items.append(_plain(value, child, values, keys))
        return items
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return str(node)


def parse_yaml(text: str, source: str) -> YamlDocument:
    """Parse ``text`` (named ``source`` in messages) into a located document."""
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        root = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        location = SourceLocation(
            source, mark.line + 1 if mark else None, mark.column + 1 if mark else None
        )
        problem = " ".join(
            str(part) for part in (exc.context, exc.problem) if part
        ) or "invalid YAML"
        raise ConfigSyntaxError(
            [ConfigProblem(location, "", f"YAML syntax error: {problem}")],
            hint="check the indentation and quoting around that line",
        ) from exc
    except YAMLError as exc:
        raise ConfigSyntaxError(
            [ConfigProblem(SourceLocation(source), "", f"YAML syntax error: {exc}")]
        ) from exc
    values: dict[PathKey, tuple[int, int]] = {}
    keys: dict[PathKey, tuple[int, int]] = {}
    data = _plain(root, (), values, keys)
    return YamlDocument(source, data, values, keys)


def read_yaml(path: Path) -> YamlDocument:
    """Read and parse the YAML file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise NotFound(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigSyntaxError(
            [ConfigProblem(SourceLocation(str(path)), "", f"cannot read the file: {exc}")]
        ) from exc
    return parse_yaml(text, str(path))
