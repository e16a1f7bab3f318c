"""The canary-analysis HTML report: one self-contained page with a plot per metric.

``render_analysis_html`` writes a single HTML document that works offline. plotly.js is
inlined once, with the first figure; the other figures reuse it. No CDN, no web font, no
network request. A Content-Security-Policy forbids the page from loading anything.

The page holds:

- a header: config, judge, source, the final decision in its colour, score, decision time;
- one section per metric, with a plotly figure inside ``<div class="metric-plot"
  data-metric="NAME">``. The figure shows baseline and canary over time, with gaps where points
  are missing. It shows the metric's absolute limit as a dashed line and the baseline times
  each ratio limit as a dotted line. It marks where each traffic step began ("1%", "5%", ...)
  and where the decision fell. When the verdicts carry a confidence interval
  (``ci_lower``/``ci_upper``) or a confidence sequence (``cs_lower``/``cs_upper``), a second
  panel under the series plots it over evaluation time, on the same time axis;
- the verdict table, every metric's explanation, the reasons, and the verdict timeline.

All text from the report or the config is escaped with ``html.escape``; text inside the plots
is escaped too, since plotly reads a small HTML subset in labels. ``metric_figure`` builds one
metric's figure and can be used on its own.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from safeship.model.analysis import (
    AnalysisReport,
    AnalysisVerdict,
    Decision,
    MetricOutcome,
    Series,
)
from safeship.model.canary import CanaryMetric, CanarySpec, Direction, Threshold
from safeship.report.analysis_json import finite_or_none
from safeship.report.analysis_table import (
    decision_headline,
    format_number,
    format_time,
    not_judged,
)

if TYPE_CHECKING:
    import plotly.graph_objects as go

DECISION_COLOURS: dict[Decision, str] = {
    Decision.PROCEED: "#1a7f37",
    Decision.ROLLBACK: "#cf222e",
    Decision.INSUFFICIENT_DATA: "#9a6700",
}

OUTCOME_COLOURS: dict[MetricOutcome, str] = {
    MetricOutcome.PASS: "#1a7f37",
    MetricOutcome.FAIL: "#cf222e",
    MetricOutcome.NODATA: "#9a6700",
    MetricOutcome.INCONCLUSIVE: "#8250df",
}

#: Latency values below this are taken to be seconds (Prometheus' convention), others ms.
SECONDS_BELOW = 100.0

# Typographic signs for plot labels, spelled out so that no look-alike hides in the source.
_TIMES = "\N{MULTIPLICATION SIGN}"
_EN_DASH = "\N{EN DASH}"

_BASELINE_COLOUR = "#0969da"
_CANARY_COLOUR = "#d4560b"
_LIMIT_COLOUR = "#6e7781"
_BAND_COLOUR = "rgba(130, 80, 223, 0.22)"
_BAND_LINE = "#8250df"
_STEP_COLOUR = "#57606a"
_FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
_MARGIN = {"l": 70, "r": 30, "t": 90, "b": 130}
_PLOT_CONFIG: dict[str, Any] = {"displaylogo": False, "responsive": True}
_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:"
)


@dataclass(frozen=True)
class BandPoint:
    """One verdict's interval for one metric: when it was evaluated and its bounds."""

    at: float
    lower: float
    upper: float
    estimate: float | None


@dataclass(frozen=True)
class Band:
    """A metric's intervals over evaluation time; ``kind`` is ``"cs"`` or ``"ci"``."""

    kind: str
    points: tuple[BandPoint, ...]


def render_analysis_html(report: AnalysisReport, spec: CanarySpec) -> str:
    """The analysis as one self-contained, offline HTML document."""
    names = plotted_metrics(report, spec)
    sections = [
        _metric_section(report, spec, name, index, include_plotlyjs=index == 0)
        for index, name in enumerate(names)
    ]
    if not sections:
        sections.append('<p class="empty">This analysis has no metrics to plot.</p>')
    final = report.final
    colour = DECISION_COLOURS.get(final.decision, "#24292f")
    title = f"Canary analysis {report.config_name}: {final.decision.value}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        _header(report, spec, colour),
        "<main>",
        _how_to_read(),
        *sections,
        _verdict_table(report),
        _explanations(report),
        _timeline_table(report),
        "</main>",
        '<footer>Written by safeship. This file is self-contained and works offline.</footer>',
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def plotted_metrics(report: AnalysisReport, spec: CanarySpec) -> tuple[str, ...]:
    """Every metric the page plots: the spec's, then any others the verdict or data name."""
    names = [metric.name for metric in spec.metrics]
    names += [metric.name for metric in report.final.metrics]
    names += list(report.data.metrics)
    return tuple(dict.fromkeys(names))


