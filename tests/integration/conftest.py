"""Fixtures of the integration tests: real servers on 127.0.0.1, started and stopped here."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.postgres_server import PostgresServer
from tests.integration.prometheus_server import PrometheusServer, PrometheusStack, SyntheticTarget
from tests.requirements import require_binary

_database_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL cluster for the whole session (skips or fails when missing)."""
    initdb = require_binary(
        "/usr/lib/postgresql/*/bin/initdb",
        "the PostgreSQL store tests start a throwaway cluster (apt-get install postgresql)",
    )
    server = PostgresServer(Path(initdb).parent)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The URL of a fresh, empty database on the session's PostgreSQL server."""
    return postgres_server.create_database(f"safeship_test_{next(_database_numbers)}")


_PROMETHEUS_DATA_TIMEOUT_S = 45.0
_PROMETHEUS_MIN_SAMPLES = 14  # one per second: enough for the tests' 12 s windows


@pytest.fixture(scope="session")
def prometheus_stack() -> Iterator[PrometheusStack]:
    """A real Prometheus scraping a synthetic baseline/canary target every second.

    Ready once the canary's 5xx series has ``_PROMETHEUS_MIN_SAMPLES`` samples (the first
    scrape comes about 6 s after start); polled against a deadline, never slept blindly.
    """
    binary = require_binary(
        "prometheus",
        "the Prometheus provider tests query a real server (apt-get install prometheus)",
    )
    target = SyntheticTarget()
    server = PrometheusServer(binary)
    try:
        target.start()
        server.start([target.address])
        server.wait_for(
            'count_over_time(http_requests_total{version="canary",status="500"}[1m])',
            lambda count: count >= _PROMETHEUS_MIN_SAMPLES,
            timeout_s=_PROMETHEUS_DATA_TIMEOUT_S,
        )
        yield PrometheusStack(server, target)
    finally:
        server.stop()
        target.stop()
