"""Alembic migrations of the state store, run programmatically from inside the package.

There is no ``alembic.ini``: :func:`alembic_config` points Alembic at the ``migrations`` folder
shipped with safeship and hands it the connection to use.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from safeship.store.database import write_engine

SCRIPT_LOCATION = "safeship.store:migrations"
# Key of the PostgreSQL advisory lock that serialises concurrent upgrades (any constant works;
# this one spells "SAFESHIP" in hex-ish).
_PG_MIGRATION_LOCK = 0x5AFE5817


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for safeship's migrations, optionally bound to ``connection``."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision this version of safeship knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise RuntimeError("safeship ships no migrations")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when it has never been migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database up to ``revision`` in one transaction, serialised across processes."""
    with write_engine(engine).begin() as connection:
        _lock(connection)
        command.upgrade(alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Migrate the database down to ``revision`` (``base`` removes every table but Alembic's)."""
    with write_engine(engine).begin() as connection:
        _lock(connection)
        command.downgrade(alembic_config(connection), revision)


def _lock(connection: Connection) -> None:
    # SQLite already holds its write lock (BEGIN IMMEDIATE); PostgreSQL needs an explicit one,
    # released when the transaction ends.
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
