"""What ``--staged`` and ``--git-history`` scan: the lines that commits (or the index) add.

Both read unified diffs from git through the injected :class:`CommandRunner`:

* ``--staged``: ``git diff --cached`` (the index against HEAD), so a pre-commit hook sees
  exactly what is about to be committed;
* ``--git-history [RANGE]``: ``git log -p`` over RANGE (default: every ref, ``--all``), commit
  by commit, so a secret that was added and later deleted is still found (it is still in the
  repository's history).

Only added lines are scanned; each added line keeps its line number in the new file. Diffs are
read with zero context, no rename detection (a renamed file's content counts as added, under
its new name), no external diff drivers or text conversion, and fixed ``a/``/``b/`` prefixes,
whatever the user's git configuration says. Binary files are reported as skipped.

The runner caps what it returns at 16 MB, so history is read in batches of commits; a batch
that hits the cap is read again commit by commit, and a single commit above the cap is scanned
as far as it was read and reported as skipped in part.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from safeship._internal.subprocess import CommandResult, CommandRunner
from safeship.errors import DependencyUnavailable, UsageError
from safeship.scanners.secrets.results import SkippedFile
from safeship.scanners.secrets.scanner import Blob

_DIFF_OPTIONS = ("-U0", "--no-color", "--no-ext-diff", "--no-textconv", "--no-renames",
                 "--src-prefix=a/", "--dst-prefix=b/", "--relative")
_GIT = ("git", "-c", "core.quotePath=false", "-c", "diff.noprefix=false")
_COMMIT_MARK = "\x1esafeship-commit "
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")
_BATCH = 64
# What CommandRunner keeps of a program's output (safeship._internal.subprocess).
_RUNNER_CAP = 16 * 1024 * 1024
_TIMEOUT_S = 600.0


@dataclass
class GitSource:
    """Diff texts to scan and the entries skipped while reading them."""

    blobs: list[Blob] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    commits: int = 0


def _unquote(path: str) -> str:
    """A path as git prints it: C-quoted when it holds special characters."""
    if not (path.startswith('"') and path.endswith('"')):
        return path
    raw = path[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
    return raw.encode("latin-1").decode("utf-8", "replace")


def _new_path(header: str) -> str | None:
    target = header[4:].rstrip("\n")
    if target.startswith("/dev/null"):
        return None
    target = _unquote(target.split("\t")[0])
    return target[2:] if target.startswith("b/") else target


def _binary_path(line: str) -> str:
    # "Binary files a/x and b/y differ"
    body = line[len("Binary files "):].removesuffix(" differ")
    _, _, new = body.rpartition(" and ")
    new = _unquote(new)
    return new[2:] if new.startswith("b/") else new


def parse_diff(text: str, commit: str | None = None) -> GitSource:
    """The added lines of a unified diff (``git diff``/``git log -p`` output), per file."""
    source = GitSource()
    path: str | None = None
    lines: list[str] = []
    numbers: list[int] = []
    next_line = 0
    in_header = False

    def flush() -> None:
        if path is not None and lines:
            source.blobs.append(Blob(path, "\n".join(lines), commit, tuple(numbers)))
        lines.clear()
        numbers.clear()

    for line in text.split("\n"):
        if line.startswith("diff --git "):
            flush()
            path, in_header = None, True
            continue
        if in_header:
            if line.startswith("+++ "):
                path = _new_path(line)
            elif line.startswith("Binary files "):
                where = _binary_path(line)
                if where != "/dev/null":
                    label = f"{where}@{commit[:12]}" if commit else where
                    source.skipped.append(SkippedFile(label, "binary file"))
            elif line.startswith("@@"):
                in_header = False
        if not in_header and line.startswith("@@"):
            hunk = _HUNK.match(line)
            next_line = int(hunk.group(1)) if hunk else 0
            continue
        if in_header:
            continue
        if line.startswith("+"):
            lines.append(line[1:])
            numbers.append(next_line)
            next_line += 1
    flush()
    return source


def _git(run: CommandRunner, root: Path, args: Sequence[str]) -> CommandResult:
    result = run([*_GIT, *args], cwd=root, timeout_s=_TIMEOUT_S)
    if result.returncode == 0:
        return result
    message = result.stderr.strip().splitlines()
    first = message[0] if message else f"exit code {result.returncode}"
    lowered = result.stderr.lower()
    if "not a git repository" in lowered:
        raise UsageError(f"{root} is not inside a git repository",
                         hint="--staged and --git-history need a git work tree")
    if any(word in lowered for word in ("bad revision", "unknown revision", "ambiguous argument",
                                         "invalid revision", "bad range")):
        raise UsageError(f"git does not know the range: {first}",
                         hint="give a range git log understands, e.g. main..HEAD or v1.0..")
    raise DependencyUnavailable(f"git {args[0]} failed: {first}")


def _require_repository(run: CommandRunner, root: Path) -> None:
    # Outside a repository "git diff" silently becomes "git diff --no-index"; ask first.
    result = _git(run, root, ["rev-parse", "--is-inside-work-tree"])
    if result.stdout.strip() != "true":
        raise UsageError(f"{root} is not inside a git work tree",
                         hint="--staged and --git-history need a git work tree")


def staged(run: CommandRunner, root: Path) -> GitSource:
    """The lines added in the index (what ``git commit`` would record now)."""
    _require_repository(run, root)
    result = _git(run, root, ["diff", "--cached", *_DIFF_OPTIONS])
    return parse_diff(result.stdout)


def history(run: CommandRunner, root: Path, revision_range: str | None = None) -> GitSource:
    """The lines every commit in ``revision_range`` (default: all refs) added."""
    spec = [revision_range] if revision_range else ["--all"]
    if revision_range and revision_range.startswith("-"):
        raise UsageError(f"a range cannot start with '-': {revision_range}")
    _require_repository(run, root)
    listed = _git(run, root, ["rev-list", *spec, "--"])
    commits = [line.strip() for line in listed.stdout.splitlines() if line.strip()]
    source = GitSource(commits=len(commits))
    for start in range(0, len(commits), _BATCH):
        _read_commits(run, root, commits[start:start + _BATCH], source)
    return source


def _read_commits(run: CommandRunner, root: Path, commits: list[str], source: GitSource) -> None:
    result = _git(run, root, ["log", "-p", "--no-walk=unsorted",
                              f"--format={_COMMIT_MARK}%H", *_DIFF_OPTIONS, *commits, "--"])
    if len(result.stdout) >= _RUNNER_CAP:
        if len(commits) > 1:
            for commit in commits:
                _read_commits(run, root, [commit], source)
            return
        source.skipped.append(SkippedFile(
            f"commit {commits[0][:12]}", "diff larger than 16 MB; scanned as far as it was read"))
    for chunk in result.stdout.split(_COMMIT_MARK)[1:]:
        sha, _, diff = chunk.partition("\n")
        parsed = parse_diff(diff, sha.strip())
        source.blobs.extend(parsed.blobs)
        source.skipped.extend(parsed.skipped)
