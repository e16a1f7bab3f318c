"""`safeship analyze` from recorded files: every judge, every format, every bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import CliRunner
from tests.e2e.recordings import write_recordings

ERRORS = ('sum(rate(http_requests_total{status=~\\"5..\\"}[2m]))'
          " / sum(rate(http_requests_total[2m]))")
CONFIG = """\
apiVersion: analysis/v1
kind: CanaryConfig
metadata:
  name: shop-canary
spec:
  steps:
    - percentage: 50
      duration: 10m
    - percentage: 50
      duration: 10m
  metrics:
    - name: error_rate
      query: "{ERRORS}"
      threshold:
        max_increase_ratio: 2.0
    - name: latency_p95
      query: "histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket[2m])) by (le))"
      threshold:
        max_absolute_ms: 500
    - name: slo_burn_rate
      query: "(error_rate / (1 - 0.99))"
      threshold:
        max_absolute: 3
""".replace("{ERRORS}", ERRORS)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "canary-analysis.yaml"
    path.write_text(CONFIG)
    return path


@pytest.fixture
def bad(tmp_path: Path) -> tuple[Path, Path]:
    return write_recordings(tmp_path / "bad", canary_error_rate=0.05)


@pytest.fixture
def good(tmp_path: Path) -> tuple[Path, Path]:
    return write_recordings(tmp_path / "good", canary_error_rate=0.01)


def analyze(cli: CliRunner, config: Path, arms: tuple[Path, Path], *args: str):  # type: ignore[no-untyped-def]
    return cli("analyze", "--config", str(config), "--baseline", str(arms[0]),
               "--canary", str(arms[1]), *args)


@pytest.mark.parametrize("judge", ["sequential", "kayenta", "threshold"])
def test_every_judge_rolls_back_a_5x_error_canary(cli: CliRunner, config: Path,
                                                   bad: tuple[Path, Path], judge: str) -> None:
    result = analyze(cli, config, bad, "--judge", judge, "--format", "json")
    assert result.code == 1, result.out + result.err
    report = json.loads(result.out)
    assert report["decision"] == "ROLLBACK"
    assert report["judge"] == judge
    error_rate = next(m for m in report["metrics"] if m["name"] == "error_rate")
    assert error_rate["verdict"] == "fail"
    assert error_rate["classification"] == "High"
    assert error_rate["canary"] > 3 * error_rate["baseline"]
    assert report["reasons"]


def test_kayenta_verdicts_carry_its_statistics(cli: CliRunner, config: Path,
                                               bad: tuple[Path, Path]) -> None:
    report = json.loads(analyze(cli, config, bad, "--judge", "kayenta", "-f", "json").out)
    assert isinstance(report["score"], int | float)
    for metric in report["metrics"]:
        for key in ("ci_lower", "ci_upper", "estimate", "effect_size"):
            assert key in metric


# Kayenta judges at its own interval (5 minutes here): re-testing a handful of per-interval
# points every 10 s is exactly the repeated-looks weakness the sequential judge avoids.
@pytest.mark.parametrize(("judge", "every"), [("sequential", "10s"), ("kayenta", "5m")])
def test_a_good_canary_proceeds(cli: CliRunner, config: Path, good: tuple[Path, Path],
                                judge: str, every: str) -> None:
    result = analyze(cli, config, good, "--judge", judge, "--every", every, "--format", "json")
    assert result.code == 0, result.out
    assert json.loads(result.out)["decision"] == "PROCEED"


def test_sequential_explains_with_a_confidence_sequence(cli: CliRunner, config: Path,
                                                        bad: tuple[Path, Path]) -> None:
    report = json.loads(analyze(cli, config, bad, "-f", "json").out)
    error_rate = next(m for m in report["metrics"] if m["name"] == "error_rate")
    assert "x baseline" in error_rate["detail"]
    assert "CS" in error_rate["detail"]
    assert error_rate["e_value"] >= error_rate["threshold"]


def test_html_and_table_outputs(cli: CliRunner, config: Path, bad: tuple[Path, Path],
                                tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    result = analyze(cli, config, bad, "--format", "html", "--output", str(html))
    assert result.code == 1
    page = html.read_text()
    assert page.count('class="metric-plot"') == 3
    assert "https://" not in page.split("<body", 1)[0].split("Content-Security-Policy")[0]
    table = analyze(cli, config, bad)
    assert table.code == 1
    assert "ROLLBACK" in table.out


def test_missing_canary_data_never_proceeds(cli: CliRunner, config: Path,
                                            good: tuple[Path, Path], tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text('{"metrics": {}}')
    for judge in ("sequential", "kayenta", "threshold"):
        result = analyze(cli, config, (good[0], empty), "--judge", judge, "-f", "json")
        assert result.code == 4, (judge, result.out)
        assert json.loads(result.out)["decision"] == "INSUFFICIENT_DATA"


def test_bad_json_names_file_line_and_column(cli: CliRunner, config: Path,
                                             good: tuple[Path, Path], tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"metrics": {"error_rate": [1, 2,]}}')
    result = analyze(cli, config, (good[0], broken))
    assert result.code == 2
    assert f"{broken}:1:" in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize(("args", "message"), [
    (["--baseline", "b.json"], "--baseline and --canary go together"),
    ([], "say where the metrics are"),
    (["--baseline", "b.json", "--canary", "c.json", "--prometheus", "http://127.0.0.1:1"],
     "not both"),
    (["--prometheus", "http://127.0.0.1:1", "--start", "yesterday"], "is not a time"),
    (["--prometheus", "http://127.0.0.1:1", "--start", "now", "--end", "now-1h"],
     "--end must be after --start"),
    (["--prometheus", "ftp://x"], "--prometheus"),
    (["--prometheus", "http://127.0.0.1:1", "--step", "0s"], "--step: must be longer"),
    (["--baseline", "nope.json", "--canary", "nope.json"], "does not exist"),
])
def test_bad_arguments(cli: CliRunner, config: Path, args: list[str], message: str) -> None:
    result = cli("analyze", "--config", str(config), *args)
    assert result.code == 2, result.err
    assert message in result.err
    assert "Traceback" not in result.err


def test_missing_config(cli: CliRunner, tmp_path: Path) -> None:
    result = cli("analyze", "--config", str(tmp_path / "nope.yaml"), "--prometheus",
                 "http://127.0.0.1:1")
    assert result.code == 2
    assert "no such file" in result.err
