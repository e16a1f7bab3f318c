"""``safeship flags`` end to end: create, target, roll out, kill, history and bulk eval.

The ``flags`` sub-app is mounted on a local Typer app in place of the real one, so these tests
run whether or not ``cli/app.py`` registers it; errors still go through the real
``safeship.cli.app.run`` and its exit-code mapping.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import typer

import safeship.cli.app as cli_app
from safeship._internal.subprocess import CommandResult
from safeship.cli import flags_cmd
from safeship.errors import ToolUnavailable
from tests.e2e.conftest import CliRunner

KEYS = 10_000


@pytest.fixture(autouse=True)
def _local_app(monkeypatch: pytest.MonkeyPatch) -> None:
    local = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False,
                        add_completion=False)
    local.add_typer(flags_cmd.app, name="flags")
    monkeypatch.setattr(cli_app, "app", local)
    monkeypatch.setenv("SAFESHIP_ACTOR", "ann")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    root.mkdir()
    return root


@pytest.fixture
def flags(cli: CliRunner, project: Path) -> CliRunner:
    """``safeship flags ... -C <project>``."""

    def invoke(*args: str) -> object:
        return cli("flags", *args, "-C", str(project))

    return invoke  # type: ignore[return-value]


def as_json(text: str) -> dict[str, object]:
    data = json.loads(text)
    assert isinstance(data, dict)
    return data


def keys_file(project: Path, count: int = KEYS) -> Path:
    path = project / "keys.txt"
    path.write_text("# one key per line\n" + "".join(f"user-{n}\n" for n in range(count)) + "\n")
    return path


def test_help_answers_what_each_command_does(cli: CliRunner) -> None:
    top = cli("flags", "--help")
    assert top.code == 0
    for command in ("create", "list", "show", "set", "enable", "disable", "rollout", "kill",
                    "unkill", "history", "eval"):
        assert command in top.out
        assert cli("flags", command, "--help").code == 0
    assert "consistent hashing" in cli("flags", "rollout", "--help").out
    assert "--keys-file" in cli("flags", "eval", "--help").out


def test_a_flag_from_creation_to_a_ten_percent_rollout(flags: CliRunner, project: Path) -> None:
    created = flags("create", "beta", "--reason", "new checkout", "-e", "dev", "-e",
                    "production")
    assert created.code == 0, created.err
    assert "serves 'off' until enabled" in created.out
    evaluated = as_json(flags("eval", "beta", "--key", "u1", "-f", "json").out)
    assert evaluated["results"] == [{"key": "u1", "variant": "off", "value": False,
                                     "reason": "DISABLED", "rule_id": None, "error_code": None}]

    assert flags("enable", "beta", "--reason", "go").code == 0
    rolled = flags("rollout", "beta", "--to", "10%", "--reason", "start small", "-f", "json")
    assert rolled.code == 0, rolled.err
    assert as_json(rolled.out)["version"] == 3

    result = flags("eval", "beta", "--keys-file", str(keys_file(project)), "-f", "json")
    assert result.code == 0, result.err
    data = as_json(result.out)
    assert (data["flag"], data["environment"]) == ("beta", "production")
    results = data["results"]
    assert isinstance(results, list)
    assert len(results) == KEYS
    on = sum(1 for r in results if r["value"] is True)
    assert 900 <= on <= 1100
    assert {r["reason"] for r in results} == {"SPLIT"}
    assert set(results[0]) == {"key", "variant", "value", "reason", "rule_id", "error_code"}

    # raising the percentage keeps every key that was on
    assert flags("rollout", "beta", "--to", "25%", "--reason", "grow").code == 0
    later = as_json(flags("eval", "beta", "--keys-file", str(keys_file(project)),
                          "-f", "json").out)["results"]
    assert isinstance(later, list)
    was_on = {r["key"] for r in results if r["value"] is True}
    now_on = {r["key"] for r in later if r["value"] is True}
    assert was_on < now_on
    assert 2400 <= len(now_on) <= 2600

    table = flags("eval", "beta", "--keys-file", str(keys_file(project, 200)))
    assert table.code == 0
    assert "150 more keys" in table.out
    assert "200 key(s): off" in table.out


def test_rules_kill_switch_and_history(flags: CliRunner, project: Path) -> None:
    assert flags("create", "beta", "--reason", "r").code == 0
    assert flags("enable", "beta", "--reason", "r").code == 0
    ruled = flags("set", "beta", "--reason", "germany first", "--serve", "off",
                  "--rule", "staff: email regex @example\\.com$ -> on",
                  "--rule", "de: country in DE,AT and app_version semver_gte 2.1.0 -> on")
    assert ruled.code == 0, ruled.err
    shown = flags("show", "beta")
    assert "rule de: country in DE,AT and app_version semver_gte 2.1.0 -> on" in shown.out
    assert "default -> off" in shown.out

    def check(*attrs: str) -> dict[str, object]:
        args = [item for attr in attrs for item in ("--attr", attr)]
        out = as_json(flags("eval", "beta", "--key", "u1", *args, "-f", "json").out)
        results = out["results"]
        assert isinstance(results, list)
        return results[0]  # type: ignore[no-any-return]

    assert check("country=DE", "app_version=2.1.0")["rule_id"] == "de"
    assert check("country=DE", "app_version=2.0.9")["reason"] == "DEFAULT"
    assert check("email=ann@example.com")["value"] is True

    killed = flags("kill", "beta", "--reason", "incident 4711", "--actor", "oncall")
    assert killed.code == 0
    assert "KILLED" in killed.out
    assert check("email=ann@example.com") == {
        "key": "u1", "variant": "off", "value": False, "reason": "DISABLED", "rule_id": None,
        "error_code": None}
    assert "already killed" in flags("kill", "beta", "--reason", "again").out
    assert flags("unkill", "beta", "--reason", "fixed").code == 0
    assert check("email=ann@example.com")["value"] is True

    history = as_json(flags("history", "beta", "-f", "json").out)
    changes = history["changes"]
    assert isinstance(changes, list)
    assert [(c["version"], c["action"], c["actor"], c["reason"]) for c in changes] == [
        (1, "create", "ann", "r"), (2, "enable", "ann", "r"), (3, "set", "ann", "germany first"),
        (4, "kill", "oncall", "incident 4711"), (5, "unkill", "ann", "fixed")]
    kill = changes[3]
    assert {"path": "environments.production.killed", "before": False, "after": True} in (
        kill["changes"])
    assert kill["before"]["environments"]["production"]["killed"] is False
    table = flags("history", "beta", "--limit", "2")
    assert "incident 4711" in table.out
    assert "germany first" not in table.out


def test_definitions_from_files(flags: CliRunner, project: Path) -> None:
    definition = project / "theme.yaml"
    definition.write_text("""\
