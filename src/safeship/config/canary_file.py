"""``canary-analysis.yaml`` (the guide's ``analysis/v1 CanaryConfig``) -> :class:`CanarySpec`.

Quirks of the guide's template that this loader honours:

* ``duration: 5m`` is a string and is parsed as a duration;
* a metric ``query`` is usually PromQL, but it may be an arithmetic expression over other metrics
  of the same file: ``(error_rate / (1 - 0.999))`` divides the ``error_rate`` metric by the error
  allowance of a 99.9 % SLO. Such a metric is marked *derived* with the names it depends on, and
  the SLO target (0.999) becomes the burn-rate guard's target unless ``judge.slo_target`` is set.

Everything beyond the guide's keys is optional, with the guide's or Kayenta's defaults. A
metric's ``category`` is inferred from its name and threshold when not given.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from safeship._internal.durations import DurationSyntaxError, parse_duration
from safeship.config.validation import validate_model
from safeship.config.yaml_source import YamlDocument, read_yaml
from safeship.errors import ConfigError, ConfigProblem
from safeship.model.canary import (
    CanaryMetric,
    CanarySpec,
    CanaryStep,
    Direction,
    EffectMeasure,
    EffectSize,
    JudgeConfig,
    JudgeName,
    Margins,
    MetricCategory,
    NanStrategy,
    Outliers,
    OutlierStrategy,
    RollbackMargins,
    Scope,
    ScoreThresholds,
    Threshold,
)

__all__ = ["CanaryMetric", "CanarySpec", "CanaryStep", "Threshold", "derived_names",
           "load_canary_file", "parse_canary_document"]

API_VERSION = "analysis/v1"
KIND = "CanaryConfig"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _duration_seconds(value: str | int | float) -> float:
    try:
        seconds = parse_duration(value)
    except DurationSyntaxError as exc:
        raise ValueError(str(exc)) from exc
    return seconds


class ThresholdModel(_Strict):
    """Limits a metric must respect."""

    max_increase_ratio: float | None = Field(
        None, gt=0, description="canary may be at most this many times the baseline")
    max_increase_pct: float | None = Field(
        None, ge=0, description="canary may be at most this many percent above the baseline")
    max_absolute_ms: float | None = Field(None, gt=0, description="absolute ceiling, milliseconds")
    max_absolute: float | None = Field(None, description="absolute ceiling, in the metric's unit")
    min_ratio: float | None = Field(
        None, gt=0, description="canary may not fall below this fraction of the baseline")


class OutliersModel(_Strict):
    """Kayenta's outlier removal."""

    strategy: OutlierStrategy = OutlierStrategy.KEEP
    factor: float = Field(3.0, gt=0)


class EffectSizeModel(_Strict):
    """Kayenta's effect-size gates."""

    measure: EffectMeasure = EffectMeasure.MEAN_RATIO
    allowed_increase: float | None = Field(None, gt=0)
    allowed_decrease: float | None = Field(None, gt=0)
    critical_increase: float | None = Field(None, gt=0)
    critical_decrease: float | None = Field(None, gt=0)


class MetricModel(_Strict):
    """One metric to compare between canary and baseline."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    query: str = Field(min_length=1)
    threshold: ThresholdModel | None = None
    category: MetricCategory | None = None
    direction: Direction | None = None
    critical: bool = False
    must_have_data: bool = False
    nan_strategy: NanStrategy = NanStrategy.REMOVE
    outliers: OutliersModel = OutliersModel()
    effect_size: EffectSizeModel = EffectSizeModel()
    groups: list[str] = Field(default_factory=list)


class StepModel(_Strict):
    """One traffic step: the canary's share of traffic and how long to hold it."""

    percentage: float = Field(gt=0, le=100)
    duration: str | int | float

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: str | int | float) -> str | int | float:
        if _duration_seconds(value) <= 0:
            raise ValueError("a step must last longer than zero")
        return value


class MetadataModel(_Strict):
    """Identifies the config."""

    name: str = Field(min_length=1)


class ScoreThresholdsModel(_Strict):
    """Kayenta's summary-score thresholds."""

    pass_: float = Field(95.0, alias="pass", ge=0, le=100)
    marginal: float = Field(75.0, ge=0, le=100)


class MarginsModel(_Strict):
    """Non-inferiority margins of the sequential judge."""

    error_ratio: float = Field(1.5, gt=1)
    slow_ratio: float = Field(1.25, gt=1)
    business_ratio: float = Field(0.98, gt=0, lt=1)


class RollbackMarginsModel(_Strict):
    """The sequential judge's ROLLBACK indifference zone (see ``RollbackMargins``)."""

    error_ratio: float = Field(1.0, ge=1)
    slow_ratio: float = Field(1.05, ge=1)
    business_ratio: float = Field(1.0, gt=0, le=1)


