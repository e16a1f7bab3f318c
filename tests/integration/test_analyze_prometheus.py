"""`safeship analyze --prometheus` against a real Prometheus scraping a bad canary."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from safeship.cli.app import run
from tests.integration.prometheus_server import PrometheusStack, closed_port_url

GUIDE_CANARY = Path(__file__).resolve().parents[1] / "data" / "guide" / "canary-analysis.yaml"


def analyze(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run(["analyze", "--config", str(GUIDE_CANARY), *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.prometheus
@pytest.mark.parametrize("judge", ["sequential", "kayenta", "threshold"])
def test_the_guides_config_catches_the_bad_canary(prometheus_stack: PrometheusStack,
                                                   capsys: pytest.CaptureFixture[str],
                                                   judge: str) -> None:
    end = time.time()
    code, out, err = analyze(
        capsys, "--prometheus", prometheus_stack.server.url, "--start", str(end - 12),
        "--end", str(end), "--step", "1s", "--judge", judge, "--format", "json")
    assert code == 1, out + err
    report = json.loads(out)
    assert report["decision"] == "ROLLBACK"
    assert report["judge"] == judge
    verdicts = {m["name"]: m for m in report["metrics"]}
    # Which metric decides first differs by judge (the sequential judge's burn-rate check
    # fires after one second of 10 % errors against a 99.9 % SLO), but one of them must.
    assert {verdicts["error_rate"]["verdict"], verdicts["slo_burn_rate"]["verdict"]} & {"fail"}
    # Scoping worked: each arm saw its own error rate (baseline 2 %, canary 10 %).
    assert verdicts["error_rate"]["baseline"] == pytest.approx(0.02, abs=0.01)
    assert verdicts["error_rate"]["canary"] == pytest.approx(0.10, abs=0.03)


@pytest.mark.prometheus
def test_html_report_from_prometheus(prometheus_stack: PrometheusStack,
                                     capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_file = tmp_path / "report.html"
    code, _, err = analyze(capsys, "--prometheus", prometheus_stack.server.url, "--start",
                           "now-12s", "--step", "1s", "--format", "html", "-o", str(out_file))
    assert code == 1, err
    html = out_file.read_text()
    assert html.count('class="metric-plot"') == 3
    assert "ROLLBACK" in html


def test_unreachable_prometheus_is_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = analyze(capsys, "--prometheus", closed_port_url(), "--start", "now-1m")
    assert code == 3
    assert "Traceback" not in err
