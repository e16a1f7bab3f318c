"""The ``coverage`` gate: line coverage above a minimum (the guide's "> 80% line coverage").

The gate reads a report the test run already wrote: coverage.py's JSON (``coverage json``) or
Cobertura XML (``coverage xml``, and most other tools). It judges **line** coverage only:

* coverage.py JSON: ``totals.covered_lines / totals.num_statements``. ``percent_covered`` is
  not used because with branch coverage on it mixes lines and branches.
* Cobertura: ``lines-covered / lines-valid``, falling back to ``line-rate``.

The rate is compared **unrounded** and **strictly** (``>``) with the minimum, as the guide says
"> 80%": exactly 80.0 % fails, and so does 79.96 %, which ``coverage report --fail-under=80``
would round up and pass. (A minimum of 100 % is met by full coverage.)

It fails closed: a missing, unreadable or empty report raises, and the engine records ERROR.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, ClassVar, Literal
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from pydantic import Field, field_validator

from safeship._internal.percents import PercentSyntaxError, parse_fraction
from safeship.errors import GateCannotRun
from safeship.gates.interface import Gate, GateContext, GateOptions
from safeship.model.enums import FailAction, Severity, Verdict
from safeship.model.results import Finding, GateCheck

REPORT_CANDIDATES = (
    "coverage.json",
    "coverage.xml",
    "build/coverage.json",
    "build/coverage.xml",
    "reports/coverage.json",
    "reports/coverage.xml",
    "coverage/cobertura-coverage.xml",
)
"""Where the gate looks, in this order, when ``report:`` is not set (relative to the project)."""

HOW_TO_PRODUCE = (
    "produce one with `coverage run -m pytest && coverage json` (or `coverage xml`), or "
    "`pytest --cov --cov-report=json`; or set `report:` to its path"
)
_WORST_FILES = 10
_MAX_RANGES = 15

ReportFormat = Literal["auto", "coverage_json", "cobertura"]


class CoverageOptions(GateOptions):
    """Options of ``type: coverage``."""

    minimum: float = Field(
        default=0.8,
        description=(
            "Line coverage must be strictly above this: a percentage ('80%') or a ratio (0.8)."
        ),
    )
    fail_on_below: bool = Field(
        default=True,
        description=(
            "When false, coverage at or below the minimum passes with a warning in the summary."
        ),
    )
    report: str | None = Field(
        default=None,
        description=(
            "Path of the coverage report, relative to the project root. Absent: the first of "
            f"{', '.join(REPORT_CANDIDATES)} that exists."
        ),
    )
    format: ReportFormat = Field(
        default="auto",
        description=(
            "'coverage_json' (coverage.py JSON), 'cobertura' (XML) or 'auto' (by file suffix, "
            "then by content)."
        ),
    )

    @field_validator("minimum", mode="before", json_schema_input_type=str | float)
    @classmethod
    def _parse_minimum(cls, value: object) -> float:
        try:
            return parse_fraction(value)
        except PercentSyntaxError as exc:
            raise ValueError(str(exc)) from exc


@dataclass(frozen=True)
class FileCoverage:
    """Line coverage of one source file."""

    path: str
    covered: int
    statements: int
    missing: tuple[int, ...]

    @property
    def rate(self) -> Fraction:
        """Covered over statements, exactly."""
        return Fraction(self.covered, self.statements)


@dataclass(frozen=True)
class CoverageReport:
    """What the gate takes from a report: the totals (exact) and the per-file figures."""

    covered: int | None
    statements: int | None
    rate: Fraction
    files: tuple[FileCoverage, ...]


class CoverageGate(Gate[CoverageOptions]):
    """Reads a coverage report and fails unless line coverage is above the minimum."""

    type_name: ClassVar[str] = "coverage"
    default_action: ClassVar[FailAction] = FailAction.FAIL
    checks: ClassVar[str] = "line coverage strictly above the minimum (coverage.py JSON/Cobertura)"
    options_model: ClassVar[type[GateOptions]] = CoverageOptions

    def evaluate(self, ctx: GateContext) -> GateCheck:
        """Judge the report; see the module docstring."""
        options = self.options
        path = self._find_report(ctx)
        shown = ctx.relative(path)
        report = read_report(path, options.format, shown)
        minimum = _exact(options.minimum)
        rate = report.rate
        above = rate > minimum or (minimum == 1 and rate == 1)
        observed, required = display_pair(rate, minimum)
        metrics: dict[str, Any] = {
            "line_rate": float(rate),
            "covered": report.covered,
            "statements": report.statements,
            "minimum": options.minimum,
            "report": shown,
        }
        if above:
            verb = "meets" if minimum == 1 else "is above"
            return GateCheck(
                Verdict.PASSED,
                f"line coverage {observed} {verb} the minimum {required} ({shown})",
                (),
                metrics,
            )
        findings = tuple(_worst_files(report.files))
        summary = f"line coverage {observed} is not above the minimum {required} ({shown})"
        if not options.fail_on_below:
            return GateCheck(
                Verdict.PASSED,
                f"{summary}; below minimum, but fail_on_below is false",
                findings,
                metrics,
            )
        return GateCheck(Verdict.FAILED, summary, findings, metrics)

    def _find_report(self, ctx: GateContext) -> Path:
        if self.options.report is not None:
            path = ctx.resolve(self.options.report)
            if not path.is_file():
                raise GateCannotRun(
                    f"coverage report {self.options.report} not found in {ctx.project_root}",
                    hint=HOW_TO_PRODUCE,
                )
            return path
        for candidate in REPORT_CANDIDATES:
            path = ctx.resolve(candidate)
            if path.is_file():
                return path
        raise GateCannotRun(
            f"no coverage report found in {ctx.project_root} (looked for "
            f"{', '.join(REPORT_CANDIDATES)})",
            hint=HOW_TO_PRODUCE,
        )


def _exact(fraction: float) -> Fraction:
    """The minimum as the decimal the user wrote (``80.01%`` is 0.8001, not its float)."""
    return Fraction(f"{fraction:.12g}")


def display_pair(rate: Fraction, minimum: Fraction) -> tuple[str, str]:
    """Render rate and minimum as percentages that never look equal when they differ.

    Both are truncated, never rounded up (79.996 % shows as 79.99 %, not 80.00 %), and digits
    are added until the two texts differ or both are exact.
    """
    for digits in range(2, 9):
        scale = 100 * 10**digits
        observed, required = rate * scale, minimum * scale
        exact = observed.denominator == 1 and required.denominator == 1
        if exact or math.floor(observed) != math.floor(required):
            return _percent(rate, digits), _percent(minimum, digits)
    return f"{float(rate) * 100!r}%", f"{float(minimum) * 100!r}%"


def _percent(fraction: Fraction, digits: int) -> str:
    scaled = math.floor(fraction * 100 * 10**digits)
    whole, part = divmod(scaled, 10**digits)
    return f"{whole}.{part:0{digits}d}%"


def read_report(path: Path, fmt: ReportFormat, shown: str) -> CoverageReport:
    """Read a coverage.py JSON or Cobertura XML report; raise ``GateCannotRun`` if unusable."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise GateCannotRun(
            f"cannot read coverage report {shown}: {exc.strerror or exc}", hint=HOW_TO_PRODUCE
        ) from exc
    kind = fmt if fmt != "auto" else _sniff(path, raw)
    report = _read_json(raw, shown) if kind == "coverage_json" else _read_cobertura(raw, shown)
    if report.statements == 0 or (report.statements is None and not report.files):
        raise GateCannotRun(
            f"coverage report {shown} measured no lines; was any code run under coverage?",
            hint=HOW_TO_PRODUCE + " (check [tool.coverage.run] source/include settings)",
        )
    return report