class JudgeModel(_Strict):
    """Which judge decides, and its settings."""

    name: JudgeName = JudgeName.SEQUENTIAL
    alpha: float = Field(0.01, gt=0, lt=1)
    confidence: float = Field(0.98, gt=0, lt=1)
    tolerance: float = Field(0.25, ge=0)
    score_thresholds: ScoreThresholdsModel = ScoreThresholdsModel()
    group_weights: dict[str, float] = Field(default_factory=dict)
    min_sample_size: int = Field(100, ge=0)
    margins: MarginsModel = MarginsModel()
    rollback_margins: RollbackMarginsModel = RollbackMarginsModel()
    min_exposure: str | int | float = "1m"
    burn_rate_limit: float = Field(14.4, gt=0)
    slo_target: float | None = Field(None, gt=0, lt=1)

    @field_validator("min_exposure")
    @classmethod
    def _exposure(cls, value: str | int | float) -> str | int | float:
        _duration_seconds(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> JudgeModel:
        if self.score_thresholds.marginal > self.score_thresholds.pass_:
            raise ValueError("score_thresholds.marginal cannot be above score_thresholds.pass")
        if sum(self.group_weights.values()) > 100 + 1e-9 or any(
            w < 0 for w in self.group_weights.values()
        ):
            raise ValueError("group_weights must be non-negative and add up to at most 100")
        rollback, margins = self.rollback_margins, self.margins
        for name, inside, outside in (
                ("error_ratio", rollback.error_ratio, margins.error_ratio),
                ("slow_ratio", rollback.slow_ratio, margins.slow_ratio),
                ("business_ratio", 1.0 / rollback.business_ratio, 1.0 / margins.business_ratio)):
            if inside >= outside:
                raise ValueError(f"rollback_margins.{name} must be closer to 1 than "
                                 f"margins.{name}: a ratio cannot be both bad enough to roll "
                                 f"back and good enough to proceed")
        return self


class ScopeModel(_Strict):
    """How a query is narrowed to one arm."""

    label: str = Field("version", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    baseline: str = Field("baseline", min_length=1)
    canary: str = Field("canary", min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> ScopeModel:
        if self.baseline == self.canary:
            raise ValueError("scope.baseline and scope.canary must differ")
        return self


class SpecModel(_Strict):
    """The analysis itself."""

    steps: list[StepModel] = Field(min_length=1)
    metrics: list[MetricModel] = Field(min_length=1)
    rollback_on_failure: bool = True
    failure_count_threshold: int = Field(1, ge=1)
    judge: JudgeModel = JudgeModel()
    scope: ScopeModel = ScopeModel()

    @model_validator(mode="after")
    def _consistent(self) -> SpecModel:
        names = [m.name for m in self.metrics]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"metric names must be unique; repeated: {', '.join(duplicates)}")
        previous = 0.0
        for step in self.steps:
            if step.percentage < previous:
                raise ValueError(
                    f"step percentages must not go down ({previous:g} then {step.percentage:g})"
                )
            previous = step.percentage
        return self


class CanaryFileModel(_Strict):
    """The whole ``canary-analysis.yaml``."""

    api_version: Literal["analysis/v1"] = Field(alias="apiVersion")
    kind: Literal["CanaryConfig"]
    metadata: MetadataModel
    spec: SpecModel


_ARITHMETIC = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Load,
               ast.Add, ast.Sub, ast.Mult, ast.Div, ast.USub, ast.UAdd, ast.Pow, ast.Mod)


def derived_names(query: str, metric_names: set[str]) -> tuple[str, ...]:
    """Names of other metrics ``query`` is an arithmetic expression over, or () for PromQL."""
    try:
        tree = ast.parse(query.strip(), mode="eval")
    except SyntaxError:
        return ()
    if not all(isinstance(node, _ARITHMETIC) for node in ast.walk(tree)):
        return ()
    names = [node.id for node in ast.walk(tree) if isinstance(node, ast.Name)]
    if not names or not set(names) <= metric_names:
        return ()
    return tuple(dict.fromkeys(names))


def slo_target_of(query: str) -> float | None:
    """The SLO target in a burn-rate expression ``x / (1 - 0.999)``, or None."""
    try:
        tree = ast.parse(query.strip(), mode="eval")
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub)
                and isinstance(node.left, ast.Constant) and node.left.value == 1
                and isinstance(node.right, ast.Constant)
                and isinstance(node.right.value, int | float)
                and 0 < node.right.value < 1):
            return float(node.right.value)
    return None


_LATENCY = re.compile(r"latency|duration|response_time|p\d{2,3}\b|_p\d", re.I)
_BUDGET = re.compile(r"burn|budget", re.I)
_RESOURCE = re.compile(r"cpu|memory|mem_|rss|heap|resource", re.I)
_BUSINESS = re.compile(r"conversion|checkout|login|signup|revenue|order|success_rate", re.I)


