"""Migration files as the readers get them: the path, the name shown to people, the text."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from safeship.errors import UsageError


@dataclass(frozen=True)
class SourceFile:
    """One file: where it is, how reports name it, and its text."""

    path: Path
    shown: str
    text: str


def read_source(path: Path, shown: str) -> SourceFile:
    """Read ``path`` as text (undecodable bytes replaced: they cannot hide SQL from us)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {shown}: {exc.strerror or exc}") from exc
    return SourceFile(path, shown, data.decode("utf-8", errors="replace"))
