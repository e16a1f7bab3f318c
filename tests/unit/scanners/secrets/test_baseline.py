"""Baselines: accepted findings by fingerprint, stable when lines move."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from safeship.errors import ConfigError, NotFound
from safeship.scanners.secrets import (
    ScanOptions,
    default_ruleset,
    load_baseline,
    render_baseline,
    scan_paths,
)

from .corpus import Gen, checksummed


def test_baseline_accepts_reviewed_findings_even_when_lines_move(tmp_path: Path,
                                                                 gen: Gen) -> None:
    accepted_token = checksummed("ghp_", gen)
    (tmp_path / "a.env").write_text("GITHUB_TOKEN=" + accepted_token + "\n")
    first = scan_paths(tmp_path, default_ruleset(), ScanOptions(jobs=1))
    baseline = tmp_path / "baseline.json"
    baseline.write_text(render_baseline(first))
    assert accepted_token not in baseline.read_text()
    accepted = load_baseline(baseline)
    assert accepted == {first.findings[0].fingerprint}

    new_token = checksummed("ghp_", gen)
    (tmp_path / "a.env").write_text("# moved down\n\nGITHUB_TOKEN=" + accepted_token
                                    + "\nOTHER_TOKEN=" + new_token + "\n")
    second = scan_paths(tmp_path, default_ruleset(), ScanOptions(jobs=1)).without(accepted)
    assert [(f.line, f.redacted) for f in second.findings] == [(4, "ghp_****")]
    assert second.suppressed["baseline"] == 1


def test_malformed_baseline_points_at_the_line(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text('{\n  "findings": [\n    {"fingerprint": 1,}\n  ]\n}\n')
    with pytest.raises(ConfigError) as caught:
        load_baseline(path)
    assert caught.value.problems[0].location.line == 3


@pytest.mark.parametrize("content", [
    "[]", '{"findings": {}}', '{"findings": [{"rule_id": "x"}]}',
    '{"version": "other/v9", "findings": []}',
])
def test_baseline_shape_is_checked(tmp_path: Path, content: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(content)
    with pytest.raises(ConfigError):
        load_baseline(path)


def test_missing_baseline(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        load_baseline(tmp_path / "none.json")


def test_rendered_baseline_is_versioned(tmp_path: Path) -> None:
    data = json.loads(render_baseline(scan_paths(tmp_path, default_ruleset())))
    assert data == {"version": "safeship.secrets-baseline/v1", "findings": []}
