"""The canary-analysis HTML report in real headless Chromium: every plot is drawn, offline.

Playwright drives Debian's ``/usr/bin/chromium``; no browser is ever downloaded. The page is
opened from a ``file://`` URL, and the test fails on any console error, page error, or request
that leaves the file (the report must work offline).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from safeship.model.analysis import AnalysisReport
from safeship.report import render_analysis_html
from tests.requirements import require_binary
from tests.unit.report.analysis_fixtures import (
    canary_spec,
    insufficient_report,
    proceed_report,
    rollback_report,
)

pytestmark = pytest.mark.chromium

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
METRICS = ["error_rate", "latency_p95", "slo_burn_rate", "checkout_success"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Per plot container: what plotly drew. Traces with no point at all are not drawn by plotly,
# so a trace counts when its line or its markers have geometry.
_DRAWN = """
() => [...document.querySelectorAll('.metric-plot')].map(box => ({
  metric: box.dataset.metric,
  svgs: box.querySelectorAll('.main-svg').length,
  traces: box.querySelectorAll('.scatterlayer .trace').length,
  drawnTraces: [...box.querySelectorAll('.scatterlayer .trace')].filter(trace =>
    [...trace.querySelectorAll('path')].some(path => (path.getAttribute('d') || '').length > 10)
  ).length,
  shapes: box.querySelectorAll('.shapelayer path').length,
  labels: [...box.querySelectorAll('.annotation-text')].map(note => note.textContent),
  legend: [...box.querySelectorAll('.legendtext')].map(entry => entry.textContent),
}))
"""
_ALL_PLOTTED = """
() => [...document.querySelectorAll('.metric-plot')].every(box => box.querySelector('.main-svg'))
"""


@dataclass
class Visit:
    """What a page did while it loaded: console errors, page errors and requests."""

    page: Page
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def drawn(self) -> list[dict[str, Any]]:
        """The per-container drawing facts (see ``_DRAWN``)."""
        result: list[dict[str, Any]] = self.page.evaluate(_DRAWN)
        return result

    def outside_requests(self) -> list[str]:
        """Requests for anything but the file itself and inline data."""
        return [url for url in self.requests if not url.startswith(("file:", "data:", "blob:"))]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module (skips locally, fails under CI=true, if missing)."""
    executable = require_binary(
        CHROMIUM,
        "the HTML report test draws the plots in real headless Chromium "
        "(apt-get install chromium)",
    )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def visit(browser: Browser, tmp_path: Path) -> Iterator[Callable[[AnalysisReport], Visit]]:
    """Factory: render a report to a temp file, open it, and wait until plotly has drawn."""
    pages: list[Page] = []

    def open_report(report: AnalysisReport) -> Visit:
        path = tmp_path / "analysis.html"
        path.write_text(render_analysis_html(report, canary_spec()), encoding="utf-8")
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        pages.append(page)
        seen = Visit(page)

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                seen.errors.append(f"console: {message.text}")

        def on_request(request: Request) -> None:
            seen.requests.append(request.url)

        page.on("console", on_console)
        page.on("pageerror", lambda error: seen.errors.append(f"page: {error}"))
        page.on("request", on_request)
        page.goto(path.as_uri(), wait_until="load")
        try:
            page.wait_for_function(_ALL_PLOTTED, timeout=15_000)
        except PlaywrightTimeoutError:
            pytest.fail(f"plotly did not draw every plot; browser errors: {seen.errors}")
        return seen

    yield open_report
    for page in pages:
        page.close()


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_rollback_report_draws_every_plot(
    visit: Callable[[AnalysisReport], Visit], tmp_path: Path
) -> None:
    seen = visit(rollback_report())
    drawn = seen.drawn()

    assert [box["metric"] for box in drawn] == METRICS
    for box in drawn:
        assert box["svgs"] >= 1, box
        # baseline, canary, a limit line, the confidence band (upper and lower bound) and, where
        # the judge reported one, its margin
        assert box["traces"] >= 2, box
        assert box["drawnTraces"] == (6 if box["metric"] == "error_rate" else 5), box  # margin
        assert box["shapes"] >= 4, box  # three step markers and the decision marker
        assert box["labels"] == ["1%", "5%", "25%", "ROLLBACK"], box
        assert box["legend"][:2] == ["baseline", "canary"], box
    assert drawn[0]["legend"][2] == "baseline \N{MULTIPLICATION SIGN} 2 (max_increase_ratio)"
    assert drawn[1]["legend"][2] == "limit 0.5 s = 500 ms (max_absolute_ms)"
    assert seen.errors == []
    assert seen.outside_requests() == []

    # The escaped detail is shown as text, and no script from it ran.
    assert seen.page.locator("#verdicts").inner_text().count("<script>alert(1)</script>") == 1
    assert seen.page.locator(".decision").inner_text().startswith("ROLLBACK: error_rate 2.4x")

    shot = tmp_path / "analysis.png"
    seen.page.screenshot(path=str(shot), full_page=True)
    data = shot.read_bytes()
    width, height = _png_size(data)
    assert width == 1280
    assert height > 2500  # four plots, the tables and the explanations
    # A blank page of that size compresses to a few kilobytes; plots and text do not.
    assert len(data) > 100_000

    plot_shot = tmp_path / "error_rate.png"
    seen.page.locator('.metric-plot[data-metric="error_rate"]').screenshot(path=str(plot_shot))
    assert _png_size(plot_shot.read_bytes())[1] > 400
    assert plot_shot.stat().st_size > 20_000


def test_proceed_report_draws_kayenta_intervals(
    visit: Callable[[AnalysisReport], Visit],
) -> None:
    seen = visit(proceed_report())
    drawn = seen.drawn()

    assert [box["metric"] for box in drawn] == METRICS
    for box in drawn:
        assert box["svgs"] >= 1, box
        assert box["traces"] >= 2, box
        assert box["drawnTraces"] == 6, box  # ... plus the Kayenta estimate
        assert box["shapes"] >= 5, box
        assert box["labels"] == ["1%", "5%", "25%", "100%", "PROCEED"], box
        assert "estimate" in box["legend"], box
    assert seen.errors == []
    assert seen.outside_requests() == []


def test_insufficient_data_report_draws_without_errors(
    visit: Callable[[AnalysisReport], Visit],
) -> None:
    seen = visit(insufficient_report())
    by_metric = {box["metric"]: box for box in seen.drawn()}

    assert list(by_metric) == METRICS
    for box in by_metric.values():
        assert box["svgs"] >= 1, box
        assert box["shapes"] >= 2, box  # the 1% step and the decision
        assert box["labels"][-2:] == ["1%", "INSUFFICIENT_DATA"], box
    # Empty series draw nothing, and the plot says so instead of inventing a line.
    assert by_metric["error_rate"]["drawnTraces"] == 0
    assert by_metric["error_rate"]["labels"][0] == "no data"
    assert by_metric["slo_burn_rate"]["labels"][0] == "no data"
    assert by_metric["slo_burn_rate"]["drawnTraces"] == 1  # its absolute limit
    assert by_metric["latency_p95"]["traces"] >= 2
    assert seen.errors == []
    assert seen.outside_requests() == []
