"""Terminal canary-analysis reports: the Rich table, its colours, and the plain text for logs."""

from __future__ import annotations

import io
import math
from dataclasses import replace

import pytest
from rich.console import Console
from tests.unit.report.analysis_fixtures import (
    CRITICAL_REASON,
    ERROR_DETAIL,
    ROLLBACK_REASON,
    SCRIPT_DETAIL,
    T0,
    canary_spec,
    insufficient_report,
    proceed_report,
    rollback_report,
)

from safeship.model.analysis import (
    AnalysisVerdict,
    Classification,
    Decision,
    MetricOutcome,
    MetricVerdict,
)
from safeship.report import render_analysis_plain, render_analysis_table
from safeship.report.analysis_table import (
    decision_headline,
    format_number,
    format_time,
    not_judged,
)


def _console(width: int = 200) -> Console:
    return Console(
        record=True, width=width, color_system="truecolor", force_terminal=True, file=io.StringIO()
    )


def _rows(text: str) -> list[list[str]]:
    """The cells of the header row and each body row, stripped."""
    return [
        [cell.strip() for cell in line.replace("┃", "│").strip().strip("│").split("│")]
        for line in text.splitlines()
        if line.startswith(("│", "┃"))
    ]


def _outside_table(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith(("│", "┃", "┏", "┡", "└"))]


# --- plain text -------------------------------------------------------------------------------


def test_plain_rollback() -> None:
    assert render_analysis_plain(rollback_report(), canary_spec()) == (
        "safeship canary analysis service-x-canary: judge=sequential "
        "source=prometheus http://127.0.0.1:9090\n"
        f"[fail] error_rate: High (critical), baseline 0.0005, canary 0.0012: {ERROR_DETAIL}\n"
        "[pass] latency_p95: Pass, baseline 0.182, canary 0.191: "
        "p95 191 ms vs 182 ms, below the 500 ms ceiling\n"
        "[pass] slo_burn_rate: Pass, baseline 0.5, canary 1.2: burn rate 1.2 below the limit 3\n"
        f"[pass] checkout_success: Pass, baseline 0.991, canary 0.989: {SCRIPT_DETAIL}\n"
        f"ROLLBACK: {ROLLBACK_REASON}\n"
        "reasons:\n"
        f"    - {ROLLBACK_REASON}\n"
        f"    - {CRITICAL_REASON}\n"
        "judge sequential, score -, decided at 2025-03-14 09:39:53 UTC\n"
    )


def test_plain_proceed() -> None:
    assert render_analysis_plain(proceed_report(), canary_spec()).splitlines() == [
        "safeship canary analysis service-x-canary: judge=kayenta "
        "source=recorded .pipeline/recordings/shop-2025-03-14.json",
        "[pass] error_rate: Pass, baseline 0.0005, canary 0.00051: "
        "mean ratio 1.02; interval [-4e-05, 6e-05] includes 0",
        "[pass] latency_p95: Pass, baseline 0.182, canary 0.184: "
        "mean ratio 1.01; p95 184 ms, ceiling 500 ms",
        "[pass] slo_burn_rate: Pass, baseline 0.5, canary 0.51: "
        "mean ratio 1.02; burn rate 0.51 below 3",
        "[pass] checkout_success: Pass, baseline 0.991, canary 0.9906: "
        "mean ratio 0.9996, floor 0.98",
        "PROCEED: score 100 >= pass 95: all 4 metrics Pass",
        "reasons:",
        "    - score 100 >= pass 95: all 4 metrics Pass",
        "judge kayenta, score 100, decided at 2025-03-14 10:16:53 UTC",
    ]


