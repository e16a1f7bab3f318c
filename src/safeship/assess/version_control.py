"""Is the pipeline versioned? The git state of safeship's files, read through the injected runner.

Three read-only git calls answer it: ``rev-parse --show-toplevel`` (is this a work tree?),
``ls-files`` (what the index holds) and ``status --ignored`` (what changed, what git does not
track, what it ignores). Paths go to git as literal pathspecs, so no file name is ever read as a
pattern or an option.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from safeship._internal.subprocess import CommandResult, CommandRunner, run_command
from safeship.assess.evidence import FileFact, FileState, VersionControl
from safeship.errors import ToolUnavailable

GIT_TIMEOUT_S = 30.0


def display_path(root: Path, path: Path) -> str:
    """``path`` relative to ``root`` in POSIX form when it is inside it, else absolute."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def inspect_files(root: Path, paths: Sequence[Path],
                  runner: CommandRunner = run_command) -> VersionControl:
    """The git state of each of ``paths`` (files under the assessed folder ``root``).

    Raises:
        ToolUnavailable: git is not installed or does not answer.
    """
    wanted = list(dict.fromkeys(path.resolve() for path in paths))
    top = _git(runner, root, "rev-parse", "--show-toplevel")
    if top.returncode != 0 and "not a git repository" not in top.stderr:
        # Anything else (an unsafe owner, a broken .git) must not pass for "no repository".
        raise _failure(root, "rev-parse", top)
    if top.returncode != 0 or not top.stdout.strip():
        return VersionControl(None, tuple(
            FileFact(display_path(root, p), FileState.OUTSIDE if p.exists()
                     else FileState.MISSING) for p in wanted))
    work_tree = Path(top.stdout.strip()).resolve()
    inside: dict[str, Path] = {}
    facts: dict[Path, FileState] = {}
    for path in wanted:
        if not path.exists():
            facts[path] = FileState.MISSING
            continue
        try:
            inside[path.relative_to(work_tree).as_posix()] = path
        except ValueError:
            facts[path] = FileState.OUTSIDE
    if inside:
        tracked = set(_checked(runner, work_tree, "ls-files", "-z", "--",
                               *inside).stdout.split("\0"))
        status = _parse_status(_checked(
            runner, work_tree, "status", "--porcelain=v1", "-z", "--ignored=matching",
            "--untracked-files=all", "--", *inside).stdout)
        for relative, path in inside.items():
            facts[path] = _state(relative in tracked, status.get(relative))
    return VersionControl(work_tree.as_posix(), tuple(
        FileFact(display_path(root, path), facts[path]) for path in wanted))


def _state(tracked: bool, code: str | None) -> FileState:
    if code == "!!":
        return FileState.IGNORED
    if code == "??" or (not tracked and code is None):
        return FileState.UNTRACKED
    if code is None:
        return FileState.COMMITTED
    if code[0] == "A":
        return FileState.ADDED
    return FileState.MODIFIED


def _parse_status(text: str) -> dict[str, str]:
    """``git status --porcelain=v1 -z`` -> path: two-letter code."""
    entries = text.split("\0")
    codes: dict[str, str] = {}
    index = 0
    # Bounded by the number of entries: each turn consumes one (two for a rename or copy).
    while index < len(entries):
        entry = entries[index]
        index += 1
        if len(entry) < 4:
            continue
        code, path = entry[:2], entry[3:]
        codes[path] = code
        if code[0] in "RC":
            index += 1  # the rename's or copy's source path follows; it is not a file of ours
    return codes


def _git(runner: CommandRunner, cwd: Path, *args: str) -> CommandResult:
    # C locale: the "not a git repository" message is matched. No optional locks: `git status`
    # would otherwise refresh the index, and an assessment must not write to the repository.
    env = {**os.environ, "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"}
    return runner(["git", "--literal-pathspecs", *args], cwd=cwd, timeout_s=GIT_TIMEOUT_S,
                  env=env)


def _checked(runner: CommandRunner, cwd: Path, *args: str) -> CommandResult:
    result = _git(runner, cwd, *args)
    if result.returncode != 0:
        raise _failure(cwd, args[0], result)
    return result


def _failure(cwd: Path, command: str, result: CommandResult) -> ToolUnavailable:
    detail = (result.stderr.strip().splitlines() or ["no message"])[0]
    return ToolUnavailable(f"git {command} failed in {cwd}: {detail}",
                           hint="check that git works in this repository (`git status`)")
