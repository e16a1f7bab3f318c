"""Broken configs give file:line:column, the field path, a suggestion, and exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from safeship.api import load_gates, validate_file
from safeship.errors import ConfigError, ConfigSyntaxError, ExitCode


def write(tmp_path: Path, text: str, name: str = "gates.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        validate_file(path)
    assert info.value.exit_code == ExitCode.USAGE
    return info.value.diagnostics()


GOOD_HEAD = "version: 2\nstages:\n  - name: build\n    gates:\n"


def test_wrong_indentation_points_at_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_HEAD + "      - type: compile\n     paths: [src]\n")
    with pytest.raises(ConfigSyntaxError) as info:
        load_gates(path)
    first = info.value.diagnostics()[0]
    assert first.startswith(f"{path}:6:")
    assert "YAML syntax error" in first


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_HEAD.replace("build", "unit_test")
                 + "      - type: coverage\n        minimun: 80%\n")
    [line] = problems(path)
    assert line == (f"{path}:6:9: stages[0].gates[0].minimun: unknown key "
                    "(did you mean 'minimum'?)")


def test_unknown_top_level_key(tmp_path: Path) -> None:
    path = write(tmp_path, "version: 2\nstage:\n  - name: x\n")
    lines = problems(path)
    assert f"{path}:2:1: stage: unknown key in the gates file (did you mean 'stages'?)" in lines
    assert any("`stages:` is missing" in line for line in lines)


def test_wrong_type(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_HEAD.replace("build", "unit_test")
                 + "      - type: coverage\n        fail_on_below: sometimes\n")
    [line] = problems(path)
    assert line.startswith(f"{path}:6:24: stages[0].gates[0].fail_on_below: ")
    assert "sometimes" in line


def test_bad_percent(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_HEAD.replace("build", "unit_test")
                 + "      - type: coverage\n        minimum: 180%\n")
    [line] = problems(path)
    assert line.startswith(f"{path}:6:18: stages[0].gates[0].minimum: ")
    assert "100%" in line


@pytest.mark.parametrize("duration", ["5 minutes", "-3m", "5x", "''"])
def test_bad_duration_in_canary(tmp_path: Path, duration: str) -> None:
    text = (
        "apiVersion: analysis/v1\nkind: CanaryConfig\nmetadata:\n  name: x\nspec:\n"
        "  steps:\n    - percentage: 5\n      duration: " + duration + "\n"
        "  metrics:\n    - name: error_rate\n      query: up\n      threshold:\n"
        "        max_absolute: 1\n"
    )
    path = write(tmp_path, text, "canary.yaml")
    [line] = problems(path)
    assert line.startswith(f"{path}:8:17: spec.steps[0].duration: ")


def test_bad_gate_timeout_duration(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_HEAD + "      - type: compile\n        timeout: soon\n")
    [line] = problems(path)
    assert line.startswith(f"{path}:6:18: stages[0].gates[0].timeout: 'soon' is not a duration")


def test_unknown_gate_type_suggests(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_HEAD + "      - type: complie\n")
    [line] = problems(path)
    assert line == (f"{path}:5:15: stages[0].gates[0].type: unknown gate type 'complie' "
                    "(did you mean 'compile'?)")


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_HEAD + "      - type: complie\n      - type: compile\n"
                 "        on_fail: explode\n  - name: build\n    gates:\n      - type: lint\n")
    lines = problems(path)
    assert len(lines) == 3
    assert any("duplicate stage name 'build'" in line for line in lines)
    assert any("on_fail: must be one of" in line for line in lines)


def test_wrong_version(tmp_path: Path) -> None:
    path = write(tmp_path, "version: 1\nstages:\n  - name: a\n    type: compile\n")
    [line] = problems(path)
    assert line == f"{path}:1:10: version: unsupported version 1; safeship reads version 2"


def test_stage_without_gates_or_type(tmp_path: Path) -> None:
    path = write(tmp_path, "version: 2\nstages:\n  - name: empty\n")
    [line] = problems(path)
    assert "stage 'empty' has neither `gates:` nor `type:`" in line


def test_unknown_canary_key_and_missing_field(tmp_path: Path) -> None:
    text = (
        "apiVersion: analysis/v1\nkind: CanaryConfig\nmetadata:\n  name: x\nspec:\n"
        "  stepz: []\n  metrics:\n    - name: e\n      query: up\n      threshold:\n"
        "        max_increase_ratio: 2\n"
    )
    path = write(tmp_path, text, "canary.yaml")
    lines = problems(path)
    assert f"{path}:6:3: spec.stepz: unknown key (did you mean 'steps'?)" in lines
    assert any(line.startswith(f"{path}:5:1: spec.steps: this field is required")
               for line in lines)


def test_not_a_safeship_file(tmp_path: Path) -> None:
    path = write(tmp_path, "hello: world\n", "other.yaml")
    [line] = problems(path)
    assert "not a safeship file" in line


def test_self_referencing_metric_is_refused(tmp_path: Path) -> None:
    text = (
        "apiVersion: analysis/v1\nkind: CanaryConfig\nmetadata:\n  name: x\nspec:\n"
        "  steps:\n    - percentage: 5\n      duration: 1m\n"
        "  metrics:\n    - name: a\n      query: (b * 2)\n      threshold:\n"
        "        max_absolute: 1\n    - name: b\n      query: (a / 2)\n      threshold:\n"
        "        max_absolute: 1\n"
    )
    path = write(tmp_path, text, "canary.yaml")
    [line] = problems(path)
    assert "depends on itself" in line