def _sniff(path: Path, raw: bytes) -> ReportFormat:
    suffix = path.suffix.lower()
    if suffix == ".json":
        return "coverage_json"
    if suffix == ".xml":
        return "cobertura"
    head = raw.lstrip()[:1]
    if head == b"{":
        return "coverage_json"
    if head == b"<":
        return "cobertura"
    raise GateCannotRun(
        f"cannot tell the format of coverage report {path.name}",
        hint="set `format: coverage_json` or `format: cobertura`",
    )


def _count(value: object, what: str, shown: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise GateCannotRun(
            f"coverage report {shown}: {what} is {value!r}, not a whole number >= 0",
            hint=HOW_TO_PRODUCE,
        )
    return value


def _read_json(raw: bytes, shown: str) -> CoverageReport:
    try:
        data: Any = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GateCannotRun(
            f"coverage report {shown} is not valid JSON: {exc}", hint=HOW_TO_PRODUCE
        ) from exc
    totals = data.get("totals") if isinstance(data, dict) else None
    if not isinstance(totals, dict):
        raise GateCannotRun(
            f"coverage report {shown} is not a coverage.py JSON report (no 'totals')",
            hint=HOW_TO_PRODUCE,
        )
    covered = _count(totals.get("covered_lines"), "totals.covered_lines", shown)
    statements = _count(totals.get("num_statements"), "totals.num_statements", shown)
    if covered > statements:
        raise GateCannotRun(
            f"coverage report {shown} says {covered} of {statements} lines are covered",
            hint=HOW_TO_PRODUCE,
        )
    files = data.get("files")
    per_file = list(_json_files(files, shown)) if isinstance(files, dict) else []
    rate = Fraction(covered, statements) if statements else Fraction(0)
    return CoverageReport(covered, statements, rate, tuple(per_file))


def _json_files(files: Mapping[str, Any], shown: str) -> Iterable[FileCoverage]:
    for name, entry in files.items():
        summary = entry.get("summary") if isinstance(entry, dict) else None
        if not isinstance(summary, dict):
            continue
        covered = _count(summary.get("covered_lines"), f"{name}: covered_lines", shown)
        statements = _count(summary.get("num_statements"), f"{name}: num_statements", shown)
        missing = entry.get("missing_lines")
        lines = (
            tuple(sorted(n for n in missing if isinstance(n, int) and not isinstance(n, bool)))
            if isinstance(missing, list)
            else ()
        )
        if statements:
            yield FileCoverage(str(name), covered, statements, lines)


def _read_cobertura(raw: bytes, shown: str) -> CoverageReport:
    try:
        root: Element = SafeET.fromstring(raw)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise GateCannotRun(
            f"coverage report {shown} is not readable XML: {exc}", hint=HOW_TO_PRODUCE
        ) from exc
    if root.tag != "coverage":
        raise GateCannotRun(
            f"coverage report {shown} is not Cobertura XML (root element <{root.tag}>)",
            hint=HOW_TO_PRODUCE,
        )
    files = tuple(_cobertura_files(root))
    covered_text, valid_text = root.get("lines-covered"), root.get("lines-valid")
    if covered_text is not None and valid_text is not None:
        covered = _int_attribute(covered_text, "lines-covered", shown)
        statements = _int_attribute(valid_text, "lines-valid", shown)
        if covered > statements:
            raise GateCannotRun(
                f"coverage report {shown} says {covered} of {statements} lines are covered",
                hint=HOW_TO_PRODUCE,
            )
        rate = Fraction(covered, statements) if statements else Fraction(0)
        return CoverageReport(covered, statements, rate, files)
    rate_text = root.get("line-rate")
    if rate_text is None:
        raise GateCannotRun(
            f"coverage report {shown} has neither lines-covered/lines-valid nor line-rate",
            hint=HOW_TO_PRODUCE,
        )
    try:
        rate = Fraction(rate_text.strip())
    except (ValueError, ZeroDivisionError) as exc:
        raise GateCannotRun(
            f"coverage report {shown}: line-rate {rate_text!r} is not a number"
        ) from exc
    if not 0 <= rate <= 1:
        raise GateCannotRun(f"coverage report {shown}: line-rate {rate_text} is not in [0, 1]")
    if not files:
        # A bare line-rate with no lines listed cannot be told apart from "nothing measured".
        raise GateCannotRun(
            f"coverage report {shown} lists no lines; was any code run under coverage?",
            hint=HOW_TO_PRODUCE,
        )
    return CoverageReport(None, None, rate, files)


def _int_attribute(text: str, name: str, shown: str) -> int:
    try:
        value = int(text.strip())
    except ValueError as exc:
        raise GateCannotRun(
            f"coverage report {shown}: {name}={text!r} is not a whole number", hint=HOW_TO_PRODUCE
        ) from exc
    return _count(value, name, shown)


def _cobertura_files(root: Element) -> Iterable[FileCoverage]:
    hits: dict[str, dict[int, bool]] = {}
    for cls in root.iter("class"):
        filename = cls.get("filename") or cls.get("name") or "?"
        lines = hits.setdefault(filename, {})
        # Only the class's own <lines>; <methods> repeat the same lines.
        for line in cls.findall("./lines/line"):
            try:
                number = int(line.get("number", ""))
                hit = int(line.get("hits", "0")) > 0
            except ValueError:
                continue
            lines[number] = lines.get(number, False) or hit
    for filename, lines in hits.items():
        if lines:
            missing = tuple(sorted(n for n, hit in lines.items() if not hit))
            yield FileCoverage(filename, len(lines) - len(missing), len(lines), missing)


def _worst_files(files: Iterable[FileCoverage]) -> Iterable[Finding]:
    incomplete = [f for f in files if f.missing or f.covered < f.statements]
    incomplete.sort(key=lambda f: (f.rate, -len(f.missing), f.path))
    for item in incomplete[:_WORST_FILES]:
        message = f"{_percent(item.rate, 2)} of lines covered"
        if item.missing:
            message += f", missing lines {format_ranges(item.missing)}"
        yield Finding("coverage", message, Severity.WARNING, item.path)


def format_ranges(numbers: Iterable[int], limit: int = _MAX_RANGES) -> str:
    """``[1, 2, 3, 7, 9, 10]`` as ``1-3, 7, 9-10`` (at most ``limit`` ranges, then "...")."""
    ranges: list[list[int]] = []
    for number in sorted(set(numbers)):
        if ranges and number == ranges[-1][1] + 1:
            ranges[-1][1] = number
        else:
            ranges.append([number, number])
    parts = [f"{a}" if a == b else f"{a}-{b}" for a, b in ranges[:limit]]
    if len(ranges) > limit:
        parts.append(f"... ({len(ranges) - limit} more)")
    return ", ".join(parts)

