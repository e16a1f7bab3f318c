"""`safeship config`, `init`, `--version`, `demo` and error rendering, end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from safeship import __version__
from tests.e2e.conftest import CliRunner


def test_version_via_python_dash_m() -> None:
    result = subprocess.run([sys.executable, "-m", "safeship", "--version"],
                            capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0
    assert result.stdout.strip() == f"safeship {__version__}"


def test_validate_the_guide_files(cli: CliRunner, guide_gates: Path, guide_canary: Path) -> None:
    result = cli("config", "validate", str(guide_gates), str(guide_canary))
    assert result.code == 0
    assert "gates: 5 stages, 7 gates" in result.out
    assert "canary: 'service-x-canary': 4 steps, 3 metrics" in result.out


def test_validate_broken_file(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "gates.yaml"
    path.write_text("version: 2\nstages:\n  - name: x\n    gates:\n      - type: lint\n"
                    "        threshhold: 3\n")
    result = cli("config", "validate", str(path))
    assert result.code == 2
    assert f"{path}:6:9: stages[0].gates[0].threshhold: unknown key" in result.err
    assert "did you mean 'threshold'?" in result.err
    assert "Traceback" not in result.err
    as_json = cli("config", "validate", str(path), "--format", "json")
    assert as_json.code == 2
    [problem] = json.loads(as_json.out)["problems"]
    assert (problem["line"], problem["column"], problem["suggestion"]) == (6, 9, "threshold")


def test_validate_missing_file(cli: CliRunner, tmp_path: Path) -> None:
    result = cli("config", "validate", str(tmp_path / "nope.yaml"))
    assert result.code == 2
    assert "no such file" in result.err


def test_validate_default_folder(cli: CliRunner, sample_repo: Path) -> None:
    result = cli("config", "validate", "-C", str(sample_repo))
    assert result.code == 0
    assert "service 'sample', risk low" in result.out


@pytest.mark.parametrize("kind", ["gates", "canary", "service"])
def test_schemas_accept_the_templates(cli: CliRunner, kind: str, guide_gates: Path,
                                      guide_canary: Path, sample_repo: Path) -> None:
    result = cli("config", "schema", kind)
    assert result.code == 0
    schema = json.loads(result.out)
    jsonschema.Draft202012Validator.check_schema(schema)
    sample = {"gates": guide_gates, "canary": guide_canary,
              "service": sample_repo / ".pipeline" / "service.yaml"}[kind]
    jsonschema.validate(yaml.safe_load(sample.read_text()), schema)


def test_gates_schema_rejects_unknown_keys_and_types(cli: CliRunner) -> None:
    schema = json.loads(cli("config", "schema", "gates").out)
    bad_key = {"version": 2, "stages": [{"name": "a", "gates": [{"type": "lint",
                                                                 "threshhold": 1}]}]}
    bad_type = {"version": 2, "stages": [{"name": "a", "gates": [{"type": "nope"}]}]}
    for document in (bad_key, bad_type):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(document, schema)


def test_init_scaffolds_a_valid_pipeline(cli: CliRunner, tmp_path: Path) -> None:
    root = tmp_path / "my-app"
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname='x'\n[tool.pytest.ini_options]\n")
    (root / "app.py").write_text('"""App."""\n')
    result = cli("init", "-C", str(root))
    assert result.code == 0, result.err
    assert "detected a python project (tests: pytest, coverage report: coverage.json)" in (
        result.out)
    assert cli("config", "validate", "-C", str(root)).code == 0
    service = yaml.safe_load((root / ".pipeline" / "service.yaml").read_text())
    assert service["name"] == "my-app"
    again = cli("init", "-C", str(root))
    assert again.code == 2
    assert "--force" in again.err
    assert cli("init", "-C", str(root), "--force").code == 0


def test_init_for_node_uses_commands(cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text("{}")
    assert cli("init", "-C", str(tmp_path)).code == 0
    gates = yaml.safe_load((tmp_path / ".pipeline" / "gates.yaml").read_text())
    lint = gates["stages"][0]["gates"][0]
    assert lint["command"].startswith("npx")


def test_init_canary_matches_the_guide(cli: CliRunner, tmp_path: Path,
                                       guide_canary: Path) -> None:
    assert cli("init", "-C", str(tmp_path)).code == 0
    ours = yaml.safe_load((tmp_path / ".pipeline" / "canary-analysis.yaml").read_text())
    guide = yaml.safe_load(guide_canary.read_text())
    assert ours["spec"] == guide["spec"]


def test_internal_errors_are_exit_70_without_traceback(cli: CliRunner, sample_repo: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr("safeship.api.run_gates", explode)
    result = cli("gates", "run", "-C", str(sample_repo))
    assert result.code == 70
    assert "internal error: RuntimeError: kaboom" in result.err
    assert "Traceback" not in result.err
    verbose = cli("-v", "gates", "run", "-C", str(sample_repo))
    assert "Traceback" in verbose.err


def test_json_logs(cli: CliRunner, tmp_path: Path) -> None:
    result = cli("--log-format", "json", "-v", "config", "validate", str(tmp_path / "x.yaml"))
    assert result.code == 2
    lines = [line for line in result.err.splitlines() if line.startswith("{")]
    assert lines
    assert all(json.loads(line)["logger"].startswith("safeship") for line in lines)


def test_demo_runs_from_block_to_pass(cli: CliRunner) -> None:
    result = cli("demo", "--no-canary")  # the canary part: tests/e2e/test_demo_canary.py
    assert result.code == 0, result.out + result.err
    assert "run 1 ended blocked, run 2 ended passed" in result.out
    assert "F401" in result.out
