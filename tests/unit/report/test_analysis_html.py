"""The canary-analysis HTML report: one offline page, one plot per metric, everything escaped."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from functools import cache

import pytest
from plotly.offline import get_plotlyjs
from tests.unit.report.analysis_fixtures import (
    INSUFFICIENT_NOW,
    ROLLBACK_AT,
    ROLLBACK_REASON,
    T0,
    canary_spec,
    insufficient_report,
    proceed_report,
    rollback_report,
)

from safeship.model.analysis import (
    AnalysisInput,
    AnalysisReport,
    Classification,
    MetricData,
    MetricOutcome,
    MetricVerdict,
    Series,
)
from safeship.model.canary import CanaryMetric, Threshold
from safeship.report import render_analysis_html
from safeship.report.analysis_html import (
    absolute_limit,
    confidence_band,
    decision_time,
    metric_figure,
    plotted_metrics,
    ratio_limits,
)

TIMES = "\N{MULTIPLICATION SIGN}"
EN_DASH = "\N{EN DASH}"
METRICS = ["error_rate", "latency_p95", "slo_burn_rate", "checkout_success"]
REPORTS: dict[str, Callable[[], AnalysisReport]] = {
    "rollback": rollback_report,
    "proceed": proceed_report,
    "insufficient": insufficient_report,
}
# Any tag that would fetch something: <script src>, <link href>, <img src>, <iframe src> ...
_FETCHING_TAG = re.compile(r"<(?:script|link|img|iframe|embed|object|source)\b[^>]*>", re.I)
_REMOTE = re.compile(r"""(?:src|href|data)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


@cache
def _bundle() -> str:
    return str(get_plotlyjs())


@cache
def _page(which: str) -> str:
    return render_analysis_html(REPORTS[which](), canary_spec())


def _without_bundle(page: str) -> str:
    """The page minus plotly.js itself, whose minified code mentions tags and URLs as data."""
    return page.replace(_bundle(), "")


def _plot_containers(page: str) -> list[str]:
    return re.findall(r'<div class="metric-plot" data-metric="([^"]*)">', page)


def _t(offset: int) -> str:
    """How the figure writes T0 + offset seconds on its date axis (naive UTC)."""
    return {
        0: "2025-03-14 09:26:53.000",
        -30: "2025-03-14 09:26:23.000",
        120: "2025-03-14 09:28:53.000",
        240: "2025-03-14 09:30:53.000",
        300: "2025-03-14 09:31:53.000",
        360: "2025-03-14 09:32:53.000",
        480: "2025-03-14 09:34:53.000",
        600: "2025-03-14 09:36:53.000",
        720: "2025-03-14 09:38:53.000",
        780: "2025-03-14 09:39:53.000",
        810: "2025-03-14 09:40:23.000",
        90: "2025-03-14 09:28:23.000",
    }[offset]


# --- the page as a whole ----------------------------------------------------------------------


@pytest.mark.parametrize("which", sorted(REPORTS))
def test_plotly_is_inlined_exactly_once(which: str) -> None:
    page = _page(which)

    assert page.count(_bundle()) == 1
    rest = _without_bundle(page)
    assert "plotly.js v" not in rest  # no second, differently cut copy either
    assert rest.count("Plotly.newPlot(") == len(METRICS)


@pytest.mark.parametrize("which", sorted(REPORTS))
def test_one_plot_container_per_metric(which: str) -> None:
    page = _page(which)

    assert _plot_containers(page) == METRICS
    assert re.findall(r'class="plotly-graph-div"', page) == ["class=\"plotly-graph-div\""] * 4
    assert re.findall(r'<div id="(metric-plot-\d+)"', page) == [
        "metric-plot-0",
        "metric-plot-1",
        "metric-plot-2",
        "metric-plot-3",
    ]


