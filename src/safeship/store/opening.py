"""Opening the state store: the database created when it is the default one, then migrated.

Every repository (pipeline runs, rollouts, flags) opens its engine here, so they all create the
local state folder the same way, migrate to the same head, and report a failure as one
:class:`~safeship.errors.StoreUnavailable` with the password masked.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from safeship.store.database import create_engine
from safeship.store.failures import STORE_FAILURES, leaks_secret, store_unavailable
from safeship.store.migrate import upgrade
from safeship.store.urls import STATE_DIR, default_database_url


def open_migrated(url: str | None, project_root: Path) -> tuple[Engine, str]:
    """An engine on ``url`` (default: the project's SQLite file) migrated to head, and its URL.

    Raises:
        StoreUnavailable: the database cannot be created, reached or migrated.
    """
    default = default_database_url(project_root)
    target = url or default
    try:
        if target == default:
            prepare_state_dir(project_root / STATE_DIR)
        engine = create_engine(target)
        try:
            upgrade(engine)
        except BaseException:
            engine.dispose()
            raise
    except STORE_FAILURES as exc:
        error = store_unavailable(target, "open and migrate the database", exc)
        if leaks_secret(target, exc):
            # The driver's own message holds the password: do not chain it into tracebacks.
            raise error from None
        raise error from exc
    return engine, target


def prepare_state_dir(directory: Path) -> None:
    """Create the local state folder, and keep it out of version control like a cache."""
    directory.mkdir(parents=True, exist_ok=True)
    ignore = directory / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# Created by safeship: local state, never commit it.\n*\n")
