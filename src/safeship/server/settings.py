"""The flag service's timings and limits, with the defaults ``safeship flags serve`` uses."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceSettings:
    """How the flag service behaves (timings and limits)."""

    default_environment: str = "production"
    poll_interval_s: float = 0.2
    """How often the store's change log is read (changes made by other processes)."""
    keepalive_s: float = 15.0
    """A comment line goes to every stream client this often when nothing happens."""
    queue_size: int = 1024
    """Events queued per stream client before it is dropped as too slow."""
    max_streams: int = 1000
    max_body_bytes: int = 1_048_576
    retry_ms: int = 1000
    """The reconnection delay the stream suggests to clients."""
