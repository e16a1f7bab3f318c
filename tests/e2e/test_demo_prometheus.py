"""``safeship demo --prometheus --json``: the canary metrics come from a real Prometheus.

Prometheus (``/usr/bin/prometheus``) scrapes the embedded router's token-protected ``/metrics``;
the ``prometheus`` provider answers the demo's PromQL. v2 must still be rolled back and v3
promoted. Outcomes only, never wall-clock times (the demo's own bound is generous).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import CliRunner
from tests.requirements import require_binary

pytestmark = pytest.mark.prometheus


def test_demo_with_prometheus_rolls_back_v2_and_promotes_v3(cli: CliRunner,
                                                            tmp_path: Path) -> None:
    require_binary("/usr/bin/prometheus", "demo --prometheus reads the canary metrics from it")
    out_file = tmp_path / "demo.json"
    result = cli("demo", "--prometheus", "--json", str(out_file))
    assert result.code == 0, result.out + result.err
    assert "metrics from Prometheus at http://127.0.0.1:" in result.out
    assert "the judge's metrics came from Prometheus" in result.out
    assert "falling back" not in result.out

    data = json.loads(out_file.read_text())
    assert data["metrics_source"] == "prometheus"
    releases = {r["version"]: r for r in data["releases"]}
    assert releases["v2"]["decision"] == "ROLLED_BACK"
    assert releases["v2"]["max_canary_percent"] <= 5
    assert releases["v2"]["canary_requests_after_rollback"] == 0
    assert releases["v3"]["decision"] == "PROMOTED"
    assert releases["v3"]["max_canary_percent"] == 100

    report_line = next(line for line in result.out.splitlines()
                       if line.startswith("HTML report of v2's analysis:"))
    report = Path(report_line.split(":", 1)[1].strip())
    try:
        assert "<html" in report.read_text()
    finally:
        report.unlink(missing_ok=True)
        report.parent.rmdir()
