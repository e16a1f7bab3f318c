"""Loads an OpenAPI 3.0/3.1 spec (YAML or JSON) into a :class:`~.document.Spec`.

Every problem is reported as a :class:`~safeship.errors.ConfigError` naming the file, the line
and the field (exit code 2), never as a traceback: a missing file, YAML that does not parse, a
document that is not OpenAPI 3.0/3.1, a ``$ref`` that is external, dangling or loops, and
anything openapi-spec-validator refuses.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from safeship.config.yaml_source import YamlDocument
from safeship.errors import ConfigError, ConfigProblem, SourceLocation
from safeship.scanners.openapi.document import Spec
from safeship.scanners.openapi.refs import check_refs
from safeship.scanners.openapi.validation import validate_document
from safeship.scanners.openapi.yaml_fast import parse_fast, read_fast

SUPPORTED = ("3.0", "3.1")
_HINT = "fix the spec so it is valid OpenAPI 3.0 or 3.1 (local $refs only)"


def load_spec(path: Path, *, name: str | None = None) -> Spec:
    """Read and check the spec file at ``path`` (named ``name`` in messages, default the path)."""
    return _checked(read_fast(path, name))


def parse_spec(text: str, source: str) -> Spec:
    """Check spec ``text`` that came from ``source`` (a file name or ``<ref>:<path>``)."""
    return _checked(parse_fast(text, source))


def _checked(document: YamlDocument) -> Spec:
    version = _version(document)
    problems = check_refs(document)
    if problems:
        raise ConfigError(problems, hint=_HINT)
    problems = validate_document(document, version)
    if problems:
        raise ConfigError(problems, hint=_HINT)
    return Spec(document.source, version, document)


def _version(document: YamlDocument) -> str:
    data = document.data
    where = SourceLocation(document.source, 1, 1)
    if data is None:
        raise ConfigError([ConfigProblem(where, "", "the file is empty")], hint=_HINT)
    if not isinstance(data, Mapping):
        raise ConfigError([ConfigProblem(where, "", "not an OpenAPI document: the file holds "
                                         f"a {type(data).__name__}, not a mapping")], hint=_HINT)
    if "swagger" in data and "openapi" not in data:
        raise ConfigError([ConfigProblem(
            document.locate(("swagger",)), "swagger",
            "Swagger/OpenAPI 2.0 is not supported, only OpenAPI 3.0 and 3.1")],
            hint="convert the spec to OpenAPI 3 (for example with swagger2openapi)")
    raw = data.get("openapi")
    if raw is None:
        raise ConfigError([ConfigProblem(where, "openapi",
                                         "not an OpenAPI document: no 'openapi' field")],
                          hint=_HINT)
    text = str(raw)
    major_minor = ".".join(text.split(".")[:2])
    if major_minor not in SUPPORTED:
        raise ConfigError([ConfigProblem(
            document.locate(("openapi",)), "openapi",
            f"OpenAPI version '{text}' is not supported (only 3.0.x and 3.1.x)")], hint=_HINT)
    return major_minor
