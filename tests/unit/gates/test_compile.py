"""The compile gate against sample projects compiled in memory by the running interpreter."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from pydantic import ValidationError

from safeship.errors import GateCannotRun
from safeship.gates.compile import DEFAULT_EXCLUDE, CompileGate, CompileOptions, is_excluded
from safeship.gates.interface import GateContext
from safeship.model.enums import FailAction, Severity, Verdict
from safeship.model.results import GateCheck


def write(root: Path, files: Mapping[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def run(root: Path, **options: object) -> GateCheck:
    gate = CompileGate(CompileOptions.model_validate(options))
    return gate.evaluate(GateContext(project_root=root))


def test_class_facts() -> None:
    assert CompileGate.type_name == "compile"
    assert CompileGate.default_action is FailAction.FAIL
    assert CompileGate.options_model is CompileOptions
    assert CompileGate.checks


def test_valid_project_passes(tmp_path: Path) -> None:
    write(tmp_path, {"pkg/__init__.py": "", "pkg/mod.py": "def f(x):\n    return x + 1\n"})
    check = run(tmp_path)
    assert check.verdict is Verdict.PASSED
    assert check.findings == ()
    assert check.metrics["files"] == 2
    assert "2 Python files compile under Python 3." in check.summary


def test_syntax_error_has_file_line_and_column(tmp_path: Path) -> None:
    write(tmp_path, {"ok.py": "X = 1\n", "pkg/bad.py": "X = 1\ndef f(:\n    pass\n"})
    check = run(tmp_path)
    assert check.verdict is Verdict.FAILED
    assert check.metrics["errors"] == 1
    (finding,) = check.findings
    assert (finding.rule, finding.path, finding.line, finding.column) == (
        "syntax-error",
        "pkg/bad.py",
        2,
        7,
    )
    assert finding.severity is Severity.ERROR
    assert "1 of 2 Python files do not compile" in check.summary


def test_compile_stage_errors_are_caught(tmp_path: Path) -> None:
    # These parse but are refused by the compiler proper, which ast.parse would miss.
    write(tmp_path, {"a.py": "return 1\n", "b.py": "def f():\n    nonlocal x\n"})
    check = run(tmp_path)
    assert check.verdict is Verdict.FAILED
    assert sorted((f.path, f.line) for f in check.findings) == [("a.py", 1), ("b.py", 2)]


def test_indentation_error_rule(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": "def f():\nreturn 1\n"})
    (finding,) = run(tmp_path).findings
    assert finding.rule == "indentation-error"
    assert finding.line == 2


def test_not_utf8_is_an_encoding_finding(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": b"X = '\xff'\n"})
    check = run(tmp_path)
    assert check.verdict is Verdict.FAILED
    (finding,) = check.findings
    assert finding.rule == "encoding-error"
    assert finding.path == "a.py"
    assert "utf-8" in finding.message


def test_bad_coding_cookie_is_an_encoding_finding(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": b"# -*- coding: klingon -*-\nX = 1\n"})
    (finding,) = run(tmp_path).findings
    assert finding.rule == "encoding-error"
    assert "klingon" in finding.message
    assert finding.line is None


def test_declared_latin1_and_bom_compile(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "latin.py": b"# -*- coding: latin-1 -*-\nX = '\xff'\n",
            "bom.py": b"\xef\xbb\xbfX = 1\n",
        },
    )
    assert run(tmp_path).verdict is Verdict.PASSED


def test_null_byte_is_a_finding(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": b"X = 1\x00\n"})
    check = run(tmp_path)
    assert check.verdict is Verdict.FAILED
    assert "null bytes" in check.findings[0].message


def test_absurd_nesting_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    write(tmp_path, {"deep.py": "X = " + "-" * 100_000 + "1\n"})
    check = run(tmp_path)
    assert check.verdict is Verdict.FAILED
    assert check.findings[0].path == "deep.py"


def test_compiler_warnings_do_not_fail(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": "import re\nPATTERN = re.compile('\\d+')\n"})
    check = run(tmp_path)
    assert check.verdict is Verdict.PASSED
    (note,) = check.findings
    assert note.severity is Severity.WARNING
    assert note.rule == "compile-warning"
    assert (note.path, note.line) == ("a.py", 2)
    assert "invalid escape sequence" in note.message
    assert "1 compiler warning" in check.summary


def test_nothing_is_imported_executed_or_written(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"side_effect.py": "open('touched', 'w').close()\nraise SystemExit(3)\n"},
    )
    assert run(tmp_path).verdict is Verdict.PASSED
    assert not (tmp_path / "touched").exists()
    assert not list(tmp_path.rglob("__pycache__"))
    assert not list(tmp_path.rglob("*.pyc"))


def test_default_excludes_skip_virtualenvs_and_builds(tmp_path: Path) -> None:
    broken = "def f(:\n"
    write(
        tmp_path,
        {
            "src/ok.py": "X = 1\n",
            **{f"{name}/broken.py": broken for name in DEFAULT_EXCLUDE},
            "src/node_modules/deep/broken.py": broken,
        },
    )
    check = run(tmp_path)
    assert check.verdict is Verdict.PASSED
    assert check.metrics["files"] == 1


def test_exclude_replaces_and_extend_exclude_adds(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"src/ok.py": "X = 1\n", "src/gen/bad.py": "def f(:\n", "build/bad.py": "def(\n"},
    )
    # Replacing the defaults brings build/ back into scope.
    check = run(tmp_path, exclude=["gen"])
    assert [f.path for f in check.findings] == ["build/bad.py"]
    # Extending keeps the defaults.
    assert run(tmp_path, extend_exclude=["src/gen"]).verdict is Verdict.PASSED
    assert run(tmp_path, extend_exclude=["src/gen/*"]).verdict is Verdict.PASSED
    assert run(tmp_path, extend_exclude=["b*.py"]).verdict is Verdict.PASSED


def test_paths_limit_the_walk_and_named_files_always_compile(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"src/ok.py": "X = 1\n", "tools/bad.py": "def f(:\n", "scripts/run": "print(\n"},
    )
    assert run(tmp_path, paths=["src"]).verdict is Verdict.PASSED
    check = run(tmp_path, paths=["src", "scripts/run"])
    assert [f.path for f in check.findings] == ["scripts/run"]


def test_listed_directory_is_not_excluded_by_its_own_name(tmp_path: Path) -> None:
    write(tmp_path, {"build/gen.py": "def f(:\n", "build/.venv/x.py": "def f(:\n"})
    check = run(tmp_path, paths=["build"])
    assert [f.path for f in check.findings] == ["build/gen.py"]


def test_overlapping_paths_compile_each_file_once(tmp_path: Path) -> None:
    write(tmp_path, {"src/a.py": "def f(:\n"})
    check = run(tmp_path, paths=[".", "src", "src/a.py"])
    assert check.metrics["files"] == 1
    assert len(check.findings) == 1


def test_no_python_files_cannot_run(tmp_path: Path) -> None:
    write(tmp_path, {"README.md": "hi\n", ".venv/lib/x.py": "X = 1\n"})
    with pytest.raises(GateCannotRun, match="no Python files to compile"):
        run(tmp_path)


def test_missing_path_cannot_run(tmp_path: Path) -> None:
    with pytest.raises(GateCannotRun, match="'src' does not exist"):
        run(tmp_path, paths=["src"])


def test_command_mode(tmp_path: Path) -> None:
    assert run(tmp_path, command="true").verdict is Verdict.PASSED
    check = run(tmp_path, command="echo 'error: cannot build' >&2; exit 2")
    assert check.verdict is Verdict.FAILED
    assert check.metrics == {"exit_code": 2}
    assert check.findings[0].message == "error: cannot build"
    assert check.findings[0].rule == "build-command"


@pytest.mark.parametrize(
    ("parts", "globs", "below", "excluded"),
    [
        (("a", ".venv", "x.py"), [".venv"], 0, True),
        (("a", "b", "x.py"), [".venv"], 0, False),
        (("src", "gen", "x.py"), ["src/gen"], 0, True),
        (("lib", "src", "gen", "x.py"), ["src/gen"], 0, False),
        (("x.egg-info", "y.py"), ["*.egg-info"], 0, True),
        (("build", "x.py"), ["build"], 1, False),
        (("build", "x.py"), ["build/*"], 1, True),
    ],
)
def test_is_excluded(parts: tuple[str, ...], globs: list[str], below: int, excluded: bool) -> None:
    assert is_excluded(parts, globs, below=below) is excluded


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"paths": []}, "at least 1"),
        ({"paths": [""]}, "empty"),
        ({"exclude": [" "]}, "empty"),
        ({"command": ""}, "must not be empty"),
        ({"command": "make", "paths": ["src"]}, "paths is for the built-in Python check"),
        ({"command": "make", "extend_exclude": ["x"]}, "extend_exclude is for the built-in"),
        ({"target": "3.8"}, "Extra inputs are not permitted"),
    ],
)
def test_invalid_options(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        CompileOptions.model_validate(options)
    # Each error is located on the key that caused it (the config layer shows its line).
    assert caught.value.errors()[0]["loc"][0] in options


def test_defaults_and_descriptions() -> None:
    options = CompileOptions()
    assert options.paths == ["."]
    assert options.exclude == list(DEFAULT_EXCLUDE)
    assert {".venv", "venv", ".git", "node_modules", "build", "dist", "__pycache__", ".tox"} <= set(
        options.exclude
    )
    assert options.extend_exclude == []
    assert all(f.description for f in CompileOptions.model_fields.values())