def decision_time(report: AnalysisReport) -> float:
    """When the decision fell: the final verdict's time, else the input's ``now``."""
    moment = finite_or_none(report.final.evaluated_at)
    return report.data.now if moment is None else moment


def metric_figure(report: AnalysisReport, spec: CanarySpec, name: str) -> go.Figure:
    """The plotly figure of metric ``name``: series, limits, steps, decision, optional band."""
    # plotly takes a tenth of a second to import; only the HTML report should pay for it.
    from plotly.subplots import make_subplots

    config = _spec_metric(spec, name)
    data = report.data.metrics.get(name)
    band = confidence_band(report, name)
    rows = 2 if band is not None else 1
    figure = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.1,
        row_heights=[0.68, 0.32] if rows == 2 else None,
    )
    baseline = data.baseline if data is not None else Series()
    canary = data.canary if data is not None else Series()
    figure.add_trace(_series_trace("baseline", baseline, _BASELINE_COLOUR), row=1, col=1)
    figure.add_trace(_series_trace("canary", canary, _CANARY_COLOUR), row=1, col=1)
    span = _time_span(report, baseline, canary)
    if config is not None:
        for trace in _limit_traces(config.threshold, baseline, canary, span):
            figure.add_trace(trace, row=1, col=1)
    if band is not None:
        for trace in _band_traces(band):
            figure.add_trace(trace, row=2, col=1)
        for trace in _margin_traces(report, name, band):
            figure.add_trace(trace, row=2, col=1)
        figure.update_yaxes(title_text=_band_axis_title(band), row=2, col=1)
    if not baseline.finite_values() and not canary.finite_values():
        figure.add_annotation(
            text="no data", xref="x domain", yref="y domain", x=0.5, y=0.5, showarrow=False,
            font={"size": 18, "color": _LIMIT_COLOUR},
        )
        ceiling = config is not None and absolute_limit(config.threshold, ()) is not None
        if not ceiling:
            # Nothing sets the scale: plotly's default -1..4 would only suggest numbers.
            figure.update_yaxes(showticklabels=False, row=1, col=1)
    _add_markers(figure, report)
    if band is not None:
        span = _widen(span, (point.at for point in band.points))
    if span is not None:
        # A fixed date axis: without data plotly would not know the markers' dates are dates.
        figure.update_xaxes(type="date", range=_padded(span))
    figure.update_yaxes(title_text=_e(name), row=1, col=1)
    figure.update_xaxes(title_text="time (UTC)", row=rows, col=1)
    height = 600 if rows == 2 else 460
    # plotly places the legend in fractions of the plot area; put it a fixed 75 px below the
    # plot area so that it clears the tick labels and the axis title at any height.
    legend_y = -75 / (height - _MARGIN["t"] - _MARGIN["b"])
    figure.update_layout(
        template="plotly_white",
        title={"text": _figure_title(name, config), "x": 0.01, "xanchor": "left"},
        height=height,
        margin=_MARGIN,
        font={"family": _FONT, "size": 13, "color": "#24292f"},
        legend={"orientation": "h", "x": 0, "y": legend_y, "xanchor": "left", "yanchor": "top"},
        hovermode="x unified",
    )
    return figure


def confidence_band(report: AnalysisReport, name: str) -> Band | None:
    """The intervals the verdicts carried for ``name`` over evaluation time, or None.

    A confidence sequence (``cs_lower``/``cs_upper``) wins over an interval
    (``ci_lower``/``ci_upper``) when a verdict has both. Points without a finite time and two
    finite bounds are left out; a metric with no point left has no band.
    """
    verdicts = list(report.timeline)
    if report.final not in verdicts:
        verdicts.append(report.final)
    for kind in ("cs", "ci"):
        points: dict[float, BandPoint] = {}
        for verdict in verdicts:
            point = _band_point(verdict, name, kind)
            if point is not None:
                points[point.at] = point
        if points:
            return Band(kind, tuple(points[at] for at in sorted(points)))
    return None


