"""Alembic environment of the state store: runs migrations on the connection safeship hands over.

:mod:`safeship.store.migrate` puts an open connection, already inside a transaction, into
``config.attributes["connection"]``; no ``alembic.ini`` and no URL are needed. To write a new
revision, call ``alembic.command.revision(alembic_config(connection), message, autogenerate=True)``
with ``alembic_config`` from that module.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from safeship.store.tables import Base


def _run_online(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        # safeship emits BEGIN itself on SQLite too, so DDL is transactional everywhere: one
        # upgrade is all or nothing, and a concurrent opener waits instead of racing it.
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    if context.is_offline_mode():
        raise RuntimeError("safeship migrations run online only, on a live connection")
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError(
            "run safeship migrations through safeship.store.migrate, which passes the connection"
        )
    _run_online(connection)


_main()