def test_plain_insufficient_data() -> None:
    assert render_analysis_plain(insufficient_report(), canary_spec()).splitlines() == [
        "safeship canary analysis service-x-canary: judge=threshold source=-",
        "[nodata] error_rate: NodataFailMetric (critical), baseline -, canary -: "
        "no data for either arm after 90 s: is the canary receiving traffic?",
        "[nodata] latency_p95: Nodata, baseline 0.185, canary -: "
        "the canary's 3 latency scrapes are all NaN",
        "[inconclusive] checkout_success: Pass, baseline 0.99, canary -: "
        "1 baseline point, 0 canary points; 12 canary requests < min_sample_size 100",
        # In the spec, absent from the verdict: shown, never silently dropped.
        "not judged: slo_burn_rate",
        "INSUFFICIENT_DATA: error_rate has no data and must have data: "
        "never promote on missing data",
        "reasons:",
        "    - error_rate has no data and must have data: never promote on missing data",
        "    - 12 canary requests so far, fewer than min_sample_size 100",
        "judge threshold, score -, decided at -",
    ]


def test_plain_escapes_control_characters_and_folds_newlines() -> None:
    report = rollback_report()
    metric = replace(report.final.metrics[0], detail="line one\nline \x1b[31mtwo", name="e\x00r")
    final = replace(report.final, metrics=(metric,), reasons=("why\u202enot",))
    lines = render_analysis_plain(replace(report, final=final), canary_spec()).splitlines()

    assert lines[1] == (
        "[fail] e\\x00r: High (critical), baseline 0.0005, canary 0.0012: "
        "line one line \\x1b[31mtwo"
    )
    assert lines[-4:] == [
        "ROLLBACK: why\\u202enot",
        "reasons:",
        "    - why\\u202enot",
        "judge sequential, score -, decided at 2025-03-14 09:39:53 UTC",
    ]


# --- the Rich table ---------------------------------------------------------------------------


def test_table_rows_and_lines_below() -> None:
    console = _console()
    render_analysis_table(rollback_report(), canary_spec(), console)
    text = console.export_text()

    assert _rows(text) == [
        ["Metric", "Verdict", "Classification", "Baseline", "Canary", "Detail"],
        ["error_rate", "fail", "High (critical)", "0.0005", "0.0012", ERROR_DETAIL],
        [
            "latency_p95",
            "pass",
            "Pass",
            "0.182",
            "0.191",
            "p95 191 ms vs 182 ms, below the 500 ms ceiling",
        ],
        ["slo_burn_rate", "pass", "Pass", "0.5", "1.2", "burn rate 1.2 below the limit 3"],
        ["checkout_success", "pass", "Pass", "0.991", "0.989", SCRIPT_DETAIL],
    ]
    assert _outside_table(text) == [
        "safeship canary analysis service-x-canary: judge=sequential "
        "source=prometheus http://127.0.0.1:9090",
        f"ROLLBACK: {ROLLBACK_REASON}",
        "reasons:",
        f"    - {ROLLBACK_REASON}",
        f"    - {CRITICAL_REASON}",
        "judge sequential, score -, decided at 2025-03-14 09:39:53 UTC",
    ]


def test_table_insufficient_data_shows_dashes_and_not_judged() -> None:
    console = _console()
    render_analysis_table(insufficient_report(), canary_spec(), console)
    text = console.export_text()

    assert [row[:5] for row in _rows(text)[1:]] == [
        ["error_rate", "nodata", "NodataFailMetric (critical)", "-", "-"],
        ["latency_p95", "nodata", "Nodata", "0.185", "-"],
        ["checkout_success", "inconclusive", "Pass", "0.99", "-"],
    ]
    assert _outside_table(text)[1:3] == [
        "not judged: slo_burn_rate",
        "INSUFFICIENT_DATA: error_rate has no data and must have data: "
        "never promote on missing data",
    ]
    assert _outside_table(text)[-1] == "judge threshold, score -, decided at -"


def test_table_colours_verdicts_and_decision() -> None:
    console = _console()
    render_analysis_table(rollback_report(), canary_spec(), console)
    styled = console.export_text(styles=True)

    # Table cells are padded inside their style, so only the opening is compared.
    assert "│ \x1b[1;31mfail " in styled
    assert "│ \x1b[32mpass " in styled
    assert f"\x1b[1;31mROLLBACK: {ROLLBACK_REASON}\x1b[0m" in styled


