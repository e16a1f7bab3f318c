"""Engine creation for the state store, with the SQLite settings that make it safe to share.

Every SQLite connection gets WAL journaling (readers never block the writer), a busy timeout
(a second safeship process waits instead of failing) and enforced foreign keys. SQLAlchemy,
not the ``sqlite3`` module, emits ``BEGIN``: reads run in one consistent snapshot and every
write transaction starts with ``BEGIN IMMEDIATE``, so it never has to upgrade a read lock
(which SQLite answers with an immediate "database is locked", whatever the timeout).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url

#: How long a SQLite connection waits for another process's write lock, in milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 5_000

# Execution option that marks a connection as a writer (see write_engine).
_WRITE_OPTION = "safeship_write"


def create_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite engines get the pragmas and transaction handling above."""
    sqlite = make_url(url).get_backend_name() == "sqlite"
    # A server can drop idle connections; a long-running controller must not trip over them.
    engine = sa_create_engine(url, pool_pre_ping=not sqlite)
    if sqlite:
        event.listen(engine, "connect", _configure_sqlite_connection)
        event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def write_engine(engine: Engine) -> Engine:
    """``engine`` (sharing its pool) for transactions that will write."""
    return engine.execution_options(**{_WRITE_OPTION: True})


def journal_mode(engine: Engine) -> str:
    """SQLite's journal mode for ``engine`` (``wal`` when the store set it up)."""
    with engine.connect() as connection:
        return str(connection.exec_driver_sql("PRAGMA journal_mode").scalar_one())


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN (see _begin_sqlite_transaction) instead of sqlite3's legacy mode,
    # which starts no transaction before SELECT or DDL.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS:d}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _begin_sqlite_transaction(connection: Connection) -> None:
    writer = bool(connection.get_execution_options().get(_WRITE_OPTION))
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")
