"""Where command output goes: the terminal (Rich) or a file named by ``--output``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from rich.console import Console

from safeship.errors import UsageError


def stdout_console() -> Console:
    """A console on stdout; colour only on a terminal, and no hard wrapping of long lines."""
    width = None if sys.stdout.isatty() else 160
    return Console(highlight=False, soft_wrap=True, width=width)


def stderr_console() -> Console:
    """A console on stderr, for progress and errors."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def is_interactive() -> bool:
    """True when stdout is a terminal and we are not in CI."""
    return sys.stdout.isatty() and os.environ.get("CI", "").lower() not in ("true", "1")


def emit(text: str, output: Path | None) -> None:
    """Write ``text`` to ``output`` (atomically) or to stdout."""
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        temp = output.with_name(f".{output.name}.tmp")
        temp.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        temp.replace(output)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from exc
