"""Smoke tests of one version through the router: every request pinned to that version.

The blue/green strategy checks green before any user reaches it. Requests go to the router's
public address with the router's pin headers (:meth:`Router.pin_headers`), so the checks travel
the same path as production traffic, and only green answers them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import httpx

from safeship._internal.http import HttpClientFactory, default_client_factory
from safeship.strategies.interface import SmokeCheck

_BODY_EXCERPT = 120


@dataclass(frozen=True)
class SmokeResult:
    """The outcome of one check."""

    check: SmokeCheck
    passed: bool
    detail: str


@dataclass(frozen=True)
class SmokeReport:
    """The outcome of a smoke test: passed only when every check passed."""

    results: tuple[SmokeResult, ...]

    @property
    def passed(self) -> bool:
        """True when there was at least one check and all of them passed."""
        return bool(self.results) and all(result.passed for result in self.results)

    def summary(self) -> str:
        """One sentence per failed check, or how many passed."""
        failed = [f"{r.check.method} {r.check.path}: {r.detail}" for r in self.results
                  if not r.passed]
        if not self.results:
            return "no smoke checks ran"
        if failed:
            return "; ".join(failed)
        return f"{len(self.results)} smoke check(s) passed"


class SmokeTester(Protocol):
    """Runs smoke checks against one version."""

    def run(self, version: str, checks: Sequence[SmokeCheck],
            headers: Mapping[str, str]) -> SmokeReport:
        """Run ``checks`` with ``headers`` (which pin the requests to ``version``)."""
        ...


class HttpSmokeTester:
    """Sends each check to ``base_url`` (the router's public address)."""

    def __init__(self, base_url: str, *, client_factory: HttpClientFactory = default_client_factory,
                 timeout_s: float = 5.0) -> None:
        self._base = base_url.rstrip("/")
        self._factory = client_factory
        self._timeout_s = timeout_s

    def run(self, version: str, checks: Sequence[SmokeCheck],
            headers: Mapping[str, str]) -> SmokeReport:
        """Every check, in order; a transport error fails the check (fail closed)."""
        results = []
        with self._factory(self._timeout_s) as client:
            for check in checks:
                path = check.path if check.path.startswith("/") else f"/{check.path}"
                try:
                    response = client.request(check.method, self._base + path,
                                              headers=dict(headers))
                except httpx.HTTPError as exc:
                    results.append(SmokeResult(check, False, f"{type(exc).__name__}: {exc}"))
                    continue
                if response.status_code != check.expect_status:
                    results.append(SmokeResult(
                        check, False,
                        f"HTTP {response.status_code}, expected {check.expect_status}"))
                    continue
                if check.contains is not None and check.contains not in response.text:
                    excerpt = response.text[:_BODY_EXCERPT]
                    results.append(SmokeResult(
                        check, False, f"body lacks {check.contains!r} (got {excerpt!r})"))
                    continue
                results.append(SmokeResult(check, True, f"HTTP {response.status_code}"))
        return SmokeReport(tuple(results))
