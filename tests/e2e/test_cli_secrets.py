"""`safeship secrets scan|baseline` end to end, through a local app that registers the
sub-app the way `safeship` will (`app.add_typer(secrets_cmd.app, name="secrets")`)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import typer

import safeship.cli.app as app_module
from safeship.cli import secrets_cmd
from tests.e2e.conftest import CliResult, CliRunner
from tests.unit.scanners.secrets.corpus import Gen, checksummed

SARIF_SCHEMA = Path(__file__).resolve().parents[1] / "data" / "schemas" / "sarif-schema-2.1.0.json"


@pytest.fixture
def secrets_cli(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The in-process CLI runner, with `secrets` registered on a local app."""
    local = typer.Typer(name="safeship", no_args_is_help=True, pretty_exceptions_enable=False,
                        add_completion=False)
    local.add_typer(secrets_cmd.app, name="secrets")
    monkeypatch.setattr(app_module, "app", local)
    return cli


@pytest.fixture
def leaky(tmp_path: Path) -> tuple[Path, list[str]]:
    g = Gen(4242)
    root = tmp_path / "project"
    (root / "src").mkdir(parents=True)
    token = checksummed("ghp_", g)
    password = g.password()
    stripe = "sk_live_" + g.b62(40)
    (root / "src" / "settings.py").write_text(f'DEBUG = False\nDB_PASSWORD = "{password}"\n')
    (root / "deploy.env").write_text(f"GITHUB_TOKEN={token}\nSTRIPE_KEY={stripe}\n")
    (root / "README.md").write_text("# project\n")
    (root / "logo.png").write_bytes(b"\x89PNG\x00\x00" + token.encode())
    return root, [token, password, stripe]


def assert_no_secret(result: CliResult, secrets: list[str], *files: Path) -> None:
    texts = [result.out, result.err, *(f.read_text() for f in files)]
    for secret in secrets:
        assert all(secret not in text for text in texts), secret


def test_table_output_and_exit_code(secrets_cli: CliRunner,
                                    leaky: tuple[Path, list[str]]) -> None:
    root, secrets = leaky
    result = secrets_cli("secrets", "scan", str(root))
    assert result.code == 1
    assert "deploy.env:1:14  github-pat  ghp_****" in result.out
    assert "src/settings.py:2" in result.out
    assert "not scanned: logo.png (binary file)" in result.out
    assert "3 secrets found in 3 files" in result.out
    assert_no_secret(result, secrets)


def test_json_output(secrets_cli: CliRunner, leaky: tuple[Path, list[str]]) -> None:
    root, secrets = leaky
    result = secrets_cli("secrets", "scan", str(root), "--format", "json")
    assert result.code == 1
    report = json.loads(result.out)
    assert [(f["file"], f["line"], f["rule_id"]) for f in report["findings"]] == [
        ("deploy.env", 1, "github-pat"), ("deploy.env", 2, "stripe-secret-key"),
        ("src/settings.py", 2, "generic-password")]
    for finding in report["findings"]:
        assert {"file", "line", "rule_id", "description", "redacted", "fingerprint"} <= set(
            finding)
    assert report["skipped"] == [{"file": "logo.png", "reason": "binary file"}]
    assert set(report["stats"]) >= {"files", "bytes", "seconds"}
    assert_no_secret(result, secrets)


def test_sarif_output_validates(secrets_cli: CliRunner, leaky: tuple[Path, list[str]],
                                tmp_path: Path) -> None:
    root, secrets = leaky
    out = tmp_path / "secrets.sarif"
    result = secrets_cli("secrets", "scan", str(root), "--format", "sarif", "-o", str(out))
    assert result.code == 1
    sarif = json.loads(out.read_text())
    jsonschema.validate(sarif, json.loads(SARIF_SCHEMA.read_text()))
    run = sarif["runs"][0]
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} == {
        "github-pat", "stripe-secret-key", "generic-password"}
    first = run["results"][0]
    assert first["locations"][0]["physicalLocation"]["region"] == {"startLine": 1,
                                                                   "startColumn": 14}
    assert first["partialFingerprints"]["safeshipSecret/v1"]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert "logo.png" in notes[0]["message"]["text"]
    assert_no_secret(result, secrets, out)


