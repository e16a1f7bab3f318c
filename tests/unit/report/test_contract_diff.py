"""Rendering an OpenAPI diff: plain lines, Markdown (escaped), and a Rich table."""

from __future__ import annotations

from rich.console import Console

from safeship.report.contract_diff import (
    render_contract_markdown,
    render_contract_plain,
    render_contract_table,
    verdict_line,
)
from safeship.scanners.openapi import Change, DiffReport, Level


def _report() -> DiffReport:
    return DiffReport("v1.yaml", "v2.yaml", (
        Change("api-path-removed-without-deprecation", Level.ERR, "GET /a|b", "/a|b",
               "the path was removed [bold]now[/bold]", "/paths/~1a|b/get", "/paths", 4, 2),
        Change("response-property-enum-value-added", Level.WARN, "GET /c", "/c",
               "gained a value", "/x", "/y", 9, None),
        Change("endpoint-added", Level.INFO, "GET /d", "/d", "added", "/paths", "/paths/~1d",
               3, 7),
    ))


def test_verdict_line_counts_and_threshold() -> None:
    report = _report()
    assert verdict_line(report, Level.ERR) == (
        "BREAKING: 1 ERR, 1 WARN, 1 INFO from v1.yaml to v2.yaml (failing on ERR)")
    clean = DiffReport("a", "b", ())
    assert verdict_line(clean, Level.WARN).startswith("OK: 0 ERR, 0 WARN, 0 INFO")


def test_plain_lines_follow_the_level_filter() -> None:
    text = render_contract_plain(_report(), Level.ERR, Level.WARN)
    lines = text.splitlines()
    assert lines[0] == ("ERR  api-path-removed-without-deprecation  GET /a|b: the path was "
                        "removed [bold]now[/bold] (v2.yaml:2)")
    assert lines[1] == "WARN response-property-enum-value-added  GET /c: gained a value"
    assert len(lines) == 3
    assert "endpoint-added" in render_contract_plain(_report(), Level.ERR, Level.INFO)


def test_markdown_escapes_table_cells() -> None:
    text = render_contract_markdown(_report(), Level.WARN, Level.INFO)
    assert "`GET /a\\|b`" in text
    assert text.count("\n| ") == 4
    assert "| INFO | `endpoint-added` | `GET /d` | added | 7 |" in text
    assert "**BREAKING: 1 ERR, 1 WARN, 1 INFO" in text


def test_table_prints_spec_text_verbatim() -> None:
    console = Console(record=True, width=200, color_system=None)
    render_contract_table(_report(), Level.ERR, Level.WARN, console)
    out = console.export_text()
    assert "[bold]now[/bold]" in out
    assert "api-path-removed-without-deprecation" in out
    assert "endpoint-added" not in out
    assert "line 2" in out
    assert "BREAKING: 1 ERR" in out


def test_table_of_a_clean_diff_is_just_the_verdict() -> None:
    console = Console(record=True, width=120, color_system=None)
    render_contract_table(DiffReport("a", "b", ()), Level.ERR, Level.WARN, console)
    assert console.export_text().strip() == "OK: 0 ERR, 0 WARN, 0 INFO from a to b (failing on ERR)"
