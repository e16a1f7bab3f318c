"""What changed between two revisions, as the classifier sees it (no git in here).

:class:`ChangeSet` lists the changed files and the commits in between. The classifier reads
file contents through a :class:`RevisionReader`, so it can be tested with an in-memory reader
and driven by :class:`safeship.recommend.git_reader.GitRepository` for real.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class ChangeStatus(StrEnum):
    """The letters of ``git diff --name-status``."""

    ADDED = "A"
    COPIED = "C"
    DELETED = "D"
    MODIFIED = "M"
    RENAMED = "R"
    TYPE_CHANGED = "T"
    UNMERGED = "U"
    UNKNOWN = "X"


@dataclass(frozen=True)
class FileChange:
    """One changed file; ``old_path`` is set for renames and copies."""

    status: ChangeStatus
    path: str
    old_path: str | None = None

    @property
    def paths(self) -> tuple[str, ...]:
        """Every path this change touches (both sides of a rename)."""
        return (self.path,) if self.old_path is None else (self.old_path, self.path)

    @property
    def base_path(self) -> str | None:
        """Where the file was at the base revision (None when it was added)."""
        if self.status is ChangeStatus.ADDED:
            return None
        return self.old_path or self.path

    @property
    def head_path(self) -> str | None:
        """Where the file is at the head revision (None when it was deleted)."""
        return None if self.status is ChangeStatus.DELETED else self.path


@dataclass(frozen=True)
class Commit:
    """A commit between base and head."""

    sha: str
    subject: str
    body: str = ""

    @property
    def short(self) -> str:
        """The abbreviated sha and the subject, as a person quotes a commit."""
        return f"{self.sha[:10]} {self.subject}"


@dataclass(frozen=True)
class ChangeSet:
    """The files changed from ``base`` to ``head`` (resolved commit ids) and the commits."""

    base: str
    head: str
    files: tuple[FileChange, ...]
    commits: tuple[Commit, ...] = ()


class RevisionReader(Protocol):
    """Reads files as they were at a revision."""

    def read(self, revision: str, path: str) -> str | None:
        """The text of ``path`` at ``revision``, or None when it does not exist there."""
        ...

    def files_with_changed_lines(self, base: str, head: str, pattern: str,
                                 globs: tuple[str, ...]) -> tuple[str, ...]:
        """Files matching ``globs`` whose added or removed lines match the regex ``pattern``."""
        ...
