"""The coverage gate on reports written by the real coverage.py, and on hand-built boundaries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from safeship.errors import GateCannotRun
from safeship.gates.coverage import (
    REPORT_CANDIDATES,
    CoverageGate,
    CoverageOptions,
    display_pair,
    format_ranges,
)
from safeship.gates.interface import GateContext
from safeship.model.enums import FailAction, Severity, Verdict
from safeship.model.results import GateCheck

SAMPLE = """\
def classify(x):
    if x:
        kind = "yes"
    else:
        kind = "no"
    if x > 5:
        kind += "!"
    return kind


def unused():
    return 3


classify(1)
"""
# 10 statements, 7 run: line coverage 70 %. With branches (2 of 4 taken) coverage.py's
# percent_covered is 64.29 %, which is what a gate must NOT use for "line coverage".


def check(root: Path, **options: object) -> GateCheck:
    gate = CoverageGate(CoverageOptions.model_validate(options))
    return gate.evaluate(GateContext(project_root=root))


def coverage_cli(root: Path, *args: str) -> None:
    # Strip the outer coverage's settings (pytest-cov) so the inner run measures only SAMPLE.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COV_CORE", "COVERAGE"))}
    env["COVERAGE_FILE"] = str(root / ".coverage")
    subprocess.run(
        [sys.executable, "-m", "coverage", *args],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose sample module was really run under ``coverage run --branch``."""
    root = tmp_path_factory.mktemp("measured")
    (root / "sample.py").write_text(SAMPLE)
    coverage_cli(root, "run", "--branch", "sample.py")
    coverage_cli(root, "json", "-q", "-o", "coverage.json")
    coverage_cli(root, "xml", "-q", "-o", "reports/coverage.xml")
    return root


def json_report(
    root: Path,
    covered: int,
    statements: int,
    *,
    percent_covered: float | None = None,
    files: Mapping[str, tuple[int, int, Sequence[int]]] | None = None,
    name: str = "coverage.json",
) -> Path:
    """Write a coverage.py format-3 JSON report with the given totals (and files)."""
    totals = {
        "covered_lines": covered,
        "num_statements": statements,
        "percent_covered": (
            percent_covered if percent_covered is not None else 100 * covered / statements
        ),
        "missing_lines": statements - covered,
    }
    body: dict[str, Any] = {
        "meta": {"format": 3, "version": "7.17.4", "branch_coverage": True},
        "totals": totals,
        "files": {
            path: {
                "summary": {"covered_lines": c, "num_statements": s},
                "missing_lines": list(missing),
            }
            for path, (c, s, missing) in (files or {}).items()
        },
    }
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body))
    return path


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_class_facts() -> None:
    assert CoverageGate.type_name == "coverage"
    assert CoverageGate.default_action is FailAction.FAIL
    assert CoverageGate.options_model is CoverageOptions
    assert CoverageGate.checks


# --- reports written by the real coverage.py -------------------------------------------------


def test_real_json_uses_line_rate_not_percent_covered(measured: Path) -> None:
    data = json.loads((measured / "coverage.json").read_text())
    assert (
        data["totals"]["percent_covered"] < 65 < 70 == data["totals"]["percent_statements_covered"]
    )
    result = check(measured, minimum="65%")
    assert result.verdict is Verdict.PASSED
    assert result.metrics["line_rate"] == pytest.approx(0.7)
    assert (result.metrics["covered"], result.metrics["statements"]) == (7, 10)
    assert result.summary == ("line coverage 70.00% is above the minimum 65.00% (coverage.json)")


def test_real_json_below_minimum_fails_with_worst_files(measured: Path) -> None:
    result = check(measured, minimum=0.8)
    assert result.verdict is Verdict.FAILED
    assert result.summary.startswith("line coverage 70.00% is not above the minimum 80.00%")
    (finding,) = result.findings
    assert finding.path == "sample.py"
    assert finding.severity is Severity.WARNING
    assert finding.message == "70.00% of lines covered, missing lines 5, 7, 12"