def absolute_limit(threshold: Threshold, values: Sequence[float]) -> tuple[float, str] | None:
    """The ceiling in the series' own unit and its legend label, or None without one.

    ``max_absolute`` is already in the metric's unit. ``max_absolute_ms`` is converted. A latency
    series whose values are all below 100 is in seconds; so is one with no values, as in
    Prometheus. When both limits are set, the lower ceiling is drawn.
    """
    limits: list[tuple[float, str]] = []
    if threshold.max_absolute is not None:
        limits.append(
            (threshold.max_absolute, f"limit {threshold.max_absolute:g} (max_absolute)")
        )
    if threshold.max_absolute_ms is not None:
        ms = threshold.max_absolute_ms
        finite = [abs(value) for value in values if math.isfinite(value)]
        if not finite or max(finite) < SECONDS_BELOW:
            limits.append((ms / 1000.0, f"limit {ms / 1000.0:g} s = {ms:g} ms (max_absolute_ms)"))
        else:
            limits.append((ms, f"limit {ms:g} ms (max_absolute_ms)"))
    return min(limits) if limits else None


def ratio_limits(threshold: Threshold) -> tuple[tuple[float, str], ...]:
    """The factors on the baseline that the canary may not cross, with their legend labels."""
    limits: list[tuple[float, str]] = []
    if threshold.max_increase_ratio is not None:
        ratio = threshold.max_increase_ratio
        limits.append((ratio, f"baseline {_TIMES} {ratio:g} (max_increase_ratio)"))
    if threshold.max_increase_pct is not None:
        pct = threshold.max_increase_pct
        limits.append((1.0 + pct / 100.0, f"baseline + {pct:g}% (max_increase_pct)"))
    if threshold.min_ratio is not None:
        floor = threshold.min_ratio
        limits.append((floor, f"baseline {_TIMES} {floor:g} (min_ratio, floor)"))
    return tuple(limits)


# --- figure pieces -----------------------------------------------------------------------------


def _spec_metric(spec: CanarySpec, name: str) -> CanaryMetric | None:
    try:
        return spec.metric(name)
    except KeyError:
        return None


def _plot_time(timestamp: float) -> str:
    # plotly.js ignores time zones, so hand it naive UTC text and say "UTC" on the axis.
    moment = datetime.fromtimestamp(timestamp, UTC).replace(tzinfo=None)
    return moment.isoformat(sep=" ", timespec="milliseconds")


def _points(series: Series) -> tuple[list[str], list[float | None]]:
    times: list[str] = []
    values: list[float | None] = []
    for timestamp, value in zip(series.timestamps, series.values, strict=True):
        if math.isfinite(timestamp):
            times.append(_plot_time(timestamp))
            # None (JSON null) makes plotly leave a gap instead of joining across it.
            values.append(finite_or_none(value))
    return times, values


def _series_trace(name: str, series: Series, colour: str) -> go.Scatter:
    import plotly.graph_objects as go

    times, values = _points(series)
    return go.Scatter(
        x=times, y=values, name=name, mode="lines+markers", connectgaps=False,
        line={"color": colour, "width": 2}, marker={"size": 4, "color": colour},
    )


def _time_span(report: AnalysisReport, *series: Series) -> tuple[float, float] | None:
    moments = [t for one in series for t in one.timestamps if math.isfinite(t)]
    moments += [step.start for step in report.data.steps if math.isfinite(step.start)]
    if math.isfinite(decision_time(report)):
        moments.append(decision_time(report))
    return (min(moments), max(moments)) if moments else None


def _widen(
    span: tuple[float, float] | None, moments: Iterable[float]
) -> tuple[float, float] | None:
    times = [*(span or ()), *(t for t in moments if math.isfinite(t))]
    return (min(times), max(times)) if times else None


def _padded(span: tuple[float, float]) -> list[str]:
    start, end = span
    pad = max((end - start) * 0.03, 30.0)
    return [_plot_time(start - pad), _plot_time(end + pad)]


def _limit_traces(
    threshold: Threshold, baseline: Series, canary: Series, span: tuple[float, float] | None
) -> Iterable[go.Scatter]:
    import plotly.graph_objects as go

    limit = absolute_limit(threshold, (*baseline.values, *canary.values))
    if limit is not None and span is not None:
        value, label = limit
        yield go.Scatter(
            x=[_plot_time(span[0]), _plot_time(span[1])], y=[value, value], name=label,
            mode="lines", line={"color": _LIMIT_COLOUR, "dash": "dash", "width": 2},
        )
    times, values = _points(baseline)
    for factor, label in ratio_limits(threshold):
        scaled = [None if value is None else value * factor for value in values]
        yield go.Scatter(
            x=times, y=scaled, name=label, mode="lines", connectgaps=False,
            line={"color": _LIMIT_COLOUR, "dash": "dot", "width": 1.5},
        )


