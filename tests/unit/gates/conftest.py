"""Fixtures for the gate backend tests: the local JSON server and gate contexts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from safeship.gates.interface import GateContext

from .http_fixture import JsonServer, running_server


@pytest.fixture
def json_server() -> Iterator[JsonServer]:
    """A real HTTP server on 127.0.0.1 with a free port, stopped after the test."""
    with running_server() as server:
        yield server


@pytest.fixture
def ctx(tmp_path: Path) -> GateContext:
    """A context rooted at an empty temporary project directory."""
    return GateContext(project_root=tmp_path)
