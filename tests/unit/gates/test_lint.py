"""The lint gate against sample projects linted by the real ruff installed with safeship."""

from __future__ import annotations

import sys
import venv
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from pydantic import ValidationError

from safeship._internal.subprocess import CommandResult, run_command
from safeship.errors import GateCannotRun, ToolUnavailable
from safeship.gates.interface import GateContext
from safeship.gates.lint import LintGate, LintOptions
from safeship.model.enums import FailAction, Severity, Verdict


def write(root: Path, files: Mapping[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


Row = tuple[str, str | None, int | None, int | None]


def lint(root: Path, **options: object) -> tuple[Verdict, str, list[Row], dict[str, object]]:
    check = LintGate(LintOptions.model_validate(options)).evaluate(GateContext(project_root=root))
    findings = [(f.rule, f.path, f.line, f.column) for f in check.findings]
    return check.verdict, check.summary, findings, dict(check.metrics)


def test_class_facts() -> None:
    assert LintGate.type_name == "lint"
    assert LintGate.default_action is FailAction.BLOCK
    assert LintGate.options_model is LintOptions
    assert LintGate.checks


def test_clean_project_passes(tmp_path: Path) -> None:
    write(tmp_path, {"pkg/__init__.py": "", "pkg/a.py": "import os\n\nprint(os.sep)\n"})
    verdict, summary, findings, metrics = lint(tmp_path)
    assert verdict is Verdict.PASSED
    assert findings == []
    assert metrics == {"errors": 0, "files": 2, "threshold": 0}
    assert "no errors in 2 files" in summary


def test_unused_import_fails_with_located_finding(tmp_path: Path) -> None:
    write(tmp_path, {"pkg/a.py": "import os\n"})
    verdict, summary, findings, metrics = lint(tmp_path, tool="(any linter)")
    assert verdict is Verdict.FAILED
    assert findings == [("F401", "pkg/a.py", 1, 8)]
    assert metrics["errors"] == 1
    assert "1 error in 1 file" in summary
    assert "error-free" in summary


def test_syntax_error_is_a_finding(tmp_path: Path) -> None:
    write(tmp_path, {"bad.py": "def f(:\n    pass\n"})
    verdict, _, findings, _ = lint(tmp_path, tool="ruff")
    assert verdict is Verdict.FAILED
    assert findings
    assert all(rule == "invalid-syntax" and path == "bad.py" for rule, path, _, _ in findings)
    assert findings[0][2] == 1


def test_numeric_threshold_tolerates_up_to_n_errors(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": "import os\nimport sys\n"})
    verdict, summary, _, metrics = lint(tmp_path, threshold=2)
    assert verdict is Verdict.PASSED
    assert "within the threshold of 2" in summary
    assert metrics["errors"] == 2
    check = LintGate(LintOptions(threshold=2)).evaluate(GateContext(project_root=tmp_path))
    assert {f.severity for f in check.findings} == {Severity.WARNING}

    verdict, summary, findings, _ = lint(tmp_path, threshold=1)
    assert verdict is Verdict.FAILED
    assert len(findings) == 2
    assert "at most 1" in summary


def test_threshold_zero_equals_error_free(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": "import os\n"})
    assert lint(tmp_path, threshold=0)[0] is Verdict.FAILED


def test_select_limits_rules(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": "import os\nx = 1    \n"})
    assert lint(tmp_path, select=["E9"])[0] is Verdict.PASSED
    verdict, _, findings, _ = lint(tmp_path, select=["W"])
    assert verdict is Verdict.FAILED
    assert [rule for rule, *_ in findings] == ["W291"]


def test_project_ruff_config_applies(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": (
                '[tool.ruff]\nline-length = 20\n[tool.ruff.lint]\nselect = ["E501"]\n'
            ),
            "a.py": "import os\nvalue = 'this line is longer than twenty'\n",
        },
    )
    verdict, _, findings, _ = lint(tmp_path)
    assert verdict is Verdict.FAILED
    assert [(rule, line) for rule, _, line, _ in findings] == [("E501", 2)]


def test_project_excludes_and_default_excludes_apply(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "src/ok.py": "X = 1\n",
            ".venv/lib/bad.py": "import os\n",
            "generated/bad.py": "import sys\n",
            "pyproject.toml": '[tool.ruff]\nextend-exclude = ["generated"]\n',
        },
    )
    verdict, _, _, metrics = lint(tmp_path)
    assert verdict is Verdict.PASSED
    assert metrics["files"] == 1


def test_paths_restrict_what_is_linted(tmp_path: Path) -> None:
    write(tmp_path, {"src/ok.py": "X = 1\n", "scripts/bad.py": "import os\n"})
    assert lint(tmp_path, paths=["src"])[0] is Verdict.PASSED
    assert lint(tmp_path, paths=["src", "scripts"])[0] is Verdict.FAILED


def test_no_python_files_cannot_run(tmp_path: Path) -> None:
    write(tmp_path, {"README.md": "# nothing to lint\n", ".venv/x.py": "import os\n"})
    with pytest.raises(GateCannotRun, match="no files to lint"):
        lint(tmp_path)


def test_missing_path_cannot_run(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": "X = 1\n"})
    with pytest.raises(GateCannotRun, match="'nope' does not exist"):
        lint(tmp_path, paths=["nope"])


def test_broken_ruff_config_cannot_run(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": "X = 1\n", "ruff.toml": "this is = = not toml\n"})
    with pytest.raises(GateCannotRun, match="ruff failed with exit code 2"):
        lint(tmp_path)


def test_ruff_missing_is_tool_unavailable(tmp_path: Path) -> None:
    # A real interpreter without ruff: a fresh virtualenv with nothing installed.
    bare = tmp_path / "bare"
    venv.create(bare, with_pip=False, symlinks=True)
    bare_python = str(bare / "bin" / "python")

    def runner(argv: Sequence[str], **kwargs: object) -> CommandResult:
        swapped = [bare_python if arg == sys.executable else arg for arg in argv]
        return run_command(swapped, **kwargs)  # type: ignore[arg-type]

    project = write(tmp_path / "project", {"a.py": "X = 1\n"})
    gate = LintGate(LintOptions())
    with pytest.raises(ToolUnavailable, match="ruff is not installed"):
        gate.evaluate(GateContext(project_root=project, run=runner))


def test_unparsable_ruff_output_cannot_run(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": "X = 1\n"})

    def runner(argv: Sequence[str], **kwargs: object) -> CommandResult:
        if "--show-files" in argv:
            return run_command(argv, **kwargs)  # type: ignore[arg-type]
        return CommandResult(tuple(argv), 0, "warning: something\n[{", "")

    gate = LintGate(LintOptions())
    with pytest.raises(GateCannotRun, match="not the JSON report"):
        gate.evaluate(GateContext(project_root=tmp_path, run=runner))


def test_unexpected_json_shape_cannot_run(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": "X = 1\n"})

    def runner(argv: Sequence[str], **kwargs: object) -> CommandResult:
        if "--show-files" in argv:
            return run_command(argv, **kwargs)  # type: ignore[arg-type]
        return CommandResult(tuple(argv), 0, '{"not": "a list"}', "")

    with pytest.raises(GateCannotRun, match="not a list"):
        LintGate(LintOptions()).evaluate(GateContext(project_root=tmp_path, run=runner))


def test_command_mode_exit_code_decides(tmp_path: Path) -> None:
    verdict, _, findings, metrics = lint(tmp_path, command="echo fine")
    assert verdict is Verdict.PASSED
    assert findings == []
    assert metrics == {"exit_code": 0}

    check = LintGate(
        LintOptions(tool="eslint", command="echo first; echo second >&2; exit 3")
    ).evaluate(GateContext(project_root=tmp_path))
    assert check.verdict is Verdict.FAILED
    assert "exited 3" in check.summary
    assert check.findings[0].message == "first\nsecond"


def test_command_output_is_cut_to_first_lines(tmp_path: Path) -> None:
    command = "for i in $(seq 1 50); do echo line$i; done; exit 1"
    check = LintGate(LintOptions(command=command)).evaluate(GateContext(project_root=tmp_path))
    message = check.findings[0].message
    assert message.startswith("line1\n")
    assert "line20" in message
    assert "line21" not in message
    assert "(30 more lines)" in message


def test_command_runs_in_project_root_with_run_env(tmp_path: Path) -> None:
    write(tmp_path, {"marker.txt": "here"})
    ctx = GateContext(project_root=tmp_path, env={"LINT_FLAG": "on"})
    options = LintOptions(command='test -f marker.txt && test "$LINT_FLAG" = on')
    check = LintGate(options).evaluate(ctx)
    assert check.verdict is Verdict.PASSED


@pytest.mark.parametrize("tool", [None, "(any linter)", "ruff", "RUFF", "any"])
def test_project_linter_names_accepted(tool: str | None) -> None:
    assert LintOptions(tool=tool).tool == tool


def test_other_linter_needs_command() -> None:
    with pytest.raises(ValidationError, match="unsupported linter pylint; use command:"):
        LintOptions(tool="pylint")
    assert LintOptions(tool="pylint", command="pylint src").command == "pylint src"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"threshold": -1}, "greater than or equal to 0"),
        ({"threshold": True}, "threshold"),
        ({"threshold": "lots"}, "threshold"),
        ({"threshold": 1.5}, "threshold"),
        ({"paths": []}, "at least 1"),
        ({"paths": [" "]}, "empty"),
        ({"select": []}, "at least one rule"),
        ({"select": ["F401; rm -rf /"]}, "not a ruff rule code"),
        ({"command": "  "}, "must not be empty"),
        ({"command": "make lint", "select": ["F"]}, "select is for the built-in ruff linter"),
        ({"command": "make lint", "paths": ["src"]}, "paths is for the built-in ruff linter"),
        ({"command": "make lint", "threshold": 3}, "exit code decides"),
        ({"colour": "red"}, "Extra inputs are not permitted"),
    ],
)
def test_invalid_options(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        LintOptions.model_validate(options)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"tool": "eslint"}, "tool"),
        ({"command": "make lint", "select": ["F"]}, "select"),
        ({"command": "make lint", "threshold": 2}, "threshold"),
        ({"command": ""}, "command"),
    ],
)
def test_errors_point_at_the_offending_field(options: dict[str, object], field: str) -> None:
    # The config layer turns the location into file:line:col of that key in gates.yaml.
    with pytest.raises(ValidationError) as caught:
        LintOptions.model_validate(options)
    assert caught.value.errors()[0]["loc"][0] == field


def test_defaults_and_descriptions() -> None:
    options = LintOptions()
    assert options.threshold == "error_free"
    assert options.max_errors == 0
    assert options.paths == ["."]
    assert options.select is None
    assert all(f.description for f in LintOptions.model_fields.values())
