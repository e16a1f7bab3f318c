"""Tell which of safeship's files a YAML document is, from its content alone."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class FileKind(StrEnum):
    """The kinds of configuration file safeship reads."""

    GATES = "gates"
    CANARY = "canary"
    SERVICE = "service"


def detect_kind(data: Any) -> FileKind | None:
    """The kind of a parsed document, or None when it is none of safeship's files."""
    if not isinstance(data, dict):
        return None
    kind = data.get("kind")
    if kind == "CanaryConfig" or str(data.get("apiVersion", "")).startswith("analysis/"):
        return FileKind.CANARY
    if kind == "Service" or str(data.get("apiVersion", "")).startswith("safeship/"):
        return FileKind.SERVICE
    if "stages" in data or "version" in data:
        return FileKind.GATES
    return None
