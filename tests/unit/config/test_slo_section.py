"""The slos: section of service.yaml: values, defaults, and located errors."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from safeship.config.service_file import (
    ServiceFileModel,
    load_service_file,
    parse_service_document,
)
from safeship.config.slo_section import objective_value, slo_entry, window_seconds
from safeship.config.yaml_source import parse_yaml
from safeship.errors import ConfigError, ConfigProblem
from safeship.model.slo import SliKind

HEAD = "apiVersion: safeship/v1\nkind: Service\nname: shop\n"
SLOS = HEAD + """\
slos:
  - name: availability
    objective: 99.9%
    description: Requests succeed
    good: sum(http_requests_total{job="shop",code!~"5.."})
    total: sum(http_requests_total{job="shop"})
  - name: checkout-errors
    objective: 0.995
    window: 7d
    bad: sum by (route) (http_requests_total{route="/checkout",code=~"5.."})
    total: sum by (route) (http_requests_total{route="/checkout"})
"""


def _problems(text: str) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as caught:
        parse_service_document(parse_yaml(text, "service.yaml"))
    return caught.value.problems


def _where(problem: ConfigProblem) -> tuple[int | None, int | None, str]:
    return problem.location.line, problem.location.column, problem.field_path


def test_slos_become_definitions_of_the_service(tmp_path: Path) -> None:
    path = tmp_path / "service.yaml"
    path.write_text(SLOS)
    first, second = load_service_file(path).slos
    assert (first.name, first.service, first.objective, first.window_s) == (
        "availability", "shop", 0.999, 30 * 86400.0)
    assert first.error_budget == pytest.approx(0.001)
    assert first.sli.kind is SliKind.GOOD_TOTAL
    assert first.sli.events == 'sum(http_requests_total{job="shop",code!~"5.."})'
    assert first.description == "Requests succeed"
    assert first.source == f"{path}:5"
    assert (second.objective, second.window_s, second.sli.kind) == (
        0.995, 7 * 86400.0, SliKind.BAD_TOTAL)
    assert second.sli.total == 'sum by (route) (http_requests_total{route="/checkout"})'
    assert second.source == f"{path}:10"


def test_files_without_slos_still_load() -> None:
    assert parse_service_document(parse_yaml(HEAD, "s.yaml")).slos == ()
    assert parse_service_document(parse_yaml(HEAD + "slos: []\n", "s.yaml")).slos == ()


def test_an_explicit_null_counts_as_absent() -> None:
    text = HEAD + "slos:\n  - {name: e, objective: 99%, good: null, bad: sum(e), total: sum(t)}\n"
    (slo,) = parse_service_document(parse_yaml(text, "s.yaml")).slos
    assert (slo.sli.kind, slo.sli.events) == (SliKind.BAD_TOTAL, "sum(e)")


@pytest.mark.parametrize(("raw", "expected"), [
    ("99.9%", 0.999), (0.999, 0.999), ("0.999", 0.999), ("99.95 %", 0.9995), ("50%", 0.5),
    (0.9, 0.9), ("99.999%", 0.99999),
])
def test_objectives_as_percent_or_ratio(raw: object, expected: float) -> None:
    assert objective_value(raw) == expected


@pytest.mark.parametrize(("raw", "fragment"), [
    ("100%", "strictly between"), (1, "strictly between"), (0, "strictly between"),
    ("0%", "strictly between"), (99.9, "not between 0 and 1"), ("101%", "over 100%"),
    (0.9999999999999, "strictly between"), ("0.0000000000001%", "strictly between"),
    ("high", "not a percentage"), (True, "not a percentage"), (None, "not a percentage"),
])
def test_impossible_objectives_are_refused(raw: object, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        objective_value(raw)


def test_windows() -> None:
    assert window_seconds("30d") == 2592000.0
    assert window_seconds("1h") == 3600.0
    assert window_seconds(86400) == 86400.0
    for raw, fragment in (("5m", "at least 1h"), ("30 days", "not a duration"),
                          ("1h0.5s", "whole number of seconds"), (-5, "negative")):
        with pytest.raises(ValueError, match=fragment):
            window_seconds(raw)


def test_field_problems_name_line_column_and_field() -> None:
    problems = _problems(HEAD + """\
slos:
  - name: availability
    objective: 100%
    window: 5m
    good: sum(rate(http_requests_total{code!~"5.."}[5m]))
    total: max(http_requests_total)
    objectiv: 99%
  - name: "bad name!"
    objective: 99%
    total: sum(x)
""")
    found = {p.field_path: p for p in problems}
    assert _where(found["slos[0].objective"]) == (6, 16, "slos[0].objective")
    assert "strictly between" in found["slos[0].objective"].message
    assert _where(found["slos[0].window"]) == (7, 13, "slos[0].window")
    assert _where(found["slos[0].good"]) == (8, 11, "slos[0].good")
    assert "remove rate()" in found["slos[0].good"].message
    assert "'max' is not allowed" in found["slos[0].total"].message
    assert found["slos[0].objectiv"].suggestion == "objective"
    assert found["slos[1].name"].location.line == 11


def test_problems_across_fields_and_entries_are_all_reported() -> None:
    problems = _problems(HEAD + """\
slos:
  - name: availability
    objective: 99.9%
    good: sum(x)
    total: sum(y)
  - name: availability
    objective: 99%
    good: sum(x)
    bad: sum(z)
    total: sum(y)
  - name: grouped
    objective: 99%
    bad: sum by (route) (x)
    total: sum(y)
  - name: neither
    objective: 99%
    total: sum(y)
""")
    assert [_where(p) for p in problems] == [
        (9, 11, "slos[1].name"), (12, 10, "slos[1].bad"), (17, 12, "slos[2].total"),
        (18, 5, "slos[3]")]
    messages = [p.message for p in problems]
    assert "already named 'availability' (slos[0])" in messages[0]
    assert "not both" in messages[1]
    assert "by (route)" in messages[2]
    assert "give the good events" in messages[3]


def test_an_entry_reads_back_as_the_same_definition(tmp_path: Path) -> None:
    path = tmp_path / "service.yaml"
    path.write_text(SLOS)
    originals = load_service_file(path).slos
    entries = [slo_entry(d) for d in originals]
    assert entries[0] == {
        "name": "availability", "objective": "99.9%", "window": "30d",
        "description": "Requests succeed",
        "good": 'sum(http_requests_total{job="shop",code!~"5.."})',
        "total": 'sum(http_requests_total{job="shop"})'}
    assert "bad" in entries[1]
    again = tmp_path / "again.yaml"
    again.write_text(HEAD + yaml.safe_dump({"slos": entries}, sort_keys=False))
    reread = load_service_file(again).slos
    assert [(d.name, d.objective, d.window_s, d.sli, d.description) for d in reread] == [
        (d.name, d.objective, d.window_s, d.sli, d.description) for d in originals]


def test_the_json_schema_accepts_what_the_loader_accepts() -> None:
    schema = ServiceFileModel.model_json_schema(by_alias=True)
    assert "slos" in schema["properties"]
    data = yaml.safe_load(SLOS)
    jsonschema.validate(data, schema)
    entry = schema["$defs"]["SloEntryModel"]
    assert entry["properties"]["window"]["default"] == "30d"
    assert set(entry["required"]) == {"name", "objective", "total"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**data, "slos": [{"name": "x", "objective": "99%"}]}, schema)