@pytest.mark.parametrize("which", sorted(REPORTS))
def test_page_is_offline(which: str) -> None:
    rest = _without_bundle(_page(which))

    tags = _FETCHING_TAG.findall(rest)
    assert tags  # the inline scripts are there ...
    assert all(tag.lower() == "<script>" or tag.startswith("<script type=") for tag in tags)
    assert not [tag for tag in tags if _REMOTE.search(tag)]  # ... and none loads anything
    assert "cdn.plot.ly" not in rest
    assert "@import" not in rest
    assert "url(" not in rest
    assert (
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; "
        'font-src data:">'
    ) in rest


def test_header_shows_decision_in_colour() -> None:
    page = _page("rollback")

    assert "<title>Canary analysis service-x-canary: ROLLBACK</title>" in page
    assert "<h1>Canary analysis: service-x-canary</h1>" in page
    assert (
        f'<p class="decision" style="background:#cf222e">ROLLBACK: {ROLLBACK_REASON}</p>' in page
    )
    assert (
        '<dl class="facts">\n'
        "<dt>config</dt><dd>service-x-canary</dd>\n"
        "<dt>judge</dt><dd>sequential</dd>\n"
        "<dt>source</dt><dd>prometheus http://127.0.0.1:9090</dd>\n"
        "<dt>score</dt><dd>-</dd>\n"
        "<dt>decided at</dt><dd>2025-03-14 09:39:53 UTC</dd>\n"
        "<dt>steps reached</dt><dd>1%, 5%, 25%</dd>\n"
        "</dl>"
    ) in page


def test_header_of_other_decisions() -> None:
    proceed = _page("proceed")
    insufficient = _page("insufficient")

    assert '<p class="decision" style="background:#1a7f37">PROCEED: score 100 &gt;= pass 95' in (
        proceed
    )
    assert "<dt>score</dt><dd>100</dd>" in proceed
    assert '<p class="decision" style="background:#9a6700">INSUFFICIENT_DATA: ' in insufficient
    assert "<dt>source</dt><dd>-</dd>" in insufficient
    # No time on the final verdict: the decision fell at the input's "now".
    assert "<dt>decided at</dt><dd>2025-03-14 09:28:23 UTC</dd>" in insufficient
    assert "<dt>not judged</dt><dd>slo_burn_rate</dd>" in insufficient


def test_text_is_escaped_and_unicode_kept() -> None:
    page = _page("rollback")
    rest = _without_bundle(page)

    assert "<script>alert(1)</script>" not in page
    assert 'page="<script>' not in page
    escaped = (
        "checkout “ñandú” ✓ 98.9% vs 99.1% (ratio 0.998 ≥ 0.98) on "
        "page=&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;"
    )
    assert rest.count(escaped) == 2  # the verdict table and the explanations
    assert rest.count("<script") == 2 + len(METRICS)  # PlotlyConfig, bundle, one per plot


def test_verdict_table_and_explanations() -> None:
    page = _page("rollback")

    assert (
        "<tr><td>error_rate</td>"
        '<td class="verdict" style="color:#cf222e">fail</td>'
        "<td>High</td><td>yes</td>"
        '<td class="num">0.0005</td><td class="num">0.0012</td>'
        "<td>error_rate 2.4x baseline (0.12% vs 0.05%), limit 2x: the confidence sequence of "
        "the ratio [1.62, 3.55] lies above the margin 1.5</td></tr>"
    ) in page
    assert (
        "<tr><td>latency_p95</td>"
        '<td class="verdict" style="color:#1a7f37">pass</td>'
        "<td>Pass</td><td>no</td>"
        '<td class="num">0.182</td><td class="num">0.191</td>'
        "<td>p95 191 ms vs 182 ms, below the 500 ms ceiling</td></tr>"
    ) in page
    assert (
        '<ul class="reasons">\n'
        f"<li>{ROLLBACK_REASON}</li>\n"
        "<li>critical metric error_rate failed; failure_count_threshold 1 rolls back now</li>\n"
        "</ul>"
    ) in page
    assert "<dt>slo_burn_rate</dt><dd>burn rate 1.2 below the limit 3</dd>" in page
    timeline = page[page.index('<section id="timeline">') :]
    assert timeline.count("<tr><td>") == 7
    assert (
        '<tr><td>2025-03-14 09:39:53 UTC</td><td style="color:#cf222e">ROLLBACK</td>'
        '<td class="num">-</td></tr>'
    ) in timeline


