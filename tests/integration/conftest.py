"""Fixtures of the integration tests: real servers on 127.0.0.1, started and stopped here."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.postgres_server import PostgresServer
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
