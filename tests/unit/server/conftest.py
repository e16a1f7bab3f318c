"""Fixtures of the flag-service unit tests: a temp store, the app, the asyncio backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.server.service_harness import Service, make_service


@pytest.fixture
def anyio_backend() -> str:
    """The service runs under uvicorn's asyncio loop; test on the same."""
    return "asyncio"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    """A flag service over an empty store in ``tmp_path``, with read and write tokens."""
    built = make_service(tmp_path)
    try:
        yield built
    finally:
        built.feed.close()
        built.store.close()