def test_sections_say_limits_and_verdict() -> None:
    rollback = _page("rollback")
    insufficient = _page("insufficient")

    assert '<p class="metric-meta">limits: max_increase_ratio 2; verdict fail (High)</p>' in (
        rollback
    )
    assert '<p class="metric-meta">limits: max_absolute_ms 500; verdict pass (Pass)</p>' in (
        rollback
    )
    assert (
        '<p class="metric-meta">limits: max_absolute 3; no verdict; no series recorded</p>'
        in insufficient
    )


def test_page_explains_the_confidence_panel() -> None:
    page = _page("proceed")

    assert "<h2>How to read the plots</h2>" in page
    assert "second, smaller panel" in page
    assert "<code>ci_lower</code>" in page
    assert "<code>cs_lower</code>" in page


# --- the figures ------------------------------------------------------------------------------


def test_error_rate_figure_of_the_rollback() -> None:
    report = rollback_report()
    figure = metric_figure(report, canary_spec(), "error_rate")

    assert [(trace.name, trace.yaxis) for trace in figure.data] == [
        ("baseline", "y"),
        ("canary", "y"),
        (f"baseline {TIMES} 2 (max_increase_ratio)", "y"),
        ("cs_upper", "y2"),
        (f"confidence sequence (cs_lower {EN_DASH} cs_upper)", "y2"),
        ("margin 1.5", "y2"),
    ]
    baseline, canary, ratio, upper, lower, margin = figure.data
    assert len(canary.x) == 26
    assert canary.x[0] == "2025-03-14 09:27:23.000"
    # The two missed scrapes are gaps (null), and plotly is told not to join over them.
    assert canary.y[6:10] == (0.00052825, None, None, 0.0005408)
    assert canary.connectgaps is False
    assert ratio.y[:3] == tuple(value * 2 for value in baseline.y[:3])
    assert ratio.line.dash == "dot"
    assert upper.x == tuple(_t(at) for at in (120, 240, 360, 480, 600, 720, 780))
    assert upper.y == (7.9, 1.46, 1.41, 1.33, 1.29, 3.02, 3.55)
    assert lower.y == (0.18, 0.55, 0.61, 0.68, 0.72, 1.21, 1.62)
    assert lower.fill == "tonexty"
    # The judge's margin, in the band's units, over the evaluations.
    assert (margin.x, margin.y) == ((_t(120), _t(780)), (1.5, 1.5))
    # A metric whose verdicts report no margin gets none.
    latency = metric_figure(report, canary_spec(), "latency_p95")
    assert not [trace for trace in latency.data if trace.name.startswith("margin")]
    shapes = figure.layout.shapes
    assert [(shape.x0, shape.x1, shape.yref, shape.line.color) for shape in shapes] == [
        (_t(0), _t(0), "paper", "#57606a"),
        (_t(300), _t(300), "paper", "#57606a"),
        (_t(600), _t(600), "paper", "#57606a"),
        (_t(780), _t(780), "paper", "#cf222e"),
    ]
    assert [(note.text, note.x) for note in figure.layout.annotations] == [
        ("1%", _t(0)),
        ("5%", _t(300)),
        ("25%", _t(600)),
        ("<b>ROLLBACK</b>", _t(780)),
    ]
    assert figure.layout.xaxis.type == "date"
    assert figure.layout.xaxis.range == (_t(-30), _t(810))
    assert figure.layout.title.text == (
        "<b>error_rate</b> · availability · must not increase · critical"
    )


