"""Rule generation: names, expressions, labels, the rule file, and its failure modes."""

from __future__ import annotations

import promql_parser as pp
import pytest
import yaml

from safeship.errors import UsageError
from safeship.model.slo import RatioSli, SliKind, SloDefinition
from safeship.slo.rules import (
    ALERT_NAME,
    AlertingRule,
    RecordingRule,
    error_budget_text,
    error_ratio_expr,
    error_ratio_name,
    rules_document,
    rules_for,
    rules_yaml,
    template_literal,
)

DAY_S = 86400.0
GOOD = 'sum(http_requests_total{job="shop",code!~"5.."})'
BAD = 'sum(http_requests_total{job="shop",code=~"5.."})'
TOTAL = 'sum(http_requests_total{job="shop"})'


def _slo(name: str = "availability", *, kind: SliKind = SliKind.GOOD_TOTAL,
         events: str = GOOD, total: str = TOTAL, objective: float = 0.999,
         window_s: float = 30 * DAY_S, description: str = "") -> SloDefinition:
    return SloDefinition(name, "shop", objective, window_s, RatioSli(kind, events, total),
                         description=description, source="service.yaml:5")


def test_error_ratio_over_a_window_from_the_counters() -> None:
    assert error_ratio_name(300) == "slo:sli_error:ratio_rate5m"
    assert error_ratio_name(30 * DAY_S) == "slo:sli_error:ratio_rate30d"
    assert error_ratio_expr(_slo(), 300) == (
        '1 - ((sum(rate(http_requests_total{job="shop",code!~"5.."}[5m])) or vector(0)) / '
        '(sum(rate(http_requests_total{job="shop"}[5m]))))')
    assert error_ratio_expr(_slo(kind=SliKind.BAD_TOTAL, events=BAD), 3600) == (
        '(sum(rate(http_requests_total{job="shop",code=~"5.."}[1h])) or vector(0)) / '
        '(sum(rate(http_requests_total{job="shop"}[1h])))')


def test_a_grouped_indicator_is_not_completed_with_vector_zero() -> None:
    slo = _slo(kind=SliKind.BAD_TOTAL, events="sum by (route) (errors_total)",
               total="sum by (route) (requests_total)")
    assert error_ratio_expr(slo, 300) == (
        "(sum by (route) (rate(errors_total[5m]))) / (sum by (route) (rate(requests_total[5m])))")


