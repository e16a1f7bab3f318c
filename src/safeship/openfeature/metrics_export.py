"""The provider's per-variant counters as Prometheus metrics (``prometheus_client``).

Families, all labelled by ``flag`` and ``variant`` (``variant=""``: an evaluation that
returned the caller's default because of an error):

* ``safeship_flag_evaluations_total``: evaluations;
* ``safeship_flag_outcomes_total{outcome="ok"|"failed"}``: outcomes the app recorded;
* ``safeship_flag_outcome_duration_seconds``: a histogram of the outcomes that reported a
  latency (the embedded router's buckets).

A collector reads the counters at scrape time, so evaluation costs nothing extra. Flag keys
and variant names are short names (letters, digits, ``_ . -``), so label cardinality stays
that of the flag definitions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from safeship.openfeature.counters import LATENCY_BUCKETS, VariantCounters

EVALUATIONS = "safeship_flag_evaluations"
OUTCOMES = "safeship_flag_outcomes"
DURATION = "safeship_flag_outcome_duration_seconds"


class FlagMetricsCollector(Collector):
    """Exposes a :class:`VariantCounters` (see the module docstring)."""

    def __init__(self, counters: VariantCounters) -> None:
        """Collect from ``counters``."""
        self._counters = counters

    def collect(self) -> Iterable[Metric]:
        """One consistent reading of the counters, as metric families."""
        evaluations = CounterMetricFamily(
            EVALUATIONS, "Flag evaluations by the variant served.", labels=["flag", "variant"])
        outcomes = CounterMetricFamily(
            OUTCOMES, "Outcomes the app recorded, by variant served.",
            labels=["flag", "variant", "outcome"])
        duration = HistogramMetricFamily(
            DURATION, "Latency of the recorded outcomes, by variant served.",
            labels=["flag", "variant"])
        for (flag, variant), count in sorted(self._counters.evaluations().items()):
            evaluations.add_metric([flag, variant], count)
        for (flag, variant), counts in sorted(self._counters.outcome_table().items()):
            outcomes.add_metric([flag, variant, "ok"], counts.total - counts.failed)
            outcomes.add_metric([flag, variant, "failed"], counts.failed)
            if counts.timed:
                running = 0
                pairs: list[tuple[str, float]] = []
                for bound, count in zip((*LATENCY_BUCKETS, math.inf), counts.in_bucket,
                                        strict=True):
                    running += count
                    pairs.append(("+Inf" if math.isinf(bound) else repr(bound), running))
                duration.add_metric([flag, variant], pairs, counts.seconds)
        return [evaluations, outcomes, duration]


def register_metrics(counters: VariantCounters,
                     registry: CollectorRegistry) -> FlagMetricsCollector:
    """Register a collector of ``counters`` with ``registry``; unregister it to stop."""
    collector = FlagMetricsCollector(counters)
    registry.register(collector)
    return collector
