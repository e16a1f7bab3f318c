"""The complete CanaryConfig: per-metric options, judge and scope, with the guide's defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from safeship.config.canary_file import load_canary_file, slo_target_of
from safeship.errors import ConfigError
from safeship.model.canary import (
    Direction,
    EffectMeasure,
    JudgeName,
    MetricCategory,
    NanStrategy,
    OutlierStrategy,
)

HEAD = "apiVersion: analysis/v1\nkind: CanaryConfig\nmetadata:\n  name: x\nspec:\n"
STEPS = "  steps:\n    - percentage: 10\n      duration: 5m\n"


def load(tmp_path: Path, body: str) -> object:
    path = tmp_path / "canary.yaml"
    path.write_text(HEAD + STEPS + body)
    return load_canary_file(path)


def problems(tmp_path: Path, body: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, body)
    return info.value.diagnostics()


def test_defaults_follow_the_guide_and_kayenta(guide_canary: Path) -> None:
    spec = load_canary_file(guide_canary)
    assert spec.judge.name is JudgeName.SEQUENTIAL
    assert (spec.judge.confidence, spec.judge.tolerance) == (0.98, 0.25)
    assert (spec.judge.score_thresholds.pass_score, spec.judge.score_thresholds.marginal) == (
        95, 75)
    assert spec.judge.slo_target == 0.999  # from (error_rate / (1 - 0.999))
    assert (spec.scope.label, spec.scope.baseline, spec.scope.canary) == (
        "version", "baseline", "canary")
    metrics = {m.name: m for m in spec.metrics}
    assert metrics["error_rate"].category is MetricCategory.AVAILABILITY
    assert metrics["latency_p95"].category is MetricCategory.LATENCY
    assert metrics["slo_burn_rate"].category is MetricCategory.ERROR_BUDGET
    assert all(m.direction is Direction.INCREASE for m in spec.metrics)
    assert metrics["error_rate"].effect_size.allowed_increase == 1.0
    assert metrics["error_rate"].nan_strategy is NanStrategy.REMOVE


def test_every_new_option(tmp_path: Path) -> None:
    spec = load(tmp_path, """\
  metrics:
    - name: checkout
      query: sum(rate(checkouts_total[1m]))
      category: business
      critical: true
      must_have_data: true
      nan_strategy: replace
      outliers: {strategy: remove, factor: 2.5}
      effect_size: {measure: cles, allowed_decrease: 0.4}
      groups: [revenue]
      threshold:
        min_ratio: 0.98
        max_increase_pct: 50
  judge:
    name: kayenta
    alpha: 0.05
    score_thresholds: {pass: 90, marginal: 70}
    group_weights: {revenue: 100}
    min_sample_size: 500
    min_exposure: 2m
    margins: {error_ratio: 1.3}
    rollback_margins: {slow_ratio: 1.1, business_ratio: 0.99}
  scope: {label: track, baseline: stable, canary: next}
""")
    [metric] = spec.metrics  # type: ignore[attr-defined]
    assert metric.category is MetricCategory.BUSINESS
    assert metric.direction is Direction.DECREASE  # business metrics guard drops
    assert metric.critical
    assert metric.must_have_data
    assert metric.nan_strategy is NanStrategy.REPLACE
    assert (metric.outliers.strategy, metric.outliers.factor) == (OutlierStrategy.REMOVE, 2.5)
    assert metric.effect_size.measure is EffectMeasure.CLES
    assert metric.effect_size.allowed_decrease == 0.4
    assert metric.effect_size.allowed_increase == 0.5  # CLES neutral default
    assert metric.groups == ("revenue",)
    assert (metric.threshold.min_ratio, metric.threshold.max_increase_pct) == (0.98, 50)
    judge = spec.judge  # type: ignore[attr-defined]
    assert judge.name is JudgeName.KAYENTA
    assert judge.score_thresholds.pass_score == 90
    assert dict(judge.group_weights) == {"revenue": 100}
    assert judge.min_exposure_s == 120
    assert judge.margins.error_ratio == 1.3
    assert judge.margins.slow_ratio == 1.25
    rollback = judge.rollback_margins
    assert (rollback.error_ratio, rollback.slow_ratio, rollback.business_ratio) == (1.0, 1.1, 0.99)
    assert spec.scope.canary == "next"  # type: ignore[attr-defined]


@pytest.mark.parametrize(("body", "expected"), [
    ("  metrics:\n    - name: e\n      query: up\n      direction: upward\n",
     "spec.metrics[0].direction: must be one of"),
    ("  metrics:\n    - name: e\n      query: up\n      categroy: latency\n",
     "(did you mean 'category'?)"),
    ("  metrics:\n    - name: e\n      query: up\n  judge: {name: bayes}\n",
     "spec.judge.name: must be one of"),
    ("  metrics:\n    - name: e\n      query: up\n  judge: {alpha: 2}\n",
     "spec.judge.alpha: Input should be less than 1"),
    ("  metrics:\n    - name: e\n      query: up\n"
     "  judge: {score_thresholds: {pass: 50, marginal: 80}}\n",
     "marginal cannot be above"),
    ("  metrics:\n    - name: e\n      query: up\n  scope: {baseline: a, canary: a}\n",
     "must differ"),
    ("  metrics:\n    - name: e\n      query: up\n  judge: {min_exposure: soon}\n",
     "'soon' is not a duration"),
    ("  metrics:\n    - name: e\n      query: up\n"
     "  judge: {rollback_margins: {slow_ratio: 1.3}}\n",
     "rollback_margins.slow_ratio must be closer to 1 than margins.slow_ratio"),
    ("  metrics:\n    - name: e\n      query: up\n"
     "  judge: {rollback_margins: {business_ratio: 0.97}}\n",
     "rollback_margins.business_ratio must be closer to 1"),
    ("  metrics:\n    - name: e\n      query: up\n"
     "  judge: {rollback_margins: {error_ratio: 0.9}}\n",
     "spec.judge.rollback_margins.error_ratio: Input should be greater than or equal to 1"),
])
def test_bad_options_are_located(tmp_path: Path, body: str, expected: str) -> None:
    lines = problems(tmp_path, body)
    assert any(expected in line for line in lines), lines
    assert all(line.startswith(str(tmp_path / "canary.yaml")) for line in lines)


@pytest.mark.parametrize(("query", "target"), [
    ("(error_rate / (1 - 0.999))", 0.999),
    ("error_rate / (1 - 0.99)", 0.99),
    ("error_rate * 1000", None),
    ("sum(rate(x[1m]))", None),
    ("error_rate / (1 - 2)", None),
])
def test_slo_target_extraction(query: str, target: float | None) -> None:
    assert slo_target_of(query) == target


def test_category_inference(tmp_path: Path) -> None:
    spec = load(tmp_path, """\
  metrics:
    - name: cpu_seconds
      query: up
    - name: request_duration
      query: up
    - name: login_success
      query: up
    - name: five_hundreds
      query: up
""")
    categories = {m.name: m.category for m in spec.metrics}  # type: ignore[attr-defined]
    assert categories == {"cpu_seconds": MetricCategory.RESOURCE,
                          "request_duration": MetricCategory.LATENCY,
                          "login_success": MetricCategory.BUSINESS,
                          "five_hundreds": MetricCategory.AVAILABILITY}
