"""Event counts of an SLO's indicator over a window, read from Prometheus with instant queries.

For a window ``w`` ending at ``at`` the reader sends two instant queries (``/api/v1/query`` with
``time=at``): the indicator's total expression and its good (or bad) expression, each with every
counter selector wrapped in ``increase(...[w])`` by
:func:`safeship._internal.sli_counters.wrap_counters` (``sum(x{code!~"5.."})`` becomes
``sum(increase(x{code!~"5.."}[w]))``). The series of an answer are added up (a ``sum by``
gives one per group; counts add). The ratio of the two increases is what the budget needs, and it
is robust to ``increase``'s extrapolation, which scales both alike.

What an answer means:

* no series for the total, or NaN anywhere: no data (never "healthy");
* no series for the good/bad expression while the total has events: when that expression reads
  only counters that the total also reads (``http_requests_total{code=~"5.."}`` against
  ``http_requests_total``), the series is simply not born yet, since a labelled counter appears with
  its first event, so it counts 0, with a note. Otherwise (another metric name, perhaps a typo)
  it is no data;
* Prometheus unreachable, a 5xx after the retries, or an unusable answer:
  :class:`~safeship.errors.MetricsUnavailable` (exit code 3), from
  :class:`~safeship._internal.prometheus_api.PrometheusQueryApi`.

An indicator expression that cannot be wrapped faithfully is a configuration problem
(:class:`~safeship.errors.ConfigError`, located at the SLO's definition).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

from safeship._internal.http import HttpClientFactory, default_client_factory
from safeship._internal.prometheus_api import PrometheusEndpoint, PrometheusQueryApi
from safeship._internal.promql_roundtrip import PromQLTextError, parse_faithful, vector_selectors
from safeship._internal.sli_counters import CounterExpressionError, wrap_counters
from safeship.errors import ConfigError, ConfigProblem, SourceLocation
from safeship.model.slo import SliKind, SloDefinition
from safeship.slo.budget import EventCounts, event_counts, no_data
from safeship.slo.status import EventCountReader, definition_place


def window_query(slo: SloDefinition, expression: str, window_s: float) -> str:
    """``expression`` of ``slo`` as the PromQL that counts its events over ``window_s``."""
    try:
        return wrap_counters(expression, "increase", window_s)
    except CounterExpressionError as exc:
        raise ConfigError([ConfigProblem(
            _location(slo), f"slos.{slo.name}",
            f"cannot read '{expression}' over a window: {exc}")],
            hint="write a rate-less counter sum, e.g. sum(http_requests_total{code!~\"5..\"})",
        ) from exc


def _location(slo: SloDefinition) -> SourceLocation:
    path, line = definition_place(slo)
    return SourceLocation(path or "service.yaml", line)


def _counter_names(expression: str) -> frozenset[str] | None:
    """The metric names the expression reads, or None when a selector has no plain name."""
    try:
        selectors = vector_selectors(parse_faithful(expression))
    except PromQLTextError:
        return None
    names = [selector.name for selector in selectors]
    if not names or any(not name for name in names):
        return None
    return frozenset(name for name in names if name)


def reads_same_counters(events: str, total: str) -> bool:
    """True when every counter ``events`` reads is also read by ``total``."""
    mine, theirs = _counter_names(events), _counter_names(total)
    return mine is not None and theirs is not None and mine <= theirs


class PrometheusSliReader(EventCountReader):
    """Reads the event counts of SLO indicators from one Prometheus."""

    def __init__(self, endpoint: PrometheusEndpoint, *,
                 http: HttpClientFactory = default_client_factory,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.endpoint = endpoint
        self.api = PrometheusQueryApi(endpoint, http=http, sleep=sleep)

    def session(self) -> AbstractContextManager[None]:
        """One HTTP client for every query inside the ``with`` block."""
        return self.api.session()

    def counts(self, slo: SloDefinition, window_s: float, at: float) -> EventCounts:
        """Events of ``slo`` in the ``window_s`` seconds up to unix time ``at``."""
        sli = slo.sli
        total_query = window_query(slo, sli.total, window_s)
        events_query = window_query(slo, sli.events, window_s)
        total = self._sum(total_query, at)
        if total is None:
            return no_data(f"no series for the total events ({total_query})")
        events = self._sum(events_query, at)
        note = ""
        which = "good" if sli.kind is SliKind.GOOD_TOTAL else "bad"
        if events is None and math.isfinite(total) and total > 0:
            if not reads_same_counters(sli.events, sli.total):
                return no_data(f"no series for the {which} events ({events_query}), and it "
                               "reads other counters than the total")
            events = 0.0
            note = (f"no {which}-event series yet: counted as 0 (a labelled counter appears "
                    "with its first event)")
        return event_counts(sli.kind, events, total, note)

    def _sum(self, query: str, at: float) -> float | None:
        """The sum of the answer's values; None without series, NaN if any value is NaN."""
        samples = self.api.instant(query, at)
        if not samples:
            return None
        values = [sample.value for sample in samples]
        if not all(math.isfinite(value) for value in values):
            return math.nan  # NaN or an infinity: nothing a budget can be computed from
        return math.fsum(values)
