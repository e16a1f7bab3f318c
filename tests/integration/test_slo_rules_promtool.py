"""The generated SLO rules against Prometheus's own tooling: well-formed, and right.

``promtool check rules`` proves the file is a valid rule file. ``promtool test rules`` then
evaluates the rules with Prometheus's PromQL engine over synthetic counters (one sample a
minute) and checks which burn-rate alerts fire, with which labels and annotations, and what
the recording rules hold:

* a fast burn (10 % errors against a 0.1 % budget, 100x) fires every row of the policy;
* 1.4 % errors sits between the 28-day SLO's 13.44x page and the 30-day SLO's 14.4x page:
  only the 28-day one pages over 1h/5m (the rescaled burn factors at work);
* a slow burn (0.5 %, 5x) opens tickets but pages nobody;
* after the errors stop, the 1h/5m page resets within 5 minutes while the long-window alerts
  still fire (the short window's purpose);
* a healthy service (0.05 %, half the budget rate) fires nothing, with half its budget left.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

import safeship.cli.app as cli_app
from safeship.cli import slo_rules_cmd
from tests.requirements import require_binary

pytestmark = pytest.mark.prometheus

SERVICE = """\
apiVersion: safeship/v1
kind: Service
name: shop
slos:
  - name: availability
    objective: 99.9%
    description: Requests to the shop succeed ({{ not a template }})
    good: sum(http_requests_total{job="shop",code!~"5.."})
    total: sum(http_requests_total{job="shop"})
  - name: availability-28d
    objective: 0.999
    window: 28d
    bad: sum(http_requests_total{job="shop",code=~"5.."})
    total: sum(http_requests_total{job="shop"})
