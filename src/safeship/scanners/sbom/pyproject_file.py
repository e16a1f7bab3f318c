"""Read ``pyproject.toml``: the project itself (name, version, licence) and ``[project]
dependencies``.

Only ``[project.dependencies]`` (PEP 621) is read as the runtime dependency list; optional
dependencies (extras) and development groups are not part of what ships. Such a list is usually
not pinned, so the versions stay unknown unless a lock file supplies them.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from safeship.scanners.sbom.inventory import (
    Dependency,
    DependencyFileError,
    Inventory,
    ProjectInfo,
)
from safeship.scanners.sbom.requirements_file import exact_version


def load_toml(path: Path) -> tuple[dict[str, Any], list[str]]:
    """The parsed TOML file and its lines; raise ``DependencyFileError`` when unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
        return tomllib.loads(text), text.splitlines()
    except FileNotFoundError as exc:
        raise DependencyFileError(f"{path} not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DependencyFileError(f"cannot read {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise DependencyFileError(f"{path} is not valid TOML: {exc}") from exc


def find_line(lines: list[str], needle: str, start: int = 0) -> int | None:
    """1-based number of the first line from ``start`` that contains ``needle``."""
    for index in range(start, len(lines)):
        if needle in lines[index]:
            return index + 1
    return None


def project_info(data: dict[str, Any], fallback: str) -> ProjectInfo:
    """The ``[project]`` table as the SBOM's subject (or ``[tool.poetry]`` for Poetry 1)."""
    project = data.get("project")
    table: dict[str, Any] = project if isinstance(project, dict) else {}
    if not table:
        tool = data.get("tool")
        poetry = tool.get("poetry") if isinstance(tool, dict) else None
        table = poetry if isinstance(poetry, dict) else {}
    name = table.get("name")
    version = table.get("version")
    licence = table.get("license")
    licences: tuple[str, ...] = ()
    if isinstance(licence, str) and licence.strip():
        licences = (licence.strip(),)
    elif isinstance(licence, dict) and isinstance(licence.get("text"), str):
        text = licence["text"].strip()
        licences = (text,) if text and "\n" not in text and len(text) < 100 else ()
    description = table.get("description")
    return ProjectInfo(
        name=name if isinstance(name, str) and name else fallback,
        version=version if isinstance(version, str) and version else None,
        description=description if isinstance(description, str) else None,
        licenses=licences,
    )


def read_pyproject(path: Path) -> Inventory:
    """The project and its ``[project.dependencies]``, each with its line in the file."""
    data, lines = load_toml(path)
    info = project_info(data, path.resolve().parent.name or "project")
    project = data.get("project")
    raw = project.get("dependencies", []) if isinstance(project, dict) else []
    if not isinstance(raw, list):
        raise DependencyFileError(f"{path}: [project] dependencies is not a list")
    start = (find_line(lines, "dependencies") or 1) - 1
    dependencies = []
    for item in raw:
        if not isinstance(item, str):
            raise DependencyFileError(f"{path}: dependency {item!r} is not a string")
        try:
            requirement = Requirement(item)
        except InvalidRequirement as exc:
            raise DependencyFileError(f"{path}: not a valid requirement: {item!r}") from exc
        version = exact_version(requirement)
        dependencies.append(Dependency(
            name=requirement.name,
            version=version,
            specifier="" if version else str(requirement.specifier),
            path=str(path),
            line=find_line(lines, f'"{item}"', start) or find_line(lines, f"'{item}'", start),
            direct=True,
        ))
    return Inventory(
        project=info,
        dependencies=tuple(dependencies),
        sources=(str(path),),
        direct=tuple(d.key for d in dependencies),
    )
