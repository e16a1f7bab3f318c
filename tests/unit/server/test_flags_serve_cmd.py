"""``safeship flags serve`` (the Typer command) with the runner replaced: token rules, options,
and what it prints once listening."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from safeship.cli import flags_serve_cmd
from safeship.errors import UsageError
from safeship.server.auth import READ_TOKEN_ENV, WRITE_TOKEN_ENV, TokenSet

WRITER = "w" * 24


class FakeRunner:
    """Stands in for run_flag_service: records its arguments and announces an address."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, database_url: str | None, root: Path, tokens: TokenSet | None,
                 options: Any, *, on_ready: Any = None, **_: Any) -> None:
        self.calls.append({"url": database_url, "root": root, "tokens": tokens,
                           "options": options})
        on_ready(f"http://{options.host}:{options.port or 49999}")


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> FakeRunner:
    fake = FakeRunner()
    monkeypatch.setattr(flags_serve_cmd, "run_flag_service", fake)
    monkeypatch.delenv(READ_TOKEN_ENV, raising=False)
    monkeypatch.delenv(WRITE_TOKEN_ENV, raising=False)
    return fake


def invoke(*args: str) -> None:
    app = typer.Typer()
    app.command()(flags_serve_cmd.serve)
    app(args=list(args), prog_name="serve", standalone_mode=False)


def test_refuses_to_start_without_a_write_token(runner: FakeRunner) -> None:
    with pytest.raises(UsageError, match="needs a write token") as caught:
        invoke("--port", "0")
    assert "--unsafe-no-auth" in (caught.value.hint or "")
    assert runner.calls == []


def test_serves_with_tokens_from_files_and_environment(
        runner: FakeRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    reads = tmp_path / "read"
    reads.write_text("sdk:" + "r" * 20 + "\n", encoding="utf-8")
    monkeypatch.setenv(WRITE_TOKEN_ENV, "deployer:" + WRITER)
    invoke("--read-token-file", str(reads), "--port", "8123", "--env", "staging",
           "--poll-interval", "50ms", "--keepalive", "2s", "-C", str(tmp_path))
    [call] = runner.calls
    assert call["tokens"].has_write_token
    assert call["root"] == tmp_path.resolve()
    assert call["options"].host == "127.0.0.1"
    assert call["options"].settings.default_environment == "staging"
    assert call["options"].settings.poll_interval_s == pytest.approx(0.05)
    assert call["options"].settings.keepalive_s == pytest.approx(2.0)
    out = capsys.readouterr().out
    assert "serving flags at http://127.0.0.1:8123" in out
    assert "1 read and 1 write token(s)" in out
    assert WRITER not in out


def test_json_announcement(runner: FakeRunner, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(WRITE_TOKEN_ENV, WRITER)
    invoke("--format", "json", "--port", "0")
    announced = json.loads(capsys.readouterr().out)
    assert announced == {"url": "http://127.0.0.1:49999", "environment": "production",
                         "auth": True, "read_tokens": 0, "write_tokens": 1}


def test_unsafe_no_auth_serves_without_tokens_and_warns_off_loopback(
        runner: FakeRunner, capsys: pytest.CaptureFixture[str]) -> None:
    invoke("--unsafe-no-auth", "--host", "0.0.0.0")  # noqa: S104
    [call] = runner.calls
    assert call["tokens"] is None
    captured = capsys.readouterr()
    assert "WITHOUT authentication" in captured.err
    assert "authentication: OFF" in captured.out


@pytest.mark.parametrize(("args", "message"), [
    (("--env", "no such"), "--env"),
    (("--poll-interval", "soon"), "--poll-interval"),
    (("--keepalive", "0s"), "--keepalive must be longer than 0"),
])
def test_bad_options_are_usage_errors(runner: FakeRunner, args: tuple[str, ...],
                                      message: str) -> None:
    with pytest.raises(UsageError, match=message):
        invoke("--unsafe-no-auth", *args)
    assert runner.calls == []


def test_help_answers_the_questions() -> None:
    app = typer.Typer()
    app.command()(flags_serve_cmd.serve)
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for needle in ("--write-token-file", "--unsafe-no-auth", "--format", "Server-Sent Events",
                   WRITE_TOKEN_ENV):
        assert needle in result.output
