"""Reading an SLO's event counts from Prometheus, over ``httpx.MockTransport``."""

from __future__ import annotations

import math

import httpx
import pytest

from safeship._internal.http import client_factory_with_transport
from safeship._internal.prometheus_api import PrometheusEndpoint
from safeship._internal.sli_counters import wrap_counters
from safeship.errors import ConfigError, MetricsUnavailable
from safeship.model.slo import RatioSli, SliKind, SloDefinition
from safeship.slo.budget import DataState
from safeship.slo.prometheus_reader import (
    PrometheusSliReader,
    reads_same_counters,
    window_query,
)
from tests.unit.slo.prometheus_fake import DAY, FakePrometheus, availability, steady, vector

AT = 1_800_000_000.0
HOUR = 3600.0


def reader(fake: FakePrometheus, **endpoint: object) -> PrometheusSliReader:
    settings = {"retries": 0, **endpoint}
    return PrometheusSliReader(PrometheusEndpoint("http://prom.test:9090", **settings),  # type: ignore[arg-type]
                               http=fake.factory(), sleep=lambda _s: None)


@pytest.mark.parametrize("kind", [SliKind.BAD_TOTAL, SliKind.GOOD_TOTAL])
def test_counts_come_from_increase_over_the_window_at_the_given_time(kind: SliKind) -> None:
    slo = availability(kind=kind)
    traffic = steady(0.002, rate=25.0)
    fake = FakePrometheus()
    fake.serve(slo, traffic, windows=(HOUR,))
    counts = reader(fake).counts(slo, HOUR, AT)
    total, bad = traffic.counts(HOUR)
    assert counts.has_data
    assert counts.total == pytest.approx(total)
    assert counts.bad == pytest.approx(bad)
    assert fake.queries == [wrap_counters(slo.sli.total, "increase", HOUR),
                            wrap_counters(slo.sli.events, "increase", HOUR)]
    assert "increase(http_requests_total{" in fake.queries[0]
    assert "[1h]" in fake.queries[0]
    assert fake.times == [f"{AT:.3f}", f"{AT:.3f}"]


def test_the_series_of_an_answer_are_added_up() -> None:
    slo = availability()
    fake = FakePrometheus()
    fake.set(window_query(slo, slo.sli.total, HOUR), vector(600.0, 400.0))
    fake.set(window_query(slo, slo.sli.events, HOUR), vector(3.0, 2.0))
    counts = reader(fake).counts(slo, HOUR, AT)
    assert (counts.total, counts.bad) == (1000.0, 5.0)


def test_no_total_series_is_no_data_naming_the_query() -> None:
    slo = availability()
    counts = reader(FakePrometheus()).counts(slo, HOUR, AT)
    assert counts.state is DataState.NO_DATA
    assert "no series for the total events" in counts.note
    assert "increase(" in counts.note


def test_nan_in_an_answer_is_no_data() -> None:
    slo = availability()
    fake = FakePrometheus()
    fake.set(window_query(slo, slo.sli.total, HOUR), vector(100.0, math.nan))
    assert reader(fake).counts(slo, HOUR, AT).state is DataState.NO_DATA


def test_a_missing_bad_series_of_the_same_counter_counts_zero() -> None:
    slo = availability()
    fake = FakePrometheus()
    fake.set(window_query(slo, slo.sli.total, HOUR), vector(1234.0))
    counts = reader(fake).counts(slo, HOUR, AT)
    assert counts.has_data
    assert counts.bad == 0.0
    assert "counted as 0" in counts.note


def test_a_missing_series_of_another_counter_is_no_data() -> None:
    # A typo in the bad counter's name must not read as "no errors".
    slo = SloDefinition("availability", "shop", 0.999, 30 * DAY, RatioSli(
        SliKind.BAD_TOTAL, "sum(http_request_errors_totl)", "sum(http_requests_total)"))
    fake = FakePrometheus()
    fake.set(window_query(slo, slo.sli.total, HOUR), vector(1234.0))
    counts = reader(fake).counts(slo, HOUR, AT)
    assert counts.state is DataState.NO_DATA
    assert "other counters" in counts.note


def test_reads_same_counters() -> None:
    assert reads_same_counters('sum(x{code="500"})', 'sum(x)')
    assert reads_same_counters('sum(x{a="1"})', 'sum(x) + sum(y)')
    assert not reads_same_counters('sum(errors)', 'sum(x)')
    assert not reads_same_counters('sum({__name__="x"})', 'sum(x)')
    assert not reads_same_counters("not promql (", "sum(x)")


def test_an_expression_that_cannot_be_wrapped_is_located_at_its_definition() -> None:
    slo = SloDefinition("latency", "shop", 0.99, 30 * DAY, RatioSli(
        SliKind.BAD_TOTAL, "sum(rate(x[5m]))", "sum(y)"), source="svc/service.yaml:14")
    with pytest.raises(ConfigError) as caught:
        reader(FakePrometheus()).counts(slo, HOUR, AT)
    problem = caught.value.problems[0]
    assert (problem.location.path, problem.location.line) == ("svc/service.yaml", 14)
    assert problem.field_path == "slos.latency"
    assert "over a window" in problem.message


def test_unreachable_prometheus_is_metrics_unavailable_after_retries() -> None:
    attempts: list[str] = []
    pauses: list[float] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        attempts.append(str(request.url))
        raise httpx.ConnectError("connection refused", request=request)

    endpoint = PrometheusEndpoint("http://user:secret@prom.test:9090", retries=2,
                                  headers={"Authorization": "Bearer hunter2"})
    slo_reader = PrometheusSliReader(
        endpoint, http=client_factory_with_transport(httpx.MockTransport(refuse)),
        sleep=pauses.append)
    with pytest.raises(MetricsUnavailable) as caught:
        slo_reader.counts(availability(), HOUR, AT)
    assert len(attempts) == 3
    assert len(pauses) == 2
    message = "\n".join(caught.value.diagnostics())
    assert "cannot connect" in message
    assert "3 attempts" in message
    assert "user:***@prom.test:9090" in message
    assert "secret" not in message
    assert "hunter2" not in message
    assert caught.value.exit_code == 3