def test_absolute_limits_in_the_series_unit() -> None:
    report = rollback_report()
    latency = metric_figure(report, canary_spec(), "latency_p95")
    burn = metric_figure(report, canary_spec(), "slo_burn_rate")
    checkout = metric_figure(report, canary_spec(), "checkout_success")

    limit = latency.data[2]
    assert limit.name == "limit 0.5 s = 500 ms (max_absolute_ms)"
    assert limit.x == (_t(0), _t(780))  # from the first step to the decision
    assert limit.y == (0.5, 0.5)
    assert limit.line.dash == "dash"
    assert (burn.data[2].name, burn.data[2].y) == ("limit 3 (max_absolute)", (3, 3))
    floor = checkout.data[2]
    assert floor.name == f"baseline {TIMES} 0.98 (min_ratio, floor)"
    assert floor.y[0] == pytest.approx(checkout.data[0].y[0] * 0.98)
    assert checkout.layout.title.text == "<b>checkout_success</b> · business · must not decrease"


def test_kayenta_interval_with_estimate() -> None:
    report = proceed_report()
    band = confidence_band(report, "latency_p95")
    figure = metric_figure(report, canary_spec(), "latency_p95")

    assert band is not None
    assert band.kind == "ci"
    assert [(point.at - T0, point.lower, point.upper, point.estimate) for point in band.points] == [
        (300, pytest.approx(-0.018), pytest.approx(0.033), 0.002),
        (600, pytest.approx(-0.012), pytest.approx(0.022), 0.002),
        (1200, pytest.approx(-0.009), pytest.approx(0.0165), 0.002),
        (3000, -0.006, 0.011, 0.002),
    ]
    assert [trace.name for trace in figure.data] == [
        "baseline",
        "canary",
        "limit 0.5 s = 500 ms (max_absolute_ms)",
        "ci_upper",
        f"confidence interval (ci_lower {EN_DASH} ci_upper)",
        "estimate",
    ]
    assert [note.text for note in figure.layout.annotations] == [
        "1%",
        "5%",
        "25%",
        "100%",
        "<b>PROCEED</b>",
    ]
    # The baseline's two missing scrapes are gaps.
    assert figure.data[0].y[20:22] == (None, None)


def test_insufficient_data_figures() -> None:
    report = insufficient_report()
    spec = canary_spec()
    error_rate = metric_figure(report, spec, "error_rate")
    burn = metric_figure(report, spec, "slo_burn_rate")

    # NaN/inf bounds are no band: one panel only.
    assert confidence_band(report, "error_rate") is None
    assert error_rate.layout.height == 460
    assert [len(trace.x) for trace in error_rate.data] == [0, 0, 0]
    assert [note.text for note in error_rate.layout.annotations] == [
        "no data",
        "1%",
        "<b>INSUFFICIENT_DATA</b>",
    ]
    assert error_rate.layout.yaxis.showticklabels is False
    # The final verdict has no time, so the decision marker sits at the input's "now".
    assert decision_time(report) == INSUFFICIENT_NOW
    assert error_rate.layout.shapes[-1].x0 == _t(90)
    assert error_rate.layout.xaxis.range == (_t(-30), "2025-03-14 09:28:53.000")
    # In the spec, neither data nor verdict: still plotted, with its limit.
    assert plotted_metrics(report, spec) == tuple(METRICS)
    assert [trace.name for trace in burn.data] == ["baseline", "canary", "limit 3 (max_absolute)"]
    assert burn.layout.yaxis.showticklabels is None  # the limit gives the axis a scale


def test_absolute_limit() -> None:
    assert absolute_limit(Threshold(), [1.0]) is None
    assert absolute_limit(Threshold(max_absolute=3), []) == (3, "limit 3 (max_absolute)")
    seconds = absolute_limit(Threshold(max_absolute_ms=500), [0.2, float("nan"), 0.3])
    assert seconds == (0.5, "limit 0.5 s = 500 ms (max_absolute_ms)")
    # Values of 100 and more are milliseconds already.
    assert absolute_limit(Threshold(max_absolute_ms=500), [180.0, 240.0]) == (
        500,
        "limit 500 ms (max_absolute_ms)",
    )
    # No values: Prometheus' convention, seconds.
    assert absolute_limit(Threshold(max_absolute_ms=250), []) == (
        0.25,
        "limit 0.25 s = 250 ms (max_absolute_ms)",
    )
    # Both set: the lower ceiling is the one that binds.
    assert absolute_limit(Threshold(max_absolute=0.4, max_absolute_ms=500), [0.1]) == (
        0.4,
        "limit 0.4 (max_absolute)",
    )


