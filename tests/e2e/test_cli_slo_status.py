"""``safeship slo status`` and an ``slo_check`` gate in ``gates run``, against a fake Prometheus
served over real HTTP on 127.0.0.1 (its answers are computed from known traffic)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from safeship.config.service_file import load_service_file
from tests.e2e.conftest import CliRunner
from tests.unit.gates.http_fixture import closed_port_url
from tests.unit.slo.prometheus_fake import FakePrometheus, Phase, Traffic, steady

SLOS = """\
slos:
  - name: availability
    objective: 99.9%
    window: 30d
    description: Requests to the shop succeed
    bad: sum(http_requests_total{job="shop",code=~"5.."})
    total: sum(http_requests_total{job="shop"})
  - name: checkout
    objective: 99%
    window: 7d
    good: sum(checkout_total{result="ok"})
    total: sum(checkout_total)
"""


def write_service(root: Path, prometheus: str | None = None) -> Path:
    metrics = f"metrics: {{type: prometheus, url: '{prometheus}', retries: 0}}\n" if (
        prometheus) else ""
    path = root / ".pipeline" / "service.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("apiVersion: safeship/v1\nkind: Service\nname: shop\nrisk: low\n"
                    + metrics + SLOS)
    return path


@pytest.fixture
def fake() -> FakePrometheus:
    return FakePrometheus()


@pytest.fixture
def prometheus(fake: FakePrometheus) -> Iterator[str]:
    with fake.running() as url:
        yield url


def serve(fake: FakePrometheus, root: Path, **traffic: Traffic) -> None:
    for slo in load_service_file(root / ".pipeline" / "service.yaml").slos:
        if slo.name in traffic:
            fake.serve(slo, traffic[slo.name])


def test_help_answers_the_question(cli: CliRunner) -> None:
    result = cli("slo", "status", "--help")
    assert result.code == 0
    assert "How much error budget is left" in result.out
    for option in ("--service", "--slo", "--prometheus", "--format", "--output", "--at"):
        assert option in result.out


def test_json_status_of_healthy_slos_exits_0(cli: CliRunner, tmp_path: Path,
                                             fake: FakePrometheus, prometheus: str) -> None:
    write_service(tmp_path, prometheus)
    availability = steady(0.0002, rate=20.0)
    serve(fake, tmp_path, availability=availability, checkout=steady(0.002))
    result = cli("slo", "status", "-C", str(tmp_path), "--format", "json")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["schema"] == "safeship.slo-status/v1"
    assert document["service"] == "shop"
    assert document["prometheus"] == prometheus
    assert document["exit_code"] == 0
    first, second = document["slos"]
    assert first["slo"] == "availability"
    assert first["state"] == "ok"
    total, bad = availability.counts(30 * 86400)
    assert first["budget"]["events_total"] == pytest.approx(total)
    assert first["budget"]["remaining"] == pytest.approx(1 - (bad / total) / 0.001)
    assert [w["window"] for w in first["burn_rates"]] == [
        "5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"]
    assert [w["window"] for w in second["burn_rates"]][-1] == "7d"
    assert second["budget"]["remaining"] == pytest.approx(0.8)
    assert "availability (99.9% over 30d): 80.00% of the error budget left" in result.err


def test_plain_table_names_budgets_and_burn_rates(cli: CliRunner, tmp_path: Path,
                                                  fake: FakePrometheus,
                                                  prometheus: str) -> None:
    write_service(tmp_path)  # no metrics section: the URL comes from --prometheus
    traffic = Traffic((Phase(3600, 10.0, 0.02), Phase(40 * 86400, 10.0, 0.0002)))
    serve(fake, tmp_path, availability=traffic)
    result = cli("slo", "status", "--service", str(tmp_path / ".pipeline" / "service.yaml"),
                 "--prometheus", prometheus, "--slo", "availability")
    assert result.code == 0, result.err
    assert "availability  99.9% / 30d  OK  budget remaining" in result.out
    assert "burn rate: 5m 20x  30m 20x  1h 20x" in result.out
    assert "page 1h/5m 14.4x FIRING" in result.out
    assert "checkout" not in result.out
    assert all("checkout" not in query for query in fake.queries)


def test_an_exhausted_budget_exits_1(cli: CliRunner, tmp_path: Path, fake: FakePrometheus,
                                     prometheus: str) -> None:
    write_service(tmp_path, prometheus)
    serve(fake, tmp_path, availability=steady(0.0002), checkout=steady(0.02))
    result = cli("slo", "status", "-C", str(tmp_path), "-f", "json")
    assert result.code == 1
    states = {s["slo"]: s["state"] for s in json.loads(result.out)["slos"]}
    assert states == {"availability": "ok", "checkout": "exhausted"}


def test_no_data_exits_4(cli: CliRunner, tmp_path: Path, fake: FakePrometheus,
                         prometheus: str) -> None:
    write_service(tmp_path, prometheus)
    serve(fake, tmp_path, availability=steady(0.0002))  # nothing for checkout
    result = cli("slo", "status", "-C", str(tmp_path))
    assert result.code == 4
    assert "checkout  99% / 7d  NO_DATA  budget remaining no data" in result.out


def test_unreachable_prometheus_exits_3(cli: CliRunner, tmp_path: Path) -> None:
    url = closed_port_url()
    write_service(tmp_path, url)
    result = cli("slo", "status", "-C", str(tmp_path))
    assert result.code == 3
    assert "cannot connect" in result.err
    assert url.removeprefix("http://").rstrip("/") in result.err


def test_the_time_can_be_chosen(cli: CliRunner, tmp_path: Path, fake: FakePrometheus,
                                prometheus: str) -> None:
    write_service(tmp_path, prometheus)
    serve(fake, tmp_path, availability=steady(0.0002), checkout=steady(0.001))
    result = cli("slo", "status", "-C", str(tmp_path), "--at", "1800000000", "-f", "json")
    assert result.code == 0, result.err
    assert set(fake.times) == {"1800000000.000"}
    assert json.loads(result.out)["at"] == 1_800_000_000


def test_html_report_is_written_to_a_file(cli: CliRunner, tmp_path: Path,
                                          fake: FakePrometheus, prometheus: str) -> None:
    write_service(tmp_path, prometheus)
    serve(fake, tmp_path, availability=steady(0.0002), checkout=steady(0.001))
    out = tmp_path / "reports" / "slo.html"
    result = cli("slo", "status", "-C", str(tmp_path), "--format", "html", "-o", str(out))
    assert result.code == 0, result.err
    page = out.read_text()
    assert '<div class="slo-plot" data-slo="availability">' in page
    assert '<div class="slo-plot" data-slo="checkout">' in page
    assert f"report written to {out}" in result.err
    assert result.out == ""


@pytest.mark.parametrize(("args", "words"), [
    (["--slo", "availabilty"], "did you mean 'availability'?"),
    (["--at", "yesterday"], "--at"),
    (["--prometheus", "prom:9090"], "--prometheus"),
    (["--format", "pdf"], "pdf"),
])
def test_bad_input_exits_2(cli: CliRunner, tmp_path: Path, args: list[str],
                           words: str) -> None:
    write_service(tmp_path, "http://127.0.0.1:9")
    result = cli("slo", "status", "-C", str(tmp_path), *args)
    assert result.code == 2
    assert words in result.err


def test_no_prometheus_known_exits_2_with_a_hint(cli: CliRunner, tmp_path: Path) -> None:
    write_service(tmp_path)
    result = cli("slo", "status", "-C", str(tmp_path))
    assert result.code == 2
    assert "no Prometheus" in result.err
    assert "--prometheus URL" in result.err


def test_a_broken_service_file_is_located(cli: CliRunner, tmp_path: Path) -> None:
    path = write_service(tmp_path, "http://127.0.0.1:9")
    lines = path.read_text().replace("objective: 99%", "objective: 250%").splitlines()
    path.write_text("\n".join(lines) + "\n")
    line = next(i for i, text in enumerate(lines, 1) if "250%" in text)
    result = cli("slo", "status", "-C", str(tmp_path))
    assert result.code == 2
    assert f"{path}:{line}:" in result.err
    assert "objective" in result.err
    missing = cli("slo", "status", "-C", str(tmp_path / "nowhere"))
    assert missing.code == 2
    assert "no service file" in missing.err


# --- the slo_check gate through `gates run` ----------------------------------------------------

# Risk low makes compile and coverage mandatory; they are configured but only the
# pre_deploy stage runs.
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
  - name: pre_deploy
    gates:
      - name: pre_deploy_slo
        type: slo_check
        condition: "budget_remaining > 0.05"
        fail_message: "Error budget too low - deploy blocked"
"""


