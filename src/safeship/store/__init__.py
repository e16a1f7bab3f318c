"""The state store: pipeline runs, approvals and rollouts in SQLite (default) or PostgreSQL.

Schema changes go through the Alembic migrations in ``migrations/``; opening a store migrates it.
"""

from __future__ import annotations

from safeship.store.repository import MIN_PREFIX, StateStore

# Importing the rollout store registers its tables with the metadata the migrations compare to.
from safeship.store.rollouts import RolloutStore
from safeship.store.urls import default_database_url

__all__ = ["MIN_PREFIX", "RolloutStore", "StateStore", "default_database_url"]
