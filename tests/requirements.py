"""What a test needs from the machine, and the house rule for when it is missing.

A missing binary skips the test locally, but fails it under ``CI=true``: CI must never go green
by silently skipping the tests that need real servers.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
from pathlib import Path

import pytest


def running_in_ci() -> bool:
    """True when the environment says this is a CI run (``CI=true``, as CI services set it)."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def require_binary(path_or_name: str, why: str) -> str:
    """The path of an executable, or skip (locally) / fail (under ``CI=true``) the test.

    ``path_or_name`` is a command looked up on ``PATH`` (``"haproxy"``), a path
    (``"/usr/bin/chromium"``) or a glob (``"/usr/lib/postgresql/*/bin/initdb"``; the match
    with the highest version number wins). ``why`` says what the test needs it for.
    """
    found = _find(path_or_name)
    if found is not None:
        return found
    reason = f"{path_or_name} is missing: {why}"
    if running_in_ci():
        pytest.fail(f"{reason} (CI=true, so this fails instead of skipping)", pytrace=False)
    pytest.skip(reason)


def _find(path_or_name: str) -> str | None:
    if glob.has_magic(path_or_name):
        candidates = sorted(
            (path for path in glob.glob(path_or_name) if _executable(path)), key=_version_key
        )
        return candidates[-1] if candidates else None
    if os.sep in path_or_name:
        return path_or_name if _executable(path_or_name) else None
    return shutil.which(path_or_name)


def _executable(path: str) -> bool:
    return Path(path).is_file() and os.access(path, os.X_OK)


def _version_key(path: str) -> list[tuple[int, int | str]]:
    # Compare "…/9.6/…" < "…/15/…" numerically, not as text.
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", path)]
