"""Read a change from git through the injected :class:`CommandRunner`.

Revisions named by the user are checked and resolved to commit ids first
(``git rev-parse --verify --end-of-options``), so no user text is ever read by git as an option.
Output is read NUL-separated (``-z``), so every path arrives exactly as stored.
"""

from __future__ import annotations

import re
from pathlib import Path

from safeship._internal.subprocess import CommandResult, CommandRunner, run_command
from safeship.errors import NotFound, ToolUnavailable, UsageError
from safeship.recommend.changes import ChangeSet, ChangeStatus, Commit, FileChange

MAX_COMMITS = 1000
"""Commit messages read per range; enough to spot a security fix, bounded for huge ranges."""

_REVISION = re.compile(r"^[^\s\x00-\x1f~^:?*\[\\-][^\s\x00-\x1f:?*\[\\]*$")
_UNIT = "\x1f"
_RECORD = "\x1e"


def parse_range(text: str) -> tuple[str, str]:
    """``BASE..HEAD`` -> (BASE, HEAD); ``BASE..`` means ``BASE..HEAD``."""
    if "..." in text:
        raise UsageError(f"'{text}' uses '...'; write the range as BASE..HEAD")
    base, sep, head = text.strip().partition("..")
    if not sep or not base:
        raise UsageError(f"'{text}' is not a range; write BASE..HEAD, e.g. main..HEAD")
    head = head or "HEAD"
    for revision in (base, head):
        if not _REVISION.match(revision) or len(revision) > 256:
            raise UsageError(f"'{revision}' is not a revision name")
    return base, head


class GitRepository:
    """A git work tree, read-only."""

    def __init__(self, root: Path, runner: CommandRunner = run_command,
                 timeout_s: float = 60.0) -> None:
        self.root = root
        self._runner = runner
        self._timeout_s = timeout_s
        result = self._git("rev-parse", "--show-toplevel")
        if result.returncode != 0:
            raise UsageError(f"{root} is not inside a git work tree: {_first_line(result)}",
                             hint="run in the repository or pass --project")

    def resolve(self, revision: str) -> str:
        """The commit id ``revision`` names; :class:`NotFound` when it names none."""
        result = self._git("rev-parse", "--verify", "--quiet", "--end-of-options",
                           f"{revision}^{{commit}}")
        sha = result.stdout.strip()
        if result.returncode != 0 or not re.fullmatch(r"[0-9a-f]{40,64}", sha):
            raise NotFound(f"no commit named '{revision}' in {self.root}",
                           hint="fetch it first (shallow CI clones may lack the base)")
        return sha

    def change_set(self, revision_range: str) -> ChangeSet:
        """The files changed in ``BASE..HEAD`` and the commits in that range."""
        base_name, head_name = parse_range(revision_range)
        base, head = self.resolve(base_name), self.resolve(head_name)
        listing = self._checked("diff", "--name-status", "-z", "--find-renames",
                                "--no-color", base, head, "--")
        return ChangeSet(base, head, _parse_name_status(listing), self._commits(base, head))

    def read(self, revision: str, path: str) -> str | None:
        """The text of ``path`` at ``revision`` (None when it is not there)."""
        result = self._git("cat-file", "blob", f"{revision}:{path}")
        return result.stdout if result.returncode == 0 else None

    def files_with_changed_lines(self, base: str, head: str, pattern: str,
                                 globs: tuple[str, ...]) -> tuple[str, ...]:
        """Files matching ``globs`` whose diff adds or removes a line matching ``pattern``."""
        listing = self._checked("diff", "--name-only", "-z", "--no-color", f"-G{pattern}",
                                base, head, "--", *globs)
        return tuple(path for path in listing.split("\0") if path)

    def _commits(self, base: str, head: str) -> tuple[Commit, ...]:
        listing = self._checked("log", "--no-color", f"--max-count={MAX_COMMITS}",
                                f"--format=%H{_UNIT}%s{_UNIT}%b{_RECORD}", f"{base}..{head}",
                                "--")
        commits = []
        for record in listing.split(_RECORD):
            parts = record.strip("\n").split(_UNIT)
            if len(parts) == 3:
                commits.append(Commit(parts[0], parts[1], parts[2].strip()))
        return tuple(commits)

    def _checked(self, *args: str) -> str:
        result = self._git(*args)
        if result.returncode != 0:
            raise ToolUnavailable(f"git {args[0]} failed in {self.root}: {_first_line(result)}")
        return result.stdout

    def _git(self, *args: str) -> CommandResult:
        return self._runner(["git", "-C", str(self.root), "-c", "core.quotePath=false", *args],
                            timeout_s=self._timeout_s)


def _parse_name_status(listing: str) -> tuple[FileChange, ...]:
    fields = listing.split("\0")
    changes = []
    index = 0
    while index < len(fields) and fields[index]:
        code = fields[index]
        try:
            status = ChangeStatus(code[0])
        except ValueError:
            status = ChangeStatus.UNKNOWN
        if status in (ChangeStatus.RENAMED, ChangeStatus.COPIED):
            changes.append(FileChange(status, fields[index + 2], fields[index + 1]))
            index += 3
        else:
            changes.append(FileChange(status, fields[index + 1]))
            index += 2
    return tuple(changes)


def _first_line(result: CommandResult) -> str:
    text = (result.stderr or result.stdout).strip()
    return text.splitlines()[0] if text else f"exit code {result.returncode}"
