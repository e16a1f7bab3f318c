"""The pure readers behind `recommend --diff`: paths, manifests, OpenAPI documents, git output."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from safeship._internal.subprocess import CommandResult
from safeship.errors import ToolUnavailable
from safeship.recommend.changes import ChangeStatus, FileChange
from safeship.recommend.file_kinds import (
    config_file,
    dependency_file,
    migration_by_path,
    sql_has_up_down_sections,
)
from safeship.recommend.git_reader import GitRepository, parse_range
from safeship.recommend.manifests import declared_version, dependency_declarations, major_of
from safeship.recommend.openapi import api_surface, new_endpoints


@pytest.mark.parametrize(("path", "expected"), [
    ("app/migrations/0001_initial.py", True),
    ("alembic/versions/abc.py", True),
    ("db/migrate/1_x.rb", True),
    ("V3__users.sql", True),
    ("R__views.sql", True),
    ("U3__users.sql", True),
    ("x/1.down.sql", True),
    ("app/migrations/__init__.py", False),
    ("v3__users.sql", False),
    ("V3_users.sql", False),
    ("src/versions.py", False),
])
def test_migration_paths(path: str, expected: bool) -> None:
    assert migration_by_path(path) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("-- +goose Up\nSELECT 1;", True),
    ("-- +migrate Down\n", True),
    ("-- migrate:up\n", True),
    ("--  up\nCREATE TABLE t();\n-- down\nDROP TABLE t;", True),
    ("-- update the report\nSELECT 1;", False),
    ("SELECT 'up';", False),
])
def test_sql_up_down_sections(text: str, expected: bool) -> None:
    assert sql_has_up_down_sections(text) is expected


@pytest.mark.parametrize(("path", "expected"), [
    ("requirements.txt", True), ("requirements-test.in", True), ("constraints.txt", True),
    ("requirements/base.txt", True), ("web/yarn.lock", True), ("go.mod", True),
    ("Gemfile.lock", True), ("docs/requirements-notes.md", False), ("lockfile.py", False),
])
def test_dependency_files(path: str, expected: bool) -> None:
    assert dependency_file(path) is expected


@pytest.mark.parametrize(("path", "expected"), [
    ("config/app.yaml", True), ("deploy/config/db.ini", True), (".pipeline/service.yaml", True),
    (".env", True), ("svc/.env.staging", True), ("prod.env", True), ("conf/x.properties", True),
    ("app.yaml", False), ("config/loader.py", False), ("docs/config.md", False),
])
def test_config_files(path: str, expected: bool) -> None:
    assert config_file(path) is expected


@pytest.mark.parametrize(("version", "expected"), [
    ("2.0.0", (0, 2)), ("v3", (0, 3)), ("10.1", (0, 10)), ("1!0.5", (1, 0)),
    ("1.0.0-rc.1", (0, 1)), ("0.9.0+local", (0, 0)), ("latest", None), ("", None),
])
def test_major_of(version: str, expected: tuple[int, int] | None) -> None:
    assert major_of(version) == expected


@pytest.mark.parametrize(("path", "text", "expected"), [
    ("pyproject.toml", '[project]\nversion = "1.2.3"\n', "1.2.3"),
    ("pyproject.toml", '[tool.poetry]\nversion = "4.0.0"\n', "4.0.0"),
    ("pyproject.toml", '[project]\ndynamic = ["version"]\n', None),
    ("pyproject.toml", "not = [toml", None),
    ("Cargo.toml", '[package]\nversion = "0.3.1"\n', "0.3.1"),
    ("package.json", '{"version": "5.0.0"}', "5.0.0"),
    ("package.json", "[1, 2]", None),
    ("VERSION", "7.1.0\n", "7.1.0"),
    ("pkg/__init__.py", "__version__: str = '2.1'\n", "2.1"),
    ("pkg/__init__.py", "VERSION = '2.1'\n", None),
])
def test_declared_version(path: str, text: str, expected: str | None) -> None:
    assert declared_version(path, text) == expected


def test_dependency_declarations_ignore_the_rest_of_the_manifest() -> None:
    before = dependency_declarations("pyproject.toml",
                                     '[project]\nname = "a"\ndependencies = ["x"]\n')
    after = dependency_declarations("pyproject.toml",
                                    '[project]\nname = "b"\ndependencies = ["x"]\n')
    assert before == after
    poetry = dependency_declarations(
        "pyproject.toml", '[tool.poetry.group.dev.dependencies]\npytest = "^8"\n')
    assert poetry["tool.poetry.group"] == {"dev": {"pytest": "^8"}}
    assert dependency_declarations("README.md", "x") is None


def test_openapi_surfaces_and_new_endpoints() -> None:
    base = api_surface("openapi: 3.1.0\npaths:\n  /a:\n    get: {}\n")
    head = api_surface("openapi: 3.1.0\npaths:\n  /a:\n    get: {}\n    delete: {}\n"
                       "    parameters: []\n  /b:\n    put: {}\n")
    assert base is not None
    assert head is not None
    assert head.operations == {("GET", "/a"), ("DELETE", "/a"), ("PUT", "/b")}
    assert new_endpoints(base, head) == ("/b", "DELETE /a")
    assert new_endpoints(head, base) == ()


@pytest.mark.parametrize("text", [
    "paths: {}\n",                      # no openapi/swagger key
    "openapi: 3.0.0\npaths: [1]\n",     # paths is not a mapping
    "openapi: [unclosed\npaths:\n",     # not YAML
    "just: words\n",
])
def test_documents_that_are_not_openapi(text: str) -> None:
    assert api_surface(text) is None


def test_parse_range() -> None:
    assert parse_range("main..HEAD") == ("main", "HEAD")
    assert parse_range("v1.2.0..") == ("v1.2.0", "HEAD")
    assert parse_range("HEAD~3..HEAD^") == ("HEAD~3", "HEAD^")


class ScriptedGit:
    """A CommandRunner that answers git calls from a script and records them."""

    def __init__(self, answers: dict[str, CommandResult]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, argv: Sequence[str], *, cwd: Path | None = None,
                 timeout_s: float = 300.0, env: Mapping[str, str] | None = None,
                 shell: bool = False) -> CommandResult:
        assert not shell
        self.calls.append(tuple(argv))
        verb = argv[5]
        return self.answers.get(verb, CommandResult(tuple(argv), 0, "", ""))


def ok(stdout: str) -> CommandResult:
    return CommandResult((), 0, stdout, "")


def test_git_runs_through_the_injected_runner_and_revisions_are_never_options() -> None:
    sha_a, sha_b = "a" * 40, "b" * 40
    runner = ScriptedGit({
        "rev-parse": ok(f"{sha_a}\n"),
        "diff": ok("M\0src/x.py\0R087\0old name.sql\0migrations/new name.sql\0D\0gone.txt\0"),
        "log": ok(f"{sha_b}\x1fFix it\x1fLonger body\n\x1e\n"),
    })
    repository = GitRepository(Path("/repo"), runner)
    changes = repository.change_set("main..topic")
    assert changes.files == (
        FileChange(ChangeStatus.MODIFIED, "src/x.py"),
        FileChange(ChangeStatus.RENAMED, "migrations/new name.sql", "old name.sql"),
        FileChange(ChangeStatus.DELETED, "gone.txt"),
    )
    assert changes.commits[0].subject == "Fix it"
    assert changes.commits[0].body == "Longer body"
    resolves = [call for call in runner.calls if "--verify" in call]
    assert [call[-2:] for call in resolves] == [("--end-of-options", "main^{commit}"),
                                                ("--end-of-options", "topic^{commit}")]
    assert all(call[:3] == ("git", "-C", "/repo") for call in runner.calls)


def test_git_failures_are_tool_unavailable() -> None:
    runner = ScriptedGit({"rev-parse": ok("a" * 40 + "\n"),
                          "diff": CommandResult((), 128, "", "fatal: bad object\n")})
    with pytest.raises(ToolUnavailable, match="bad object"):
        GitRepository(Path("/repo"), runner).change_set("a..b")
