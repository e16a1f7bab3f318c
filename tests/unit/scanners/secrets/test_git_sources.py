"""``--staged`` and ``--git-history`` on real git repositories made in tmp_path."""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from safeship._internal.subprocess import CommandResult, run_command
from safeship.errors import DependencyUnavailable, ToolUnavailable, UsageError
from safeship.scanners.secrets import default_ruleset, scan_blobs
from safeship.scanners.secrets.git_sources import history, parse_diff, staged

from .conftest import git
from .corpus import Gen, checksummed

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q")
    (path / "README.md").write_text("# app\n")
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "start")
    return path


def rule_ids(blobs_report: object) -> list[tuple[str, int, str]]:
    return [(f.file, f.line, f.rule_id) for f in blobs_report.findings]  # type: ignore[attr-defined]


def test_staged_scans_only_what_is_staged(repo: Path, gen: Gen) -> None:
    token = checksummed("ghp_", gen)
    (repo / "app.env").write_text("NAME=shop\nGITHUB_TOKEN=" + token + "\n")
    (repo / "unstaged.env").write_text("GITHUB_TOKEN=" + checksummed("ghp_", gen) + "\n")
    git(repo, "add", "app.env")
    source = staged(run_command, repo)
    report = scan_blobs(source.blobs, default_ruleset(), source="staged")
    assert rule_ids(report) == [("app.env", 2, "github-pat")]
    assert report.source == "staged"


def test_staged_reports_line_numbers_of_the_new_file(repo: Path, gen: Gen) -> None:
    (repo / "conf.env").write_text("A=1\nB=2\nC=3\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "conf")
    (repo / "conf.env").write_text("A=1\nB=2\nC=3\nSTRIPE_KEY=sk_live_" + gen.b62(40) + "\n")
    git(repo, "add", ".")
    report = scan_blobs(staged(run_command, repo).blobs, default_ruleset())
    assert rule_ids(report) == [("conf.env", 4, "stripe-secret-key")]


def test_history_finds_a_secret_that_was_removed(repo: Path, gen: Gen) -> None:
    token = checksummed("ghp_", gen)
    (repo / "deploy.sh").write_text("#!/bin/sh\nexport GITHUB_TOKEN=" + token + "\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "oops")
    leaked = git(repo, "rev-parse", "HEAD").strip()
    (repo / "deploy.sh").write_text("#!/bin/sh\nexport GITHUB_TOKEN=$(gh auth token)\n")
    git(repo, "commit", "-q", "-am", "fix")
    assert scan_blobs(staged(run_command, repo).blobs, default_ruleset()).findings == ()
    source = history(run_command, repo)
    assert source.commits == 3
    report = scan_blobs(source.blobs, default_ruleset())
    [finding] = report.findings
    assert (finding.file, finding.line, finding.commit) == ("deploy.sh", 2, leaked)
    # A range limits the commits.
    ranged = history(run_command, repo, "HEAD~1..HEAD")
    assert scan_blobs(ranged.blobs, default_ruleset()).findings == ()


def test_history_reports_binary_files(repo: Path) -> None:
    (repo / "blob.bin").write_bytes(b"\x00\x01\x02secret")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "bin")
    source = history(run_command, repo)
    assert any(s.file.startswith("blob.bin@") and s.reason == "binary file"
               for s in source.skipped)


def test_bad_range_is_a_usage_error(repo: Path) -> None:
    with pytest.raises(UsageError):
        history(run_command, repo, "no-such-branch..HEAD")
    with pytest.raises(UsageError):
        history(run_command, repo, "--output=/tmp/x")


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        staged(run_command, tmp_path)


def test_git_missing_is_tool_unavailable(tmp_path: Path) -> None:
    def no_git(argv: Sequence[str], *, cwd: Path | None = None, timeout_s: float = 300.0,
               env: Mapping[str, str] | None = None, shell: bool = False) -> CommandResult:
        raise ToolUnavailable(f"program not found: {argv[0]}")

    with pytest.raises(ToolUnavailable):
        staged(no_git, tmp_path)


def test_other_git_failures_are_dependency_errors(tmp_path: Path) -> None:
    def broken(argv: Sequence[str], *, cwd: Path | None = None, timeout_s: float = 300.0,
               env: Mapping[str, str] | None = None, shell: bool = False) -> CommandResult:
        return CommandResult(tuple(argv), 128, "", "fatal: index file corrupt\n")

    with pytest.raises(DependencyUnavailable):
        staged(broken, tmp_path)


def test_parse_diff_handles_quoting_hunks_and_deletions() -> None:
    diff = "\n".join([
        'diff --git "a/dir/na\\303\\257ve file.env" "b/dir/na\\303\\257ve file.env"',
        "new file mode 100644",
        "--- /dev/null",
        '+++ "b/dir/na\\303\\257ve file.env"',
        "@@ -0,0 +1,2 @@",
        "+A=1",
        "+B=2",
        "diff --git a/old.txt b/old.txt",
        "deleted file mode 100644",
        "--- a/old.txt",
        "+++ /dev/null",
        "@@ -1 +0,0 @@",
        "-gone",
        "diff --git a/x.txt b/x.txt",
        "--- a/x.txt",
        "+++ b/x.txt",
        "@@ -3,0 +4,1 @@ section",
        "+++ not a header",
        "@@ -9 +10 @@",
        "+ten",
        "diff --git a/img.png b/img.png",
        "Binary files /dev/null and b/img.png differ",
    ])
    source = parse_diff(diff, "c0ffee")
    assert [(b.path, b.text, b.line_numbers) for b in source.blobs] == [
        ("dir/na\u00efve file.env", "A=1\nB=2", (1, 2)),
        ("x.txt", "++ not a header\nten", (4, 10)),
    ]
    assert [(s.file, s.reason) for s in source.skipped] == [("img.png@c0ffee", "binary file")]