def infer_category(model: MetricModel, derived: bool) -> MetricCategory:
    """The category of a metric without an explicit one, from its name and threshold."""
    threshold = model.threshold
    if threshold is not None and threshold.max_absolute_ms is not None:
        return MetricCategory.LATENCY
    if _LATENCY.search(model.name):
        return MetricCategory.LATENCY
    if _BUDGET.search(model.name) or (derived and slo_target_of(model.query) is not None):
        return MetricCategory.ERROR_BUDGET
    if _RESOURCE.search(model.name):
        return MetricCategory.RESOURCE
    if (threshold is not None and threshold.min_ratio is not None) or _BUSINESS.search(
        model.name
    ):
        return MetricCategory.BUSINESS
    return MetricCategory.AVAILABILITY


def _effect_size(model: EffectSizeModel) -> EffectSize:
    neutral = 0.5 if model.measure is EffectMeasure.CLES else 1.0

    def pick(value: float | None) -> float:
        return neutral if value is None else value

    return EffectSize(model.measure, pick(model.allowed_increase), pick(model.allowed_decrease),
                      pick(model.critical_increase), pick(model.critical_decrease))


def _threshold(model: ThresholdModel | None) -> Threshold:
    if model is None:
        return Threshold()
    return Threshold(model.max_increase_ratio, model.max_absolute_ms, model.max_absolute,
                     model.max_increase_pct, model.min_ratio)


def load_canary_file(path: Path) -> CanarySpec:
    """Read and validate the canary-analysis file at ``path``."""
    return parse_canary_document(read_yaml(path))


def _problem(doc: YamlDocument, index: int, message: str) -> ConfigError:
    return ConfigError([ConfigProblem(doc.locate(("spec", "metrics", index, "query")),
                                      f"spec.metrics[{index}].query", message)])


def parse_canary_document(doc: YamlDocument) -> CanarySpec:
    """Validate a parsed canary-analysis document."""
    model = validate_model(CanaryFileModel, doc, doc.data)
    names = {m.name for m in model.spec.metrics}
    metrics = []
    slo_target = model.spec.judge.slo_target
    for index, metric in enumerate(model.spec.metrics):
        derived = derived_names(metric.query, names)
        if metric.name in derived:
            raise _problem(doc, index, "a metric cannot be defined in terms of itself")
        category = metric.category or infer_category(metric, bool(derived))
        direction = metric.direction or (
            Direction.DECREASE if category is MetricCategory.BUSINESS else Direction.INCREASE)
        if slo_target is None and derived:
            slo_target = slo_target_of(metric.query)
        metrics.append(CanaryMetric(
            name=metric.name, query=metric.query, threshold=_threshold(metric.threshold),
            derived_from=derived, category=category, direction=direction,
            critical=metric.critical, must_have_data=metric.must_have_data,
            nan_strategy=metric.nan_strategy,
            outliers=Outliers(metric.outliers.strategy, metric.outliers.factor),
            effect_size=_effect_size(metric.effect_size), groups=tuple(metric.groups),
        ))
    _check_cycles(doc, metrics)
    judge = model.spec.judge
    judge_config = JudgeConfig(
        name=judge.name, alpha=judge.alpha, confidence=judge.confidence,
        tolerance=judge.tolerance,
        score_thresholds=ScoreThresholds(judge.score_thresholds.pass_,
                                         judge.score_thresholds.marginal),
        group_weights=dict(judge.group_weights), min_sample_size=judge.min_sample_size,
        margins=Margins(judge.margins.error_ratio, judge.margins.slow_ratio,
                        judge.margins.business_ratio),
        rollback_margins=RollbackMargins(judge.rollback_margins.error_ratio,
                                         judge.rollback_margins.slow_ratio,
                                         judge.rollback_margins.business_ratio),
        min_exposure_s=_duration_seconds(judge.min_exposure),
        burn_rate_limit=judge.burn_rate_limit, slo_target=slo_target,
    )
    steps = tuple(CanaryStep(s.percentage, parse_duration(s.duration)) for s in model.spec.steps)
    scope = Scope(model.spec.scope.label, model.spec.scope.baseline, model.spec.scope.canary)
    return CanarySpec(doc.source, model.metadata.name, steps, tuple(metrics),
                      model.spec.rollback_on_failure, model.spec.failure_count_threshold,
                      judge_config, scope)


def _check_cycles(doc: YamlDocument, metrics: list[CanaryMetric]) -> None:
    graph = {m.name: set(m.derived_from) for m in metrics}
    for index, metric in enumerate(metrics):
        seen: set[str] = set()
        frontier = set(metric.derived_from)
        while frontier:
            name = frontier.pop()
            if name == metric.name:
                raise _problem(doc, index,
                               f"metric '{metric.name}' depends on itself through other metrics")
            if name not in seen:
                seen.add(name)
                frontier |= graph.get(name, set())