def _band_point(verdict: AnalysisVerdict, name: str, kind: str) -> BandPoint | None:
    at = finite_or_none(verdict.evaluated_at)
    if at is None:
        return None
    for metric in verdict.metrics:
        if metric.name != name:
            continue
        lower = finite_or_none(metric.statistics.get(f"{kind}_lower"))
        upper = finite_or_none(metric.statistics.get(f"{kind}_upper"))
        if lower is None or upper is None:
            return None
        estimate = finite_or_none(metric.statistics.get("estimate"))
        return BandPoint(at, lower, upper, estimate)
    return None


def _band_label(band: Band) -> str:
    if band.kind == "cs":
        return f"confidence sequence (cs_lower {_EN_DASH} cs_upper)"
    return f"confidence interval (ci_lower {_EN_DASH} ci_upper)"


def _band_axis_title(band: Band) -> str:
    return "cs bounds" if band.kind == "cs" else "ci bounds"


def _band_traces(band: Band) -> Iterable[go.Scatter]:
    import plotly.graph_objects as go

    times = [_plot_time(point.at) for point in band.points]
    label = _band_label(band)
    yield go.Scatter(
        x=times, y=[point.upper for point in band.points], name=f"{band.kind}_upper",
        mode="lines+markers", legendgroup="band", showlegend=False,
        line={"color": _BAND_LINE, "width": 1}, marker={"size": 4},
    )
    yield go.Scatter(
        x=times, y=[point.lower for point in band.points], name=label,
        mode="lines+markers", legendgroup="band", fill="tonexty", fillcolor=_BAND_COLOUR,
        line={"color": _BAND_LINE, "width": 1}, marker={"size": 4},
    )
    if any(point.estimate is not None for point in band.points):
        yield go.Scatter(
            x=times, y=[point.estimate for point in band.points], name="estimate",
            mode="lines+markers", legendgroup="band",
            line={"color": _BAND_LINE, "width": 2, "dash": "dot"}, marker={"size": 5},
        )


def _margin_traces(report: AnalysisReport, name: str, band: Band) -> Iterable[go.Scatter]:
    """The margins the band is held against, when the final verdict reports them.

    The sequential judge reports ``margin`` (and ``margin_lower`` for metrics that may not move
    either way) in the same units as its confidence sequence, so they share the panel.
    """
    import plotly.graph_objects as go

    metric = next((m for m in report.final.metrics if m.name == name), None)
    if metric is None or band.kind != "cs":
        return
    first, last = _plot_time(band.points[0].at), _plot_time(band.points[-1].at)
    for key in ("margin", "margin_lower"):
        value = finite_or_none(metric.statistics.get(key))
        if value is not None:
            yield go.Scatter(
                x=[first, last], y=[value, value], name=f"{key} {value:g}", mode="lines",
                legendgroup="band", line={"color": _LIMIT_COLOUR, "dash": "dash", "width": 1.5},
            )


def _add_markers(figure: go.Figure, report: AnalysisReport) -> None:
    # Lines span the whole figure height ("paper"), so they cross the band panel as well.
    for step in report.data.steps:
        if not math.isfinite(step.start):
            continue
        when = _plot_time(step.start)
        figure.add_shape(
            type="line", xref="x", yref="paper", x0=when, x1=when, y0=0, y1=1,
            line={"color": _STEP_COLOUR, "width": 1, "dash": "dot"}, name="step",
        )
        figure.add_annotation(
            x=when, xref="x", y=1, yref="paper", yanchor="bottom", xanchor="left",
            text=f"{step.percentage:g}%", showarrow=False,
            font={"size": 12, "color": _STEP_COLOUR}, name="step",
        )
    decision = report.final.decision
    colour = DECISION_COLOURS.get(decision, "#24292f")
    when = _plot_time(decision_time(report))
    figure.add_shape(
        type="line", xref="x", yref="paper", x0=when, x1=when, y0=0, y1=1,
        line={"color": colour, "width": 2}, name="decision",
    )
    # Above the plot like the step labels, but growing leftwards from its line: step labels
    # grow rightwards, so the two never cover each other or the data.
    figure.add_annotation(
        x=when, xref="x", y=1, yref="paper", yanchor="bottom", xanchor="right",
        text=f"<b>{_e(decision.value)}</b>", showarrow=False, bgcolor=colour,
        font={"size": 12, "color": "#ffffff"}, borderpad=3, name="decision",
    )


