"""Where migrations are: the files under a path that may be migrations of some framework.

A file named on the command line (or in ``path:``) is taken as it is, with its rollback file
when one sits beside it (Flyway ``U`` script, golang-migrate ``.down.sql``). A folder is searched
(bounded: depth, folder count) for

* every ``.sql`` file: Flyway ``V``/``U``/``R`` scripts (``db/migration``), golang-migrate
  ``.up.sql``/``.down.sql`` (``migrations/``) and dbmate files with ``-- migrate:up``
  (``db/migrations``) are told apart by name and content later;
* ``.py`` files in folders named ``versions`` (Alembic, Flask-Migrate's
  ``migrations/versions``) or ``migrations`` (Django apps), in the folder itself, and in the
  folders an ``alembic.ini`` (``script_location``/``version_locations``) or a ``pyproject.toml``
  ``[tool.alembic]`` names.

Hidden folders, virtual environments, vendored and built trees, and test folders (``tests``,
``test``, ``testdata``, ``fixtures``: their migrations are samples) are not searched unless the
path itself points into them.
"""

from __future__ import annotations

import configparser
import os
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from safeship.errors import NotFound, UsageError
from safeship.scanners.migrations.flyway import flyway_partners
from safeship.scanners.migrations.updown import golang_migrate_partners

SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "venv", "env", "site-packages", "build",
                          "dist", "target", "vendor", "tests", "test", "testdata", "fixtures"})
PYTHON_DIRS = frozenset({"versions", "migrations"})
MAX_DEPTH = 12
MAX_DIRS = 20_000


@dataclass(frozen=True)
class Candidates:
    """Files that may be migrations, and notes on what the search could not do."""

    python: tuple[Path, ...]
    sql: tuple[Path, ...]
    notes: tuple[str, ...] = ()


@dataclass
class _Search:
    python: dict[Path, None] = field(default_factory=dict)
    sql: dict[Path, None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    visited: int = 0


def find_candidates(paths: Sequence[Path]) -> Candidates:
    """The candidate files under ``paths`` (files or folders); see the module docstring."""
    search = _Search()
    for path in paths:
        if not path.exists():
            raise NotFound(f"{path} does not exist",
                           hint="give a migrations folder or file, or run in the project root")
        if path.is_file():
            _add_file(search, path)
        else:
            _walk(search, path)
    return Candidates(tuple(search.python), tuple(search.sql), tuple(search.notes))


def _add_file(search: _Search, path: Path) -> None:
    if path.suffix == ".py":
        search.python[path] = None
    elif path.suffix == ".sql":
        search.sql[path] = None
        # A migration named alone still pairs with the rollback beside it.
        for partner in (*flyway_partners(path), *golang_migrate_partners(path)):
            search.sql[partner] = None
    else:
        raise UsageError(f"{path} is not a migration file (.py or .sql)",
                         hint="give a migrations folder, or a .py or .sql migration")


def _walk(search: _Search, root: Path) -> None:
    stack: list[tuple[Path, int, bool]] = [(root, 0, True)]
    while stack:
        folder, depth, python_here = stack.pop()
        search.visited += 1
        if search.visited > MAX_DIRS:
            search.notes.append(f"stopped searching after {MAX_DIRS} folders under {root}; "
                                "give the migrations folder as PATH")
            return
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            search.notes.append(f"cannot list {folder}: {exc.strerror or exc}")
            continue
        names = {entry.name for entry in entries}
        if folder != root and "pyvenv.cfg" in names:
            continue  # a virtual environment
        # Folders alembic settings name are listed for .py files, not searched further.
        stack.extend((extra, MAX_DEPTH, True)
                     for extra in _alembic_folders(folder, names, search.notes) if extra.is_dir())
        subfolders = []
        for entry in entries:
            if entry.is_file():
                if entry.name.endswith(".sql"):
                    search.sql[Path(entry.path)] = None
                elif python_here and entry.name.endswith(".py") and entry.name != "__init__.py":
                    search.python[Path(entry.path)] = None
            elif entry.is_dir(follow_symlinks=False) and _searchable(entry.name):
                subfolders.append(entry)
        if depth < MAX_DEPTH:
            stack.extend((Path(e.path), depth + 1, e.name in PYTHON_DIRS)
                         for e in reversed(subfolders))


def _searchable(name: str) -> bool:
    return not name.startswith(".") and name not in SKIPPED_DIRS


def _alembic_folders(folder: Path, names: set[str], notes: list[str]) -> Iterable[Path]:
    """The version folders an ``alembic.ini`` or ``pyproject.toml`` in ``folder`` names."""
    settings: list[dict[str, str]] = []
    if "alembic.ini" in names:
        parser = configparser.RawConfigParser()
        try:
            parser.read(folder / "alembic.ini", encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError) as exc:
            notes.append(f"cannot read {folder / 'alembic.ini'}: {exc}")
        else:
            if parser.has_section("alembic"):
                settings.append(dict(parser.items("alembic")))
    if "pyproject.toml" in names:
        try:
            data = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            data = {}  # not ours to judge; other gates read it
        section = data.get("tool", {}).get("alembic")
        if isinstance(section, dict):
            settings.append({k: " ".join(v) if isinstance(v, list) else str(v)
                             for k, v in section.items()})
    for setting in settings:
        yield from _locations(folder, setting, notes)


def _locations(folder: Path, setting: dict[str, str], notes: list[str]) -> Iterable[Path]:
    here = str(folder)
    script = setting.get("script_location", "").replace("%(here)s", here).strip()
    places = [f"{script}/versions"] if script else []
    places.extend(re.split(r"[\s,;]+", setting.get("version_locations", "").replace(
        "%(here)s", here).strip()))
    for place in filter(None, places):
        if ":" in place and not Path(place.split(":", 1)[0]).exists() and not re.match(
                r"^[A-Za-z]:[\\/]", place):
            notes.append(f"alembic script location {place!r} in {folder} is a package "
                         "resource; give its folder as PATH to check it")
            continue
        path = Path(place)
        yield path if path.is_absolute() else folder / path
