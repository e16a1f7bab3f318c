"""Prometheus recording and alerting rules for SLOs: the multiwindow, multi-burn-rate policy.

For each SLO three rule groups are generated (``safeship-slo-<service>-<slo>-...``):

``-sli``
    ``slo:sli_error:ratio_rate<w>``: the bad-event ratio over every window ``w`` the policy
    reads (5m, 30m, 1h, 2h, 6h, 1d, 3d) and over the SLO window itself (``30d``), straight from
    the counters: ``(sum(rate(bad[w])) or vector(0)) / sum(rate(total[w]))``, or
    ``1 - (good / total)`` for a good/total indicator.
``-meta``
    ``slo:objective:ratio``, ``slo:error_budget:ratio``, ``slo:time_window:seconds``,
    ``slo:current_burn_rate:ratio`` (over 5m), ``slo:period_burn_rate:ratio`` (over the SLO
    window) and ``slo:period_error_budget_remaining:ratio`` (``1 - period burn rate``; 0 when
    the budget is spent, negative when overspent).
``-alerts``
    one ``SLOErrorBudgetBurn`` alert per policy row, firing when the error ratio is above
    ``burn_factor x error_budget`` over the long **and** the short window, labelled
    ``severity`` (page or ticket), ``long_window`` and ``short_window``.

Every series carries the labels ``service`` and ``slo`` (and the ``by`` labels of a grouped
indicator, so a ``sum by (route)`` SLO alerts per route).

``or vector(0)`` stands in for an events counter that has no series yet (a labelled counter
appears with its first event) when the indicator is not grouped: zero bad events is then a
ratio of 0, and zero *good* events a ratio of 1 - a typo in a ``good`` query pages at once
rather than hiding. Without any traffic the ratio is NaN and no alert fires.

Numbers (objective, budget, thresholds) are written into the expressions rather than joined
from the meta series, so each group evaluates on its own. The SLO-window ratio reads the raw
counters over the whole window (``rate(x[30d])``): exact, and affordable for the few series an
SLI sums; for very high-cardinality counters, record the sum first and point the SLO at it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import yaml

from safeship._internal.durations import format_duration
from safeship._internal.sli_counters import (
    check_counter_expression,
    prometheus_range,
    wrap_counters,
)
from safeship.errors import UsageError
from safeship.model.slo import SliKind, SloDefinition
from safeship.slo.burn_policy import BurnPolicy, BurnRateAlert, burn_policy

ALERT_NAME = "SLOErrorBudgetBurn"
ERROR_RATIO = "slo:sli_error:ratio_rate"


@dataclass(frozen=True)
class RecordingRule:
    """``record: <name>`` with its expression and labels."""

    record: str
    expr: str
    labels: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, object]:
        """The rule as Prometheus's rule-file schema has it."""
        return {"record": self.record, "expr": self.expr, "labels": dict(self.labels)}


@dataclass(frozen=True)
class AlertingRule:
    """``alert: <name>`` with its expression, labels and annotations."""

    alert: str
    expr: str
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, object]:
        """The rule as Prometheus's rule-file schema has it."""
        return {"alert": self.alert, "expr": self.expr, "labels": dict(self.labels),
                "annotations": dict(self.annotations)}


@dataclass(frozen=True)
class RuleGroup:
    """A named group of rules, evaluated together."""

    name: str
    rules: tuple[RecordingRule | AlertingRule, ...]

    def to_dict(self) -> dict[str, object]:
        """The group as Prometheus's rule-file schema has it."""
        return {"name": self.name, "rules": [rule.to_dict() for rule in self.rules]}


@dataclass(frozen=True)
class SloRules:
    """The rules of one SLO, the policy they implement, and notes for the reader."""

    slo: SloDefinition
    policy: BurnPolicy
    groups: tuple[RuleGroup, ...]
    notes: tuple[str, ...] = field(default=())


def error_ratio_name(window_s: float) -> str:
    """The recorded name of the error ratio over ``window_s`` (``slo:sli_error:ratio_rate5m``)."""
    return f"{ERROR_RATIO}{prometheus_range(window_s)}"


def error_ratio_expr(slo: SloDefinition, window_s: float) -> str:
    """The PromQL of ``slo``'s bad-event ratio over ``window_s``, from its counters."""
    events = wrap_counters(slo.sli.events, "rate", window_s)
    total = wrap_counters(slo.sli.total, "rate", window_s)
    # A missing events series means no such events, but only a label-less sum can be
    # completed with vector(0) (module docstring).
    events = f"({events})" if _grouped(slo) else f"({events} or vector(0))"
    ratio = f"{events} / ({total})"
    if slo.sli.kind is SliKind.GOOD_TOTAL:
        return f"1 - ({ratio})"
    return ratio