def test_table_colours_proceed() -> None:
    console = _console()
    render_analysis_table(proceed_report(), canary_spec(), console)

    assert "\x1b[1;32mPROCEED: score 100 >= pass 95" in console.export_text(styles=True)


def test_table_colours_insufficient_data() -> None:
    console = _console()
    render_analysis_table(insufficient_report(), canary_spec(), console)
    styled = console.export_text(styles=True)

    assert "│ \x1b[33mnodata " in styled
    assert "│ \x1b[35minconclusive\x1b[0m │" in styled
    assert "\x1b[33mnot judged: slo_burn_rate\x1b[0m" in styled
    assert "\x1b[1;33mINSUFFICIENT_DATA: error_rate has no data" in styled


def test_table_never_reads_judge_text_as_markup() -> None:
    report = rollback_report()
    metric = replace(report.final.metrics[0], detail="[bold]x[/bold] [link=https://e.x]y")
    final = replace(report.final, metrics=(metric,), reasons=("[red]r[/red]",))
    console = _console()
    render_analysis_table(replace(report, final=final), canary_spec(), console)
    text = console.export_text()

    assert "[bold]x[/bold] [link=https://e.x]y" in text
    assert "ROLLBACK: [red]r[/red]" in text


def test_table_wraps_long_details_in_a_narrow_terminal() -> None:
    console = _console(width=100)
    render_analysis_table(rollback_report(), canary_spec(), console)
    rows = _rows(console.export_text())

    assert rows[1][:5] == ["error_rate", "fail", "High (critical)", "0.0005", "0.0012"]
    # The detail folds onto the next lines; nothing is cut off.
    detail = " ".join(row[5] for row in rows[1:] if row[0] in {"error_rate", ""} and row[5])
    assert "the margin 1.5" in detail


# --- helpers ----------------------------------------------------------------------------------


def _verdict(*metrics: MetricVerdict, reasons: tuple[str, ...] = ()) -> AnalysisVerdict:
    return AnalysisVerdict(Decision.ROLLBACK, "threshold", metrics, reasons)


def _metric(outcome: MetricOutcome, detail: str) -> MetricVerdict:
    return MetricVerdict("m", outcome, Classification.PASS, False, 1.0, 1.0, detail)


def test_decision_headline() -> None:
    assert decision_headline(_verdict(reasons=("first", "second"))) == "ROLLBACK: first"
    # Without reasons, the first metric that did not pass explains the decision.
    assert decision_headline(
        _verdict(
            _metric(MetricOutcome.PASS, "fine"),
            _metric(MetricOutcome.FAIL, "2.4x baseline"),
        )
    ) == "ROLLBACK: m: 2.4x baseline"
    assert decision_headline(_verdict(_metric(MetricOutcome.PASS, "fine"))) == "ROLLBACK"


def test_not_judged_keeps_spec_order() -> None:
    report = rollback_report()
    final = replace(report.final, metrics=report.final.metrics[1:2])

    assert not_judged(replace(report, final=final), canary_spec()) == (
        "error_rate",
        "slo_burn_rate",
        "checkout_success",
    )
    assert not_judged(report, canary_spec()) == ()


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "-"),
        (math.nan, "-"),
        (math.inf, "-"),
        (0.0005, "0.0005"),
        (0.000123456789, "0.000123457"),
        (1234567.0, "1.23457e+06"),
        (100.0, "100"),
        (-0.5, "-0.5"),
    ],
)
def test_format_number(value: float | None, text: str) -> None:
    assert format_number(value) == text


def test_format_time() -> None:
    assert format_time(T0) == "2025-03-14 09:26:53 UTC"
    assert format_time(None) == "-"
    assert format_time(math.inf) == "-"
