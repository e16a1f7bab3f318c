"""Located YAML/JSON parsing with libyaml, for specs too big for the round-trip parser.

:func:`safeship.config.yaml_source.parse_yaml` (ruamel round-trip) takes about a second per
4,000 lines; a real API spec can have 100,000. This parser builds the same
:class:`~safeship.config.yaml_source.YamlDocument` (plain data plus the 1-based line and column
of every key and value) from libyaml's node tree, in a few milliseconds. Like the config
loader it refuses duplicate keys, turns non-string keys (``200:``) into strings and dates into
ISO text, and reports syntax errors as :class:`~safeship.errors.ConfigSyntaxError` at their
line.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from safeship.config.yaml_source import PathKey, YamlDocument
from safeship.errors import ConfigProblem, ConfigSyntaxError, NotFound, SourceLocation

# Nothing real in a spec nests this deep; Python's own recursion limit is not far beyond.
_MAX_DEPTH = 200
_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Builder:
    def __init__(self, source: str) -> None:
        self.source = source
        self.values: dict[PathKey, tuple[int, int]] = {}
        self.keys: dict[PathKey, tuple[int, int]] = {}
        self._scalars = yaml.constructor.SafeConstructor()
        self._open: set[int] = set()

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        if len(path) > _MAX_DEPTH or id(node) in self._open:
            # An alias to one of its own ancestors (`a: &x [*x]`) never ends.
            self._fail(node, "the document nests too deeply (a recursive YAML alias?)")
        self.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            self._open.add(id(node))
            try:
                return self._collection(node, path)
            finally:
                self._open.discard(id(node))
        return self._scalar(node)

    def _collection(self, node: yaml.Node, path: PathKey) -> Any:
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = self._key(key_node)
                if key in result:
                    self._fail(key_node, f"duplicate key '{key}'")
                child = (*path, key)
                self.keys[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                result[key] = self.build(value_node, child)
            return result
        return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]

    def _key(self, node: yaml.Node) -> str:
        if not isinstance(node, yaml.ScalarNode):
            self._fail(node, "a mapping key must be a plain value")
        value = self._scalar(node)
        return value if isinstance(value, str) else str(value).lower() if isinstance(
            value, bool) else str(value)

    def _scalar(self, node: yaml.Node) -> Any:
        try:
            value = self._scalars.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self._fail(node, f"YAML syntax error: {exc}")
        if isinstance(value, dt.datetime | dt.date):
            return value.isoformat()
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        return value

    def _fail(self, node: yaml.Node, message: str) -> Any:
        mark = node.start_mark
        raise ConfigSyntaxError([ConfigProblem(
            SourceLocation(self.source, mark.line + 1, mark.column + 1), "", message)],
            hint="check the indentation and quoting around that line")


def parse_fast(text: str, source: str) -> YamlDocument:
    """Parse ``text`` (named ``source`` in messages) into a located document."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p) or "invalid YAML"
        raise ConfigSyntaxError(
            [ConfigProblem(SourceLocation(source, mark.line + 1 if mark else None,
                                          mark.column + 1 if mark else None),
                           "", f"YAML syntax error: {problem}")],
            hint="check the indentation and quoting around that line") from exc
    except yaml.YAMLError as exc:
        raise ConfigSyntaxError([ConfigProblem(SourceLocation(source), "",
                                               f"YAML syntax error: {exc}")]) from exc
    finally:
        loader.dispose()
    if root is None:
        return YamlDocument(source, None)
    builder = _Builder(source)
    data = builder.build(root, ())
    return YamlDocument(source, data, builder.values, builder.keys)


def read_fast(path: Path, name: str | None = None) -> YamlDocument:
    """Read and parse the file at ``path``; ``name`` (default the path) is used in messages."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise NotFound(f"{path}: no such file") from exc
    except IsADirectoryError as exc:
        raise NotFound(f"{path}: is a directory, not a spec file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigSyntaxError([ConfigProblem(SourceLocation(str(path)), "",
                                               f"cannot read the file: {exc}")]) from exc
    return parse_fast(text, name or str(path))
