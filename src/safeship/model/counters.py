"""Cumulative request counters of one version, as a router or a scrape reports them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class CounterSnapshot:
    """Cumulative counters of one version at one instant (like a Prometheus scrape).

    ``latency_buckets`` maps a bucket's upper bound in seconds to the cumulative number of
    requests at or below it; the ``inf`` bucket equals ``requests``.
    """

    at: float
    requests: float
    errors: float
    latency_buckets: Mapping[float, float]
