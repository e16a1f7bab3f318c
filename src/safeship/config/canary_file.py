"""``canary-analysis.yaml`` (the guide's ``analysis/v1 CanaryConfig``) -> :class:`CanarySpec`.

Quirks of the guide's template that this loader honours:

* ``duration: 5m`` is a string and is parsed as a duration;
* a metric ``query`` is usually PromQL, but it may be an arithmetic expression over other metrics
  of the same file: ``(error_rate / (1 - 0.999))`` divides the ``error_rate`` metric by the error
  allowance of a 99.9 % SLO. Such a metric is marked *derived* with the names it depends on.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from safeship._internal.durations import DurationSyntaxError, parse_duration
from safeship.config.validation import validate_model
from safeship.config.yaml_source import YamlDocument, read_yaml
from safeship.errors import ConfigError, ConfigProblem

API_VERSION = "analysis/v1"
KIND = "CanaryConfig"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ThresholdModel(_Strict):
    """Limits a metric must respect. At least one is required."""

    max_increase_ratio: float | None = Field(
        None, gt=0, description="canary may be at most this many times the baseline"
    )
    max_absolute_ms: float | None = Field(None, gt=0, description="absolute ceiling, milliseconds")
    max_absolute: float | None = Field(None, description="absolute ceiling, in the metric's unit")

    @model_validator(mode="after")
    def _at_least_one(self) -> ThresholdModel:
        if all(v is None for v in (self.max_increase_ratio, self.max_absolute_ms,
                                    self.max_absolute)):
            raise ValueError(
                "a threshold needs max_increase_ratio, max_absolute_ms or max_absolute"
            )
        return self


class MetricModel(_Strict):
    """One metric to compare between canary and baseline."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    query: str = Field(min_length=1)
    threshold: ThresholdModel


class StepModel(_Strict):
    """One traffic step: the canary's share of traffic and how long to hold it."""

    percentage: float = Field(gt=0, le=100)
    duration: str | int | float

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: str | int | float) -> str | int | float:
        try:
            seconds = parse_duration(value)
        except DurationSyntaxError as exc:
            raise ValueError(str(exc)) from exc
        if seconds <= 0:
            raise ValueError("a step must last longer than zero")
        return value


class MetadataModel(_Strict):
    """Identifies the config."""

    name: str = Field(min_length=1)


class SpecModel(_Strict):
    """The analysis itself."""

    steps: list[StepModel] = Field(min_length=1)
    metrics: list[MetricModel] = Field(min_length=1)
    rollback_on_failure: bool = True
    failure_count_threshold: int = Field(1, ge=1)

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


@dataclass(frozen=True)
class CanaryStep:
    """A traffic step with its duration in seconds."""

    percentage: float
    duration_s: float


@dataclass(frozen=True)
class Threshold:
    """A metric's limits; None means "not constrained this way"."""

    max_increase_ratio: float | None
    max_absolute_ms: float | None
    max_absolute: float | None


@dataclass(frozen=True)
class CanaryMetric:
    """A metric to judge. ``derived_from`` is set when ``query`` is an expression over others."""

    name: str
    query: str
    threshold: Threshold
    derived_from: tuple[str, ...] = ()

    @property
    def is_derived(self) -> bool:
        """True for an expression over other metrics of the file (not PromQL)."""
        return bool(self.derived_from)


@dataclass(frozen=True)
class CanarySpec:
    """A validated canary-analysis file."""

    source: str
    name: str
    steps: tuple[CanaryStep, ...]
    metrics: tuple[CanaryMetric, ...]
    rollback_on_failure: bool
    failure_count_threshold: int

    @property
    def total_duration_s(self) -> float:
        """How long the analysis lasts if every step passes."""
        return sum(step.duration_s for step in self.steps)


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


def load_canary_file(path: Path) -> CanarySpec:
    """Read and validate the canary-analysis file at ``path``."""
    return parse_canary_document(read_yaml(path))


def parse_canary_document(doc: YamlDocument) -> CanarySpec:
    """Validate a parsed canary-analysis document."""
    model = validate_model(CanaryFileModel, doc, doc.data)
    names = {m.name for m in model.spec.metrics}
    metrics = []
    for index, metric in enumerate(model.spec.metrics):
        derived = derived_names(metric.query, names)
        if metric.name in derived:
            raise ConfigError([ConfigProblem(
                doc.locate(("spec", "metrics", index, "query")),
                f"spec.metrics[{index}].query", "a metric cannot be defined in terms of itself",
            )])
        threshold = Threshold(metric.threshold.max_increase_ratio,
                              metric.threshold.max_absolute_ms, metric.threshold.max_absolute)
        metrics.append(CanaryMetric(metric.name, metric.query, threshold, derived))
    _check_cycles(doc, metrics)
    steps = tuple(CanaryStep(s.percentage, parse_duration(s.duration)) for s in model.spec.steps)
    return CanarySpec(doc.source, model.metadata.name, steps, tuple(metrics),
                      model.spec.rollback_on_failure, model.spec.failure_count_threshold)


def _check_cycles(doc: YamlDocument, metrics: list[CanaryMetric]) -> None:
    graph = {m.name: set(m.derived_from) for m in metrics}
    for index, metric in enumerate(metrics):
        seen: set[str] = set()
        frontier = set(metric.derived_from)
        while frontier:
            name = frontier.pop()
            if name == metric.name:
                raise ConfigError([ConfigProblem(
                    doc.locate(("spec", "metrics", index, "query")),
                    f"spec.metrics[{index}].query",
                    f"metric '{metric.name}' depends on itself through other metrics",
                )])
            if name not in seen:
                seen.add(name)
                frontier |= graph.get(name, set())