def test_three_groups_per_slo_with_every_policy_window_recorded() -> None:
    rules = rules_for(_slo())
    assert [g.name for g in rules.groups] == [
        "safeship-slo-shop-availability-sli", "safeship-slo-shop-availability-meta",
        "safeship-slo-shop-availability-alerts"]
    sli, meta, alerts = rules.groups
    assert [r.record for r in sli.rules if isinstance(r, RecordingRule)] == [
        f"slo:sli_error:ratio_rate{w}" for w in ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d")]
    assert all(dict(r.labels) == {"service": "shop", "slo": "availability"} for r in sli.rules)
    recorded = {r.record: r.expr for r in meta.rules if isinstance(r, RecordingRule)}
    selector = '{service="shop",slo="availability"}'
    assert recorded == {
        "slo:objective:ratio": "vector(0.999)",
        "slo:error_budget:ratio": "vector(0.001)",
        "slo:time_window:seconds": "vector(2592000)",
        "slo:current_burn_rate:ratio": f"slo:sli_error:ratio_rate5m{selector} / 0.001",
        "slo:period_burn_rate:ratio": f"slo:sli_error:ratio_rate30d{selector} / 0.001",
        "slo:period_error_budget_remaining:ratio": f"1 - slo:period_burn_rate:ratio{selector}",
    }
    assert len(alerts.rules) == 4
    assert rules.notes == ()


def test_alerts_need_the_long_and_the_short_window_above_the_threshold() -> None:
    alerts = [r for r in rules_for(_slo(description="Checkout works")).groups[2].rules
              if isinstance(r, AlertingRule)]
    first = alerts[0]
    selector = '{service="shop",slo="availability"}'
    assert first.alert == ALERT_NAME
    assert first.expr == (
        f"(slo:sli_error:ratio_rate1h{selector} > (14.4 * 0.001))\nand\n"
        f"(slo:sli_error:ratio_rate5m{selector} > (14.4 * 0.001))")
    assert [dict(a.labels) for a in alerts] == [
        {"service": "shop", "slo": "availability", "severity": s, "long_window": lw,
         "short_window": sw}
        for s, lw, sw in (("page", "1h", "5m"), ("page", "6h", "30m"), ("ticket", "1d", "2h"),
                          ("ticket", "3d", "6h"))]
    assert ["(6 * 0.001)" in a.expr for a in alerts] == [False, True, False, False]
    annotations = dict(first.annotations)
    assert "14.4x too fast" in annotations["summary"]
    assert "{{ $value | humanizePercentage }}" in annotations["description"]
    assert "2% of the 30d budget burns in 1h, and all of it in 2d2h" in annotations["description"]
    assert annotations["description"].endswith("The SLO: Checkout works")


def test_the_burn_factors_follow_the_window() -> None:
    rules = rules_for(_slo(window_s=28 * DAY_S))
    records = [r.record for r in rules.groups[0].rules if isinstance(r, RecordingRule)]
    assert records[-1] == "slo:sli_error:ratio_rate28d"
    assert "(13.44 * 0.001)" in rules.groups[2].rules[0].expr
    short = rules_for(_slo(window_s=DAY_S))
    assert len(short.groups[2].rules) == 3
    assert len(short.notes) == 1
    # The 1d window is both a policy window and the SLO window: recorded once.
    names = [r.record for r in short.groups[0].rules if isinstance(r, RecordingRule)]
    assert names.count("slo:sli_error:ratio_rate1d") == 1


def test_every_expression_is_valid_promql() -> None:
    document = rules_document([rules_for(_slo()), rules_for(_slo(
        "errors", kind=SliKind.BAD_TOTAL, events="sum by (route) (errors_total)",
        total="sum by (route) (requests_total)", window_s=7 * DAY_S))])
    exprs = [rule["expr"] for group in document["groups"]  # type: ignore[attr-defined]
             for rule in group["rules"]]
    assert len(exprs) == 2 * (8 + 6 + 4)
    for expr in exprs:
        pp.parse(expr)


def test_the_rule_file_reads_back_as_the_document() -> None:
    document = rules_document([rules_for(_slo())])
    text = rules_yaml(document, "generated by a test\n\nsecond line")
    assert text.startswith("# generated by a test\n#\n# second line\ngroups:\n")
    assert yaml.safe_load(text) == document
    assert "expr: |-\n      (slo:sli_error:ratio_rate1h" in text


def test_budgets_are_written_as_exact_decimals() -> None:
    five_nines = _slo(objective=0.99999, window_s=DAY_S)
    assert error_budget_text(five_nines) == "0.00001"
    assert error_budget_text(_slo()) == "0.001"
    rules = rules_for(five_nines)
    meta = {r.record: r.expr for r in rules.groups[1].rules if isinstance(r, RecordingRule)}
    assert meta["slo:error_budget:ratio"] == "vector(0.00001)"
    assert "(0.48 * 0.00001)" in rules.groups[2].rules[0].expr


def test_descriptions_cannot_run_template_code() -> None:
    assert template_literal('see {{ query "up" }}') == 'see {{ "{{" }} query "up" {{ "}}" }}'
    assert template_literal("plain } { text") == "plain } { text"
    rules = rules_for(_slo(description="{{ $labels.x }}"))
    description = dict(rules.groups[2].rules[0].annotations)["description"]  # type: ignore[union-attr]
    assert description.endswith('The SLO: {{ "{{" }} $labels.x {{ "}}" }}')


def test_two_slos_with_the_same_name_and_service_are_refused() -> None:
    with pytest.raises(UsageError, match="two SLOs named 'availability'"):
        rules_document([rules_for(_slo()), rules_for(_slo(objective=0.99))])
