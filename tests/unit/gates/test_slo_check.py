"""The slo_check gate: error budgets from (a fake) Prometheus, judged by a condition."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from safeship._internal.http import client_factory_with_transport
from safeship.config.service_file import load_service_file
from safeship.errors import ConfigError, GateCannotRun, NotFound, UsageError
from safeship.gates.interface import GateContext
from safeship.gates.slo_check import DEFAULT_CONDITION, SloCheckGate, SloCheckOptions
from safeship.model.enums import FailAction, Severity, Verdict
from safeship.model.results import GateCheck
from tests.unit.slo.prometheus_fake import FakePrometheus, Phase, Traffic, steady

AT = 1_800_000_000.0
PROM = "http://prom.test:9090"

SERVICE = """\
apiVersion: safeship/v1
kind: Service
name: shop
metrics: {type: prometheus, url: "http://prom.test:9090", retries: 1}
slos:
  - name: availability
    objective: 99.9%
    bad: sum(http_requests_total{job="shop",code=~"5.."})
    total: sum(http_requests_total{job="shop"})
  - name: checkout
    objective: 99%
    window: 7d
    good: sum(checkout_total{result="ok"})
    total: sum(checkout_total)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / ".pipeline" / "service.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(SERVICE)
    return tmp_path


def fake_for(project: Path, **traffic: Traffic) -> FakePrometheus:
    """A fake answering each named SLO from its traffic."""
    fake = FakePrometheus()
    spec = load_service_file(project / ".pipeline" / "service.yaml")
    for slo in spec.slos:
        if slo.name in traffic:
            fake.serve(slo, traffic[slo.name])
    return fake


def check(project: Path, fake: FakePrometheus | None = None, pauses: list[float] | None = None,
          http: Any = None, **options: Any) -> GateCheck:
    gate = SloCheckGate(SloCheckOptions.model_validate(options), now=lambda: AT)
    ctx = GateContext(project_root=project, http=http or (fake or FakePrometheus()).factory(),
                      sleep=(pauses if pauses is not None else []).append)
    return gate.evaluate(ctx)


def refused() -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)
    return client_factory_with_transport(httpx.MockTransport(handler))


def test_class_facts_and_defaults() -> None:
    assert SloCheckGate.type_name == "slo_check"
    assert SloCheckGate.default_action is FailAction.BLOCK_DEPLOY
    assert SloCheckGate.options_model is SloCheckOptions
    options = SloCheckOptions()
    assert options.condition == DEFAULT_CONDITION == "budget_remaining > 0.05"
    assert options.on_unavailable == "block"
    assert options.service == ".pipeline/service.yaml"
    assert options.names() == ()


def test_healthy_budgets_pass_and_are_recorded(project: Path) -> None:
    fake = fake_for(project, availability=steady(0.0002), checkout=steady(0.001))
    result = check(project, fake)
    assert result.verdict is Verdict.PASSED
    assert result.summary.startswith("all 2 SLOs satisfy budget_remaining > 0.05")
    slos = result.metrics["slos"]
    assert slos["availability"]["budget_remaining"] == pytest.approx(0.8)
    assert slos["checkout"]["budget_remaining"] == pytest.approx(0.9)
    assert slos["availability"]["state"] == "ok"
    assert result.metrics["prometheus"] == PROM
    assert result.metrics["checked"] is True
    assert fake.queries  # it did ask Prometheus
    assert set(fake.times) == {f"{AT:.3f}"}


def test_a_burnt_budget_blocks_with_a_finding_at_the_slo(project: Path) -> None:
    fake = fake_for(project, availability=steady(0.00097), checkout=steady(0.001))
    result = check(project, fake)
    assert result.verdict is Verdict.FAILED
    assert result.summary.startswith("availability: budget_remaining = 0.03")
    assert "required budget_remaining > 0.05" in result.summary
    [finding] = result.findings
    assert finding.rule == "slo_check.condition"
    assert finding.severity is Severity.ERROR
    assert finding.path is not None
    assert finding.path.endswith("service.yaml")
    assert finding.line == 6
    assert "availability (99.9% over 30d)" in finding.message


def test_exactly_five_percent_left_blocks(project: Path) -> None:
    fake = fake_for(project, availability=steady(0.00095))
    result = check(project, fake, slo="availability")
    assert result.verdict is Verdict.FAILED
    assert result.metrics["slos"]["availability"]["budget_remaining"] == 0.05


def test_the_fail_message_replaces_the_summary(project: Path) -> None:
    fake = fake_for(project, availability=steady(0.002), checkout=steady(0.02))
    result = check(project, fake, fail_message="Error budget too low - deploy blocked")
    assert result.verdict is Verdict.FAILED
    assert result.summary == "Error budget too low - deploy blocked"
    assert len(result.findings) == 2


def test_only_the_named_slos_are_checked(project: Path) -> None:
    fake = fake_for(project, checkout=steady(0.001))
    result = check(project, fake, slo=["checkout"])
    assert result.verdict is Verdict.PASSED
    assert set(result.metrics["slos"]) == {"checkout"}
    assert all("checkout_total" in query for query in fake.queries)


