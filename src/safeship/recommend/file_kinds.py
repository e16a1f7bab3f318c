"""What a changed file's path (and, for SQL, its text) says about the change.

* migrations: files under ``migrations/`` or ``migration/``, ``alembic/versions/``, Rails'
  ``db/migrate/``, Flyway's ``V1__name.sql`` / ``U1__name.sql`` / ``R__name.sql``,
  ``*.up.sql`` / ``*.down.sql``, and SQL files with up/down sections (goose, dbmate,
  sql-migrate);
* dependency files: lock files and requirements lists of the common ecosystems;
* config files: ``.env`` files anywhere, and YAML/JSON/TOML/INI/... files inside a config
  directory (``config/``, ``conf/``, ``settings/``, ``.pipeline/`` ...).
"""

from __future__ import annotations

import itertools
import re
from pathlib import PurePosixPath

MIGRATION_DIRS = frozenset({"migrations", "migration"})
NOT_MIGRATIONS = frozenset({"__init__.py", "readme", "readme.md", "readme.rst", ".gitkeep"})
_FLYWAY = re.compile(r"^(?:[VU]\d+(?:[._]\d+)*|R)__.+\.sql$")
_UP_DOWN_NAME = re.compile(r"\.(?:up|down)\.sql$", re.IGNORECASE)
_UP_DOWN_SECTION = re.compile(
    r"^\s*--\s*(?:\+goose\s+(?:up|down)|\+migrate\s+(?:up|down)|migrate:(?:up|down)"
    r"|(?:up|down)\s*$)",
    re.IGNORECASE | re.MULTILINE,
)

DEPENDENCY_FILES = frozenset({
    "poetry.lock", "uv.lock", "pdm.lock", "pipfile", "pipfile.lock", "package-lock.json",
    "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb", "go.mod", "go.sum",
    "cargo.lock", "gemfile", "gemfile.lock", "composer.lock", "mix.lock", "pubspec.lock",
    "podfile.lock", "packages.lock.json", "gradle.lockfile", "flake.lock", "conda-lock.yml",
})
_REQUIREMENTS = re.compile(r"^(?:requirements|constraints)(?:[-_.][\w.-]*)?\.(?:txt|in)$",
                           re.IGNORECASE)
DEPENDENCY_MANIFESTS = frozenset({"pyproject.toml", "package.json", "cargo.toml"})
"""Files that declare dependencies among other things: their contents decide."""

CONFIG_DIRS = frozenset({"config", "configs", "conf", "settings", ".pipeline", ".config",
                         "environments"})
CONFIG_SUFFIXES = frozenset({".yaml", ".yml", ".json", ".toml", ".ini", ".cfg", ".conf",
                             ".properties", ".env"})


def _parts(path: str) -> tuple[str, ...]:
    return PurePosixPath(path).parts


def migration_by_path(path: str) -> bool:
    """True when the path alone marks a migration."""
    parts = _parts(path)
    name = parts[-1]
    if name.lower() in NOT_MIGRATIONS:
        return False
    folders = [part.lower() for part in parts[:-1]]
    if MIGRATION_DIRS & set(folders):
        return True
    pairs = set(itertools.pairwise(folders))
    if ("alembic", "versions") in pairs or ("db", "migrate") in pairs:
        return True
    return bool(_FLYWAY.match(name) or _UP_DOWN_NAME.search(name))


def is_sql(path: str) -> bool:
    """True for ``*.sql`` files."""
    return path.lower().endswith(".sql")


def sql_has_up_down_sections(text: str) -> bool:
    """True when SQL text has migration up/down markers (goose, dbmate, sql-migrate, plain)."""
    return bool(_UP_DOWN_SECTION.search(text))


def is_alembic_revision(text: str) -> bool:
    """True for a Python file that declares an Alembic revision."""
    return bool(re.search(r"^down_revision\s*[:=]", text, re.MULTILINE)) and bool(
        re.search(r"^revision\s*[:=]", text, re.MULTILINE))


def dependency_file(path: str) -> bool:
    """True for a lock file or requirements list."""
    parts = _parts(path)
    name = parts[-1]
    if name.lower() in DEPENDENCY_FILES or _REQUIREMENTS.match(name):
        return True
    # requirements/base.txt, requirements/prod.in
    return len(parts) > 1 and parts[-2].lower() == "requirements" and name.endswith(
        (".txt", ".in"))


def dependency_manifest(path: str) -> bool:
    """True for a manifest whose dependency sections must be compared."""
    return _parts(path)[-1].lower() in DEPENDENCY_MANIFESTS


def config_file(path: str) -> bool:
    """True for a configuration file (see the module docstring)."""
    parts = _parts(path)
    name = parts[-1].lower()
    if name == ".env" or name.startswith(".env.") or name.endswith(".env"):
        return True
    if PurePosixPath(name).suffix not in CONFIG_SUFFIXES:
        return False
    return bool(CONFIG_DIRS & {part.lower() for part in parts[:-1]})