type: string
variants: {classic: c, dark: d}
off_variant: classic
environments:
  production:
    enabled: true
    rules:
      - id: night
        when: [{attribute: hour, op: in, values: [22, 23, 0, 1]}]
        serve: dark
""")
    created = flags("create", "theme", "--file", str(definition), "--reason", "from git")
    assert created.code == 0, created.err
    night = as_json(flags("eval", "theme", "-k", "u", "-a", "hour=23", "-f", "json").out)
    assert night["results"][0]["value"] == "d"  # type: ignore[index]

    shown = as_json(flags("show", "theme", "-f", "json").out)
    document = shown["definition"]
    assert isinstance(document, dict)
    document["environments"]["production"]["default"] = "classic"
    exported = project / "theme.json"
    exported.write_text(json.dumps(document))
    assert flags("set", "theme", "--file", str(exported), "--reason", "classic by day").code == 0
    assert as_json(flags("show", "theme", "-f", "json").out)["version"] == 2

    broken = project / "broken.yaml"
    broken.write_text(definition.read_text().replace("serve: dark", "serve: purple"))
    result = flags("set", "theme", "--file", str(broken), "--reason", "x")
    assert result.code == 2
    assert f"{broken}:10:" in result.err
    assert "unknown variant 'purple'" in result.err
    other_type = project / "other.yaml"
    other_type.write_text("type: boolean\n")
    assert "cannot change" in flags("set", "theme", "--file", str(other_type),
                                    "--reason", "x").err


def test_multivariate_json_flags_and_variant_edits(flags: CliRunner) -> None:
    created = flags("create", "limits", "--type", "json", "--variant", 'low={"rps": 5}',
                    "--variant", 'high={"rps": 500}', "--off-variant", "low", "--reason", "r")
    assert created.code == 0, created.err
    assert flags("enable", "limits", "--reason", "r").code == 0
    value = as_json(flags("eval", "limits", "-k", "u", "-f", "json").out)["results"]
    assert value[0]["value"] == {"rps": 500}  # type: ignore[index]
    assert flags("set", "limits", "--variant", 'mid={"rps": 50}', "--serve", "mid",
                 "--reason", "r").code == 0
    assert flags("rollout", "limits", "--to", "50%", "--variant", "high",
                 "--reason", "r").code == 0
    listed = as_json(flags("list", "-f", "json").out)["flags"]
    assert listed[0]["environments"]["production"]["default"] == (  # type: ignore[index]
        "high 50% / low 50%")
    assert "limits" in flags("list").out
    refused = flags("set", "limits", "--remove-variant", "high", "--reason", "r")
    assert refused.code == 2
    assert "still served in production" in refused.err


def test_eval_errors_and_exit_codes(flags: CliRunner, project: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    assert flags("create", "beta", "--reason", "r").code == 0
    assert flags("enable", "beta", "--reason", "r").code == 0
    assert flags("rollout", "beta", "--to", "50%", "--bucket-by", "org", "--reason", "r").code == 0
    missing = flags("eval", "beta", "--key", "u1", "-f", "json")
    assert missing.code == 4
    result = as_json(missing.out)["results"][0]  # type: ignore[index]
    assert (result["reason"], result["error_code"], result["value"]) == (
        "ERROR", "TARGETING_KEY_MISSING", False)
    assert flags("eval", "beta", "--key", "u1", "--attr", "org=acme").code == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("a\nb\n\n"))
    piped = as_json(flags("eval", "beta", "--keys-file", "-", "-a", "org=x", "-f", "json").out)
    assert [r["key"] for r in piped["results"]] == ["a", "b"]  # type: ignore[union-attr]

    elsewhere = flags("eval", "beta", "--key", "u1", "--env", "prod", "-f", "json")
    assert as_json(elsewhere.out)["results"][0]["reason"] == "DISABLED"  # type: ignore[index]
    assert "no environment 'prod' (it has: production)" in elsewhere.err
    assert flags("eval", "nope", "--key", "u").code == 2
    assert "no key to evaluate" in flags("eval", "beta").err
    assert flags("eval", "beta", "--keys-file", str(project / "none.txt")).code == 2
    assert flags("eval", "beta", "--key", "u", "--attr", "noequals").code == 2


def test_write_errors(flags: CliRunner) -> None:
    assert flags("create", "beta", "--reason", "r").code == 0
    assert flags("create", "beta", "--reason", "r").code == 2
    assert flags("enable", "beta").code == 2  # --reason is required
    assert flags("rollout", "beta", "--to", "5", "--reason", "r").code == 2
    assert flags("rollout", "nope", "--to", "5%", "--reason", "r").code == 2
    stale = flags("set", "beta", "--description", "d", "--if-version", "7", "--reason", "r")
    assert stale.code == 2
    assert "at version 1, not 7" in stale.err
    assert flags("set", "beta", "--reason", "r").code == 2  # nothing to change
    assert flags("set", "beta", "--rule", "-> on", "--clear-rules", "--reason", "r").code == 2
    bad_rule = flags("set", "beta", "--rule", "country like DE -> on", "--reason", "r")
    assert "unknown operator 'like'" in bad_rule.err
    assert flags("create", "x", "--type", "string", "--reason", "r").code == 2
    assert flags("create", "bad key", "--reason", "r").code == 2
    unchanged = flags("disable", "beta", "--reason", "r")
    assert (unchanged.code, "nothing recorded" in unchanged.out) == (0, True)


def test_prerequisites_through_the_cli(flags: CliRunner) -> None:
    for key in ("payments", "checkout"):
        assert flags("create", key, "--reason", "r").code == 0
        assert flags("enable", key, "--reason", "r").code == 0
    assert flags("set", "checkout", "--prerequisite", "payments=on", "--reason", "r").code == 0
    assert as_json(flags("eval", "checkout", "-k", "u", "-f", "json").out)[
        "results"][0]["value"] is True  # type: ignore[index]
    assert flags("kill", "payments", "--reason", "r").code == 0
    gated = as_json(flags("eval", "checkout", "-k", "u", "-f", "json").out)["results"][0]
    assert (gated["value"], gated["reason"]) == (False, "DISABLED")  # type: ignore[index]
    cycle = flags("set", "payments", "--prerequisite", "checkout=on", "--reason", "r")
    assert cycle.code == 2
    assert "cycle" in cycle.err


def test_an_unreachable_store_exits_3(flags: CliRunner, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFESHIP_DATABASE_URL", f"sqlite:///{tmp_path}/no/such/dir/state.db")
    result = flags("list")
    assert result.code == 3
    assert "could not open" in result.err


def test_the_default_actor(monkeypatch: pytest.MonkeyPatch) -> None:
    assert flags_cmd.default_actor({"SAFESHIP_ACTOR": "ci-bot", "USER": "x"}) == "ci-bot"
    assert flags_cmd.default_actor({"USER": "alice"}) == "alice"

    def git(argv: list[str], **_: object) -> CommandResult:
        return CommandResult(tuple(argv), 0, "dev@example.com\n", "")

    monkeypatch.setattr(flags_cmd, "run_command", git)
    assert flags_cmd.default_actor({}) == "dev@example.com"

    def no_git(argv: list[str], **_: object) -> CommandResult:
        raise ToolUnavailable("git is not installed")

    monkeypatch.setattr(flags_cmd, "run_command", no_git)
    assert flags_cmd.default_actor({})  # the login name, or "unknown"