def _figure_title(name: str, config: CanaryMetric | None) -> str:
    if config is None:
        return f"<b>{_e(name)}</b> (not in the canary-analysis file)"
    facts = [config.category.value, _direction_text(config.direction)]
    if config.critical:
        facts.append("critical")
    return f"<b>{_e(name)}</b> · " + " · ".join(_e(fact) for fact in facts)


def _direction_text(direction: Direction) -> str:
    if direction is Direction.EITHER:
        return "must not change"
    return f"must not {direction.value}"


# --- page pieces -------------------------------------------------------------------------------


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _metric_section(
    report: AnalysisReport, spec: CanarySpec, name: str, index: int, *, include_plotlyjs: bool
) -> str:
    figure = metric_figure(report, spec, name)
    plot = str(
        figure.to_html(
            full_html=False,
            include_plotlyjs=include_plotlyjs,
            div_id=f"metric-plot-{index}",
            config=_PLOT_CONFIG,
            default_width="100%",
        )
    )
    config = _spec_metric(spec, name)
    verdict = next((m for m in report.final.metrics if m.name == name), None)
    meta = [_limits_text(config.threshold) if config is not None else "not configured"]
    if verdict is not None:
        meta.append(f"verdict {verdict.outcome.value} ({verdict.classification.value})")
    else:
        meta.append("no verdict")
    data = report.data.metrics.get(name)
    if data is None:
        meta.append("no series recorded")
    return "\n".join(
        [
            f'<section class="metric" id="metric-{index}">',
            f"<h2>{_e(name)}</h2>",
            f'<p class="metric-meta">{_e("; ".join(meta))}</p>',
            f'<div class="metric-plot" data-metric="{_e(name)}">',
            plot,
            "</div>",
            "</section>",
        ]
    )


def _limits_text(threshold: Threshold) -> str:
    limits = [
        f"{key} {value:g}"
        for key, value in (
            ("max_increase_ratio", threshold.max_increase_ratio),
            ("max_increase_pct", threshold.max_increase_pct),
            ("max_absolute", threshold.max_absolute),
            ("max_absolute_ms", threshold.max_absolute_ms),
            ("min_ratio", threshold.min_ratio),
        )
        if value is not None
    ]
    return "limits: " + ", ".join(limits) if limits else "no threshold"


def _header(report: AnalysisReport, spec: CanarySpec, colour: str) -> str:
    final = report.final
    steps = ", ".join(f"{step.percentage:g}%" for step in report.data.steps) or "-"
    facts = [
        ("config", report.config_name),
        ("judge", report.judge),
        ("source", report.source or "-"),
        ("score", format_number(final.score)),
        ("decided at", format_time(decision_time(report))),
        ("steps reached", steps),
    ]
    missing = not_judged(report, spec)
    if missing:
        facts.append(("not judged", ", ".join(missing)))
    rows = "\n".join(f"<dt>{_e(key)}</dt><dd>{_e(value)}</dd>" for key, value in facts)
    return "\n".join(
        [
            "<header>",
            f"<h1>Canary analysis: {_e(report.config_name)}</h1>",
            f'<p class="decision" style="background:{colour}">'
            f"{_e(decision_headline(final))}</p>",
            f'<dl class="facts">\n{rows}\n</dl>',
            "</header>",
        ]
    )


def _how_to_read() -> str:
    return (
        '<section class="how-to-read">\n<h2>How to read the plots</h2>\n'
        "<p>Each plot shows the metric for the <span class=\"baseline\">baseline</span> and the "
        "<span class=\"canary\">canary</span> over time (UTC). A missing point is left as a gap, "
        "never joined over. A dashed line is an absolute limit from the canary-analysis file: "
        "<code>max_absolute</code>, or <code>max_absolute_ms</code> in the series' unit (a "
        "latency series whose values are all below 100 is taken to be in seconds). A dotted "
        "line follows the baseline times a ratio limit (<code>max_increase_ratio</code>, "
        "<code>max_increase_pct</code>, or <code>min_ratio</code> as a floor). The canary "
        "should stay on the safe side of it. Grey dotted vertical lines mark where each traffic "
        "step began, labelled with the canary's share of traffic. The coloured vertical line "
        "marks when the decision fell.</p>\n"
        "<p>If the judge's verdicts carry a confidence interval (<code>ci_lower</code>/"
        "<code>ci_upper</code>, e.g. Kayenta's Mann-Whitney interval for the shift canary &minus; "
        "baseline) or an anytime-valid confidence sequence (<code>cs_lower</code>/"
        "<code>cs_upper</code>, the sequential judge), it is drawn in a second, smaller panel "
        "under the series. It uses the same time axis and has one point per evaluation. The "
        "bounds are in the judge's units (a ratio or a difference), not the metric's; a dashed "
        "line there is the margin the sequential judge holds them against. A panel "
        "of its own keeps the two scales apart, where a secondary y-axis over the series "
        "would invite reading one against the other.</p>\n</section>"
    )