def test_real_cobertura_xml(measured: Path) -> None:
    result = check(measured, report="reports/coverage.xml", minimum="65%")
    assert result.verdict is Verdict.PASSED
    assert result.metrics["report"] == "reports/coverage.xml"
    assert (result.metrics["covered"], result.metrics["statements"]) == (7, 10)
    failed = check(measured, report="reports/coverage.xml", minimum="70%")
    assert failed.verdict is Verdict.FAILED
    assert failed.findings[0].message == "70.00% of lines covered, missing lines 5, 7, 12"


# --- the strict, unrounded boundary ----------------------------------------------------------


@pytest.mark.parametrize(
    ("covered", "statements", "verdict", "shown"),
    [
        (800, 1000, Verdict.FAILED, "80.00%"),  # exactly the minimum: not above it
        (8001, 10000, Verdict.PASSED, "80.01%"),
        (7996, 10000, Verdict.FAILED, "79.96%"),  # --fail-under=80 would round this to 80
        (79996, 100000, Verdict.FAILED, "79.99%"),  # truncated, never shown as 80.00%
        (800001, 1000000, Verdict.PASSED, "80.0001%"),
        (4, 5, Verdict.FAILED, "80.00%"),
    ],
)
def test_boundary(
    tmp_path: Path, covered: int, statements: int, verdict: Verdict, shown: str
) -> None:
    json_report(tmp_path, covered, statements)
    result = check(tmp_path, minimum="80%")
    assert result.verdict is verdict
    assert result.summary.startswith(f"line coverage {shown} ")
    assert result.metrics["line_rate"] == covered / statements


def test_minimum_as_ratio_and_percent_agree(tmp_path: Path) -> None:
    json_report(tmp_path, 800, 1000)
    for minimum in ("80%", 0.8, "0.8", "80.0 %"):
        assert check(tmp_path, minimum=minimum).verdict is Verdict.FAILED
    json_report(tmp_path, 8001, 10000)
    assert check(tmp_path, minimum="80.01%").verdict is Verdict.FAILED
    assert check(tmp_path, minimum="80.009%").verdict is Verdict.PASSED


def test_branch_heavy_report_is_judged_on_lines(tmp_path: Path) -> None:
    json_report(tmp_path, 90, 100, percent_covered=75.0)
    assert check(tmp_path, minimum="80%").verdict is Verdict.PASSED
    json_report(tmp_path, 79, 100, percent_covered=85.0)
    assert check(tmp_path, minimum="80%").verdict is Verdict.FAILED


def test_full_coverage_meets_a_100_percent_minimum(tmp_path: Path) -> None:
    json_report(tmp_path, 10, 10)
    result = check(tmp_path, minimum="100%")
    assert result.verdict is Verdict.PASSED
    assert "meets the minimum 100.00%" in result.summary
    json_report(tmp_path, 999, 1000)
    assert check(tmp_path, minimum="100%").verdict is Verdict.FAILED


def test_fail_on_below_false_passes_with_a_warning(tmp_path: Path) -> None:
    json_report(tmp_path, 50, 100, files={"a.py": (50, 100, [1, 2, 3])})
    result = check(tmp_path, minimum="80%", fail_on_below=False)
    assert result.verdict is Verdict.PASSED
    assert "below minimum, but fail_on_below is false" in result.summary
    assert result.findings[0].path == "a.py"


def test_worst_ten_files_worst_first(tmp_path: Path) -> None:
    files = {f"pkg/m{i:02d}.py": (i, 20, list(range(i + 1, 21))) for i in range(12)}
    files["pkg/full.py"] = (5, 5, [])
    json_report(tmp_path, 66, 245, files=files)
    result = check(tmp_path)
    assert [f.path for f in result.findings] == [f"pkg/m{i:02d}.py" for i in range(10)]
    assert result.findings[0].message == "0.00% of lines covered, missing lines 1-20"
    assert result.findings[3].message == "15.00% of lines covered, missing lines 4-20"


