"""Find and read a project's dependency file: lock file first, then requirements, then pyproject.

In a folder the first of :data:`SEARCH_ORDER` that exists is read: lock files pin every package
and carry hashes and the graph; a requirements file is next best; ``[project.dependencies]``
alone has no versions. ``pyproject.toml``, when present, names the project (the SBOM's subject)
whatever file supplied the packages. A file path is read by its name.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from safeship.scanners.sbom.inventory import DependencyFileError, Inventory, ProjectInfo
from safeship.scanners.sbom.lock_files import read_pipfile_lock, read_poetry_lock, read_uv_lock
from safeship.scanners.sbom.pyproject_file import load_toml, project_info, read_pyproject
from safeship.scanners.sbom.requirements_file import read_requirements

SEARCH_ORDER = ("uv.lock", "poetry.lock", "Pipfile.lock", "requirements.txt", "pyproject.toml")


def read_dependency_file(path: Path) -> Inventory:
    """Read one dependency file, choosing the reader by the file's name."""
    name = path.name
    if not path.is_file():
        raise DependencyFileError(f"dependency file {path} not found")
    if name == "uv.lock":
        return read_uv_lock(path)
    if name == "poetry.lock":
        return read_poetry_lock(path)
    if name == "Pipfile.lock":
        return read_pipfile_lock(path)
    if name == "pyproject.toml":
        return read_pyproject(path)
    if name.endswith((".txt", ".in")) or "requirements" in name:
        return read_requirements(path)
    raise DependencyFileError(
        f"do not know how to read {path}",
        hint="give a requirements file, pyproject.toml, uv.lock, poetry.lock or Pipfile.lock",
    )


def find_dependency_file(folder: Path) -> Path:
    """The first file of :data:`SEARCH_ORDER` in ``folder``."""
    for name in SEARCH_ORDER:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    raise DependencyFileError(
        f"no dependency file in {folder} (looked for {', '.join(SEARCH_ORDER)})",
        hint="pass the file to read, or use --environment for the installed packages",
    )


def project_of(folder: Path) -> ProjectInfo | None:
    """The project described by ``folder/pyproject.toml``, if there is one that parses."""
    pyproject = folder / "pyproject.toml"
    if not pyproject.is_file():
        return None
    try:
        data, _ = load_toml(pyproject)
    except DependencyFileError:
        return None
    return project_info(data, folder.resolve().name or "project")


def read_project(path: Path) -> Inventory:
    """The inventory of a project folder or of one dependency file (see the module docstring)."""
    if not path.exists():
        raise DependencyFileError(f"{path} not found")
    file = path if path.is_file() else find_dependency_file(path)
    inventory = read_dependency_file(file)
    subject = project_of(file.parent)
    if subject is not None and file.name not in ("pyproject.toml", "poetry.lock"):
        merged = ProjectInfo(
            name=subject.name,
            version=subject.version or inventory.project.version,
            description=subject.description,
            licenses=subject.licenses,
        )
        inventory = replace(inventory, project=merged)
    return inventory
