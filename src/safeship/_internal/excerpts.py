"""Short excerpts of long program output, fit for a finding or an error message."""

from __future__ import annotations

DEFAULT_LINES = 20
LINE_WIDTH = 300


def first_lines(text: str, count: int = DEFAULT_LINES) -> str:
    """The first ``count`` non-blank lines of ``text``, each cut to a readable width."""
    lines = [line.rstrip()[:LINE_WIDTH] for line in text.splitlines() if line.strip()]
    more = len(lines) - count
    shown = "\n".join(lines[:count])
    return f"{shown}\n... ({more} more lines)" if more > 0 else shown or "(no output)"
