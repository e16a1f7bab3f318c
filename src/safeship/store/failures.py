"""Turning database failures into :class:`~safeship.errors.StoreUnavailable`, passwords masked."""

from __future__ import annotations

from alembic.util import CommandError
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from safeship.errors import StoreUnavailable
from safeship.store.urls import masked_url, scrub, sqlite_path, url_secrets

#: What can go wrong while opening, migrating, reading or writing the store.
STORE_FAILURES: tuple[type[BaseException], ...] = (
    SQLAlchemyError,  # DBAPIError (the driver's errors), ArgumentError (a bad URL), ...
    OSError,
    CommandError,
    ImportError,
)


def store_unavailable(url: str, doing: str, error: BaseException) -> StoreUnavailable:
    """A :class:`StoreUnavailable` saying what failed at which (masked) URL, with advice."""
    reason = scrub(_reason(error), url)
    return StoreUnavailable(
        f"state store {masked_url(url)}: could not {doing}: {reason}", hint=_hint(url, error)
    )


def leaks_secret(url: str, error: BaseException) -> bool:
    """True when ``error``'s own text contains a password of ``url`` (do not chain it then)."""
    text = str(error)
    return any(secret in text for secret in url_secrets(url))


def _reason(error: BaseException) -> str:
    # A DBAPIError's text repeats the SQL and its parameters; the driver's own message is enough.
    source: BaseException = error
    if isinstance(error, DBAPIError) and isinstance(error.orig, BaseException):
        source = error.orig
    lines = str(source).strip().splitlines()
    return lines[0] if lines else type(source).__name__


def _hint(url: str, error: BaseException) -> str:
    if isinstance(error, ImportError):
        return "install the database driver, e.g. pip install 'safeship[postgres]' for PostgreSQL"
    if isinstance(error, CommandError):
        return (
            "the database was migrated by another safeship version; upgrade safeship, or point "
            "SAFESHIP_DATABASE_URL at another database"
        )
    if isinstance(error, ArgumentError):  # unparsable URL, unknown dialect or driver
        return (
            "SAFESHIP_DATABASE_URL must be a SQLAlchemy URL such as sqlite:////abs/path/state.db "
            "or postgresql+psycopg://USER:PASSWORD@HOST:5432/DATABASE"
        )
    path = sqlite_path(url)
    if path is not None:
        return (
            f"check that {path.parent} exists, is writable and is on a local disk, or point "
            "SAFESHIP_DATABASE_URL at another database"
        )
    return (
        "check that the database server is running and reachable from here, and that the user, "
        "password and database name in SAFESHIP_DATABASE_URL are right"
    )
