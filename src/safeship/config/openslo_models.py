"""The OpenSLO v1 objects safeship reads, as pydantic models (see :mod:`.openslo`).

Keys are OpenSLO's own (camelCase). Every object forbids unknown keys, so a typo or a part of
the specification safeship does not model is reported at its place instead of being ignored;
parts that are modelled but not supported (``thresholdMetric``, ``calendar``...) are typed
loosely here and refused with a message by the importer.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MetadataModel(_Strict):
    """``metadata:`` of any OpenSLO object."""

    name: str = Field(min_length=1)
    displayName: str | None = None
    labels: dict[str, Any] = Field(default_factory=dict)
    annotations: dict[str, Any] = Field(default_factory=dict)


class MetricSourceModel(_Strict):
    """``metricSource:``: where a query runs and the query itself (in ``spec``)."""

    metricSourceRef: str | None = None
    type: str | None = None
    spec: dict[str, Any] = Field(default_factory=dict)


class MetricModel(_Strict):
    """One side of a ratio."""

    metricSource: MetricSourceModel


class RatioMetricModel(_Strict):
    """``ratioMetric:``."""

    counter: bool | None = None
    good: MetricModel | None = None
    bad: MetricModel | None = None
    total: MetricModel | None = None
    raw: Any = None
    rawType: Any = None


class SliSpecModel(_Strict):
    """``spec:`` of an SLI."""

    description: str = ""
    thresholdMetric: Any = None
    ratioMetric: RatioMetricModel | None = None


class InlineIndicatorModel(_Strict):
    """``spec.indicator`` of an SLO: an SLI without apiVersion and kind."""

    metadata: MetadataModel | None = None
    spec: SliSpecModel


class SliDocumentModel(_Strict):
    """A ``kind: SLI`` document."""

    apiVersion: Literal["openslo/v1"]
    kind: Literal["SLI"]
    metadata: MetadataModel
    spec: SliSpecModel


class TimeWindowModel(_Strict):
    """One item of ``timeWindow``."""

    duration: str = Field(min_length=1)
    isRolling: bool | None = None
    calendar: Any = None


class ObjectiveModel(_Strict):
    """One item of ``objectives``."""

    displayName: str | None = None
    op: Any = None
    value: Any = None
    target: float | None = None
    targetPercent: float | None = None
    timeSliceTarget: Any = None
    timeSliceWindow: Any = None


class SloSpecModel(_Strict):
    """``spec:`` of an SLO."""

    description: str = ""
    service: str | None = None
    indicator: InlineIndicatorModel | None = None
    indicatorRef: str | None = None
    timeWindow: list[TimeWindowModel] = Field(default_factory=list)
    budgetingMethod: str | None = None
    objectives: list[ObjectiveModel] = Field(min_length=1)
    alertPolicies: list[Any] = Field(default_factory=list)


class SloDocumentModel(_Strict):
    """A ``kind: SLO`` document."""

    apiVersion: Literal["openslo/v1"]
    kind: Literal["SLO"]
    metadata: MetadataModel
    spec: SloSpecModel


class EnvelopeModel(BaseModel):
    """What every document has; the rest is checked per kind."""

    model_config = ConfigDict(extra="allow", frozen=True)

    apiVersion: Literal["openslo/v1"]
    kind: str
    metadata: MetadataModel
