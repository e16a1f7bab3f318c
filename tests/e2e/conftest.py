"""Sample repositories and an in-process CLI runner for the end-to-end tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from safeship.cli.app import run


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


CliRunner = Callable[..., CliResult]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> CliRunner:
    """Run ``safeship ARGS`` in-process and capture its exit code and output."""

    def invoke(*args: str) -> CliResult:
        capsys.readouterr()
        code = run(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return invoke


LINT_ERROR_MODULE = '''"""A module with one lint error."""

import os


def add(a: int, b: int) -> int:
    """Add."""
    return a + b
'''

GATES = """\
version: 2
stages:
  - name: pre_commit
    gates:
      - type: lint
        tool: (any linter)
        threshold: error_free
  - name: build
    gates:
      - type: compile
  - name: unit_test
    gates:
      - type: coverage
        report: coverage.json
        minimum: 80%
"""

SERVICE = "apiVersion: safeship/v1\nkind: Service\nname: sample\nrisk: low\n"


def coverage_json(covered: int, statements: int) -> str:
    """A minimal coverage.py JSON report (format 3) with one file."""
    missing = list(range(covered + 1, statements + 1))
    return json.dumps({
        "meta": {"format": 3, "version": "7.6.0", "branch_coverage": False},
        "files": {"pkg/calc.py": {
            "executed_lines": list(range(1, covered + 1)), "missing_lines": missing,
            "excluded_lines": [],
            "summary": {"covered_lines": covered, "num_statements": statements,
                        "percent_covered": 100 * covered / statements,
                        "missing_lines": len(missing), "excluded_lines": 0}}},
        "totals": {"covered_lines": covered, "num_statements": statements,
                   "percent_covered": 100 * covered / statements,
                   "missing_lines": statements - covered, "excluded_lines": 0},
    })


@pytest.fixture
def sample_repo(tmp_path: Path) -> Path:
    """A small Python project with one lint error, good coverage, and a .pipeline/."""
    root = tmp_path / "sample"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text('"""Package."""\n')
    (root / "pkg" / "calc.py").write_text(LINT_ERROR_MODULE)
    (root / ".pipeline").mkdir()
    (root / ".pipeline" / "gates.yaml").write_text(GATES)
    (root / ".pipeline" / "service.yaml").write_text(SERVICE)
    (root / "coverage.json").write_text(coverage_json(9, 10))
    return root


def fix_lint(root: Path) -> None:
    """Remove the sample's lint error."""
    path = root / "pkg" / "calc.py"
    path.write_text(path.read_text().replace("import os\n\n\n", ""))