def test_ratio_limits() -> None:
    assert ratio_limits(Threshold()) == ()
    assert ratio_limits(Threshold(max_increase_ratio=2, max_increase_pct=20, min_ratio=0.98)) == (
        (2, f"baseline {TIMES} 2 (max_increase_ratio)"),
        (1.2, "baseline + 20% (max_increase_pct)"),
        (0.98, f"baseline {TIMES} 0.98 (min_ratio, floor)"),
    )


# --- hostile names and edge cases -------------------------------------------------------------


def test_metric_names_are_escaped_everywhere() -> None:
    name = 'p95 "<b>checkout</b>" & <img src=x onerror=alert(1)>'
    series = Series((T0 + 30, T0 + 60), (0.1, 0.2))
    report = rollback_report()
    verdict = MetricVerdict(
        name, MetricOutcome.PASS, Classification.PASS, False, 0.1, 0.2, "fine <i>really</i>"
    )
    spec = canary_spec()
    spec = replace(
        spec, metrics=(CanaryMetric(name, "q", Threshold(max_absolute_ms=500)),)
    )
    report = replace(
        report,
        config_name="shop</title><script>x()</script>",
        data=replace(report.data, metrics={name: MetricData(name, series, series)}),
        final=replace(report.final, metrics=(verdict,), reasons=("<b>why</b>",)),
    )
    page = render_analysis_html(report, spec)
    rest = _without_bundle(page)
    escaped = "p95 &quot;&lt;b&gt;checkout&lt;/b&gt;&quot; &amp; &lt;img src=x onerror=alert(1)&gt;"

    assert _plot_containers(page) == [escaped]
    assert f"<h2>{escaped}</h2>" in page
    assert "<img" not in rest
    assert "<b>checkout" not in rest
    title = "shop&lt;/title&gt;&lt;script&gt;x()&lt;/script&gt;"
    assert f"<title>Canary analysis {title}: ROLLBACK</title>" in page
    assert "<li>&lt;b&gt;why&lt;/b&gt;</li>" in page
    assert "fine &lt;i&gt;really&lt;/i&gt;" in page
    # plotly reads a little HTML in labels, so the name goes in escaped, and plotly's JSON
    # in turn escapes "<" and "/", so nothing can close the inline <script> early.
    figure = metric_figure(report, spec, name)
    assert figure.layout.title.text.startswith(f"<b>{escaped}</b>")
    assert rest.count("</script>") == 2 + 1


def test_a_report_without_metrics_has_no_plots() -> None:
    report = rollback_report()
    empty = replace(
        report,
        data=AnalysisInput(metrics={}, now=ROLLBACK_AT),
        final=replace(report.final, metrics=()),
        timeline=(),
    )
    page = render_analysis_html(empty, replace(canary_spec(), metrics=()))

    assert _bundle() not in page
    assert "Plotly" not in page
    assert '<p class="empty">This analysis has no metrics to plot.</p>' in page
    assert '<tr><td colspan="7">no metric verdicts</td></tr>' in page
    assert '<tr><td colspan="3">no verdicts recorded</td></tr>' in page


def test_metrics_outside_the_spec_are_plotted_after_it() -> None:
    report = rollback_report()
    extra = MetricData("cpu", Series((T0,), (0.5,)), Series((T0,), (0.6,)))
    metrics = {**report.data.metrics, "cpu": extra}
    report = replace(report, data=replace(report.data, metrics=metrics))
    spec = canary_spec()

    assert plotted_metrics(report, spec) == (*METRICS, "cpu")
    figure = metric_figure(report, spec, "cpu")
    assert figure.layout.title.text == "<b>cpu</b> (not in the canary-analysis file)"
    assert [trace.name for trace in figure.data] == ["baseline", "canary"]
