"""Where the provider stands with the flag service: ready, stale, in error, and since when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ProviderState(StrEnum):
    """The provider's own view of its data (OpenFeature's provider states, minus FATAL)."""

    NOT_READY = "NOT_READY"
    """No snapshot yet: every evaluation returns the caller's default (PROVIDER_NOT_READY)."""
    READY = "READY"
    """In touch with the service: the flags are current."""
    STALE = "STALE"
    """The service is unreachable: the last known flags are served, with reason STALE."""
    ERROR = "ERROR"
    """The service refuses the provider (a wrong token): last known flags, if any, are served
    with reason STALE, else the caller's default."""


@dataclass(frozen=True)
class SyncState:
    """A reading of the provider's connection to the service."""

    state: ProviderState
    snapshot_version: int | None
    """The data version of the flags held (None before the first snapshot)."""
    last_sync: datetime | None
    """When the service last answered (snapshot, event or keep-alive)."""
    stale_since: datetime | None
    """When the service stopped answering (None unless STALE or ERROR)."""
    last_error: str | None
    streaming: bool
    """True while the event stream is connected (False: polling, or no contact)."""

    @property
    def stale(self) -> bool:
        """True when the values served may be out of date."""
        return self.stale_since is not None
