"""A fake Prometheus for the SLO tests: traffic described by phases, answers computed from it.

:class:`Traffic` is one indicator's traffic, newest phase first, going back in time from the
moment of the query: ``Traffic((Phase(3600, 10.0, 0.5), Phase(30 * 86400, 10.0, 0.0001)))``
served 10 events/s, half of them bad, for the last hour, and 0.01 % bad before that. Its
:meth:`Traffic.counts` gives the exact total and bad events of any window ending now, which is
what the tests expect the budget figures to come from.

:class:`FakePrometheus` answers ``/api/v1/query`` for the exact PromQL the reader sends
(:func:`safeship._internal.sli_counters.wrap_counters` over each window), from those counts; any
other query gets an empty vector. It serves through an ``httpx.MockTransport`` (unit tests) or a
real HTTP server on 127.0.0.1 (end-to-end tests), and records every query it was sent.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from safeship._internal.http import HttpClientFactory, client_factory_with_transport
from safeship._internal.sli_counters import wrap_counters
from safeship.model.slo import RatioSli, SliKind, SloDefinition
from safeship.slo.burn_policy import policy_windows

DAY = 86400.0


@dataclass(frozen=True)
class Phase:
    """A stretch of steady traffic."""

    seconds: float
    rate: float
    """Events per second."""
    bad_ratio: float


@dataclass(frozen=True)
class Traffic:
    """One indicator's traffic, newest phase first; before the oldest phase, none."""

    phases: tuple[Phase, ...]

    def counts(self, window_s: float) -> tuple[float, float]:
        """``(total, bad)`` events in the last ``window_s`` seconds."""
        remaining = window_s
        total = bad = 0.0
        for phase in self.phases:
            take = min(remaining, phase.seconds)
            total += take * phase.rate
            bad += take * phase.rate * phase.bad_ratio
            remaining -= take
            if remaining <= 0:
                break
        return total, bad


def steady(bad_ratio: float, rate: float = 10.0, days: float = 40.0) -> Traffic:
    """The same traffic for ``days``."""
    return Traffic((Phase(days * DAY, rate, bad_ratio),))


def availability(service: str = "shop", *, objective: float = 0.999,
                 window_s: float = 30 * DAY, kind: SliKind = SliKind.BAD_TOTAL,
                 name: str = "availability", source: str = "service.yaml:9") -> SloDefinition:
    """An availability SLO over ``http_requests_total`` of ``service``."""
    total = f'sum(http_requests_total{{job="{service}"}})'
    events = (f'sum(http_requests_total{{job="{service}",code=~"5.."}})'
              if kind is SliKind.BAD_TOTAL
              else f'sum(http_requests_total{{job="{service}",code!~"5.."}})')
    return SloDefinition(name, service, objective, window_s, RatioSli(kind, events, total),
                         description="requests succeed", source=source)


def vector(*values: float) -> dict[str, Any]:
    """A successful instant-vector answer with one sample per value."""
    return {"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"i": str(i)}, "value": [1_700_000_000.0, _text(v)]}
        for i, v in enumerate(values)]}}


def _text(value: float) -> str:
    if value != value:  # NaN, as Prometheus spells it
        return "NaN"
    return repr(float(value))


@dataclass
class FakePrometheus:
    """Answers the reader's queries from :class:`Traffic`; records what it was asked."""

    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    queries: list[str] = field(default_factory=list)
    times: list[str | None] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def serve(self, slo: SloDefinition, traffic: Traffic, *,
              windows: tuple[float, ...] | None = None) -> None:
        """Answer every window of ``slo`` (its policy windows by default) from ``traffic``."""
        for window in windows or policy_windows(slo.window_s):
            total, bad = traffic.counts(window)
            good = total - bad
            self.set(wrap_counters(slo.sli.total, "increase", window), vector(total))
            self.set(wrap_counters(slo.sli.events, "increase", window),
                     vector(bad if slo.sli.kind is SliKind.BAD_TOTAL else good))

    def set(self, query: str, answer: dict[str, Any]) -> None:
        """Answer ``query`` with ``answer`` (a decoded JSON document)."""
        with self._lock:
            self.answers[query] = answer

    def answer(self, query: str, time: str | None, headers: dict[str, str]) -> dict[str, Any]:
        """The answer to ``query``, recorded."""
        with self._lock:
            self.queries.append(query)
            self.times.append(time)
            self.headers.append(headers)
            return self.answers.get(query, vector())

    def handler(self, request: httpx.Request) -> httpx.Response:
        """For ``httpx.MockTransport``."""
        if request.url.path != "/api/v1/query":
            return httpx.Response(404, json={"status": "error", "error": "not found"})
        params = request.url.params
        body = self.answer(params.get("query", ""), params.get("time"), dict(request.headers))
        return httpx.Response(200, json=body)

    def factory(self) -> HttpClientFactory:
        """An HTTP client factory whose clients talk to this fake."""
        return client_factory_with_transport(httpx.MockTransport(self.handler))

    @contextmanager
    def running(self) -> Iterator[str]:
        """Serve over real HTTP on 127.0.0.1 (a free port); yields the base URL."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != "/api/v1/query":
                    self.send_error(404)
                    return
                params = parse_qs(parts.query)
                body = json.dumps(fake.answer(params.get("query", [""])[0],
                                              params.get("time", [None])[0],
                                              dict(self.headers))).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                                  daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
