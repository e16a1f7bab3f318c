"""The metrics family's contract: read one metric for one arm over a time range.

A provider answers :meth:`MetricsProvider.query_range` with a :class:`Series` scoped to the
baseline or the canary (how it scopes is its own business: PromQL label injection, the embedded
router's per-version counters, a recorded file). Providers that can also report per-interval
event counts (requests, errors, latency buckets) implement :meth:`MetricsProvider.counts`, which
the sequential judge prefers.

Rules every provider follows:

* A provider that cannot answer raises :class:`safeship.errors.MetricsUnavailable` with the
  endpoint or file and what went wrong; it never returns made-up data.
* Missing points are NaN, never 0: "no data" and "zero errors" are different facts.
* Derived metrics (an arithmetic expression over other metrics, like the guide's
  ``slo_burn_rate``) are never sent to a provider: :mod:`safeship.metrics.derived` computes them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from safeship.model.analysis import Arm, ArmCounts, Series
from safeship.model.canary import CanaryMetric, CanarySpec, Scope
from safeship.model.counters import CounterSnapshot

__all__ = ["CounterSnapshot", "CounterSource", "MetricsProvider", "ProviderOptions", "TimeRange"]


class ProviderOptions(BaseModel):
    """Base of every provider's options model: strict, immutable, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class TimeRange:
    """A query window in unix seconds, sampled every ``step_s`` seconds."""

    start: float
    end: float
    step_s: float

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("a time range cannot end before it starts")
        if self.step_s <= 0:
            raise ValueError("a time range needs a positive step")


class MetricsProvider(ABC):
    """Reads metrics for one arm of a canary comparison."""

    type_name: ClassVar[str]
    """The YAML ``type:`` of this provider (equal to its module name)."""

    @abstractmethod
    def query_range(self, metric: CanaryMetric, arm: Arm, scope: Scope,
                    window: TimeRange) -> Series:
        """The metric's values for ``arm`` over ``window``; NaN where data is missing."""

    def counts(self, spec: CanarySpec, arm: Arm, window: TimeRange) -> ArmCounts | None:
        """Per-interval counts of requests, errors and latency buckets, or None if unknown."""
        return None


class CounterSource(Protocol):
    """Something that counts requests per version: the embedded router implements it."""

    def snapshot(self, version: str) -> CounterSnapshot:
        """The counters of ``version`` now."""
        ...
