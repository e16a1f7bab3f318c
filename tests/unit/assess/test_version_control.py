"""The git state of safeship's files, on real work trees (and a fake runner for failures)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from safeship._internal.subprocess import CommandResult
from safeship.assess.evidence import FileState
from safeship.assess.version_control import display_path, inspect_files
from safeship.errors import ToolUnavailable
from tests.unit.assess.git_repo import GitRepo


@pytest.fixture(autouse=True)
def _no_enclosing_repository(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # A temp folder must never be taken for part of a repository that happens to enclose it.
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))


def test_every_state(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "shop")
    repo.write(".gitignore", "secret.yaml\n")
    repo.write("committed.yaml", "a: 1\n").write("modified.yaml", "a: 1\n")
    repo.write("we[ird] *.yaml", "a: 1\n")
    repo.commit()
    repo.write("modified.yaml", "a: 2\n")
    repo.write("added.yaml", "a: 1\n")
    repo.git("add", "added.yaml")
    repo.write("untracked.yaml", "a: 1\n").write("secret.yaml", "a: 1\n")
    names = ["committed.yaml", "modified.yaml", "added.yaml", "untracked.yaml", "secret.yaml",
             "missing.yaml", "we[ird] *.yaml"]
    found = inspect_files(repo.root, [repo.root / name for name in names])
    assert found.work_tree == repo.root.resolve().as_posix()
    assert {f.path: f.state for f in found.files} == {
        "committed.yaml": FileState.COMMITTED, "modified.yaml": FileState.MODIFIED,
        "added.yaml": FileState.ADDED, "untracked.yaml": FileState.UNTRACKED,
        "secret.yaml": FileState.IGNORED, "missing.yaml": FileState.MISSING,
        "we[ird] *.yaml": FileState.COMMITTED}
    assert found.state_of("modified.yaml").in_history
    assert not found.state_of("added.yaml").in_history
    assert found.state_of("never-asked.yaml") is FileState.MISSING


def test_a_subfolder_of_a_work_tree_and_a_staged_rename(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "mono")
    repo.write("services/shop/.pipeline/gates.yaml", "version: 2\n")
    repo.write("services/shop/old.yaml", "a: 1\n").commit()
    repo.git("mv", "services/shop/old.yaml", "services/shop/new.yaml")
    root = repo.root / "services" / "shop"
    found = inspect_files(root, [root / ".pipeline" / "gates.yaml", root / "new.yaml"])
    (tmp_path / "elsewhere.yaml").write_text("x")
    assert found.state_of(".pipeline/gates.yaml") is FileState.COMMITTED
    assert found.state_of("new.yaml") is FileState.ADDED
    outside = inspect_files(root, [tmp_path / "elsewhere.yaml"])
    assert outside.files[0].state is FileState.OUTSIDE
    assert outside.files[0].path == (tmp_path / "elsewhere.yaml").resolve().as_posix()


def test_outside_any_work_tree(tmp_path: Path) -> None:
    GitRepo(tmp_path / "unused")  # skips without git
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "service.yaml").write_text("name: x\n")
    found = inspect_files(plain, [plain / "service.yaml", plain / "gates.yaml"])
    assert found.work_tree is None
    assert found.state_of("service.yaml") is FileState.OUTSIDE
    assert found.state_of("gates.yaml") is FileState.MISSING


class ScriptedGit:
    """A runner answering each git sub-command with a scripted result."""

    def __init__(self, answers: Mapping[str, CommandResult | Exception]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, argv: Sequence[str], *, cwd: Path | None = None,
                 timeout_s: float = 300.0, env: Mapping[str, str] | None = None,
                 shell: bool = False) -> CommandResult:
        self.calls.append(tuple(argv))
        assert env is not None
        assert env["GIT_OPTIONAL_LOCKS"] == "0"  # reading must not write the index
        answer = self.answers[argv[2]]
        if isinstance(answer, Exception):
            raise answer
        return answer


def _result(code: int, out: str = "", err: str = "") -> CommandResult:
    return CommandResult(("git",), code, out, err)


def test_git_missing_is_a_dependency_error(tmp_path: Path) -> None:
    runner = ScriptedGit({"rev-parse": ToolUnavailable("program not found: git")})
    with pytest.raises(ToolUnavailable, match="program not found: git"):
        inspect_files(tmp_path, [tmp_path / "x"], runner)


def test_a_broken_repository_is_not_taken_for_no_repository(tmp_path: Path) -> None:
    runner = ScriptedGit({"rev-parse": _result(
        128, err="fatal: detected dubious ownership in repository at '/x'\nmore")})
    with pytest.raises(ToolUnavailable, match="dubious ownership") as err:
        inspect_files(tmp_path, [tmp_path / "x"], runner)
    assert "git status" in (err.value.hint or "")


def test_a_failing_listing_raises(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("x")
    runner = ScriptedGit({"rev-parse": _result(0, f"{tmp_path}\n"),
                          "ls-files": _result(128, err="fatal: index file corrupt")})
    with pytest.raises(ToolUnavailable, match=r"git ls-files failed.*index file corrupt"):
        inspect_files(tmp_path, [tmp_path / "x"], runner)
    assert runner.calls[1][:3] == ("git", "--literal-pathspecs", "ls-files")


def test_display_path(tmp_path: Path) -> None:
    assert display_path(tmp_path, tmp_path / ".pipeline" / "gates.yaml") == ".pipeline/gates.yaml"
    assert display_path(tmp_path / "a", tmp_path / "b") == (tmp_path / "b").resolve().as_posix()