def rules_for(slo: SloDefinition) -> SloRules:
    """The recording and alerting rules of one SLO."""
    policy = burn_policy(slo.window_s)
    budget = slo.error_budget
    labels = _identity(slo)
    prefix = f"safeship-slo-{slo.service}-{slo.name}"
    sli = RuleGroup(f"{prefix}-sli", tuple(
        RecordingRule(error_ratio_name(window), error_ratio_expr(slo, window), labels)
        for window in policy.windows_s))
    selector = f'{{service="{slo.service}",slo="{slo.name}"}}'
    budget_text = error_budget_text(slo)
    meta = RuleGroup(f"{prefix}-meta", (
        RecordingRule("slo:objective:ratio", f"vector({_number(slo.objective)})", labels),
        RecordingRule("slo:error_budget:ratio", f"vector({budget_text})", labels),
        RecordingRule("slo:time_window:seconds", f"vector({_number(slo.window_s)})", labels),
        RecordingRule("slo:current_burn_rate:ratio",
                      f"{error_ratio_name(300)}{selector} / {budget_text}", labels),
        RecordingRule("slo:period_burn_rate:ratio",
                      f"{error_ratio_name(slo.window_s)}{selector} / {budget_text}", labels),
        RecordingRule("slo:period_error_budget_remaining:ratio",
                      f"1 - slo:period_burn_rate:ratio{selector}", labels),
    ))
    alerts = RuleGroup(f"{prefix}-alerts", tuple(
        _alert(slo, alert, selector) for alert in policy.alerts))
    return SloRules(slo, policy, (sli, meta, alerts), policy.notes(budget))


def rules_document(all_rules: Sequence[SloRules]) -> dict[str, object]:
    """A Prometheus rule file (``{"groups": [...]}``) holding every SLO's groups.

    Raises :class:`UsageError` when two SLOs would produce the same group names (the same
    service and SLO name twice).
    """
    names: set[str] = set()
    groups: list[dict[str, object]] = []
    for rules in all_rules:
        for group in rules.groups:
            if group.name in names:
                raise UsageError(
                    f"two SLOs named '{rules.slo.name}' for service '{rules.slo.service}' "
                    f"(the second from {rules.slo.source}); give them different names")
            names.add(group.name)
            groups.append(group.to_dict())
    return {"groups": groups}


class _RulesDumper(yaml.SafeDumper):
    """Writes multi-line expressions as literal blocks, the way people write rule files."""


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_RulesDumper.add_representer(str, _string)


def rules_yaml(document: dict[str, object], header: str = "") -> str:
    """``document`` (from :func:`rules_document`) as the text of a rule file.

    ``header`` lines are written first as YAML comments (what generated the file, from what).
    """
    comments = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    body = yaml.dump(document, Dumper=_RulesDumper, sort_keys=False, width=1_000_000,
                     allow_unicode=True, default_flow_style=False)
    return comments + body


_TEMPLATE_DELIMITER = re.compile(r"\{\{|\}\}")


def template_literal(text: str) -> str:
    """``text`` made inert inside a Prometheus (Go) template: ``{{`` and ``}}`` print as such.

    Annotations are templates; a user's description must not run template code.
    """
    return _TEMPLATE_DELIMITER.sub(lambda match: f'{{{{ "{match.group(0)}" }}}}', text)


def error_budget_text(slo: SloDefinition) -> str:
    """``1 - objective`` as an exact decimal (``0.00001``, not ``9.99999999995e-06``)."""
    return format(Decimal(1) - Decimal(repr(slo.objective)), "f")


def _alert(slo: SloDefinition, alert: BurnRateAlert, selector: str) -> AlertingRule:
    threshold = _number(alert.burn_factor)
    budget = error_budget_text(slo)
    limit = f"({threshold} * {budget})"
    long_name = error_ratio_name(alert.long_window_s)
    short_name = error_ratio_name(alert.short_window_s)
    expr = (f"({long_name}{selector} > {limit})\n"
            f"and\n"
            f"({short_name}{selector} > {limit})")
    long_text = format_duration(alert.long_window_s)
    short_text = format_duration(alert.short_window_s)
    window = format_duration(slo.window_s)
    ratio_threshold = _percent(alert.error_ratio_threshold(slo.error_budget))
    summary = (f"{slo.service} {slo.name}: error budget burning {threshold}x too fast "
               f"({long_text} and {short_text} windows)")
    description = (
        f"The error ratio of the SLO {slo.name} of {slo.service} "
        f"({_percent(slo.objective)} over {window}) is {{{{ $value | humanizePercentage }}}} "
        f"over the last {long_text}, and above {ratio_threshold} over the last {short_text} "
        f"too: more than {threshold} times the error budget of {_percent(slo.error_budget)}. "
        f"At this rate {_percent(alert.budget_share)} of the {window} budget burns in "
        f"{long_text}, and all of it in {format_duration(alert.exhaustion_s(slo.window_s))}.")
    if slo.description:
        description += f" The SLO: {template_literal(slo.description)}"
    # service and slo are on the series already; repeating them keeps rules distinct for
    # promtool's duplicate-rule lint, which only sees the rule's own labels.
    return AlertingRule(
        ALERT_NAME, expr,
        (*_identity(slo), ("severity", alert.severity.value), ("long_window", long_text),
         ("short_window", short_text)),
        (("summary", summary), ("description", description)),
    )


def _identity(slo: SloDefinition) -> tuple[tuple[str, str], ...]:
    return (("service", slo.service), ("slo", slo.name))


def _grouped(slo: SloDefinition) -> bool:
    return bool(check_counter_expression(slo.sli.total).grouping)


def _number(value: float) -> str:
    """A number as PromQL and people like it: 0.001, 14.4, 2592000 (12 significant digits)."""
    return f"{value:.12g}"


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.6g}%"