def gates_project(root: Path, prometheus: str, extra: str = "") -> None:
    write_service(root, prometheus)
    (root / ".pipeline" / "gates.yaml").write_text(GATES + extra)


def run_gates(cli: CliRunner, root: Path) -> tuple[int, dict[str, object]]:
    result = cli("gates", "run", "-C", str(root), "--stage", "pre_deploy", "--format", "json",
                 "--no-store", "--commit", "abc123")
    return result.code, json.loads(result.out)


def test_the_gate_passes_healthy_budgets(cli: CliRunner, tmp_path: Path, fake: FakePrometheus,
                                         prometheus: str) -> None:
    gates_project(tmp_path, prometheus)
    serve(fake, tmp_path, availability=steady(0.0002), checkout=steady(0.001))
    code, report = run_gates(cli, tmp_path)
    assert code == 0
    assert report["status"] == "passed"


def test_the_gate_blocks_a_burnt_budget(cli: CliRunner, tmp_path: Path, fake: FakePrometheus,
                                        prometheus: str) -> None:
    gates_project(tmp_path, prometheus)
    serve(fake, tmp_path, availability=steady(0.00097), checkout=steady(0.001))
    code, report = run_gates(cli, tmp_path)
    assert code == 1
    assert report["status"] == "blocked"
    assert "Error budget too low - deploy blocked" in json.dumps(report)


def test_the_gate_fails_closed_when_prometheus_is_down(cli: CliRunner, tmp_path: Path) -> None:
    gates_project(tmp_path, closed_port_url())
    code, report = run_gates(cli, tmp_path)
    assert code == 3
    assert report["status"] == "error"
    assert "could not be checked" in json.dumps(report)


def test_warn_lets_the_gate_pass_when_prometheus_is_down(cli: CliRunner,
                                                         tmp_path: Path) -> None:
    gates_project(tmp_path, closed_port_url(), extra="        on_unavailable: warn\n")
    code, report = run_gates(cli, tmp_path)
    assert code == 0
    assert "UNSAFE" in json.dumps(report)


def test_a_terminal_gets_a_table(cli: CliRunner, tmp_path: Path, fake: FakePrometheus,
                                 prometheus: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("safeship.cli.slo_cmd.is_interactive", lambda: True)
    write_service(tmp_path, prometheus)
    serve(fake, tmp_path, availability=steady(0.0002), checkout=steady(0.02))
    result = cli("slo", "status", "-C", str(tmp_path))
    assert result.code == 1
    assert "error budgets and burn rates" in result.out
    assert "exhausted" in result.out
    assert "availability (99.9% over 30d): 80.00% of the error budget left" in result.out
    assert "checkout (99% over 7d): budget exhausted" in result.out
