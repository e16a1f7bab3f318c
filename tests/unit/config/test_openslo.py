"""OpenSLO v1 import: what converts, to what, and the located refusals of everything else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from safeship.config.openslo import import_documents, import_openslo, split_documents
from safeship.config.service_file import load_service_file
from safeship.config.slo_section import slo_entry
from safeship.errors import ConfigError, ConfigSyntaxError, NotFound
from safeship.model.slo import SliKind

DATA = Path(__file__).resolve().parents[2] / "data" / "openslo"
DAY_S = 86400.0


def _problems(text: str, default_service: str | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        import_documents(split_documents(text, "slo.yaml"), default_service)
    return [p.render() for p in caught.value.problems]


def test_inline_and_referenced_indicators_from_one_file() -> None:
    result = import_openslo([DATA / "shop.yaml"])
    assert result.notes == ()
    availability, checkout = result.definitions
    assert (availability.name, availability.service, availability.objective,
            availability.window_s) == ("availability", "shop", 0.999, 30 * DAY_S)
    assert availability.sli.kind is SliKind.GOOD_TOTAL
    assert availability.sli.events == 'sum(http_requests_total{job="shop",code!~"5.."})'
    assert availability.description == "Requests to the shop succeed"
    assert availability.source == f"{DATA / 'shop.yaml'}:21"
    # Sloth-style {{.window}} queries become counters; 4w is 28 days; targetPercent works.
    assert (checkout.name, checkout.objective, checkout.window_s) == (
        "checkout", 0.995, 28 * DAY_S)
    assert checkout.sli.kind is SliKind.BAD_TOTAL
    assert checkout.sli.events == (
        'sum(http_requests_total{job="shop",route="/checkout",code=~"5.."})')
    assert checkout.sli.total == 'sum(http_requests_total{job="shop",route="/checkout"})'


def test_references_across_files_objectives_default_service_and_notes() -> None:
    files = [DATA / "catalog-slos.yaml", DATA / "sli-catalog.yaml"]
    result = import_openslo(files, default_service="search-api")
    assert [(d.name, d.service, d.objective, d.window_s) for d in result.definitions] == [
        ("search-three-nines", "search-api", 0.999, 14 * DAY_S),
        ("search-2", "search-api", 0.99, 14 * DAY_S),
    ]
    sli = result.definitions[0].sli
    assert sli.events == 'sum by (region) (search_requests_total{outcome="ok"})'
    assert result.definitions[0].description == "Search availability"
    (note,) = result.notes
    assert note.startswith(f"{DATA / 'catalog-slos.yaml'}:18:")
    assert "alertPolicies of 'search' are not imported" in note
    with pytest.raises(ConfigError, match=r"spec\.service is missing"):
        import_openslo(files)


def test_every_unsupported_part_is_refused_where_it_stands() -> None:
    path = DATA / "unsupported.yaml"
    expected = [(number, re.search(r"# expect: (.*)$", line).group(1))  # type: ignore[union-attr]
                for number, line in enumerate(path.read_text().splitlines(), start=1)
                if "# expect: " in line]
    with pytest.raises(ConfigError) as caught:
        import_openslo([path])
    problems = caught.value.problems
    found = sorted((p.location.line or 0, p.message) for p in problems)
    assert len(found) == len(expected), "\n".join(p.render() for p in problems)
    for (line, fragment), (got_line, message) in zip(sorted(expected), found, strict=True):
        assert (got_line, fragment in message) == (line, True), (fragment, message)
    assert all(p.location.path == str(path) for p in problems)
    assert "OpenSLO import" in (caught.value.hint or "")


def test_imported_slos_load_back_through_service_yaml(tmp_path: Path) -> None:
    definitions = import_openslo([DATA / "shop.yaml"]).definitions
    service = tmp_path / "service.yaml"
    service.write_text("apiVersion: safeship/v1\nkind: Service\nname: shop\n" + yaml.safe_dump(
        {"slos": [slo_entry(d) for d in definitions]}, sort_keys=False))
    loaded = load_service_file(service).slos
    assert [(d.name, d.objective, d.window_s, d.sli) for d in loaded] == [
        (d.name, d.objective, d.window_s, d.sli) for d in definitions]


SLO = """\
apiVersion: openslo/v1
kind: SLO
metadata: {{name: {name}}}
spec:
  service: {service}
  indicator:
    spec:
      ratioMetric:
        bad: {{metricSource: {{type: Prometheus, spec: {{query: 'sum(errors_total)'}}}}}}
        total: {{metricSource: {{type: Prometheus, spec: {{query: '{total}'}}}}}}
  timeWindow: [{{duration: {window}, isRolling: true}}]
  objectives: [{{target: 0.99}}]