"""
VALUE = "{{ $value | humanizePercentage }}"
ALL_ROWS = ("1h", "6h", "1d", "3d")


@pytest.fixture
def promtool() -> str:
    """The promtool binary (Debian's prometheus package ships it)."""
    return require_binary("promtool", "the SLO rules are checked and unit-tested with promtool "
                          "(apt-get install prometheus)")


@pytest.fixture
def rules_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The rule file of SERVICE, written by ``safeship slo rules -o``."""
    service = tmp_path / "service.yaml"
    service.write_text(SERVICE)
    slo = typer.Typer()
    slo_rules_cmd.register(slo)
    local = typer.Typer(pretty_exceptions_enable=False, add_completion=False)
    local.add_typer(slo, name="slo")
    monkeypatch.setattr(cli_app, "app", local)
    out = tmp_path / "slo.rules.yaml"
    assert cli_app.run(["slo", "rules", "-s", str(service), "-o", str(out)]) == 0
    return out


def _promtool(promtool: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)


def test_promtool_accepts_the_rule_file(promtool: str, rules_file: Path) -> None:
    result = _promtool(promtool, "check", "rules", rules_file.name, cwd=rules_file.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 36 rules found" in result.stdout


def _series(good_per_min: int, bad_per_min: int, minutes: int) -> list[dict[str, str]]:
    return [
        {"series": 'http_requests_total{job="shop",code="200"}',
         "values": f"0+{good_per_min}x{minutes}"},
        {"series": 'http_requests_total{job="shop",code="500"}',
         "values": f"0+{bad_per_min}x{minutes}"},
    ]


def _rendered(template: str, value: str) -> str:
    """What Prometheus makes of an annotation: $value filled in, literal braces printed."""
    return (template.replace(VALUE, value).replace('{{ "{{" }}', "{{")
            .replace('{{ "}}" }}', "}}"))


def _expected(rules: dict[str, Any], firing: dict[str, tuple[str, ...]],
              value: str) -> list[dict[str, Any]]:
    """The alerts that must fire: per SLO, the long windows of the firing rows."""
    alerts = []
    for group in rules["groups"]:
        for rule in group["rules"]:
            labels = rule.get("labels", {})
            if "alert" in rule and labels["long_window"] in firing.get(labels["slo"], ()):
                alerts.append({
                    "exp_labels": labels,
                    "exp_annotations": {key: _rendered(text, value)
                                        for key, text in rule["annotations"].items()},
                })
    assert len(alerts) == sum(len(rows) for rows in firing.values())
    return alerts


def _near(name: str, slo: str, value: float, tolerance: float) -> dict[str, Any]:
    """An expression test that ``name{slo=...}`` lies within ``tolerance`` of ``value``."""
    selector = f'{name}{{slo="{slo}"}}'
    return {
        "expr": (f"({selector} > bool {value - tolerance}) * "
                 f"({selector} < bool {value + tolerance})"),
        "eval_time": "1h",
        "exp_samples": [{"labels": f'{{service="shop",slo="{slo}"}}', "value": 1}],
    }


def _exact(name: str, slo: str, value: float) -> dict[str, Any]:
    return {"expr": f'{name}{{slo="{slo}"}}', "eval_time": "1h",
            "exp_samples": [{"labels": f'{name}{{service="shop",slo="{slo}"}}', "value": value}]}


def _group_order(rules: dict[str, Any]) -> list[str]:
    # promtool evaluates groups in map order unless told; the alerts read the recorded ratios
    # of the same instant only when the -sli groups go first (a real Prometheus evaluates
    # groups independently, so there an alert may lag its ratio by one evaluation).
    return [group["name"] for group in rules["groups"]]


def _scenario(series: list[dict[str, str]], eval_time: str, alerts: list[dict[str, Any]],
              checks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    test: dict[str, Any] = {
        "interval": "1m", "input_series": series,
        "alert_rule_test": [{"eval_time": eval_time, "alertname": "SLOErrorBudgetBurn",
                             "exp_alerts": alerts}],
    }
    if checks:
        test["promql_expr_test"] = checks
    return test


def test_alerts_fire_exactly_when_the_budget_burns_too_fast(promtool: str,
                                                            rules_file: Path) -> None:
    rules = yaml.safe_load(rules_file.read_text())
    both = ("availability", "availability-28d")
    recovered = [
        {"series": 'http_requests_total{job="shop",code="200"}',
         "values": "0+9000x60 550000+10000x9"},
        {"series": 'http_requests_total{job="shop",code="500"}',
         "values": "0+1000x60 60000+0x9"},
    ]
    tests = [
        _scenario(_series(9000, 1000, 60), "1h",
                  _expected(rules, dict.fromkeys(both, ALL_ROWS), "10%"), [
                      _near("slo:sli_error:ratio_rate5m", "availability", 0.1, 1e-6),
                      _near("slo:sli_error:ratio_rate1h", "availability-28d", 0.1, 1e-6),
                      _near("slo:current_burn_rate:ratio", "availability", 100, 1e-3),
                      _near("slo:period_error_budget_remaining:ratio", "availability", -99, 1e-3),
                      _exact("slo:objective:ratio", "availability", 0.999),
                      _exact("slo:error_budget:ratio", "availability-28d", 0.001),
                      _exact("slo:time_window:seconds", "availability-28d", 28 * 86400),
                  ]),
        _scenario(_series(9860, 140, 60), "1h", _expected(rules, {
            "availability": ("6h", "1d", "3d"), "availability-28d": ALL_ROWS}, "1.4%")),
        _scenario(_series(9950, 50, 60), "1h", _expected(rules, {
            "availability": ("1d", "3d"), "availability-28d": ("1d", "3d")}, "0.5%")),
        _scenario(recovered, "70m", _expected(
            rules, dict.fromkeys(both, ("6h", "1d", "3d")), "8.571%")),
        _scenario(_series(19990, 10, 60), "1h", [], [
            _near("slo:period_error_budget_remaining:ratio", "availability", 0.5, 1e-6),
            _near("slo:period_burn_rate:ratio", "availability-28d", 0.5, 1e-6),
        ]),
    ]
    test_file = rules_file.parent / "slo.test.yaml"
    test_file.write_text(yaml.safe_dump({
        "rule_files": [rules_file.name], "evaluation_interval": "1m",
        "group_eval_order": _group_order(rules), "tests": tests,
    }, sort_keys=False, width=1_000_000))
    result = _promtool(promtool, "test", "rules", test_file.name, cwd=rules_file.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_catches_a_wrong_expectation(promtool: str, rules_file: Path) -> None:
    # The unit test above is only worth something if promtool fails when the alerts differ.
    rules = yaml.safe_load(rules_file.read_text())
    wrong = _scenario(_series(9950, 50, 60), "1h",
                      _expected(rules, {"availability": ("1h",)}, "0.5%"))
    test_file = rules_file.parent / "wrong.test.yaml"
    test_file.write_text(yaml.safe_dump({"rule_files": [rules_file.name],
                                         "evaluation_interval": "1m",
                                         "group_eval_order": _group_order(rules),
                                         "tests": [wrong]}))
    result = _promtool(promtool, "test", "rules", test_file.name, cwd=rules_file.parent)
    assert result.returncode != 0
    assert "FAILED" in result.stdout + result.stderr