def _verdict_table(report: AnalysisReport) -> str:
    rows = []
    for metric in report.final.metrics:
        colour = OUTCOME_COLOURS.get(metric.outcome, "#24292f")
        rows.append(
            "<tr>"
            f"<td>{_e(metric.name)}</td>"
            f'<td class="verdict" style="color:{colour}">{_e(metric.outcome.value)}</td>'
            f"<td>{_e(metric.classification.value)}</td>"
            f"<td>{'yes' if metric.critical else 'no'}</td>"
            f'<td class="num">{_e(format_number(metric.baseline))}</td>'
            f'<td class="num">{_e(format_number(metric.canary))}</td>'
            f"<td>{_e(metric.detail)}</td>"
            "</tr>"
        )
    body = "\n".join(rows) or '<tr><td colspan="7">no metric verdicts</td></tr>'
    return (
        '<section id="verdicts">\n<h2>Verdicts</h2>\n<table class="verdicts">\n'
        "<thead><tr><th>Metric</th><th>Verdict</th><th>Classification</th><th>Critical</th>"
        "<th>Baseline</th><th>Canary</th><th>Detail</th></tr></thead>\n"
        f"<tbody>\n{body}\n</tbody>\n</table>\n</section>"
    )


def _explanations(report: AnalysisReport) -> str:
    final = report.final
    details = "\n".join(
        f"<dt>{_e(metric.name)}</dt><dd>{_e(metric.detail) or '-'}</dd>"
        for metric in final.metrics
    )
    reasons = "\n".join(f"<li>{_e(reason)}</li>" for reason in final.reasons)
    return "\n".join(
        [
            '<section id="explanations">',
            "<h2>Explanations</h2>",
            f'<dl class="details">\n{details}\n</dl>' if details else "<p>No metric details.</p>",
            "<h3>Reasons for the decision</h3>",
            f'<ul class="reasons">\n{reasons}\n</ul>' if reasons else "<p>No reasons given.</p>",
            "</section>",
        ]
    )


def _timeline_table(report: AnalysisReport) -> str:
    rows = "\n".join(
        "<tr>"
        f"<td>{_e(format_time(verdict.evaluated_at))}</td>"
        f'<td style="color:{DECISION_COLOURS.get(verdict.decision, "#24292f")}">'
        f"{_e(verdict.decision.value)}</td>"
        f'<td class="num">{_e(format_number(verdict.score))}</td>'
        "</tr>"
        for verdict in report.timeline
    )
    body = rows or '<tr><td colspan="3">no verdicts recorded</td></tr>'
    return (
        '<section id="timeline">\n<h2>Timeline</h2>\n<table class="timeline">\n'
        "<thead><tr><th>Evaluated at</th><th>Decision</th><th>Score</th></tr></thead>\n"
        f"<tbody>\n{body}\n</tbody>\n</table>\n</section>"
    )


_STYLE = """
:root { color-scheme: light; }
body { margin: 0; background: #ffffff; color: #24292f; font: 15px/1.5 FONT_STACK; }
header, main, footer { max-width: 1200px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 20px; }
h1 { font-size: 26px; margin: 8px 0; }
h2 { font-size: 20px; margin: 28px 0 6px; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 16px; margin: 18px 0 6px; }
.decision { color: #ffffff; font-size: 20px; font-weight: 700; padding: 10px 14px;
  border-radius: 6px; margin: 10px 0; overflow-wrap: anywhere; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
.facts dt { font-weight: 600; color: #57606a; }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.metric-meta { color: #57606a; margin: 2px 0 6px; }
.metric-plot { border: 1px solid #d0d7de; border-radius: 6px; padding: 4px; }
.baseline { color: #0969da; font-weight: 600; }
.canary { color: #d4560b; font-weight: 600; }
code { background: #f6f8fa; padding: 0 3px; border-radius: 3px; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.verdict { font-weight: 700; }
.details dt { font-weight: 600; margin-top: 6px; }
.details dd { margin-left: 16px; overflow-wrap: anywhere; }
footer { color: #57606a; font-size: 13px; padding: 24px; }
""".replace("FONT_STACK", _FONT)
