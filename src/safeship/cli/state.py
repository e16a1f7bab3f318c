"""Options given before the sub-command (``-v``, ``--log-format``), shared by every command."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class GlobalOptions:
    """Mutable on purpose: the Typer callback fills it in before any command runs."""

    verbose: bool = False
    log_format: str = "text"


OPTIONS = GlobalOptions()
