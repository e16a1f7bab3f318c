"""Per-variant counters scraped from the apps' /metrics pages, summed over the instances.

The pages are rendered by the OpenFeature provider's own exporter from its own counters, so
the scraped snapshot is checked against what the provider's in-process counter source says.
"""

from __future__ import annotations

import math

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest

from safeship._internal.http import client_factory_with_transport
from safeship.errors import MetricsUnavailable
from safeship.openfeature.counters import VariantCounters
from safeship.openfeature.metrics_export import register_metrics
from safeship.routers.feature_flag_counters import ScrapedFlagCounters

FLAG = "new-checkout"


def page(counters: VariantCounters) -> str:
    registry = CollectorRegistry()
    register_metrics(counters, registry)
    return generate_latest(registry).decode()


def two_instances() -> tuple[VariantCounters, VariantCounters]:
    first, second = VariantCounters(lambda: 0.0), VariantCounters(lambda: 0.0)
    for i in range(40):
        first.record(FLAG, "off", ok=i % 20 != 0, latency_s=0.02)
        second.record(FLAG, "off", ok=True, latency_s=0.03)
    for i in range(10):
        first.record(FLAG, "on", ok=i % 2 == 0, latency_s=0.2)
    second.record("other-flag", "on", ok=False)
    first.count_evaluation(FLAG, "on")
    return first, second


class Pages:
    """A transport serving a page per URL; counts the requests."""

    def __init__(self, pages: dict[str, str | int]) -> None:
        self.pages = pages
        self.requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        answer = self.pages[str(request.url)]
        if isinstance(answer, int):
            return httpx.Response(answer, text="nope")
        return httpx.Response(200, text=answer)


def scraper(pages: Pages, urls: list[str]) -> ScrapedFlagCounters:
    return ScrapedFlagCounters(urls, FLAG, client_factory=client_factory_with_transport(
        httpx.MockTransport(pages)))


def test_counters_are_summed_per_variant_over_the_instances() -> None:
    first, second = two_instances()
    pages = Pages({"http://a/metrics": page(first), "http://b/metrics": page(second)})
    counters = scraper(pages, ["http://a/metrics", "http://b/metrics"])
    off, on = counters.snapshot("off"), counters.snapshot("on")
    assert (off.requests, off.errors) == (80.0, 2.0)
    assert (on.requests, on.errors) == (10.0, 5.0)
    # The same as the providers' own counter sources, added up.
    mine = [c.counter_source(FLAG).snapshot("off") for c in (first, second)]
    assert off.requests == sum(s.requests for s in mine)
    assert off.latency_buckets == {
        bound: sum(s.latency_buckets[bound] for s in mine) for bound in mine[0].latency_buckets}
    assert on.latency_buckets[math.inf] == 10.0
    assert on.latency_buckets[0.1] == 0.0


def test_one_scrape_per_round_of_variants() -> None:
    first, _ = two_instances()
    pages = Pages({"http://a/metrics": page(first)})
    counters = scraper(pages, ["http://a/metrics"])
    counters.snapshot("off")
    counters.snapshot("on")
    assert pages.requests == 1  # both cohorts from the same instant
    first.record(FLAG, "off", ok=False)
    pages.pages["http://a/metrics"] = page(first)
    assert counters.snapshot("off").errors == 3.0  # asked again: a new round
    assert pages.requests == 2


def test_a_variant_nobody_got_yet_has_zero_counts() -> None:
    pages = Pages({"http://a/metrics": page(VariantCounters(lambda: 0.0))})
    snapshot = scraper(pages, ["http://a/metrics"]).snapshot("on")
    assert (snapshot.requests, snapshot.errors, dict(snapshot.latency_buckets)) == (0, 0, {})


@pytest.mark.parametrize(("answer", "message"), [
    (503, "answered HTTP 503"),
    ("this is { not prometheus", "not in the Prometheus text format"),
])
def test_an_unreadable_page_fails_the_whole_snapshot(answer: str | int, message: str) -> None:
    first, _ = two_instances()
    pages = Pages({"http://a/metrics": page(first), "http://b/metrics": answer})
    with pytest.raises(MetricsUnavailable, match=message):
        scraper(pages, ["http://a/metrics", "http://b/metrics"]).snapshot("on")


def test_an_unreachable_instance_fails_the_snapshot() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    counters = ScrapedFlagCounters(["http://127.0.0.1:9/metrics"], FLAG,
                                   client_factory=client_factory_with_transport(
                                       httpx.MockTransport(refuse)))
    with pytest.raises(MetricsUnavailable, match="could not be read: ConnectError"):
        counters.snapshot("off")


def test_at_least_one_url_is_needed() -> None:
    with pytest.raises(ValueError, match="at least one"):
        ScrapedFlagCounters([], FLAG)
