"""``safeship contract diff`` and ``safeship contract rules`` end to end: formats, exit codes.

The sub-app is mounted on a local Typer app, so these tests run whether or not ``cli/app.py``
registers it; errors still go through the real ``safeship.cli.app.run`` and its exit codes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer

import safeship.cli.app as cli_app
from safeship.cli import contract_cmd
from safeship.scanners.openapi import RULES
from tests.e2e.conftest import CliRunner

DATA = Path(__file__).resolve().parents[1] / "data" / "openapi"
V1 = str(DATA / "petstore-v1.yaml")
BREAKING = str(DATA / "petstore-v2-breaking.yaml")
COMPATIBLE = str(DATA / "petstore-v1.1-compatible.json")
WARN_ONLY = str(DATA / "petstore-v1.2-warn.yaml")
BEFORE_SUNSET = "2025-06-01"
REAL_APP = cli_app.app


@pytest.fixture(autouse=True)
def _local_app(monkeypatch: pytest.MonkeyPatch) -> None:
    local = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False,
                        add_completion=False)
    local.add_typer(contract_cmd.app, name="contract")
    monkeypatch.setattr(cli_app, "app", local)


def test_breaking_changes_exit_1_with_the_documented_json(cli: CliRunner) -> None:
    result = cli("contract", "diff", V1, BREAKING, "--format", "json", "--today", BEFORE_SUNSET)
    assert result.code == 1, result.err
    data = json.loads(result.out)
    assert data["breaking"] is True
    assert data["counts"]["ERR"] == 13
    assert {"id", "level", "operation", "path", "message", "base_pointer",
            "revision_pointer"} <= set(data["changes"][0])
    by_id = {c["id"]: c for c in data["changes"]}
    removed = by_id["api-path-removed-without-deprecation"]
    assert (removed["operation"], removed["path"], removed["level"]) == (
        "GET /stores", "/stores", "ERR")
    assert removed["base_pointer"] == "/paths/~1stores/get"
    assert removed["base_line"] == 56
    became = by_id["request-parameter-became-required"]
    assert became["revision_line"] == 13
    assert became["revision_pointer"] == "/paths/~1pets/get/parameters/0/required"
    assert "api-removed-before-sunset" in by_id
    assert all(c["level"] in ("ERR", "WARN") for c in data["changes"])


def test_compatible_changes_exit_0_and_info_is_listed_on_request(cli: CliRunner) -> None:
    result = cli("contract", "diff", V1, COMPATIBLE, "--format", "json")
    assert result.code == 0
    assert json.loads(result.out)["changes"] == []
    everything = json.loads(cli("contract", "diff", V1, COMPATIBLE, "--format", "json",
                                "--level", "INFO").out)
    assert everything["breaking"] is False
    assert {c["id"] for c in everything["changes"]} == {
        "endpoint-added", "new-optional-request-parameter", "new-optional-request-property",
        "response-optional-property-added"}


def test_fail_on_warn(cli: CliRunner) -> None:
    assert cli("contract", "diff", V1, WARN_ONLY).code == 0
    strict = cli("contract", "diff", V1, WARN_ONLY, "--fail-on", "WARN", "--format", "json")
    assert strict.code == 1
    assert json.loads(strict.out)["fail_on"] == "WARN"


def test_a_passed_sunset_allows_the_removal(cli: CliRunner) -> None:
    after = json.loads(cli("contract", "diff", V1, BREAKING, "--format", "json",
                           "--today", "2026-01-01").out)
    assert "api-removed-before-sunset" not in {c["id"] for c in after["changes"]}


def test_plain_output_for_logs_lists_rule_ids_and_lines(cli: CliRunner) -> None:
    result = cli("contract", "diff", V1, BREAKING, "--today", BEFORE_SUNSET)
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[-1].startswith("BREAKING: 13 ERR, 3 WARN, 0 INFO")
    assert any(line.startswith("ERR  request-parameter-became-required  GET /pets: ")
               and line.endswith("petstore-v2-breaking.yaml:13)") for line in lines)


def test_markdown_output_to_a_file(cli: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "report" / "api.md"
    result = cli("contract", "diff", V1, BREAKING, "--format", "markdown", "-o", str(out),
                 "--today", BEFORE_SUNSET)
    assert result.code == 1
    text = out.read_text()
    assert text.startswith("## API contract:")
    assert "| ERR | `api-path-removed-without-deprecation` | `GET /stores` |" in text
    assert "**BREAKING: 13 ERR" in text
    clean = cli("contract", "diff", V1, V1, "--format", "markdown")
    assert clean.code == 0
    assert "No change at WARN or above." in clean.out


@pytest.mark.parametrize(("args", "says"), [
    ([V1, str(DATA / "invalid-parameter.yaml")],
     "invalid-parameter.yaml:8:15: paths./pets.get.parameters[0].in"),
    ([V1, str(DATA / "dangling-ref.yaml")], "dangling reference '#/components/schemas/Missing'"),
    ([V1, str(DATA / "broken-yaml.yaml")], "broken-yaml.yaml:3:1: YAML syntax error"),
    ([V1, str(DATA / "nope.yaml")], "nope.yaml: no such file"),
    ([V1, BREAKING, "--fail-on", "INFO"], "Invalid value for '--fail-on'"),
    ([V1, BREAKING, "--format", "xml"], "Invalid value for '--format'"),
    ([V1, BREAKING, "--today", "tomorrow"], "is not a date"),
    ([V1], "Missing argument"),
])
def test_bad_input_exits_2_without_a_traceback(cli: CliRunner, args: list[str],
                                               says: str) -> None:
    result = cli("contract", "diff", *args)
    assert result.code == 2
    assert says in result.err
    assert "Traceback" not in result.err + result.out


def test_rules_lists_the_catalogue(cli: CliRunner) -> None:
    result = cli("contract", "rules", "--format", "json")
    assert result.code == 0
    rules = json.loads(result.out)
    assert len(rules) == len(RULES)
    assert {"id": "request-parameter-location-changed", "level": "ERR",
            "description": RULES["request-parameter-location-changed"].description,
            "origin": "safeship"} in rules
    errors = json.loads(cli("contract", "rules", "--format", "json", "--level", "ERR").out)
    assert errors
    assert all(r["level"] == "ERR" for r in errors)
    table = cli("contract", "rules", "--level", "WARN")
    assert table.code == 0
    assert "request-parameter-removed" in table.out


def test_help_explains_the_command(cli: CliRunner) -> None:
    result = cli("contract", "diff", "--help")
    assert result.code == 0
    for text in ("--fail-on", "--format", "Exit codes", "x-sunset"):
        assert text in result.out


def test_the_real_app_mounts_the_command(cli: CliRunner,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # In-process: a subprocess would spend seconds importing what is already imported here.
    monkeypatch.setattr(cli_app, "app", REAL_APP)
    result = cli("contract", "diff", V1, COMPATIBLE, "--format", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["breaking"] is False
