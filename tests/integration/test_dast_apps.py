"""The DAST scanner end to end against two real web apps on 127.0.0.1.

The deliberately vulnerable app must trigger every passive rule, every exposure probe and every
active probe; the hardened app, built from the same pages done right, must trigger none. Both are
``http.server`` apps started by fixtures on free loopback ports (see
``tests/unit/scanners/dast/sample_apps.py``). Nothing leaves the loopback interface.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from safeship._internal.http import default_client_factory
from safeship.scanners.dast import (
    RULES,
    Kind,
    Level,
    ScanConfig,
    ScanReport,
    render_scan_json,
    render_scan_sarif,
    run_scan,
)
from tests.unit.scanners.dast.sample_apps import (
    ACTIVE_RULES,
    COOKIE_SECRET,
    DB_PASSWORD,
    ENV_SECRET,
    EXPOSURE_RULES,
    PASSIVE_RULES,
    SampleApp,
    canary_app,
    hardened_app,
    vulnerable_app,
)

SCHEMA = Path(__file__).resolve().parents[1] / "data" / "schemas" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def vulnerable() -> Iterator[SampleApp]:
    with vulnerable_app() as app:
        yield app


@pytest.fixture(scope="module")
def hardened() -> Iterator[SampleApp]:
    with hardened_app() as app:
        yield app


@pytest.fixture(scope="module")
def vulnerable_report(vulnerable: SampleApp) -> ScanReport:
    config = ScanConfig(vulnerable.url(), assume_https=True, max_seconds=60)
    return run_scan(config, default_client_factory)


def alerted(report: ScanReport) -> set[str]:
    return {result.rule.id for result in report.results}


def test_the_rule_lists_cover_the_catalogue() -> None:
    assert set(PASSIVE_RULES) == {r.id for r in RULES.values() if r.kind is Kind.PASSIVE}
    assert set(EXPOSURE_RULES) == {r.id for r in RULES.values() if r.kind is Kind.EXPOSURE}
    assert set(ACTIVE_RULES) == {r.id for r in RULES.values() if r.kind is Kind.ACTIVE}


def test_vulnerable_app_triggers_every_rule(vulnerable_report: ScanReport) -> None:
    assert alerted(vulnerable_report) == set(RULES)
    assert vulnerable_report.failed
    assert vulnerable_report.skipped == ()
    assert vulnerable_report.errors == ()
    assert vulnerable_report.counts() == {"FAIL": 10, "WARN": 10, "INFO": 0}


@pytest.mark.parametrize("rule_id", PASSIVE_RULES + EXPOSURE_RULES + ACTIVE_RULES)
def test_each_rule_points_at_the_right_place(vulnerable_report: ScanReport, rule_id: str) -> None:
    expected = {
        "10055": "/legacy", "90022": "/error", "10023": "/debug", "10033": "/files/",
        "41": "/.git/HEAD", "40034": "/.env", "10095": "/config.php.bak",
        "40012": "/search?q=...", "40018": "/items?id=...", "20019": "/go?next=...",
    }
    result = next(r for r in vulnerable_report.results if r.rule.id == rule_id)
    urls = [alert.url for alert in result.alerts]
    if rule_id in expected:
        assert any(url.endswith(expected[rule_id]) for url in urls), urls


def test_active_probes_name_their_parameter(vulnerable_report: ScanReport) -> None:
    params = {r.rule.id: r.alerts[0].param for r in vulnerable_report.results
              if r.rule.kind is Kind.ACTIVE}
    assert params == {"40012": "q", "40018": "id", "20019": "next"}


def test_hardened_app_triggers_nothing(hardened: SampleApp) -> None:
    report = run_scan(ScanConfig(hardened.url(), assume_https=True, max_seconds=60),
                      default_client_factory)
    assert report.results == ()
    assert not report.failed
    assert len(report.pages) >= 7
    assert report.skipped == ()


def test_https_only_rules_need_https(vulnerable: SampleApp) -> None:
    report = run_scan(ScanConfig(vulnerable.url(), max_seconds=60), default_client_factory)
    assert alerted(report) == set(RULES) - {"10035", "10011"}


def test_the_scan_sends_only_get_and_never_submits_forms(
    vulnerable: SampleApp, vulnerable_report: ScanReport
) -> None:
    assert vulnerable.log.methods() == {"GET"}
    assert not any(path.startswith("/login") for path in vulnerable.log.paths())
    assert not any(path.startswith("/logo.png") for path in vulnerable.log.paths())


def test_reports_hold_no_secret_of_the_app(vulnerable_report: ScanReport) -> None:
    text = render_scan_json(vulnerable_report) + render_scan_sarif(vulnerable_report)
    for secret in (ENV_SECRET, COOKIE_SECRET, DB_PASSWORD):
        assert secret not in text
    env = next(r for r in vulnerable_report.results if r.rule.id == "40034")
    assert env.alerts[0].evidence == "defines DATABASE_URL, SECRET_KEY (values hidden)"


def test_sarif_of_a_real_scan_is_valid(vulnerable_report: ScanReport) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    log = json.loads(render_scan_sarif(vulnerable_report))
    jsonschema.Draft7Validator(schema).validate(log)
    assert {r["ruleId"] for r in log["runs"][0]["results"]} == set(RULES)


def test_passive_only_scan(vulnerable: SampleApp) -> None:
    report = run_scan(ScanConfig(vulnerable.url(), active=False, max_seconds=60),
                      default_client_factory)
    assert not alerted(report) & set(ACTIVE_RULES)
    assert "10098" in alerted(report)  # still found passively on /api/data


def test_rules_levels_apply(vulnerable: SampleApp) -> None:
    levels = {rule: Level.WARN for rule in RULES if RULES[rule].default_level is Level.FAIL}
    levels["10036"] = Level.IGNORE
    report = run_scan(ScanConfig(vulnerable.url(), levels=levels, max_seconds=60),
                      default_client_factory)
    assert not report.failed
    assert "10036" not in alerted(report)
    assert "10036" in report.ignored_rules


def test_header_route_reaches_only_the_canary() -> None:
    with canary_app() as app:
        pinned = run_scan(ScanConfig(app.url(), headers={"X-Safeship-Version": "canary"},
                                     max_seconds=60), default_client_factory)
        everything = list(app.log.headers())
        stable = run_scan(ScanConfig(app.url(), max_seconds=60), default_client_factory)
    assert all(h.get("x-safeship-version") == "canary" for h in everything)
    assert alerted(pinned) >= {"40012", "40018", "20019", "41", "40034", "90022"}
    assert stable.results == ()


def test_openapi_paths_are_scanned(hardened: SampleApp, tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(
        "openapi: 3.0.3\ninfo: {title: shop, version: '1'}\n"
        "servers: [{url: 'https://shop.example.com'}]\n"
        "paths:\n"
        "  /api/data: {get: {responses: {'200': {description: ok}}}}\n"
        "  /items: {get: {parameters: [{name: id, in: query, schema: {type: integer}}]},\n"
        "           delete: {responses: {'204': {description: gone}}}}\n")
    before = len(hardened.log.paths())
    report = run_scan(ScanConfig(hardened.url(), openapi=spec, max_seconds=60, max_pages=3),
                      default_client_factory)
    requested = hardened.log.paths()[before:]
    assert report.openapi_paths == 2
    assert "/api/data" in requested
    assert "/items?id=1" in requested
    assert hardened.log.methods() == {"GET"}
