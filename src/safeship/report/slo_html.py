"""The ``slo status`` HTML report: one self-contained, offline page with a small plot per SLO.

``render_slo_html`` writes a single document that works offline, as the canary-analysis report
does (:mod:`safeship.report.analysis_html`): plotly.js is inlined once, with the first figure;
the others reuse it; a Content-Security-Policy forbids the page from loading anything.

Per SLO the page holds its facts (objective, window, events, budget), and a figure inside
``<div class="slo-plot" data-slo="NAME">`` with two panels:

* the budget remaining over the SLO window as one bar (green while above the 5 % the guide asks
  for, amber at or below it, red once spent), with the 5 % line dashed;
* the burn rate per window (5m ... 3d and the whole window) as bars, on a log axis, with each
  alerting-policy row's threshold marked on the two windows it watches (page: red,
  ticket: amber) and the ``1x`` line (spending exactly the budget) in grey.

A window without data has no bar and is named in the table below the plot, which also lists
every window's numbers and whether each policy row would fire now. All text is escaped.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from safeship.slo.status import SloState, SloStatus, describe, window_name

if TYPE_CHECKING:
    import plotly.graph_objects as go

GUIDE_MIN_REMAINING = 0.05
"""The guide's pre-deploy rule: more than 5 % of the budget left."""

STATE_COLOURS: dict[SloState, str] = {
    SloState.OK: "#1a7f37",
    SloState.EXHAUSTED: "#cf222e",
    SloState.NO_DATA: "#9a6700",
}
_LOW_COLOUR = "#bf8700"
_BAR_COLOUR = "#0969da"
_PAGE_COLOUR = "#cf222e"
_TICKET_COLOUR = "#bf8700"
_GREY = "#6e7781"
_FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
_PLOT_CONFIG: dict[str, Any] = {"displaylogo": False, "responsive": True}
_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:"
)


def render_slo_html(statuses: Sequence[SloStatus], *, source: str = "") -> str:
    """The statuses as one self-contained, offline HTML document."""
    sections = [_section(status, index, include_plotlyjs=index == 0)
                for index, status in enumerate(statuses)]
    if not sections:
        sections.append('<p class="empty">No SLO to show.</p>')
    worst = _worst(statuses)
    service = statuses[0].slo.service if statuses else ""
    title = f"SLO status {service}: {worst.value}".strip()
    at = statuses[0].at if statuses else None
    facts = [("service", service or "-"), ("source", source or "-"),
             ("at", _time(at) if at is not None else "-"), ("SLOs", str(len(statuses)))]
    rows = "\n".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts)
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
        "<header>",
        f"<h1>SLO status: {_e(service)}</h1>",
        f'<p class="state" style="background:{STATE_COLOURS[worst]}">{_e(_headline(worst))}</p>',
        f'<dl class="facts">\n{rows}\n</dl>',
        "</header>",
        "<main>",
        *sections,
        "</main>",
        "<footer>Written by safeship. This file is self-contained and works offline.</footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _worst(statuses: Sequence[SloStatus]) -> SloState:
    states = {status.state for status in statuses}
    for state in (SloState.EXHAUSTED, SloState.NO_DATA):
        if state in states:
            return state
    return SloState.OK


def _headline(state: SloState) -> str:
    return {SloState.OK: "every SLO has error budget left",
            SloState.EXHAUSTED: "an error budget is exhausted",
            SloState.NO_DATA: "no data for an SLO: its budget is unknown"}[state]


