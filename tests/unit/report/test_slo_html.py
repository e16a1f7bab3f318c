"""The ``slo status`` HTML page: offline, one plot per SLO, the numbers it was given."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache

from plotly.offline import get_plotlyjs
from tests.unit.slo.prometheus_fake import DAY, Phase, Traffic, availability, steady

from safeship.model.slo import SloDefinition
from safeship.report.slo_html import render_slo_html, status_figure
from safeship.slo.budget import EventCounts, event_counts, no_data
from safeship.slo.status import EventCountReader, SloStatus, slo_status

AT = 1_800_000_000.0
_FETCHING_TAG = re.compile(r"<(?:script|link|img|iframe|embed|object|source)\b[^>]*>", re.I)
_REMOTE = re.compile(r"""(?:src|href|data)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


@dataclass
class _Reader(EventCountReader):
    traffic: Traffic
    missing: frozenset[float] = frozenset()

    def counts(self, slo: SloDefinition, window_s: float, at: float) -> EventCounts:
        if window_s in self.missing:
            return no_data("no series for the total events")
        total, bad = self.traffic.counts(window_s)
        return event_counts(slo.sli.kind, bad, total)


def status(traffic: Traffic, *, missing: frozenset[float] = frozenset(),
           **slo: object) -> SloStatus:
    return slo_status(availability(**slo), _Reader(traffic, missing), AT)  # type: ignore[arg-type]


@cache
def _bundle() -> str:
    return str(get_plotlyjs())


def test_the_page_is_offline_with_plotly_inlined_once() -> None:
    statuses = [status(steady(0.0002)), status(steady(0.02), name="checkout")]
    page = render_slo_html(statuses, source="http://prom:9090")
    assert page.startswith("<!DOCTYPE html>")
    assert "Content-Security-Policy" in page
    assert page.count(_bundle()) == 1
    rest = page.replace(_bundle(), "")
    assert rest.count("Plotly.newPlot(") == 2
    assert re.findall(r'<div class="slo-plot" data-slo="([^"]*)">', page) == [
        "availability", "checkout"]
    for tag in _FETCHING_TAG.findall(rest):
        assert not _REMOTE.search(tag), tag
    assert "an error budget is exhausted" in page  # the worst state heads the page
    assert "http://prom:9090" in page


def test_the_budget_bar_and_burn_bars_carry_the_figures() -> None:
    traffic = Traffic((Phase(3600, 10.0, 0.02), Phase(40 * DAY, 10.0, 0.0002)))
    item = status(traffic)
    figure = status_figure(item)
    bars = [trace for trace in figure.data if trace.type == "bar"]
    budget_bar, burn_bars = bars
    assert budget_bar.y[0] == item.budget.remaining * 100
    assert list(burn_bars.x) == [w.name for w in item.windows]
    assert list(burn_bars.y) == [w.burn.burn_rate for w in item.windows]
    # One threshold marker pair per policy row, at its factor, on its two windows.
    marks = {trace.name: (list(trace.x), list(trace.y)) for trace in figure.data
             if trace.name and trace.name.startswith(("page", "ticket"))}
    assert marks["page 14.4x (1h/5m)"] == (["5m", "1h"], [14.4, 14.4])
    assert marks["ticket 1x (3d/6h)"] == (["6h", "3d"], [1.0, 1.0])
    page = render_slo_html([item])
    assert "firing" in page  # the 1h/5m page row fires at 20x
    assert "every SLO has error budget left" in page


def test_windows_without_data_have_no_bar_and_say_so() -> None:
    item = status(steady(0.0002), missing=frozenset({300.0}))
    figure = status_figure(item)
    burn_bars = [trace for trace in figure.data if trace.type == "bar"][1]
    assert burn_bars.y[0] is None
    page = render_slo_html([item])
    assert "no_data: no series for the total events" in page


def test_no_data_for_the_budget_is_shown_as_unknown() -> None:
    item = status(steady(0.0002), missing=frozenset({30 * DAY}))
    figure = status_figure(item)
    assert [trace.type for trace in figure.data].count("bar") == 1  # no budget bar
    assert any(a.text == "no data" for a in figure.layout.annotations)
    page = render_slo_html([item])
    assert "no data for an SLO: its budget is unknown" in page


def test_an_overspent_budget_goes_below_zero() -> None:
    item = status(steady(0.003))
    assert math.isclose(item.budget.remaining, -2.0)
    figure = status_figure(item)
    assert figure.layout.yaxis.range[0] < -200


def test_text_is_escaped() -> None:
    item = slo_status(
        SloDefinition("avail", "<b>shop</b>", 0.999, 30 * DAY,
                      availability().sli, description="<script>alert(1)</script>",
                      source="a&b.yaml:3"),
        _Reader(steady(0.0001)), AT)
    page = render_slo_html([item]).replace(_bundle(), "")
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;shop&lt;/b&gt;" in page
    assert "a&amp;b.yaml:3" in page


def test_an_empty_page_says_there_is_nothing() -> None:
    page = render_slo_html([])
    assert "No SLO to show." in page
    assert _bundle() not in page


def test_a_short_slo_window_has_fewer_alert_rows() -> None:
    item = status(steady(0.0001), window_s=3600.0)
    page = render_slo_html([item])
    assert "No alerting-policy row fits" not in page
    assert len(item.alerts) == 1
    tiny = status(steady(0.0001), window_s=1800.0)
    assert not tiny.alerts
    assert "No alerting-policy row fits inside this SLO window." in render_slo_html([tiny])
