"""Per-variant counters of a flag, scraped from the apps that evaluate it.

A flag rollout's cohorts are not split by a proxy that could count them (as the embedded
router does): every app instance evaluates the flag itself, through its OpenFeature provider,
which counts outcomes per flag and variant and exposes them on the app's ``/metrics`` page in
the Prometheus text format. :class:`ScrapedFlagCounters` reads those pages and sums the counters
of one flag over every instance, per variant: a
:class:`~safeship.metrics.interface.CounterSource` whose *versions* are the flag's variants,
for the ``builtin`` metrics provider (the flag-on cohort is the canary, the flag-off cohort the
baseline).

Each :meth:`ScrapedFlagCounters.snapshot` round reads every page once: the first variant asked for
triggers a scrape, and the other variants of the same round are answered from it, so the
cohorts are compared at the same instant. A page that cannot be read or parsed fails the whole
snapshot (:class:`~safeship.errors.MetricsUnavailable`): counters summed over only some
instances would look like a counter reset and be judged on made-up data.

The metric names are those of safeship's OpenFeature provider
(:mod:`safeship.openfeature.metrics_export`, :data:`DEFAULT_NAMES`): a request is one outcome
the app recorded (``safeship_flag_outcomes_total``), an error one recorded with
``outcome="failed"``, and the latency buckets are its
``safeship_flag_outcome_duration_seconds`` histogram when the app reports latencies. The
snapshot thus equals what the provider's own in-process counter source would give, summed
over the instances.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import httpx
from prometheus_client.parser import text_string_to_metric_families

from safeship._internal.http import HttpClientFactory, default_client_factory
from safeship.errors import MetricsUnavailable
from safeship.model.counters import CounterSnapshot


@dataclass(frozen=True)
class CounterNames:
    """Where the counters of a flag's cohorts are in the exposition."""

    outcomes: str = "safeship_flag_outcomes_total"
    """Counter of recorded outcomes, labelled by flag, variant and outcome."""
    outcome_label: str = "outcome"
    error_outcomes: frozenset[str] = frozenset({"failed"})
    """Values of ``outcome_label`` that count as errors."""
    flag_label: str = "flag"
    variant_label: str = "variant"
    latency_buckets: str | None = "safeship_flag_outcome_duration_seconds_bucket"
    """Histogram buckets (``le``) of the outcomes' latency, when the app reports one."""


DEFAULT_NAMES = CounterNames()


@dataclass
class _Totals:
    requests: float = 0.0
    errors: float = 0.0
    buckets: dict[float, float] = field(default_factory=dict)


class ScrapedFlagCounters:
    """A counter source over the ``/metrics`` pages of every app instance (see module doc)."""

    def __init__(self, urls: Sequence[str], flag: str, *, names: CounterNames = DEFAULT_NAMES,
                 timeout_s: float = 5.0,
                 client_factory: HttpClientFactory = default_client_factory) -> None:
        if not urls:
            raise ValueError("per-variant counters need at least one /metrics URL")
        self.urls = tuple(urls)
        self.flag = flag
        self.names = names
        self._timeout_s = timeout_s
        self._client_factory = client_factory
        self._round: dict[str, _Totals] | None = None
        self._served: set[str] = set()

    def snapshot(self, version: str) -> CounterSnapshot:
        """The counters of variant ``version`` summed over every instance, now.

        Raises:
            MetricsUnavailable: a page could not be read or parsed.
        """
        if self._round is None or version in self._served:
            self._round = self._scrape()
            self._served = set()
        self._served.add(version)
        totals = self._round.get(version, _Totals())
        # ``at`` is restamped by the builtin provider with the engine's clock.
        return CounterSnapshot(0.0, totals.requests, totals.errors, dict(totals.buckets))

    def _scrape(self) -> dict[str, _Totals]:
        totals: dict[str, _Totals] = {}
        with self._client_factory(self._timeout_s) as client:
            for url in self.urls:
                self._add(totals, url, self._page(client, url))
        return totals

    def _page(self, client: httpx.Client, url: str) -> str:
        try:
            response = client.get(url)
        except httpx.HTTPError as exc:
            raise MetricsUnavailable(f"the flag counters at {url} could not be read: "
                                     f"{type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise MetricsUnavailable(f"the flag counters at {url} answered HTTP "
                                     f"{response.status_code}")
        return response.text

    def _add(self, totals: dict[str, _Totals], url: str, text: str) -> None:
        names = self.names
        try:
            samples = [sample for family in text_string_to_metric_families(text)
                       for sample in family.samples]
        except ValueError as exc:
            raise MetricsUnavailable(f"the flag counters at {url} are not in the Prometheus "
                                     f"text format: {exc}") from exc
        for name, labels, value in _mine(samples, names.flag_label, self.flag):
            variant = labels.get(names.variant_label)
            if variant is None or math.isnan(value):
                continue
            cohort = totals.setdefault(variant, _Totals())
            if name == names.outcomes:
                cohort.requests += value
                if labels.get(names.outcome_label, "").lower() in names.error_outcomes:
                    cohort.errors += value
            elif name == names.latency_buckets and "le" in labels:
                bound = float(labels["le"])
                cohort.buckets[bound] = cohort.buckets.get(bound, 0.0) + value


def _mine(samples: Iterable[object], flag_label: str, flag: str
          ) -> Iterable[tuple[str, Mapping[str, str], float]]:
    """(name, labels, value) of the samples of ``flag``."""
    for sample in samples:
        labels: Mapping[str, str] = getattr(sample, "labels", {})
        if labels.get(flag_label) == flag:
            yield str(getattr(sample, "name", "")), labels, float(getattr(sample, "value", 0.0))