def status_figure(status: SloStatus) -> go.Figure:
    """The two-panel figure of one SLO: budget remaining, and burn rate per window."""
    # plotly takes a tenth of a second to import; only the HTML report should pay for it.
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    figure = make_subplots(rows=1, cols=2, column_widths=[0.22, 0.78], horizontal_spacing=0.12,
                           subplot_titles=("budget remaining", "burn rate per window"))
    remaining = status.budget.remaining
    if math.isfinite(remaining):
        colour = (STATE_COLOURS[SloState.EXHAUSTED] if remaining <= 0
                  else _LOW_COLOUR if remaining <= GUIDE_MIN_REMAINING
                  else STATE_COLOURS[SloState.OK])
        figure.add_trace(go.Bar(x=["budget"], y=[remaining * 100], marker_color=colour,
                                name="remaining", showlegend=False,
                                text=[f"{remaining * 100:.2f}%"], textposition="outside",
                                hovertemplate="%{y:.3f}% left<extra></extra>"), row=1, col=1)
    else:
        figure.add_annotation(text="no data", xref="x domain", yref="y domain", x=0.5, y=0.5,
                              showarrow=False, font={"size": 16, "color": _GREY}, row=1, col=1)
    figure.add_trace(go.Scatter(x=["budget", "budget"], y=[GUIDE_MIN_REMAINING * 100] * 2,
                                mode="lines+markers", marker={"symbol": "line-ew", "size": 60,
                                                              "line": {"width": 2}},
                                line={"color": _GREY, "dash": "dash"},
                                name=f"{GUIDE_MIN_REMAINING * 100:g}% floor",
                                hovertemplate="deploy floor %{y}%<extra></extra>"), row=1, col=1)
    low = min(0.0, remaining * 100) if math.isfinite(remaining) else 0.0
    figure.update_yaxes(title_text="% of the error budget", range=[low * 1.1 - 5, 110],
                        row=1, col=1)
    names = [w.name for w in status.windows]
    rates = [w.burn.burn_rate if w.burn.has_data else None for w in status.windows]
    figure.add_trace(go.Bar(x=names, y=rates, marker_color=_BAR_COLOUR, name="burn rate",
                            hovertemplate="%{x}: %{y:.3g}x<extra></extra>"), row=1, col=2)
    figure.add_trace(go.Scatter(x=[names[0], names[-1]], y=[1.0, 1.0], mode="lines",
                                line={"color": _GREY, "width": 1}, name="1x (budget exactly)",
                                hoverinfo="skip"), row=1, col=2)
    for alert in status.alerts:
        windows = [window_name(alert.alert.short_window_s), window_name(alert.alert.long_window_s)]
        page = alert.severity == "page"
        colour = _PAGE_COLOUR if page else _TICKET_COLOUR
        # Markers only: a line from the short to the long window would cross the windows
        # between them, which the row does not watch.
        figure.add_trace(go.Scatter(
            x=windows, y=[alert.factor, alert.factor], mode="markers",
            marker={"symbol": "line-ew", "size": 44,
                    "line": {"width": 3 if page else 2, "color": colour}},
            name=f"{alert.severity} {alert.factor:.3g}x ({windows[1]}/{windows[0]})",
            hovertemplate=f"{alert.severity} threshold {alert.factor:.3g}x<extra></extra>"),
            row=1, col=2)
    positive = [r for r in rates if r is not None and r > 0]
    factors = [a.factor for a in status.alerts] + [1.0]
    top = max([*positive, *factors])
    bottom = min([*positive, *factors])
    figure.update_yaxes(type="log", title_text="burn rate (x budget)",
                        range=[math.log10(bottom) - 0.5, math.log10(top) + 0.4], row=1, col=2)
    figure.update_xaxes(type="category", categoryorder="array", categoryarray=names,
                        title_text="window", row=1, col=2)
    figure.update_layout(
        template="plotly_white", height=420, margin={"l": 70, "r": 30, "t": 60, "b": 120},
        font={"family": _FONT, "size": 13, "color": "#24292f"},
        legend={"orientation": "h", "x": 0, "y": -0.3, "xanchor": "left", "yanchor": "top"},
        bargap=0.35,
    )
    return figure


def _section(status: SloStatus, index: int, *, include_plotlyjs: bool) -> str:
    figure = status_figure(status)
    plot = str(figure.to_html(full_html=False, include_plotlyjs=include_plotlyjs,
                              div_id=f"slo-plot-{index}", config=_PLOT_CONFIG,
                              default_width="100%"))
    slo = status.slo
    figures = status.budget
    counts = figures.counts
    facts = [
        ("state", status.state.value),
        ("objective", f"{slo.objective * 100:.4g}% over {window_name(slo.window_s)}"),
        ("error budget", f"{figures.error_budget * 100:.4g}% of events"),
        ("budget remaining", _percent(figures.remaining)),
        ("budget consumed", _percent(figures.consumed)),
        ("events (window)", _count(counts.total)),
        ("bad events (window)", _count(counts.bad)),
        ("defined at", slo.source or "-"),
    ]
    if counts.note:
        facts.append(("note", counts.note))
    if slo.description:
        facts.insert(0, ("description", slo.description))
    rows = "\n".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts)
    colour = STATE_COLOURS[status.state]
    return "\n".join([
        f'<section class="slo" id="slo-{index}">',
        f"<h2>{_e(slo.name)}</h2>",
        f'<p class="line" style="border-left-color:{colour}">{_e(describe(status))}</p>',
        f'<dl class="facts">\n{rows}\n</dl>',
        f'<div class="slo-plot" data-slo="{_e(slo.name)}">',
        plot,
        "</div>",
        _window_table(status),
        _alert_table(status),
        "</section>",
    ])


