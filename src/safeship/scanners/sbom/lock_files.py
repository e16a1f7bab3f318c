"""Read lock files: ``uv.lock``, ``poetry.lock`` and ``Pipfile.lock``.

Lock files pin every package (direct and transitive) and usually carry file hashes and the
dependency graph, so they make the most complete SBOM and CVE input:

* ``uv.lock``: ``[[package]]`` with ``version``, ``dependencies`` (the graph), ``sdist`` and
  ``wheels`` (URL + hash). The package whose source is the project itself (``editable`` or
  ``virtual`` ``"."``) is the SBOM's subject; its dependencies are the direct ones.
* ``poetry.lock``: ``[[package]]`` with ``version``, ``files`` (name + hash) and a
  ``[package.dependencies]`` table (the graph). Direct dependencies come from pyproject.toml.
* ``Pipfile.lock``: the ``default`` section (what ships; ``develop`` is left out) with
  ``version: "==X"`` and ``hashes``; it holds no graph.

Each package records the line of its entry in the lock file.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from safeship.scanners.sbom.inventory import (
    Dependency,
    DependencyFileError,
    Distribution,
    FileHash,
    Inventory,
    ProjectInfo,
    normalize_name,
)
from safeship.scanners.sbom.pyproject_file import find_line, load_toml, project_info

_NAME_LINE = re.compile(r'^name\s*=\s*"([^"]+)"')


def _hash(text: object) -> FileHash | None:
    if not isinstance(text, str) or ":" not in text:
        return None
    algorithm, _, value = text.partition(":")
    return FileHash(algorithm.lower(), value.lower())


def _package_lines(lines: list[str]) -> dict[str, int]:
    """Line of each ``[[package]]`` entry's ``name = "..."``, by normalised name."""
    found: dict[str, int] = {}
    in_package = False
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped == "[[package]]":
            in_package = True
            continue
        match = _NAME_LINE.match(stripped)
        if in_package and match:
            found.setdefault(normalize_name(match.group(1)), number)
            in_package = False
    return found


def _packages(data: dict[str, Any], path: Path) -> list[dict[str, Any]]:
    packages = data.get("package", [])
    if not isinstance(packages, list) or not all(isinstance(p, dict) for p in packages):
        raise DependencyFileError(f"{path}: [[package]] entries are malformed")
    for entry in packages:
        if not isinstance(entry.get("name"), str):
            raise DependencyFileError(f"{path}: a [[package]] entry has no name")
    return packages


def _is_project_source(source: object) -> bool:
    if not isinstance(source, dict):
        return False
    return source.get("editable") == "." or source.get("virtual") == "."


def read_uv_lock(path: Path) -> Inventory:
    """Read ``uv.lock``."""
    data, lines = load_toml(path)
    lines_by_name = _package_lines(lines)
    project: ProjectInfo | None = None
    direct: tuple[str, ...] | None = None
    dependencies: list[Dependency] = []
    for entry in _packages(data, path):
        requires = tuple(sorted({
            normalize_name(d["name"]) for d in entry.get("dependencies", [])
            if isinstance(d, dict) and isinstance(d.get("name"), str)
        }))
        version = entry.get("version")
        if _is_project_source(entry.get("source")) and project is None:
            project = ProjectInfo(entry["name"], version if isinstance(version, str) else None)
            direct = requires
            continue
        distributions = []
        files = [entry.get("sdist"), *(entry.get("wheels") or [])]
        for item in files:
            if isinstance(item, dict) and isinstance(item.get("url"), str):
                file_hash = _hash(item.get("hash"))
                distributions.append(
                    Distribution(item["url"], (file_hash,) if file_hash else ())
                )
        dependencies.append(Dependency(
            name=entry["name"],
            version=version if isinstance(version, str) else None,
            distributions=tuple(distributions),
            requires=requires,
            path=str(path),
            line=lines_by_name.get(normalize_name(entry["name"])),
        ))
    if direct is not None:
        direct_set = set(direct)
        dependencies = [replace(d, direct=d.key in direct_set) for d in dependencies]
    return Inventory(
        project=project or ProjectInfo(path.resolve().parent.name or "project"),
        dependencies=tuple(dependencies),
        sources=(str(path),),
        direct=direct,
    )


def read_poetry_lock(path: Path) -> Inventory:
    """Read ``poetry.lock`` (direct dependencies from the pyproject.toml beside it)."""
    data, lines = load_toml(path)
    lines_by_name = _package_lines(lines)
    dependencies = []
    for entry in _packages(data, path):
        table = entry.get("dependencies") or {}
        requires = tuple(sorted(normalize_name(n) for n in table)) if isinstance(
            table, dict) else ()
        hashes = tuple(
            h for h in (_hash(f.get("hash")) for f in entry.get("files") or []
                        if isinstance(f, dict)) if h is not None
        )
        version = entry.get("version")
        dependencies.append(Dependency(
            name=entry["name"],
            version=version if isinstance(version, str) else None,
            hashes=hashes,
            requires=requires,
            path=str(path),
            line=lines_by_name.get(normalize_name(entry["name"])),
        ))
    project = ProjectInfo(path.resolve().parent.name or "project")
    direct: tuple[str, ...] | None = None
    pyproject = path.parent / "pyproject.toml"
    if pyproject.is_file():
        pyproject_data, _ = load_toml(pyproject)
        project = project_info(pyproject_data, project.name)
        direct = _poetry_direct(pyproject_data)
    return Inventory(project=project, dependencies=tuple(dependencies), sources=(str(path),),
                     direct=direct)


def _poetry_direct(data: dict[str, Any]) -> tuple[str, ...] | None:
    names: set[str] = set()
    project = data.get("project")
    if isinstance(project, dict) and isinstance(project.get("dependencies"), list):
        for item in project["dependencies"]:
            match = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)", str(item))
            if match:
                names.add(normalize_name(match.group(1)))
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    table = poetry.get("dependencies") if isinstance(poetry, dict) else None
    if isinstance(table, dict):
        names.update(normalize_name(n) for n in table if n.lower() != "python")
    return tuple(sorted(names)) if names else None


def read_pipfile_lock(path: Path) -> Inventory:
    """Read the ``default`` section of ``Pipfile.lock``."""
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except FileNotFoundError as exc:
        raise DependencyFileError(f"{path} not found") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DependencyFileError(f"cannot read {path}: {exc}") from exc
    default = data.get("default") if isinstance(data, dict) else None
    if not isinstance(default, dict):
        raise DependencyFileError(f"{path} has no 'default' section")
    lines = text.splitlines()
    start = (find_line(lines, '"default"') or 1) - 1
    dependencies = []
    for name, entry in default.items():
        if not isinstance(entry, dict):
            continue
        pinned = entry.get("version")
        version = pinned[2:] if isinstance(pinned, str) and pinned.startswith("==") else None
        hashes = tuple(h for h in (_hash(x) for x in entry.get("hashes") or []) if h)
        dependencies.append(Dependency(
            name=name, version=version,
            specifier="" if version else str(pinned or entry.get("git") or ""),
            hashes=hashes, path=str(path),
            line=find_line(lines, f'"{name}": {{', start),
        ))
    notes: tuple[str, ...] = ()
    if isinstance(data.get("develop"), dict) and data["develop"]:
        notes = (f"{path}: the 'develop' section is not part of what ships; not read",)
    return Inventory(
        project=ProjectInfo(path.resolve().parent.name or "project"),
        dependencies=tuple(dependencies), sources=(str(path),), notes=notes,
    )