def test_baseline_round_trip(secrets_cli: CliRunner, leaky: tuple[Path, list[str]]) -> None:
    root, secrets = leaky
    written = secrets_cli("secrets", "baseline", str(root))
    assert written.code == 0
    baseline = root / ".pipeline" / "secrets-baseline.json"
    assert "3 accepted findings" in written.err
    clean = secrets_cli("secrets", "scan", str(root), "--baseline", str(baseline))
    assert clean.code == 0
    assert "0 secrets found" in clean.out
    assert "3 baseline" in clean.out
    assert_no_secret(clean, secrets, baseline)


def test_clean_tree_exits_zero(secrets_cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("print('hello')\n")
    assert secrets_cli("secrets", "scan", str(tmp_path)).code == 0


def test_guide_pattern_option(secrets_cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "a.cfg").write_text("signing_material=Zq8rT2mX9vLp4K\n")
    assert secrets_cli("secrets", "scan", str(tmp_path)).code == 0
    result = secrets_cli("secrets", "scan", str(tmp_path), "--pattern", "(?i)(material).*=.+")
    assert result.code == 1
    assert "gates-pattern" in result.out


@pytest.mark.parametrize(("content", "where"), [
    ('[[rules]]\nid = "a"\nregex = "(["\n', ":3:"),
    ('[[rules]\nid = "a"\n', ":1:"),
])
def test_bad_rule_file_exits_2_with_location(secrets_cli: CliRunner, tmp_path: Path,
                                             content: str, where: str) -> None:
    (tmp_path / "a.txt").write_text("x\n")
    rules = tmp_path / "rules.toml"
    rules.write_text(content)
    result = secrets_cli("secrets", "scan", str(tmp_path), "--config", str(rules))
    assert result.code == 2
    assert f"{rules}{where}" in result.err


def test_staged_and_history_together_is_a_usage_error(secrets_cli: CliRunner,
                                                      tmp_path: Path) -> None:
    result = secrets_cli("secrets", "scan", str(tmp_path), "--staged", "--git-history")
    assert result.code == 2


def test_git_unavailable_exits_3(secrets_cli: CliRunner, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    result = secrets_cli("secrets", "scan", str(tmp_path), "--staged")
    assert result.code == 3
    assert "git" in result.err


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=T", "-c", "user.email=t@example.com",
                    "-c", "commit.gpgsign=false", *args], cwd=repo, check=True,
                   capture_output=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_staged_and_history_on_a_real_repository(secrets_cli: CliRunner,
                                                 tmp_path: Path) -> None:
    g = Gen(5)
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    token = checksummed("ghp_", g)
    (repo / "ci.env").write_text(f"GITHUB_TOKEN={token}\n")
    _git(repo, "add", ".")
    staged = secrets_cli("secrets", "scan", str(repo), "--staged", "--format", "json")
    assert staged.code == 1
    assert json.loads(staged.out)["findings"][0]["rule_id"] == "github-pat"
    _git(repo, "commit", "-q", "-m", "add ci")
    (repo / "ci.env").write_text("GITHUB_TOKEN=${{ secrets.GITHUB_TOKEN }}\n")
    _git(repo, "commit", "-q", "-am", "use the secret store")
    assert secrets_cli("secrets", "scan", str(repo)).code == 0
    history = secrets_cli("secrets", "scan", str(repo), "--git-history")
    assert history.code == 1
    assert "ci.env:1:14  github-pat  ghp_****" in history.out
    assert "commit " in history.out
    ranged = secrets_cli("secrets", "scan", str(repo), "--git-history", "HEAD~1..HEAD")
    assert ranged.code == 0
    bad = secrets_cli("secrets", "scan", str(repo), "--git-history", "nope..HEAD")
    assert bad.code == 2
    for result in (staged, history):
        assert token not in result.out + result.err
