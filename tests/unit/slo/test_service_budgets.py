"""Finding the SLOs and their Prometheus: from service.yaml, from explicit choices."""

from __future__ import annotations

from pathlib import Path

import pytest

from safeship.config.service_file import load_service_file
from safeship.errors import ConfigError, NotFound, UsageError
from safeship.slo.service_budgets import (
    load_service,
    no_prometheus_hint,
    prometheus_endpoint,
    rollout_budgets,
    select_slos,
    service_budgets,
    status_source,
)
from tests.unit.slo.prometheus_fake import DAY, FakePrometheus, steady

SLOS = """\
slos:
  - name: availability
    objective: 99.9%
    window: 30d
    bad: sum(http_requests_total{job="shop",code=~"5.."})
    total: sum(http_requests_total{job="shop"})
  - name: latency
    objective: 0.99
    window: 7d
    good: sum(http_request_duration_seconds_bucket{job="shop",le="0.25"})
    total: sum(http_request_duration_seconds_count{job="shop"})
"""


def service_file(tmp_path: Path, *, metrics: str = "", slos: str = SLOS) -> Path:
    path = tmp_path / ".pipeline" / "service.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("apiVersion: safeship/v1\nkind: Service\nname: shop\n" + metrics + slos)
    return path


def test_the_slos_come_from_service_yaml_in_order(tmp_path: Path) -> None:
    spec = load_service(service_file(tmp_path))
    assert [slo.name for slo in select_slos(spec)] == ["availability", "latency"]
    assert [slo.name for slo in select_slos(spec, ["latency"])] == ["latency"]
    assert [slo.name for slo in select_slos(spec, ["latency", "latency"])] == ["latency"]


def test_an_unknown_slo_name_suggests_the_close_one(tmp_path: Path) -> None:
    spec = load_service(service_file(tmp_path))
    with pytest.raises(UsageError, match="no SLO named 'availabilty'") as caught:
        select_slos(spec, ["availabilty"])
    assert caught.value.hint == "did you mean 'availability'?"
    with pytest.raises(UsageError) as other:
        select_slos(spec, ["zzz"])
    assert other.value.hint == "SLOs: availability, latency"


def test_a_service_without_slos_is_a_usage_error(tmp_path: Path) -> None:
    spec = load_service(service_file(tmp_path, slos=""))
    with pytest.raises(UsageError, match="defines no SLOs"):
        select_slos(spec)
    assert service_budgets(spec, prometheus="http://prom:9090") is None


def test_a_missing_service_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no service file"):
        load_service(tmp_path / "nope.yaml")


def test_the_explicit_url_wins(tmp_path: Path) -> None:
    spec = load_service(service_file(
        tmp_path, metrics="metrics: {type: prometheus, url: 'http://other:9090'}\n"))
    endpoint = prometheus_endpoint(spec, "http://prom:9090/")
    assert endpoint is not None
    assert endpoint.url == "http://prom:9090"
    with pytest.raises(UsageError, match=r"--prometheus: .* is not an http"):
        prometheus_endpoint(spec, "prom:9090")


def test_the_prometheus_metrics_section_is_used_with_its_settings(tmp_path: Path) -> None:
    metrics = ("metrics:\n  type: prometheus\n  url: http://prom.internal:9090/\n"
               "  timeout: 3\n  retries: 0\n  headers: {Authorization: Bearer x}\n")
    spec = load_service(service_file(tmp_path, metrics=metrics))
    endpoint = prometheus_endpoint(spec)
    assert endpoint is not None
    assert (endpoint.url, endpoint.timeout_s, endpoint.retries) == (
        "http://prom.internal:9090", 3.0, 0)
    assert dict(endpoint.headers) == {"Authorization": "Bearer x"}


def test_a_bad_url_in_the_section_is_located(tmp_path: Path) -> None:
    path = service_file(tmp_path, metrics="metrics:\n  type: prometheus\n  url: prom:9090\n")
    with pytest.raises(ConfigError) as caught:
        prometheus_endpoint(load_service_file(path))
    problem = caught.value.problems[0]
    assert problem.location.line == 6
    assert "url" in problem.field_path


def test_other_metric_providers_know_no_prometheus(tmp_path: Path) -> None:
    spec = load_service(service_file(tmp_path, metrics="metrics: {type: builtin}\n"))
    assert prometheus_endpoint(spec) is None
    assert service_budgets(spec) is None
    assert "--prometheus URL" in no_prometheus_hint(spec)
    assert str(spec.source) in no_prometheus_hint(spec)
    assert "service.yaml" in no_prometheus_hint(None)


def test_service_budgets_reads_every_slo_from_the_known_prometheus(tmp_path: Path) -> None:
    spec = load_service(service_file(
        tmp_path, metrics="metrics: {type: prometheus, url: 'http://prom:9090'}\n"))
    fake = FakePrometheus()
    for slo in spec.slos:
        fake.serve(slo, steady(0.0001, days=40))
    source = service_budgets(spec, http=fake.factory(), now=lambda: 1_800_000_000.0)
    assert source is not None
    assert source.where == "http://prom:9090"
    statuses = source.statuses()
    assert [s.slo.name for s in statuses] == ["availability", "latency"]
    assert statuses[0].budget.remaining == pytest.approx(0.9)
    assert statuses[1].slo.window_s == 7 * DAY
    assert statuses[1].budget.remaining == pytest.approx(0.99)


def test_status_source_names_where_it_reads(tmp_path: Path) -> None:
    spec = load_service(service_file(tmp_path))
    endpoint = prometheus_endpoint(spec, "http://u:pw@prom:9090")
    assert endpoint is not None
    assert status_source(spec.slos, endpoint).where == "http://u:***@prom:9090"


@pytest.mark.parametrize(("gates", "expected"), [
    (None, "block"),
    ("version: 2\nstages: [{name: a, gates: [{type: lint}]}]\n", "block"),
    ("version: 2\nstages: [{name: a, gates: [{type: slo_check, on_unavailable: warn}]}]\n",
     "warn"),
    ("version: 2\nstages:\n  - {name: a, gates: [{type: slo_check, on_unavailable: warn}]}\n"
     "  - {name: b, gates: [{type: slo_check}]}\n", "block"),
    ("version: 2\nstages: [{name: a, gates: [{type: slo_check}]}]\n", "block"),
    ("version: 2\nstages: {not: a list}\n", "block"),
    ("version: 2\nstages: [unparsable\n", "block"),
])
def test_the_rollout_follows_the_slo_check_gates_on_unavailable(
        tmp_path: Path, gates: str | None, expected: str) -> None:
    metrics = "metrics: {type: prometheus, url: 'http://prom:9090'}\n"
    spec = load_service(service_file(tmp_path, metrics=metrics))
    if gates is not None:
        spec.gates_path.write_text(gates)
    budgets = rollout_budgets(spec)
    assert budgets is not None
    assert budgets.on_unavailable == expected
    assert [slo.name for slo in budgets.source.slos] == ["availability", "latency"]


def test_no_rollout_check_without_prometheus(tmp_path: Path) -> None:
    assert rollout_budgets(load_service(service_file(tmp_path))) is None
