"""``safeship demo --json``: the canary part catches v2, rolls it back, and promotes v3.

The demo runs real processes on 127.0.0.1 (the sample service behind the embedded router under
steady load), so this test checks outcomes only, never wall-clock times.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import CliRunner


def test_demo_canary_rolls_back_v2_and_promotes_v3(cli: CliRunner, tmp_path: Path) -> None:
    out_file = tmp_path / "demo.json"
    result = cli("demo", "--json", str(out_file))
    assert result.code == 0, result.out + result.err
    assert "run 1 ended blocked, run 2 ended passed" in result.out
    assert "HTML report of v2's analysis:" in result.out

    data = json.loads(out_file.read_text())
    assert isinstance(data["duration_seconds"], float | int)
    releases = {r["version"]: r for r in data["releases"]}
    assert set(releases) == {"v2", "v3"}

    v2 = releases["v2"]
    assert v2["decision"] == "ROLLED_BACK"
    assert isinstance(v2["rollback_seconds"], float | int)
    assert v2["max_canary_percent"] <= 5
    # Counted from requests *sent* after the router reported 0 % on v2: requests in flight at
    # the switch may still be answered by v2, so they are not counted; none sent later may be.
    assert v2["canary_requests_after_rollback"] == 0
    assert v2["failed_requests_during_weight_changes"] == 0

    v3 = releases["v3"]
    assert v3["decision"] == "PROMOTED"
    assert v3["rollback_seconds"] is None
    assert v3["max_canary_percent"] == 100
    assert v3["failed_requests_during_weight_changes"] == 0

    report_line = next(line for line in result.out.splitlines()
                       if line.startswith("HTML report of v2's analysis:"))
    report = Path(report_line.split(":", 1)[1].strip())
    try:
        assert report.is_file()
        assert "<html" in report.read_text()
        # Only the report is kept from the demo's temp dir.
        assert [p.name for p in report.parent.iterdir()] == [report.name]
    finally:
        report.unlink(missing_ok=True)
        report.parent.rmdir()


def test_demo_no_canary_runs_the_gates_only(cli: CliRunner, tmp_path: Path) -> None:
    out_file = tmp_path / "demo.json"
    result = cli("demo", "--no-canary", "--json", str(out_file))
    assert result.code == 0, result.out + result.err
    assert "run 1 ended blocked, run 2 ended passed" in result.out
    assert "canary:" not in result.out
    assert json.loads(out_file.read_text())["releases"] == []
