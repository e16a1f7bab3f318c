"""Versions and dependency declarations read from project manifests.

``pyproject.toml`` (PEP 621 and Poetry), ``package.json``, ``Cargo.toml``, a ``VERSION`` file
and ``__version__ = "..."`` in Python modules. Text that does not parse yields None: a
manifest that cannot be read is no evidence either way.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import PurePosixPath
from typing import Any

_MAJOR = re.compile(r"^\s*[vV]?(?:(\d+)!)?(\d+)(?:[.\-+]|$)")
_DUNDER_VERSION = re.compile(
    r"""^__version__\s*(?::\s*[\w.\[\]]+\s*)?=\s*(['"])([^'"]+)\1""", re.MULTILINE)
VERSION_FILES = frozenset({"pyproject.toml", "package.json", "cargo.toml", "version"})
"""Manifests (lower-cased names) that carry a project version."""


def major_of(version: str) -> tuple[int, int] | None:
    """(epoch, major) of a version string such as ``2.1.0``, ``v3`` or ``1!2.0``."""
    match = _MAJOR.match(version)
    if match is None:
        return None
    return int(match.group(1) or 0), int(match.group(2))


def declared_version(path: str, text: str) -> str | None:
    """The project version declared in ``text`` (the contents of ``path``), if any."""
    name = PurePosixPath(path).name.lower()
    if name == "pyproject.toml":
        data = _toml(text)
        return _first_str(_dig(data, "project", "version"),
                          _dig(data, "tool", "poetry", "version"))
    if name == "cargo.toml":
        data = _toml(text)
        return _first_str(_dig(data, "package", "version"),
                          _dig(data, "workspace", "package", "version"))
    if name == "package.json":
        return _first_str(_dig(_json(text), "version"))
    if name == "version":
        lines = text.strip().splitlines()
        return lines[0].strip() if lines else None
    if name.endswith(".py"):
        match = _DUNDER_VERSION.search(text)
        return match.group(2) if match else None
    return None


def dependency_declarations(path: str, text: str) -> Any:
    """The dependency sections of a manifest, as comparable data (None if unreadable)."""
    name = PurePosixPath(path).name.lower()
    if name == "pyproject.toml":
        data = _toml(text)
        if data is None:
            return None
        poetry = _dig(data, "tool", "poetry") or {}
        groups = poetry.get("group", {}) if isinstance(poetry, dict) else {}
        return {
            "project.dependencies": _dig(data, "project", "dependencies"),
            "project.optional-dependencies": _dig(data, "project", "optional-dependencies"),
            "dependency-groups": data.get("dependency-groups"),
            "build-system.requires": _dig(data, "build-system", "requires"),
            "tool.poetry.dependencies": _dig(data, "tool", "poetry", "dependencies"),
            "tool.poetry.dev-dependencies": _dig(data, "tool", "poetry", "dev-dependencies"),
            "tool.poetry.group": {
                group: _dig(body, "dependencies") for group, body in groups.items()
            } if isinstance(groups, dict) else groups,
        }
    if name == "package.json":
        data = _json(text)
        if data is None:
            return None
        return {key: _dig(data, key) for key in (
            "dependencies", "devDependencies", "peerDependencies", "optionalDependencies",
            "bundleDependencies", "overrides", "resolutions")}
    if name == "cargo.toml":
        data = _toml(text)
        if data is None:
            return None
        return {
            "dependencies": data.get("dependencies"),
            "dev-dependencies": data.get("dev-dependencies"),
            "build-dependencies": data.get("build-dependencies"),
            "target": data.get("target"),
            "workspace.dependencies": _dig(data, "workspace", "dependencies"),
        }
    return None


def _toml(text: str) -> dict[str, Any] | None:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None


def _json(text: str) -> dict[str, Any] | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _first_str(*values: Any) -> str | None:
    return next((v for v in values if isinstance(v, str) and v.strip()), None)
