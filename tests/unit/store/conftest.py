"""Fixtures of the state-store unit tests: a fresh SQLite store in a temp dir per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from safeship.store import StateStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    """A migrated store in ``<tmp_path>/.safeship/state.db``, closed after the test."""
    opened = StateStore.open(None, tmp_path)
    try:
        yield opened
    finally:
        opened.close()
