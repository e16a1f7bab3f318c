"""Per-version counters of the embedded router, as snapshots and as Prometheus text.

One :class:`RouterCounters` is the single source of truth: the proxy records every routed
request into it (version, status, seconds from the request's arrival to its last byte sent),
the ``builtin`` metrics provider reads cumulative :meth:`RouterCounters.snapshot` values from
another thread, and the admin listener's ``/metrics`` renders the same numbers through a
private ``prometheus_client`` registry (never the process-global one):

* ``safeship_router_requests_total{version, code_class}``: requests by status class (``2xx``...);
* ``safeship_router_request_duration_seconds{version}``: a latency histogram (``_bucket{le}``,
  ``_sum``, ``_count``) with bounds from 5 ms to 10 s;
* ``safeship_router_weight_percent{version}``: the split in force;
* ``safeship_router_unrouted_total``: requests no version could serve (answered 503).

An *error* is a 5xx answer, whether the upstream sent it or the proxy made it (502 for an
unreachable upstream, 504 for a timeout). A response the upstream cuts off after its headers
were forwarded is counted as ``5xx`` too, since the client did not get what it was promised.
"""

from __future__ import annotations

import bisect
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from safeship.model.counters import CounterSnapshot

LATENCY_BUCKETS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
)
"""Upper bounds (seconds) of the latency histogram, below the implicit ``+Inf``."""

REQUESTS = "safeship_router_requests"
DURATION = "safeship_router_request_duration_seconds"
WEIGHT = "safeship_router_weight_percent"
UNROUTED = "safeship_router_unrouted"


@dataclass
class _Version:
    by_class: dict[str, int] = field(default_factory=dict)
    in_bucket: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))
    seconds: float = 0.0
    requests: int = 0
    errors: int = 0


def code_class(status: int) -> str:
    """``2xx`` for 200..299 and so on."""
    return f"{status // 100}xx"


class RouterCounters:
    """Thread-safe cumulative counters per version (see the module doc)."""

    def __init__(self, wall_clock: Callable[[], float] = time.time) -> None:
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._versions: dict[str, _Version] = {}
        self._unrouted = 0

    def record(self, version: str, status: int, seconds: float, *,
               broken: bool = False) -> None:
        """Count one request; ``broken`` means the upstream cut the response short."""
        klass = "5xx" if broken else code_class(status)
        slot = _bucket_index(seconds)
        with self._lock:
            counters = self._versions.get(version)
            if counters is None:
                counters = self._versions[version] = _Version()
            counters.requests += 1
            counters.by_class[klass] = counters.by_class.get(klass, 0) + 1
            if klass == "5xx":
                counters.errors += 1
            counters.in_bucket[slot] += 1
            counters.seconds += max(seconds, 0.0)

    def record_unrouted(self) -> None:
        """Count one request that no version could serve."""
        with self._lock:
            self._unrouted += 1

    def snapshot(self, version: str) -> CounterSnapshot:
        """Cumulative counters of ``version`` now (zeros for a version never seen)."""
        with self._lock:
            counters = self._versions.get(version, _Version())
            requests, errors = counters.requests, counters.errors
            in_bucket = list(counters.in_bucket)
        running = 0
        buckets: dict[float, float] = {}
        for bound, count in zip((*LATENCY_BUCKETS, math.inf), in_bucket, strict=True):
            running += count
            buckets[bound] = float(running)
        return CounterSnapshot(self._wall_clock(), float(requests), float(errors), buckets)

    def versions(self) -> list[str]:
        """Every version that has been counted, sorted."""
        with self._lock:
            return sorted(self._versions)

    def families(self, weights: Mapping[str, float]) -> list[Metric]:
        """The counters as Prometheus metric families (one consistent reading)."""
        requests = CounterMetricFamily(REQUESTS, "Requests routed to a version, by status class.",
                                       labels=["version", "code_class"])
        duration = HistogramMetricFamily(
            DURATION, "Seconds from a request's arrival to the last byte of its answer.",
            labels=["version"])
        weight = GaugeMetricFamily(WEIGHT, "Traffic weight in force, in percent.",
                                   labels=["version"])
        unrouted = CounterMetricFamily(UNROUTED, "Requests that no version could serve (503).")
        with self._lock:
            for version in sorted(self._versions):
                counters = self._versions[version]
                for klass in sorted(counters.by_class):
                    requests.add_metric([version, klass], counters.by_class[klass])
                running = 0
                pairs: list[tuple[str, float]] = []
                for bound, count in zip((*LATENCY_BUCKETS, math.inf), counters.in_bucket,
                                        strict=True):
                    running += count
                    pairs.append(("+Inf" if math.isinf(bound) else repr(bound), running))
                duration.add_metric([version], pairs, counters.seconds)
            unrouted.add_metric([], self._unrouted)
        for version in sorted(weights):
            weight.add_metric([version], weights[version])
        return [requests, duration, weight, unrouted]


class _Collector(Collector):
    def __init__(self, counters: RouterCounters,
                 weights: Callable[[], Mapping[str, float]]) -> None:
        self._counters = counters
        self._weights = weights

    def collect(self) -> Iterable[Metric]:
        return self._counters.families(self._weights())


def private_registry(counters: RouterCounters,
                     weights: Callable[[], Mapping[str, float]]) -> CollectorRegistry:
    """A registry of its own (not the global one) exposing ``counters`` and ``weights()``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(counters, weights))
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    """The registry in Prometheus text format (version 0.0.4)."""
    return generate_latest(registry)


def _bucket_index(seconds: float) -> int:
    # The first bound >= seconds ("le" is inclusive); past the last bound, the +Inf slot.
    return bisect.bisect_left(LATENCY_BUCKETS, seconds)
