"""The last lines of an instance's log, fit for an error message.

Only the end of the file is read, however large it grew. Values that look like secrets are
masked, because the lines are shown on the terminal and may reach CI logs.
"""

from __future__ import annotations

import re
from pathlib import Path

TAIL_LINES = 20
_TAIL_BYTES = 16 * 1024
_LINE_WIDTH = 300
_SECRET_ASSIGNMENT = re.compile(
    r"(?i)((?:password|passwd|secret|token|api[_-]?key|authorization)\S*\s*[:=]\s*)(\S+)"
)
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")


def tail(path: Path, count: int = TAIL_LINES) -> list[str]:
    """The last ``count`` non-blank lines of ``path`` (empty when it cannot be read)."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(0, size - _TAIL_BYTES))
            data = handle.read()
    except OSError:
        return []
    lines = data.decode("utf-8", errors="replace").splitlines()
    if len(data) >= _TAIL_BYTES and lines:
        lines = lines[1:]  # the first line was probably cut in the middle
    kept = [_redact(line.rstrip()[:_LINE_WIDTH]) for line in lines if line.strip()]
    return kept[-count:]


def _redact(line: str) -> str:
    if _PRIVATE_KEY.search(line):
        return "[a private key was masked]"
    return _SECRET_ASSIGNMENT.sub(lambda m: f"{m.group(1)}****", line)
