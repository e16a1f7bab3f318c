"""The ``file`` provider: recorded metrics, cumulative counters, and precise errors."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from safeship.errors import ConfigError, ExitCode, InternalError, NotFound
from safeship.metrics.file import (
    FileOptions,
    FileProvider,
    field_path,
    parse_recording,
    value_positions,
)
from safeship.metrics.interface import TimeRange
from safeship.model.analysis import Arm, ArmCounts
from safeship.model.canary import CanaryMetric, CanarySpec, CanaryStep, Scope

NAN = math.nan
WINDOW = TimeRange(1000.0, 1100.0, 10.0)
SPEC = CanarySpec("c.yaml", "t", (CanaryStep(10, 60),), (CanaryMetric("error_rate", "x"),))


def _same(actual: tuple[float, ...], expected: list[float]) -> bool:
    return len(actual) == len(expected) and all(
        (math.isnan(a) and math.isnan(e)) or a == pytest.approx(e)
        for a, e in zip(actual, expected, strict=True)
    )


def _provider(tmp_path: Path, baseline: object, canary: object | None = None) -> FileProvider:
    (tmp_path / "baseline.json").write_text(json.dumps(baseline, indent=2))
    (tmp_path / "canary.json").write_text(json.dumps(canary if canary is not None else baseline,
                                                     indent=2))
    return FileProvider(FileOptions(baseline="baseline.json", canary="canary.json"),
                        base_dir=tmp_path)


def _metric(name: str) -> CanaryMetric:
    return CanaryMetric(name, "ignored by the file provider")


# --- metrics -----------------------------------------------------------------------------------


def test_bare_values_are_placed_on_the_window_grid(tmp_path: Path) -> None:
    provider = _provider(tmp_path, {"metrics": {"error_rate": [0.01, None, "NaN", 0.03]}},
                         {"metrics": {"error_rate": [0.5]}})
    series = provider.query_range(_metric("error_rate"), Arm.BASELINE, Scope(), WINDOW)
    assert series.timestamps == (1000.0, 1010.0, 1020.0, 1030.0)
    assert _same(series.values, [0.01, NAN, NAN, 0.03])
    canary = provider.query_range(_metric("error_rate"), Arm.CANARY, Scope(), WINDOW)
    assert canary.values == (0.5,)


def test_timestamped_values_are_filtered_to_the_window(tmp_path: Path) -> None:
    points = [[990, 1.0], [1000, 2.0], [1050, None], [1100, "+Inf"], [1101, 5.0]]
    provider = _provider(tmp_path, {"metrics": {"latency_p95": points}})
    series = provider.query_range(_metric("latency_p95"), Arm.CANARY, Scope(), WINDOW)
    assert series.timestamps == (1000.0, 1050.0, 1100.0)
    assert _same(series.values, [2.0, NAN, math.inf])


def test_a_missing_metric_is_an_empty_series_not_an_error(tmp_path: Path) -> None:
    provider = _provider(tmp_path, {"metrics": {}})
    series = provider.query_range(_metric("nope"), Arm.CANARY, Scope(), WINDOW)
    assert len(series) == 0
    assert provider.counts(SPEC, Arm.CANARY, WINDOW) is None  # no counters at all


def test_derived_metrics_are_not_read_from_files(tmp_path: Path) -> None:
    provider = _provider(tmp_path, {"metrics": {"burn": [1.0]}})
    derived = CanaryMetric("burn", "error_rate / 0.001", derived_from=("error_rate",))
    with pytest.raises(InternalError):
        provider.query_range(derived, Arm.CANARY, Scope(), WINDOW)


# --- counters ----------------------------------------------------------------------------------


def test_cumulative_counters_become_per_interval_deltas(tmp_path: Path) -> None:
    counters = {
        "requests": [[990, 50], [1000, 100], [1010, 200], [1020, 350]],
        "errors": [[1000, 1], [1010, 3], [1020, 3]],
        "latency_buckets": {
            "0.1": [[1000, 80], [1010, 150], [1020, 250]],
            "+Inf": [[1000, 100], [1010, 200], [1020, 350]],
        },
        "good_events": {"checkout": [[1000, 10], [1010, 19], [1020, 30]]},
    }
    provider = _provider(tmp_path, {"counters": counters})
    counts = provider.counts(SPEC, Arm.BASELINE, WINDOW)
    assert counts == ArmCounts(
        timestamps=(1010.0, 1020.0),
        requests=(100.0, 150.0),
        errors=(2.0, 0.0),
        latency_buckets={0.1: (70.0, 100.0), math.inf: (100.0, 150.0)},
        good_events={"checkout": (9.0, 11.0)},
    )


def test_a_counter_reset_counts_like_increase(tmp_path: Path) -> None:
    counters = {"requests": [[1000, 500], [1010, 600], [1020, 40], [1030, 90]],
                "errors": [[1000, 5], [1010, 9], [1020, 1], [1030, 2]]}
    counts = _provider(tmp_path, {"counters": counters}).counts(SPEC, Arm.CANARY, WINDOW)
    assert counts is not None
    assert counts.requests == (100.0, 40.0, 50.0)
    assert counts.errors == (4.0, 1.0, 1.0)


def test_missing_and_nan_counter_samples_give_nan_intervals(tmp_path: Path) -> None:
    counters = {"requests": [[1000, 0], [1010, None], [1020, 30], [1030, 45]],
                "errors": [[1000, 0], [1030, 1]]}
    counts = _provider(tmp_path, {"counters": counters}).counts(SPEC, Arm.CANARY, WINDOW)
    assert counts is not None
    assert counts.timestamps == (1010.0, 1020.0, 1030.0)
    assert _same(counts.requests, [NAN, NAN, 15.0])
    assert _same(counts.errors, [NAN, NAN, NAN])  # errors were not sampled at 1010 and 1020


def test_counters_outside_the_window_or_too_few_give_no_intervals(tmp_path: Path) -> None:
    provider = _provider(tmp_path, {"counters": {"requests": [[1000, 1], [2000, 5]]}})
    assert provider.counts(SPEC, Arm.CANARY, WINDOW) == ArmCounts()


# --- files and errors --------------------------------------------------------------------------


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    provider = _provider(tmp_path, {"metrics": {"m": [1.0]}})
    assert provider.query_range(_metric("m"), Arm.CANARY, Scope(), WINDOW).values == (1.0,)
    path = tmp_path / "canary.json"
    path.write_text(json.dumps({"metrics": {"m": [2.0, 3.0]}}))
    os.utime(path, ns=(1, 1))  # make sure the modification stamp differs
    assert provider.query_range(_metric("m"), Arm.CANARY, Scope(), WINDOW).values == (2.0, 3.0)


def test_a_missing_file_is_reported_as_not_found(tmp_path: Path) -> None:
    provider = FileProvider(FileOptions(baseline="none.json", canary="none.json"),
                            base_dir=tmp_path)
    with pytest.raises(NotFound, match=r"none\.json"):
        provider.query_range(_metric("m"), Arm.CANARY, Scope(), WINDOW)


def test_options_refuse_unknown_keys() -> None:
    with pytest.raises(ValueError, match="extra"):
        FileOptions.model_validate({"baseline": "a", "canary": "b", "other": 1})


def _error(text: str, name: str = "rec.json") -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_recording(text, name)
    assert caught.value.exit_code == ExitCode.USAGE == 2
    return caught.value


def test_invalid_json_names_file_line_and_column() -> None:
    error = _error('{\n  "metrics": {\n    "x": [1, 2,]\n  }\n}')
    problem = error.problems[0]
    assert (problem.location.path, problem.location.line, problem.location.column) == (
        "rec.json", 3, 16)
    assert str(error).startswith("rec.json:3:16: not valid JSON")


@pytest.mark.parametrize(
    ("text", "where", "field", "message"),
    [
        ('[1, 2]', (1, 1), "", "expected an object"),
        ('{\n  "metric": {}\n}', (2, 13), "metric", "unknown key 'metric'"),
        ('{"metrics": {\n  "a": [1, 2],\n  "b": [1, true]\n}}', (3, 12), "metrics.b[1]",
         "expected a number"),
        ('{"metrics": {"a": "oops"}}', (1, 19), "metrics.a", "expected a list"),
        ('{"metrics": {"a": [[1, 2], 3]}}', (1, 28), "metrics.a[1]", "mix of bare"),
        ('{"metrics": {"a": [3, [1, 2]]}}', (1, 23), "metrics.a[1]", "mix of bare"),
        ('{"metrics": {"a": [[2, 1], [1, 1]]}}', (1, 29), "metrics.a[1][0]", "increase"),
        ('{"metrics": {"a": [[1, 2, 3]]}}', (1, 20), "metrics.a[0]", "pair"),
        ('{"metrics": {"a": [["t", 2]]}}', (1, 21), "metrics.a[0][0]", "timestamp"),
        ('{"counters": {"requests": [[1, -5]]}}', (1, 32), "counters.requests[0][1]",
         "negative"),
        ('{"counters": {"request": []}}', (1, 26), "counters.request", "unknown key"),
        ('{"counters": {\n "latency_buckets": {\n  "fast": [[1, 1]]\n }\n}}', (3, 11),
         "counters.latency_buckets.fast", "bucket bound"),
        ('{"counters": {"latency_buckets": {"0.1": {}}}}', (1, 42),
         'counters.latency_buckets["0.1"]', "expected a list"),
        ('{"counters": {"good_events": []}}', (1, 30), "counters.good_events", "object"),
    ],
)
def test_shape_errors_point_at_the_value(text: str, where: tuple[int, int], field: str,
                                         message: str) -> None:
    problem = _error(text).problems[0]
    assert (problem.location.line, problem.location.column) == where
    assert problem.field_path == field
    assert message in problem.message


def test_non_utf8_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_bytes(b'{\n "metrics": "\xff"}')
    provider = FileProvider(FileOptions(baseline="bad.json", canary="bad.json"),
                            base_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"bad\.json:2:14: not UTF-8"):
        provider.query_range(_metric("m"), Arm.CANARY, Scope(), WINDOW)


def test_file_errors_name_the_file_on_disk(tmp_path: Path) -> None:
    (tmp_path / "b.json").write_text('{"metrics": {"m": {}}}')
    provider = FileProvider(FileOptions(baseline="b.json", canary="b.json"), base_dir=tmp_path)
    with pytest.raises(ConfigError) as caught:
        provider.query_range(_metric("m"), Arm.BASELINE, Scope(), WINDOW)
    assert caught.value.problems[0].location.path == str(tmp_path / "b.json")


def test_value_positions_track_nested_values() -> None:
    text = '{"a": [1, {"b": "x\\"y"}, [ ]], "c" : null, "d": {}}'
    positions = value_positions(text)
    assert {path: text[offset] for path, offset in positions.items()} == {
        (): "{", ("a",): "[", ("a", 0): "1", ("a", 1): "{", ("a", 1, "b"): '"',
        ("a", 2): "[", ("c",): "n", ("d",): "{",
    }


def test_field_path_rendering() -> None:
    assert field_path(("metrics", "error_rate", 3, 0)) == "metrics.error_rate[3][0]"
    assert field_path(("counters", "latency_buckets", "+Inf")) == (
        'counters.latency_buckets["+Inf"]')
    assert field_path(()) == ""