def _window_table(status: SloStatus) -> str:
    rows = []
    for item in status.windows:
        b = item.burn
        name = f"{item.name} (SLO window)" if item.whole else item.name
        rows.append(
            "<tr>" + f"<td>{_e(name)}</td>"
            + f'<td class="num">{_e(_rate(b.burn_rate))}</td>'
            + f'<td class="num">{_e(_ratio(b.bad_ratio))}</td>'
            + f'<td class="num">{_e(_count(b.counts.total))}</td>'
            + f'<td class="num">{_e(_count(b.counts.bad))}</td>'
            + f"<td>{_e(b.counts.state.value)}{_e(': ' + b.counts.note if b.counts.note else '')}"
            + "</td></tr>")
    return ("<h3>Burn rate per window</h3>\n<table><thead><tr><th>window</th><th>burn rate</th>"
            "<th>bad ratio</th><th>events</th><th>bad events</th><th>data</th></tr></thead>"
            f"<tbody>\n{chr(10).join(rows)}\n</tbody></table>")


def _alert_table(status: SloStatus) -> str:
    if not status.alerts:
        return '<p class="empty">No alerting-policy row fits inside this SLO window.</p>'
    rows = []
    for alert in status.alerts:
        firing = alert.firing
        shown = "no data" if firing is None else ("firing" if firing else "quiet")
        rows.append(
            f"<tr><td>{_e(alert.severity)}</td>"
            f"<td>{_e(window_name(alert.alert.long_window_s))} and "
            f"{_e(window_name(alert.alert.short_window_s))}"
            f'</td><td class="num">{alert.factor:.4g}x</td>'
            f'<td class="num">{alert.alert.budget_share * 100:g}%</td>'
            f"<td>{_e(shown)}</td></tr>")
    return ("<h3>Alerting policy now</h3>\n<table><thead><tr><th>severity</th><th>windows</th>"
            "<th>threshold</th><th>budget spent at that rate</th><th>now</th></tr></thead>"
            f"<tbody>\n{chr(10).join(rows)}\n</tbody></table>")


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.2f}%" if math.isfinite(fraction) else "no data"


def _ratio(value: float) -> str:
    return f"{value:.6g}" if math.isfinite(value) else "no data"


def _rate(value: float) -> str:
    return f"{value:.4g}x" if math.isfinite(value) else "no data"


def _count(value: float) -> str:
    if not math.isfinite(value):
        return "no data"
    return f"{value:,.0f}" if abs(value - round(value)) < 1e-6 else f"{value:,.2f}"


def _time(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _e(text: str) -> str:
    return html.escape(text, quote=True)


_STYLE = """
:root { color-scheme: light; }
body { margin: 0; background: #ffffff; color: #24292f; font: 15px/1.5 FONT_STACK; }
header, main, footer { max-width: 1200px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 20px; }
h1 { font-size: 26px; margin: 8px 0; }
h2 { font-size: 20px; margin: 28px 0 6px; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 16px; margin: 18px 0 6px; }
.state { color: #ffffff; font-size: 20px; font-weight: 700; padding: 10px 14px;
  border-radius: 6px; margin: 10px 0; }
.line { border-left: 6px solid #d0d7de; padding-left: 10px; font-weight: 600; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
.facts dt { font-weight: 600; color: #57606a; }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.slo-plot { border: 1px solid #d0d7de; border-radius: 6px; padding: 4px; margin: 10px 0; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.empty { color: #57606a; }
footer { color: #57606a; font-size: 13px; padding: 24px; }
""".replace("FONT_STACK", _FONT)
