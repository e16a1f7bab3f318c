"""The state store: pipeline runs and approvals in SQLite (default) or PostgreSQL.

Schema changes go through the Alembic migrations in ``migrations/``; opening a store migrates it.
"""

from __future__ import annotations

from safeship.store.repository import MIN_PREFIX, StateStore
from safeship.store.urls import default_database_url

__all__ = ["MIN_PREFIX", "StateStore", "default_database_url"]
