"""Classify a change into the guide's change types, with the evidence for each.

Each rule yields a :class:`Signal` naming the files (or commits) that triggered it:

* ``db_migration``: a migration file was added, changed or removed (:mod:`.file_kinds`);
* ``dependency``: a lock or requirements file changed, or the dependency sections of
  ``pyproject.toml`` / ``package.json`` / ``Cargo.toml`` differ;
* ``config``: every changed file is a configuration file;
* ``new_endpoint``: an OpenAPI document gained a path (or a method on a path);
* ``major_version``: the project version's major number went up;
* ``security_patch``: a commit message names a CVE or GHSA id or speaks of security.

Signals come back most cautious first (:data:`safeship.recommend.guide_table.CAUTION`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from safeship.recommend.changes import ChangeSet, FileChange, RevisionReader
from safeship.recommend.file_kinds import (
    config_file,
    dependency_file,
    dependency_manifest,
    is_alembic_revision,
    is_sql,
    migration_by_path,
    sql_has_up_down_sections,
)
from safeship.recommend.guide_table import ChangeType, caution_rank
from safeship.recommend.manifests import (
    VERSION_FILES,
    declared_version,
    dependency_declarations,
    major_of,
)
from safeship.recommend.openapi import api_surface, new_endpoints

MAX_CONTENT_READS = 400
"""Files whose contents are read per rule; a huge diff is still classified in bounded time."""

_SECURITY = re.compile(
    r"\bCVE-\d{4}-\d{4,}\b|\bGHSA(?:-[0-9a-z]{4}){3}\b|\bsecurity\b|\bvulnerabilit(?:y|ies)\b",
    re.IGNORECASE,
)
_SPEC_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class Signal:
    """One reason to see the change as ``change_type``, and what showed it."""

    change_type: ChangeType
    reason: str
    evidence: tuple[str, ...]


def classify(changes: ChangeSet, reader: RevisionReader) -> tuple[Signal, ...]:
    """Every signal the change gives, most cautious change type first."""
    found = [
        *_migrations(changes, reader),
        *_dependencies(changes, reader),
        *_config(changes),
        *_new_endpoints(changes, reader),
        *_major_version(changes, reader),
        *_security(changes),
    ]
    return tuple(sorted(found, key=lambda signal: caution_rank(signal.change_type)))


def _text(reader: RevisionReader, revision: str, path: str | None) -> str | None:
    return None if path is None else reader.read(revision, path)


def _current_text(changes: ChangeSet, reader: RevisionReader, change: FileChange) -> str | None:
    """The file at head, or at base when it was deleted."""
    text = _text(reader, changes.head, change.head_path)
    return text if text is not None else _text(reader, changes.base, change.base_path)


def _migrations(changes: ChangeSet, reader: RevisionReader) -> Iterator[Signal]:
    hits = []
    reads = 0
    for change in changes.files:
        if any(migration_by_path(path) for path in change.paths):
            hits.append(change.path)
            continue
        in_versions = any("versions" in PurePosixPath(p).parts[:-1] for p in change.paths)
        python_revision = in_versions and change.path.endswith(".py")
        if not (is_sql(change.path) or python_revision) or reads >= MAX_CONTENT_READS:
            continue
        reads += 1
        text = _current_text(changes, reader, change) or ""
        if (python_revision and is_alembic_revision(text)) or (
                is_sql(change.path) and sql_has_up_down_sections(text)):
            hits.append(change.path)
    if hits:
        yield Signal(ChangeType.DB_MIGRATION, "database migrations changed", tuple(hits))


def _dependencies(changes: ChangeSet, reader: RevisionReader) -> Iterator[Signal]:
    locks = [c.path for c in changes.files if any(dependency_file(p) for p in c.paths)]
    if locks:
        yield Signal(ChangeType.DEPENDENCY, "lock or requirements files changed", tuple(locks))
    declared = []
    for change in [c for c in changes.files if dependency_manifest(c.path)][:MAX_CONTENT_READS]:
        base_text = _text(reader, changes.base, change.base_path)
        head_text = _text(reader, changes.head, change.head_path)
        before = dependency_declarations(change.path, base_text) if base_text else None
        after = dependency_declarations(change.path, head_text) if head_text else None
        if before == after:
            continue
        if isinstance(before, dict) and isinstance(after, dict):
            sections = [key for key in after if before.get(key) != after.get(key)]
            declared.append(f"{change.path} ({', '.join(sections)})")
        else:
            declared.append(change.path)
    if declared:
        yield Signal(ChangeType.DEPENDENCY, "declared dependencies changed", tuple(declared))


def _config(changes: ChangeSet) -> Iterator[Signal]:
    files = changes.files
    if files and all(config_file(path) for change in files for path in change.paths):
        yield Signal(ChangeType.CONFIG, "only configuration files changed",
                     tuple(change.path for change in files))


def _new_endpoints(changes: ChangeSet, reader: RevisionReader) -> Iterator[Signal]:
    candidates = [c for c in changes.files
                  if c.head_path is not None and c.path.lower().endswith(_SPEC_SUFFIXES)]
    hits = []
    for change in candidates[:MAX_CONTENT_READS]:
        head_text = _text(reader, changes.head, change.head_path)
        head = api_surface(head_text) if head_text else None
        if head is None:
            continue
        base_text = _text(reader, changes.base, change.base_path)
        added = new_endpoints(api_surface(base_text) if base_text else None, head)
        if added:
            shown = ", ".join(added[:5]) + (f" and {len(added) - 5} more" if len(added) > 5
                                            else "")
            hits.append(f"{change.path}: {shown}")
    if hits:
        yield Signal(ChangeType.NEW_ENDPOINT, "the OpenAPI spec gained endpoints", tuple(hits))


def _major_version(changes: ChangeSet, reader: RevisionReader) -> Iterator[Signal]:
    by_path = {c.path: c for c in changes.files}
    names = [c.path for c in changes.files if PurePosixPath(c.path).name.lower() in VERSION_FILES]
    modules = reader.files_with_changed_lines(changes.base, changes.head, "__version__",
                                              ("*.py",))
    names += [path for path in modules if path in by_path and path not in names]
    hits = []
    for path in names[:MAX_CONTENT_READS]:
        change = by_path[path]
        base_text = _text(reader, changes.base, change.base_path)
        head_text = _text(reader, changes.head, change.head_path)
        if base_text is None or head_text is None:
            continue
        old = declared_version(change.base_path or path, base_text)
        new = declared_version(path, head_text)
        old_major = major_of(old) if old else None
        new_major = major_of(new) if new else None
        if old_major is not None and new_major is not None and new_major > old_major:
            hits.append(f"{path}: {old} → {new}")
    if hits:
        yield Signal(ChangeType.MAJOR_VERSION, "the major version went up", tuple(hits))


def _security(changes: ChangeSet) -> Iterator[Signal]:
    hits = [commit.short for commit in changes.commits
            if _SECURITY.search(f"{commit.subject}\n{commit.body}")]
    if hits:
        yield Signal(ChangeType.SECURITY_PATCH, "commit messages point to a security fix",
                     tuple(hits))
