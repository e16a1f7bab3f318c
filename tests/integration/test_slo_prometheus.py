"""Error budgets, ``slo status``, the ``slo_check`` gate and the rollout's pre-deploy check
against a real Prometheus holding eight days of known request counts (see ``slo_backfill``).

Two services, 600 requests a minute each, SLO 99.9 % over 7 days (a 0.1 % budget):

* ``healthy``: 0.02 % errors all along: burn rate 0.2 everywhere, 80 % of the budget left;
* ``burnt``: 0.05 % errors, then 1 % for the last 26 hours: burn rate 10 over 5m ... 1d, the
  7-day budget overspent (remaining < 0).

The expected figures are computed from those phases; the reader must find them in Prometheus.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from safeship.cli.app import run
from safeship.config.service_file import ServiceSpec, load_service_file
from safeship.engine.rollout import RolloutController, RolloutSetup
from safeship.engine.rollout_slo_guard import OnUnavailable, SloGuard, SloGuardSettings
from safeship.engine.rollout_state import Event, RolloutStatus
from safeship.errors import MetricsUnavailable
from safeship.registry_analysis import judge_for
from safeship.registry_delivery import STRATEGIES
from safeship.slo.prometheus_reader import PrometheusSliReader
from safeship.slo.service_budgets import prometheus_endpoint, rollout_budgets
from safeship.slo.status import SloState, SloStatus, SloStatusSource
from safeship.store.rollouts import RolloutStore
from safeship.strategies.interface import RolloutRequest, Strategy
from safeship.testing.fake_clock import FakeClock
from safeship.testing.fake_router import FakeRouter
from safeship.testing.fake_target import FakeTarget
from tests.integration.prometheus_server import PrometheusServer
from tests.integration.slo_backfill import (
    BackfilledPrometheus,
    Phase,
    ServiceTraffic,
    backfill,
    openmetrics,
)
from tests.requirements import require_binary

pytestmark = pytest.mark.prometheus

DAY = 86400
WEEK_S = 7 * DAY
OBJECTIVE = 0.999
BUDGET = 1 - OBJECTIVE
HEALTHY = ServiceTraffic("healthy", (Phase(8 * DAY + 3600, 600.0, 0.0002),))
BURNT = ServiceTraffic("burnt", (Phase(26 * 3600, 600.0, 0.01),
                                 Phase(8 * DAY, 600.0, 0.0005)))


@dataclass(frozen=True)
class History:
    """The running Prometheus, the anchor its history ends at, and a project using it."""

    server: BackfilledPrometheus
    anchor: int
    project: Path


def service_yaml(url: str, jobs: tuple[str, ...] = ("healthy", "burnt"),
                 name: str = "shop") -> str:
    entries = "".join(
        f"  - name: {job}\n    objective: 99.9%\n    window: 7d\n"
        f'    bad: sum(http_requests_total{{job="{job}",code=~"5.."}})\n'
        f'    total: sum(http_requests_total{{job="{job}"}})\n'
        for job in jobs)
    good = ('  - name: healthy-good\n    objective: 0.999\n    window: 7d\n'
            '    good: sum(http_requests_total{job="healthy",code!~"5.."})\n'
            '    total: sum(http_requests_total{job="healthy"})\n') if "healthy" in jobs else ""
    return (f"apiVersion: safeship/v1\nkind: Service\nname: {name}\nrisk: low\n"
            f"metrics: {{type: prometheus, url: '{url}', timeout: 10, retries: 0}}\n"
            f"slos:\n{entries}{good}")


def service_of(folder: Path, url: str, job: str) -> ServiceSpec:
    """A project whose service is ``job`` with its own SLOs only."""
    path = folder / job / ".pipeline" / "service.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(service_yaml(url, (job,), name=job))
    return load_service_file(path)


@pytest.fixture(scope="module")
def history() -> Iterator[History]:
    binary = require_binary("prometheus", "the SLO tests query a real Prometheus "
                                          "(apt-get install prometheus)")
    promtool = require_binary("promtool", "the SLO tests backfill history with promtool "
                                          "(it ships with the prometheus package)")
    folder = Path(tempfile.mkdtemp(prefix="safeship-slo-"))
    server = BackfilledPrometheus(binary)
    try:
        anchor = int(time.time())
        data = backfill(promtool, openmetrics((HEALTHY, BURNT), anchor), folder)
        server.start_on(data)
        server.wait_for_history('count_over_time(http_requests_total{job="burnt"}[10m])')
        project = folder / "project"
        (project / ".pipeline").mkdir(parents=True)
        (project / ".pipeline" / "service.yaml").write_text(service_yaml(server.url))
        yield History(server, anchor, project)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def spec_of(history: History) -> ServiceSpec:
    return load_service_file(history.project / ".pipeline" / "service.yaml")


def statuses_at(history: History, at: float) -> dict[str, SloStatus]:
    spec = spec_of(history)
    endpoint = prometheus_endpoint(spec)
    assert endpoint is not None
    source = SloStatusSource(spec.slos, PrometheusSliReader(endpoint), now=lambda: at)
    return {status.slo.name: status for status in source.statuses()}


def expected_burn(traffic: ServiceTraffic, window_s: float) -> float:
    total, bad = traffic.counts(window_s)
    return bad / total / BUDGET


def test_budgets_and_burn_rates_match_the_known_history(history: History) -> None:
    statuses = statuses_at(history, history.anchor)
    for name, traffic in (("healthy", HEALTHY), ("burnt", BURNT), ("healthy-good", HEALTHY)):
        status = statuses[name]
        total, bad = traffic.counts(WEEK_S)
        assert status.budget.counts.total == pytest.approx(total, rel=1e-9), name
        assert status.budget.counts.bad == pytest.approx(bad, rel=1e-6, abs=1e-6), name
        assert status.budget.remaining == pytest.approx(1 - expected_burn(traffic, WEEK_S),
                                                        rel=1e-6), name
        for window in status.windows:
            assert window.burn.burn_rate == pytest.approx(
                expected_burn(traffic, window.burn.window_s), rel=1e-6), (name, window.name)
    healthy, burnt = statuses["healthy"], statuses["burnt"]
    assert healthy.state is SloState.OK
    assert healthy.budget.remaining == pytest.approx(0.8, rel=1e-6)
    assert burnt.state is SloState.EXHAUSTED
    assert burnt.budget.remaining < 0
    assert burnt.window("1h") is not None
    firing = {(a.severity, a.alert.long_window_s): a.firing for a in burnt.alerts}
    assert firing[("page", 3600.0)] is True  # 10x > 3.36x, the 7-day page factor
    assert not any(a.firing for a in healthy.alerts)


def test_now_gives_the_same_figures_within_extrapolation(history: History) -> None:
    # The gate and the rollout read "now", a few seconds after the last sample: increase()
    # extrapolates a straight line, so a steady service reads the same.
    statuses = statuses_at(history, time.time())
    assert statuses["healthy"].budget.remaining == pytest.approx(0.8, rel=1e-3)
    five = statuses["healthy"].window("5m")
    assert five is not None
    assert five.burn.burn_rate == pytest.approx(0.2, rel=1e-3)


def test_cli_status_reports_json_and_html(history: History, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    root = str(history.project)
    code = run(["slo", "status", "-C", root, "--at", str(history.anchor), "-f", "json",
                "--slo", "healthy"])
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    [healthy] = document["slos"]
    assert healthy["budget"]["remaining"] == pytest.approx(0.8, rel=1e-6)
    assert [w["window"] for w in healthy["burn_rates"]] == [
        "5m", "30m", "1h", "2h", "6h", "1d", "3d", "7d"]
    page = tmp_path / "slo.html"
    code = run(["slo", "status", "-C", root, "--at", str(history.anchor), "-f", "html",
                "-o", str(page)])
    capsys.readouterr()
    assert code == 1  # burnt is exhausted
    text = page.read_text()
    assert '<div class="slo-plot" data-slo="burnt">' in text
    assert "an error budget is exhausted" in text


GATES = """\
version: 2
stages:
  - name: build
    gates:
      - type: compile
        command: "true"
  - name: unit_test
    gates:
      - type: coverage
        report: coverage.json
        minimum: 80%
  - name: pre_deploy_slo
    gates:
      - type: slo_check
        slo: {slo}
{extra}"""


def gates_run(project: Path, capsys: pytest.CaptureFixture[str], slo: str,
              extra: str = "") -> tuple[int, str]:
    (project / ".pipeline" / "gates.yaml").write_text(GATES.format(slo=slo, extra=extra))
    code = run(["gates", "run", "-C", str(project), "--stage", "pre_deploy_slo", "--no-store",
                "--commit", "c0ffee", "-f", "json"])
    return code, capsys.readouterr().out


def test_the_gate_passes_a_healthy_service_and_blocks_a_burnt_one(
        history: History, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = gates_run(history.project, capsys, "healthy")
    assert code == 0, out
    gate = json.loads(out)["stages"][0]["gates"][0]
    assert gate["metrics"]["slos"]["healthy"]["budget_remaining"] == pytest.approx(0.8,
                                                                                 rel=1e-3)
    code, out = gates_run(history.project, capsys, "burnt")
    assert code == 1, out
    gate = json.loads(out)["stages"][0]["gates"][0]
    assert gate["outcome"] == "blocked"
    assert gate["findings"][0]["rule"] == "slo_check.condition"


def test_a_stopped_prometheus_fails_closed_unless_told_to_warn(
        history: History, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    binary = require_binary("prometheus", "a Prometheus to stop")
    stopped = PrometheusServer(binary)
    stopped.start([])
    url = stopped.url
    stopped.stop()  # it really ran on this port; now nothing answers there
    project = tmp_path / "down"
    (project / ".pipeline").mkdir(parents=True)
    (project / ".pipeline" / "service.yaml").write_text(service_yaml(url))
    code, out = gates_run(project, capsys, "healthy")
    assert code == 3, out
    gate = json.loads(out)["stages"][0]["gates"][0]
    assert gate["outcome"] == "error"
    assert "could not be checked" in gate["summary"]
    code, out = gates_run(project, capsys, "healthy", extra="        on_unavailable: warn\n")
    assert code == 0, out
    gate = json.loads(out)["stages"][0]["gates"][0]
    assert gate["outcome"] == "passed"
    assert gate["summary"].startswith("UNSAFE")
    status = run(["slo", "status", "-C", str(project)])
    assert status == 3
    # The rollout does not start either, and the refusal is on record.
    spec = service_of(tmp_path, url, "healthy")
    with RolloutStore.open(f"sqlite:///{tmp_path}/state.db", tmp_path) as store:
        with pytest.raises(MetricsUnavailable):
            start(store, spec)
        [rec] = store.list_releases("healthy")
        assert rec.status == RolloutStatus.ABORTED.value
        assert "could not be checked" in (rec.reason or "")


def strategy_for(name: str) -> Strategy:
    return STRATEGIES[name]()  # type: ignore[return-value]


def start(store: RolloutStore, spec: ServiceSpec) -> RolloutStatus:
    """Start a rollout of ``spec``'s service, wired as ``safeship rollout start`` wires it."""
    budgets = rollout_budgets(spec)
    assert budgets is not None
    guard = SloGuard(budgets.source, SloGuardSettings(
        on_unavailable=OnUnavailable(budgets.on_unavailable)))
    controller = RolloutController(
        store, FakeRouter(), FakeTarget(), clock=FakeClock(), holder="it",
        strategies=strategy_for, judges=judge_for, slo_guard=guard)
    outcome = controller.start(RolloutRequest(service=spec.name, version="v1", replicas=1),
                               RolloutSetup("recreate", actor="integration"))
    return outcome.status


def test_the_rollout_starts_only_with_budget_left(history: History, tmp_path: Path) -> None:
    url = history.server.url
    with RolloutStore.open(f"sqlite:///{tmp_path}/state.db", tmp_path) as store:
        assert start(store, service_of(tmp_path, url, "healthy")) is RolloutStatus.SUCCEEDED
        [healthy] = store.list_releases("healthy")
        [checked] = store.transitions(healthy.release_id, event=Event.SLO_CHECKED.value)
        assert "healthy (99.9% over 7d): 80.0" in checked.reason
        assert start(store, service_of(tmp_path, url, "burnt")) is RolloutStatus.ABORTED
        [burnt] = store.list_releases("burnt")
        assert "error budget at or below 5%" in (burnt.reason or "")
        assert "burnt (99.9% over 7d): budget exhausted" in (burnt.reason or "")
        assert store.active_release("burnt") is None