def test_cobertura_counts_and_per_file_lines(tmp_path: Path) -> None:
    write(
        tmp_path,
        "coverage.xml",
        """<?xml version="1.0" ?>
<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">
<coverage line-rate="0.99" lines-valid="5" lines-covered="4" branch-rate="0.1">
  <packages><package name="p"><classes>
    <class name="A" filename="p/a.py" line-rate="0.75">
      <methods><method name="f"><lines><line number="1" hits="0"/></lines></method></methods>
      <lines><line number="1" hits="3"/><line number="2" hits="0"/>
             <line number="3" hits="1"/><line number="4" hits="1"/></lines>
    </class>
    <class name="B" filename="p/b.py" line-rate="1"><lines><line number="1" hits="2"/></lines>
    </class>
  </classes></package></packages>
</coverage>""",
    )
    result = check(tmp_path, minimum="79%")
    assert result.verdict is Verdict.PASSED  # 4/5 = 80 %, the counts win over line-rate
    failed = check(tmp_path, minimum="80%")
    assert failed.verdict is Verdict.FAILED
    assert [(f.path, f.message) for f in failed.findings] == [
        ("p/a.py", "75.00% of lines covered, missing lines 2")
    ]


def test_cobertura_without_counts_falls_back_to_line_rate(tmp_path: Path) -> None:
    write(
        tmp_path,
        "coverage.xml",
        '<coverage line-rate="0.8"><packages><package><classes>'
        '<class filename="a.py"><lines><line number="1" hits="1"/></lines></class>'
        "</classes></package></packages></coverage>",
    )
    result = check(tmp_path, minimum="80%")
    assert result.verdict is Verdict.FAILED
    assert result.metrics["line_rate"] == 0.8
    assert result.metrics["covered"] is None
    write(
        tmp_path,
        "coverage.xml",
        '<coverage line-rate="0.8001"><packages><package><classes><class filename="a.py">'
        '<lines><line number="1" hits="1"/></lines></class></classes></package></packages>'
        "</coverage>",
    )
    assert check(tmp_path, minimum="80%").verdict is Verdict.PASSED


# --- finding the report ----------------------------------------------------------------------


def test_autodetect_order_prefers_json_then_xml(tmp_path: Path, measured: Path) -> None:
    write(tmp_path, "coverage.xml", (measured / "reports" / "coverage.xml").read_text())
    assert check(tmp_path, minimum="65%").metrics["report"] == "coverage.xml"
    json_report(tmp_path, 1, 2)
    assert check(tmp_path, minimum="1%").metrics["report"] == "coverage.json"


def test_autodetect_finds_nested_locations(tmp_path: Path) -> None:
    json_report(tmp_path, 9, 10, name="build/coverage.json")
    assert check(tmp_path).metrics["report"] == "build/coverage.json"


def test_format_is_sniffed_or_forced(tmp_path: Path) -> None:
    json_report(tmp_path, 9, 10, name="cov.data")
    assert check(tmp_path, report="cov.data").verdict is Verdict.PASSED
    assert check(tmp_path, report="cov.data", format="coverage_json").verdict is Verdict.PASSED
    with pytest.raises(GateCannotRun, match="not readable XML"):
        check(tmp_path, report="cov.data", format="cobertura")


# --- fail closed -----------------------------------------------------------------------------


def test_no_report_cannot_run_and_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(GateCannotRun) as caught:
        check(tmp_path)
    text = "\n".join(caught.value.diagnostics())
    assert "no coverage report found" in text
    for candidate in REPORT_CANDIDATES:
        assert candidate in text
    assert "coverage json" in text
    assert "pytest --cov --cov-report=json" in text


