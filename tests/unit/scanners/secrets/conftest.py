"""Shared helpers for the secret scanner tests: a detector and synthetic credentials."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from safeship.scanners.secrets import Detector, default_ruleset

from .corpus import Gen


@pytest.fixture(scope="session")
def detector() -> Detector:
    """A detector with the default rules (built once: compiling 460 rules takes a moment)."""
    return Detector(default_ruleset())


@pytest.fixture
def gen() -> Gen:
    """A seeded generator of credential parts."""
    return Gen(20240611)


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` with a fixed identity; returns stdout."""
    result = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com",
         "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
        cwd=repo, capture_output=True, text=True, check=True)
    return result.stdout


def found(detector: Detector, text: str, path: str = "config/.env") -> list[str]:
    """Rule ids that fire on ``text``."""
    return [f.rule_id for f in detector.scan(text, path).findings]
