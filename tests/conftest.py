"""Shared fixtures: paths to the guide's golden files and a clean environment per test."""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).parent
GUIDE = TESTS / "data" / "guide"


@pytest.fixture
def guide_gates() -> Path:
    """The guide's gates.yaml, byte-identical to shared/examples."""
    return GUIDE / "gates.yaml"


@pytest.fixture
def guide_canary() -> Path:
    """The guide's canary-analysis.yaml, byte-identical to shared/examples."""
    return GUIDE / "canary-analysis.yaml"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's own database URL or CI annotations must not leak into tests.
    monkeypatch.delenv("SAFESHIP_DATABASE_URL", raising=False)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
