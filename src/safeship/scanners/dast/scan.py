"""One DAST baseline scan: crawl, passive rules, exposure probes, active probes, the report.

:func:`run_scan` is the engine behind ``safeship dast scan`` and the ``dast`` gate. It fails
closed: an unreachable target raises :class:`safeship.errors.EndpointUnavailable`; a scan whose
probes could not all run within ``max_seconds`` is reported with ``skipped`` parts, which makes
:attr:`ScanReport.failed` true.

Time is split so the probes are not starved by a large site: with probes enabled the crawl may
use at most :data:`CRAWL_SHARE` of ``max_seconds``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from safeship._internal.http import HttpClientFactory
from safeship.errors import EndpointUnavailable, UsageError
from safeship.scanners.dast.active import ActiveProbes
from safeship.scanners.dast.crawler import crawl
from safeship.scanners.dast.exposure import ExposureProbes, probe_bases
from safeship.scanners.dast.fetch import Budget, BudgetExhausted, Fetcher, FetchFailed, Page
from safeship.scanners.dast.model import Alert, Kind, Level, RuleResult, ScanReport
from safeship.scanners.dast.openapi import load_openapi, seed_paths
from safeship.scanners.dast.passive import passive_alerts
from safeship.scanners.dast.rules import RULES
from safeship.scanners.dast.urls import BadUrl, display_url, normalise, origin

CRAWL_SHARE = 0.6
MAX_ALERTS_PER_RULE = 50
"""Alerts kept per rule (all are counted)."""


@dataclass(frozen=True)
class ScanConfig:
    """What to scan and within which limits."""

    target: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Sent with every request, e.g. ``{"X-Safeship-Version": "canary"}`` to reach the canary.
    Values may be credentials: they are never reported (and left out of ``repr``)."""
    openapi: Path | None = None
    levels: Mapping[str, Level] = field(default_factory=dict)
    """Per-rule levels from a rules file; rules not named keep their default level."""
    max_pages: int = 50
    max_seconds: float = 60.0
    max_requests: int = 600
    max_response_bytes: int = 2 * 1024 * 1024
    max_total_bytes: int = 50 * 1024 * 1024
    request_timeout_s: float = 10.0
    active: bool = True
    """Send the active probes (XSS, SQL error, open redirect, CORS origin echo)."""
    assume_https: bool = False
    """Judge HSTS and Secure cookies as on HTTPS (the target sits behind a TLS proxy)."""

    def level_of(self, rule_id: str) -> Level:
        """The level of ``rule_id`` in this scan."""
        return self.levels.get(rule_id, RULES[rule_id].default_level)

    def enabled(self, rule_id: str) -> bool:
        """True unless the rule is IGNOREd (or is active and active probes are off)."""
        if self.level_of(rule_id) is Level.IGNORE:
            return False
        return self.active or RULES[rule_id].kind is not Kind.ACTIVE


def check_target(url: str) -> str:
    """``url`` normalised, or :class:`safeship.errors.UsageError` if it cannot be scanned."""
    try:
        origin(url.strip())
    except BadUrl as exc:
        raise UsageError(f"cannot scan {display_url(url)}: {exc}") from None
    return normalise(url.strip())


def run_scan(config: ScanConfig, client_factory: HttpClientFactory, *,
             clock: Callable[[], float] = time.monotonic,
             token: str | None = None) -> ScanReport:
    """Scan ``config.target``; see the module docstring."""
    target = check_target(config.target)
    _check_limits(config)
    seeds = seed_paths(load_openapi(config.openapi)) if config.openapi else None
    token = token or secrets.token_hex(4)
    began = clock()
    started_at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    probing = any(config.enabled(r.id) for r in RULES.values() if r.kind is not Kind.PASSIVE)
    crawl_until = began + config.max_seconds * (CRAWL_SHARE if probing else 1.0)
    budget = Budget(began + config.max_seconds, config.max_requests, config.max_total_bytes,
                    config.max_response_bytes, clock)
    https = target.startswith("https://") or config.assume_https
    alerts: list[Alert] = []
    skipped: list[str] = []

    def visit(page: Page) -> None:
        alerts.extend(passive_alerts(page, https=https))

    with client_factory(config.request_timeout_s) as client:
        fetcher = Fetcher(client, budget, config.headers, config.request_timeout_s)
        start = _fetch_start(fetcher, target)
        visit(start)
        result = crawl(fetcher, start, seeds.paths if seeds else (), max_pages=config.max_pages,
                       visit=visit, until=crawl_until)
        crawled = [page.url for page in result.pages]
        try:
            if any(config.enabled(r) for r in ("41", "40034", "10095")):
                alerts += ExposureProbes(fetcher, config.enabled, token).run(
                    probe_bases(target), crawled)
        except BudgetExhausted as exc:
            skipped.append(f"exposure probes stopped at {exc.limit}")
        try:
            if config.active:
                alerts += ActiveProbes(fetcher, config.enabled, token).run(start, result.pages)
        except BudgetExhausted as exc:
            skipped.append(f"active probes stopped at {exc.limit}")

    return ScanReport(
        target=display_url(target),
        started_at=started_at,
        duration_s=round(max(0.0, clock() - began), 3),
        pages=tuple(display_url(url) for url in crawled),
        requests=budget.requests,
        bytes_read=budget.bytes_read,
        results=_group(alerts, config),
        active=config.active,
        openapi_paths=len(seeds.paths) if seeds else 0,
        limits_reached=tuple(dict.fromkeys(result.limits)),
        errors=tuple(result.errors),
        ignored_rules=tuple(r for r in RULES if config.level_of(r) is Level.IGNORE),
        skipped=tuple(skipped),
    )


def _check_limits(config: ScanConfig) -> None:
    limits = {"max_pages": config.max_pages, "max_seconds": config.max_seconds,
              "max_requests": config.max_requests, "max_response_bytes":
              config.max_response_bytes, "max_total_bytes": config.max_total_bytes,
              "request_timeout_s": config.request_timeout_s}
    for name, value in limits.items():
        if not value > 0:
            raise UsageError(f"the scan's {name} must be greater than zero, got {value}")


def _fetch_start(fetcher: Fetcher, target: str) -> Page:
    try:
        return fetcher.get(target)
    except FetchFailed as exc:
        raise EndpointUnavailable(
            f"the scan target {display_url(target)} could not be reached ({exc})",
            hint="check the URL, that the canary is up, and any routing headers it needs",
        ) from exc
    except BudgetExhausted as exc:
        raise UsageError(f"the scan's {exc.limit} limit allows no request at all") from exc


def _group(alerts: list[Alert], config: ScanConfig) -> tuple[RuleResult, ...]:
    by_rule: dict[str, list[Alert]] = {}
    for alert in dict.fromkeys(alerts):  # the same alert seen twice is one alert
        by_rule.setdefault(alert.rule_id, []).append(alert)
    results = []
    for rule_id, rule in RULES.items():
        found = by_rule.get(rule_id)
        level = config.level_of(rule_id)
        if not found or level is Level.IGNORE:
            continue
        results.append(RuleResult(rule, level, tuple(found[:MAX_ALERTS_PER_RULE]), len(found)))
    return tuple(results)
