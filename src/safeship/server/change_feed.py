"""The flag store's change log read as a feed: the data version and the changes after it.

Every change a :class:`~safeship.store.flags.FlagStore` makes appends one ``flag_changes`` row
in the transaction of the change. Row ids only grow (SQLite ``AUTOINCREMENT``; a PostgreSQL
sequence, and flag writes are serialised by the store's advisory lock, so they commit in id
order), which makes the highest id a **data version** for the whole flag set: it changes
exactly when some flag changes, whichever process wrote it (the service itself, or the CLI on
the same database). The service polls :meth:`ChangeFeed.changes_since` and streams what it
finds.

The feed reads the store's tables through an engine of its own on the same URL, configured
like the store's (:func:`safeship.store.database.create_engine`). It never writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from safeship.errors import InternalError
from safeship.store.database import create_engine
from safeship.store.failures import STORE_FAILURES, leaks_secret, store_unavailable
from safeship.store.tables import FlagChangeRow

#: How many changes one read returns at most; a longer backlog is read in several steps.
BATCH = 500


@dataclass(frozen=True)
class ChangeNote:
    """One recorded change: its data version (the row id), the flag, and the new document."""

    version: int
    flag_key: str
    flag_version: int
    action: str
    actor: str
    at: datetime
    definition: dict[str, Any] | None


class ChangeFeed:
    """Reads the data version and the changes after a version (see the module docstring)."""

    def __init__(self, url: str) -> None:
        """A feed over the (already migrated) store at ``url``."""
        self._url = url
        self._engine = create_engine(url)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        self._closed = False

    def close(self) -> None:
        """Release the feed's connections."""
        self._closed = True
        self._engine.dispose()

    def current_version(self) -> int:
        """The id of the newest change (0 when no flag was ever written).

        Raises:
            StoreUnavailable: the database cannot be read.
        """
        with self._session("read the flag data version") as session:
            return int(session.scalar(select(func.max(FlagChangeRow.id))) or 0)

    def changes_since(self, version: int, *, limit: int = BATCH) -> list[ChangeNote]:
        """The changes with a data version above ``version``, oldest first (``limit`` at most).

        Raises:
            StoreUnavailable: the database cannot be read.
        """
        query = (select(FlagChangeRow).where(FlagChangeRow.id > version)
                 .order_by(FlagChangeRow.id).limit(limit))
        with self._session("read the flag changes") as session:
            return [ChangeNote(row.id, row.flag_key, row.version, row.action, row.actor, row.at,
                               row.after) for row in session.scalars(query)]

    @contextmanager
    def _session(self, doing: str) -> Iterator[Session]:
        if self._closed:
            raise InternalError("the change feed was used after close()")
        try:
            with self._sessions.begin() as session:
                yield session
        except STORE_FAILURES as exc:
            error = store_unavailable(self._url, doing, exc)
            if leaks_secret(self._url, exc):
                raise error from None
            raise error from exc
