"""`safeship recommend` end to end, through a Typer app that registers only this command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from safeship.cli.recommend_cmd import recommend_command
from safeship.errors import NotFound, UsageError
from tests.unit.recommend.git_repo import service_repo

app = typer.Typer(pretty_exceptions_enable=False)
app.command("recommend")(recommend_command)


@app.callback()
def _root() -> None:
    """Keeps `recommend` a sub-command, as it is under `safeship`."""


runner = CliRunner()


def test_change_type_table() -> None:
    result = runner.invoke(app, ["recommend", "--change-type", "dependency"])
    assert result.exit_code == 0, result.output
    assert "Canary (10% → 50% → 100%)" in result.output
    assert "Unknown behavioral changes" in result.output
    assert "Library dependency update" in result.output


@pytest.mark.parametrize(("change_type", "strategy"), [
    ("config", "Feature flags + canary"),
    ("dependency", "Canary (10% → 50% → 100%)"),
    ("db_migration", "Blue/green (with dual-write)"),
    ("new_endpoint", "Feature flag (off) → canary → on"),
    ("security_patch", "Rolling (fast)"),
    ("major_version", "Blue/green (with extended verification)"),
])
def test_every_change_type_as_json(change_type: str, strategy: str) -> None:
    result = runner.invoke(app, ["recommend", "-t", change_type, "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["change_type"] == change_type
    assert document["strategy"] == strategy
    assert document["why"]


def test_an_unknown_change_type_is_refused_by_the_parser() -> None:
    result = runner.invoke(app, ["recommend", "--change-type", "hotfix"])
    assert result.exit_code == 2


def test_diff_table_lists_the_signals_and_files(tmp_path: Path) -> None:
    repo = service_repo(tmp_path / "shop")
    repo.write("migrations/0002_add_[status].sql", "ALTER TABLE orders ADD status text;\n")
    repo.write("requirements.txt", "httpx==0.28.1\n")
    repo.commit("Order status; fixes CVE-2024-0001")
    result = runner.invoke(app, ["recommend", "--diff", "base..HEAD", "-C", str(repo.root)])
    assert result.exit_code == 0, result.output
    assert "Blue/green (with dual-write)" in result.output
    assert "Rollback requires schema revert" in result.output
    assert "migrations/0002_add_[status].sql" in result.output
    assert "requirements.txt" in result.output
    assert "security_patch" in result.output


def test_diff_json(tmp_path: Path) -> None:
    repo = service_repo(tmp_path / "shop")
    repo.write("config/app.yaml", "log_level: debug\n").commit("Debug logs")
    result = runner.invoke(app, ["recommend", "--diff", "base..HEAD", "-C", str(repo.root),
                                 "-f", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["change_type"] == "config"
    assert document["signals"][0]["evidence"] == ["config/app.yaml"]
    assert document["diff"]["files_changed"] == 1
    assert document["diff"]["commits"] == 1


@pytest.mark.parametrize("args", [[], ["-t", "config", "--diff", "a..b"]])
def test_exactly_one_question_must_be_asked(args: list[str]) -> None:
    result = runner.invoke(app, ["recommend", *args])
    assert isinstance(result.exception, UsageError)
    assert result.exception.exit_code == 2


def test_an_unknown_base_is_not_found(tmp_path: Path) -> None:
    repo = service_repo(tmp_path / "shop")
    result = runner.invoke(app, ["recommend", "--diff", "nope..HEAD", "-C", str(repo.root)])
    assert isinstance(result.exception, NotFound)