"""


def _slo(name: str = "errors", service: str = "shop", total: str = "sum(requests_total)",
         window: str = "30d") -> str:
    return SLO.format(name=name, service=service, total=total, window=window)


def test_small_documents_and_their_problems() -> None:
    (only,) = import_documents(split_documents(_slo(window="2h"), "s.yaml")).definitions
    assert only.window_s == 7200.0
    assert _problems(_slo(window="30m"))[0].endswith("the window must be at least 1h (got '30m'): "
                                                     "the burn-rate alerts look back one hour "
                                                     "at least")
    assert "not an OpenSLO duration" in _problems(_slo(window="1d12h"))[0]
    assert "must sum by the same labels" in _problems(_slo(total="sum by (a) (requests_total)"))[0]
    assert "cannot be used as a service name" in _problems(_slo(service="'shop front'"))[0]
    twice = _slo() + "---\n" + _slo()
    (problem,) = _problems(twice)
    assert problem.startswith("slo.yaml:16:")
    assert "defined twice (first at slo.yaml:3)" in problem
    assert _problems("apiVersion: openslo/v1\nkind: Service\nmetadata: {name: s}\n") == [
        "slo.yaml: no 'kind: SLO' document found"]
    assert "expected an OpenSLO object" in _problems("- a\n- b\n")[0]
    assert "give exactly one of 'indicator' and 'indicatorRef'" in _problems(
        "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: x}\n"
        "spec: {service: s, objectives: [{target: 0.9}]}\n")[0]


def test_duplicate_names_and_odd_indicators() -> None:
    sli = ("apiVersion: openslo/v1\nkind: SLI\nmetadata: {name: dup}\n"
           "spec: {ratioMetric: {raw: {metricSource: {type: Prometheus}}, rawType: success}}\n")
    slo = ("apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: x}\n"
           "spec: {service: s, indicatorRef: dup, objectives: [{target: 0.9}]}\n")
    problems = _problems(sli + "---\n" + sli + "---\n" + slo)
    assert problems[0].startswith("slo.yaml:8:18:")
    assert "another SLI is already named 'dup' (at slo.yaml:3:" in problems[0]
    assert "precomputed 'raw' ratios are not supported" in problems[1]
    no_ratio = ("apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: x}\n"
                "spec: {service: s, indicator: {spec: {description: d}}, "
                "objectives: [{target: 0.9}]}\n")
    assert "needs a ratioMetric" in _problems(no_ratio)[0]
    both = no_ratio.replace("{description: d}", "{ratioMetric: {total: {metricSource: "
                            "{type: Prometheus, spec: {query: 'sum(x)'}}}}}")
    assert "exactly one of 'good' and 'bad'" in _problems(both)[0]


def test_documents_keep_their_positions_in_the_file() -> None:
    text = ("# leading comment\n---\na: 1\n...\n%YAML 1.2\n---\n# only a comment\n---\n"
            "b:\n  c: 2\n--- {d: 3}\n")
    docs = split_documents(text, "f.yaml")
    assert [d.data for d in docs] == [{"a": 1}, {"b": {"c": 2}}, {"d": 3}]
    assert docs[0].locate(("a",)).line == 3
    assert (docs[1].locate(("b", "c")).line, docs[1].locate(("b", "c")).column) == (10, 6)
    assert (docs[2].locate(("d",)).line, docs[2].locate(("d",)).column) == (11, 9)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no such file"):
        import_openslo([tmp_path / "missing.yaml"])
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: openslo/v1\nkind: [SLO\n")
    with pytest.raises(ConfigSyntaxError) as caught:
        import_openslo([broken])
    assert caught.value.problems[0].location.line is not None
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigSyntaxError, match="cannot read the file"):
        import_openslo([binary])


def test_malformed_documents_are_located() -> None:
    assert "spec.objectives: this field is required" in _problems(
        "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: x}\n"
        "spec: {service: s, indicatorRef: i}\n")[0]
    assert "'My SLO' cannot be used as an SLO name" in _problems(
        _slo().replace("{name: errors}", "{name: My SLO}"))[0]
    windows = _slo().replace("timeWindow: [", "timeWindow: [{duration: 7d}, ")
    assert "timeWindow takes exactly one item" in _problems(windows)[0]
    bad_sli = ("apiVersion: openslo/v1\nkind: SLI\nmetadata: {name: i}\nspec: {ratioMetrik: {}}\n"
               "---\napiVersion: openslo/v1\nkind: SLO\nmetadata: {name: x}\n"
               "spec: {service: s, indicatorRef: i, objectives: [{target: 0.9}]}\n")
    assert _problems(bad_sli) == [
        "slo.yaml:4:8: spec.ratioMetrik: unknown key (did you mean 'ratioMetric'?)"]
    no_total = _slo().replace("total: {metricSource", "good: {metricSource")
    assert "give exactly one of 'good' and 'bad'" in _problems(no_total)[0]
    only_bad = _slo().replace("        total: {metricSource: {type: Prometheus, spec: {query: "
                              "'sum(requests_total)'}}}\n", "")
    assert "'total' is missing" in _problems(only_bad)[0]
    sql = _slo().replace("spec: {query: 'sum(errors_total)'}",
                         "spec: {query: 'sum(errors_total)', queryType: sql}")
    assert "only queryType: promql is supported" in _problems(sql)[0]
    empty = _slo().replace("spec: {query: 'sum(errors_total)'}", "spec: {query: ' '}")
    assert "a PromQL query (a string) is required" in _problems(empty)[0]