def test_named_report_missing_cannot_run(tmp_path: Path) -> None:
    json_report(tmp_path, 9, 10)
    with pytest.raises(GateCannotRun, match=r"out/cov\.json not found"):
        check(tmp_path, report="out/cov.json")


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("coverage.json", "{not json", "not valid JSON"),
        ("coverage.json", "[1, 2]", "no 'totals'"),
        ("coverage.json", '{"files": {}}', "no 'totals'"),
        ("coverage.json", '{"totals": {"covered_lines": 1}}', "num_statements is None"),
        (
            "coverage.json",
            '{"totals": {"covered_lines": 1.5, "num_statements": 2}}',
            "covered_lines is 1.5",
        ),
        (
            "coverage.json",
            '{"totals": {"covered_lines": true, "num_statements": 2}}',
            "covered_lines is True",
        ),
        (
            "coverage.json",
            '{"totals": {"covered_lines": -1, "num_statements": 2}}',
            "covered_lines is -1",
        ),
        (
            "coverage.json",
            '{"totals": {"covered_lines": 3, "num_statements": 2}}',
            "3 of 2 lines",
        ),
        ("coverage.json", '{"totals": {"covered_lines": 0, "num_statements": 0}}', "no lines"),
        ("coverage.xml", "<coverage", "not readable XML"),
        ("coverage.xml", "<report/>", "not Cobertura XML"),
        ("coverage.xml", '<coverage lines-valid="0" lines-covered="0"/>', "no lines"),
        ("coverage.xml", '<coverage lines-valid="x" lines-covered="0"/>', "not a whole number"),
        ("coverage.xml", '<coverage lines-valid="2" lines-covered="3"/>', "3 of 2 lines"),
        ("coverage.xml", "<coverage/>", "neither lines-covered"),
        ("coverage.xml", '<coverage line-rate="abc"/>', "not a number"),
        ("coverage.xml", '<coverage line-rate="1.5"/>', "not in"),
        ("coverage.xml", '<coverage line-rate="0.9"/>', "lists no lines"),
        (
            "coverage.xml",
            '<!DOCTYPE c [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><coverage>&b;</coverage>',
            "not readable XML",
        ),
        ("cov.txt", "plain text", "cannot tell the format"),
    ],
)
def test_unusable_reports_cannot_run(tmp_path: Path, name: str, text: str, message: str) -> None:
    write(tmp_path, name, text)
    with pytest.raises(GateCannotRun, match=message):
        check(tmp_path, report=name)


def test_unreadable_report_cannot_run(tmp_path: Path) -> None:
    (tmp_path / "coverage.json").mkdir()
    with pytest.raises(GateCannotRun):
        check(tmp_path, report="coverage.json")


def test_not_utf8_json_cannot_run(tmp_path: Path) -> None:
    (tmp_path / "coverage.json").write_bytes(b'{"totals": "\xff"}')
    with pytest.raises(GateCannotRun, match="not valid JSON"):
        check(tmp_path)


# --- options and helpers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("80%", 0.8), (0.8, 0.8), ("0.8", 0.8), (1, 1.0), ("100%", 1.0), ("0%", 0.0)],
)
def test_minimum_accepts_percent_or_ratio(value: object, expected: float) -> None:
    assert CoverageOptions(minimum=value).minimum == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (80, "not between 0 and 1"),
        ("120%", "over 100%"),
        ("eighty", "not a percentage"),
        (True, "not a percentage"),
        (None, "not a percentage"),
    ],
)
def test_minimum_rejects_nonsense(value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        CoverageOptions(minimum=value)
    assert caught.value.errors()[0]["loc"] == ("minimum",)


def test_other_invalid_options() -> None:
    with pytest.raises(ValidationError, match="format"):
        CoverageOptions(format="lcov")
    with pytest.raises(ValidationError, match="Extra inputs"):
        CoverageOptions.model_validate({"minimum": "80%", "branch": True})


def test_defaults_and_descriptions() -> None:
    options = CoverageOptions()
    assert (options.minimum, options.fail_on_below, options.report, options.format) == (
        0.8,
        True,
        None,
        "auto",
    )
    assert all(f.description for f in CoverageOptions.model_fields.values())


def test_format_ranges() -> None:
    assert format_ranges([7, 1, 2, 3, 9, 10]) == "1-3, 7, 9-10"
    assert format_ranges(range(1, 100, 2), limit=3) == "1, 3, 5, ... (47 more)"


@pytest.mark.parametrize(
    ("rate", "minimum", "shown"),
    [
        (Fraction(7996, 10000), Fraction(8, 10), ("79.96%", "80.00%")),
        (Fraction(79999, 100000), Fraction(8, 10), ("79.99%", "80.00%")),
        (Fraction(80004, 100000), Fraction(8, 10), ("80.004%", "80.000%")),
        (Fraction(8, 10), Fraction(80005, 100000), ("80.000%", "80.005%")),
        (Fraction(2, 3), Fraction(8, 10), ("66.66%", "80.00%")),
        (Fraction(8, 10), Fraction(8, 10), ("80.00%", "80.00%")),
    ],
)
def test_display_pair_never_rounds_up(
    rate: Fraction, minimum: Fraction, shown: tuple[str, str]
) -> None:
    assert display_pair(rate, minimum) == shown