def test_a_condition_over_burn_rates(project: Path) -> None:
    # Half the month's budget is left, but the last 2 h burn at 20x: the page rule says no.
    traffic = Traffic((Phase(7200, 10.0, 0.02), Phase(40 * 86400, 10.0, 0.0004)))
    fake = fake_for(project, availability=traffic)
    condition = "budget_remaining > 0.05 and burn_rate_1h < 14.4"
    result = check(project, fake, slo="availability", condition=condition)
    assert result.verdict is Verdict.FAILED
    assert "burn_rate_1h = 20" in result.summary
    calm = check(project, fake, slo="availability", condition="burn_rate_3d < 20")
    assert calm.verdict is Verdict.PASSED


def test_unreachable_prometheus_cannot_run_and_retries(project: Path) -> None:
    pauses: list[float] = []
    with pytest.raises(GateCannotRun) as caught:
        check(project, pauses=pauses, http=refused())
    text = "\n".join(caught.value.diagnostics())
    assert "could not be checked" in text
    assert "fail closed" in text
    assert "http://prom.test:9090" in text
    assert "on_unavailable: warn" in text
    assert len(pauses) == 1  # retries: 1 from service.yaml


def test_warn_passes_unreachable_with_an_unsafe_warning(project: Path) -> None:
    result = check(project, http=refused(), on_unavailable="warn", retries=0)
    assert result.verdict is Verdict.PASSED
    assert result.summary.startswith("UNSAFE: the error budget could not be checked")
    [finding] = result.findings
    assert finding.severity is Severity.WARNING
    assert finding.rule == "slo_check.unavailable"
    assert result.metrics["checked"] is False


def test_no_data_fails_closed_even_with_warn(project: Path) -> None:
    fake = fake_for(project, checkout=steady(0.001))  # nothing for availability
    for on_unavailable in ("block", "warn"):
        with pytest.raises(GateCannotRun, match="no data to judge the error budget"):
            check(project, fake, on_unavailable=on_unavailable)


def test_a_condition_on_a_window_without_data_fails_closed(project: Path) -> None:
    fake = fake_for(project, availability=Traffic((Phase(3600, 0.0, 0.0),
                                                   Phase(40 * 86400, 10.0, 0.0001))))
    with pytest.raises(GateCannotRun, match="burn_rate_5m"):
        check(project, fake, slo="availability", condition="burn_rate_5m < 14.4")


def test_a_burn_window_the_slo_does_not_have_cannot_be_judged(project: Path) -> None:
    fake = fake_for(project, checkout=steady(0.001))
    with pytest.raises(GateCannotRun, match="burn_rate_30d"):
        check(project, fake, slo="checkout", condition="burn_rate_30d < 1")


def test_the_prometheus_option_overrides_service_yaml(project: Path) -> None:
    seen: list[str] = []
    fake = fake_for(project, availability=steady(0.0001))

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        return fake.handler(request)

    http = client_factory_with_transport(httpx.MockTransport(handler))
    result = check(project, http=http, slo="availability", prometheus="http://other:9090",
                   request_timeout=2)
    assert result.verdict is Verdict.PASSED
    assert set(seen) == {"other"}
    assert result.metrics["prometheus"] == "http://other:9090"


def test_no_prometheus_known_cannot_run(tmp_path: Path) -> None:
    path = tmp_path / "svc.yaml"
    path.write_text(SERVICE.replace('metrics: {type: prometheus, url: "http://prom.test:9090", '
                                    'retries: 1}\n', ""))
    with pytest.raises(GateCannotRun, match="no Prometheus") as caught:
        check(tmp_path, service="svc.yaml")
    assert "--prometheus URL" in (caught.value.hint or "")


def test_configuration_problems_surface(project: Path, tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        check(project, service="missing.yaml")
    with pytest.raises(UsageError, match="no SLO named 'availabilty'"):
        check(project, slo="availabilty")
    broken = project / ".pipeline" / "broken.yaml"
    broken.write_text(SERVICE.replace("objective: 99%", "objective: 150%"))
    with pytest.raises(ConfigError):
        check(project, service=".pipeline/broken.yaml")


@pytest.mark.parametrize(("options", "words"), [
    ({"condition": "budget_remainig > 0.05"}, "did you mean 'budget_remaining'"),
    ({"condition": "frozen"}, "not a figure of an SLO"),
    ({"condition": "budget_remaining >"}, "not a valid condition"),
    ({"prometheus": "prom:9090"}, "not an http"),
    ({"on_unavailable": "ignore"}, "on_unavailable"),
    ({"slo": []}, "name at least one SLO"),
    ({"slo": ["a", " "]}, "cannot be empty"),
    ({"unknown": 1}, "unknown"),
    ({"retries": 9}, "retries"),
])
def test_bad_options_are_refused_at_config_time(options: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        SloCheckOptions.model_validate(options)


def test_any_policy_window_name_is_a_valid_condition_field() -> None:
    options = SloCheckOptions(condition="burn_rate_28d < 1 and burn_rate_window < 1")
    assert options.condition == "burn_rate_28d < 1 and burn_rate_window < 1"


def test_an_unvalidated_bad_condition_cannot_run(project: Path) -> None:
    options = SloCheckOptions.model_construct(condition="budget_remaining >")
    gate = SloCheckGate(options)
    with pytest.raises(GateCannotRun, match="invalid condition"):
        gate.evaluate(GateContext(project_root=project))
