"""Feature flags in the state store: current definitions, full history, and the audit trail.

:class:`FlagStore` shares the state store's engine setup, migrations and error mapping (any
database failure surfaces as :class:`~safeship.errors.StoreUnavailable` without a password).

**Concurrent updates lose nothing.** :meth:`FlagStore.update` reads the flag, applies a pure
change function (:mod:`safeship.flags.changes`) to it and writes the result back with a
compare-and-swap on the ``version`` column (``UPDATE ... WHERE version = <read>``), in one
transaction. Flag writes are serialised per database: SQLite's write transactions already are
(``BEGIN IMMEDIATE``); on PostgreSQL each write first takes a transaction-scoped advisory
lock. That also keeps the prerequisite-cycle check exact: two concurrent changes cannot each
add half of a cycle. Should the swap still miss (another writer outside this lock), the update
is retried from a fresh read, at most :data:`MAX_ATTEMPTS` times.

**Full history.** Every change appends a ``flag_changes`` row (version, action, actor, time,
reason, the whole definition before and after) and an ``audit_events`` row, both in the same
transaction as the change. A change that leaves the flag as it was is not a change: nothing is
written and the version stays.

Times are handed in by the caller (from an injected clock), never read here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from safeship.config.yaml_source import format_path
from safeship.errors import InternalError, NotFound, UsageError
from safeship.flags.changes import FlagAction
from safeship.flags.codec import flag_from_dict, flag_to_dict, problems_error
from safeship.flags.diff import FieldChange, diff_documents
from safeship.flags.model import Flag
from safeship.flags.validation import all_problems
from safeship.store.audit import AuditEvent, audit_row, read_audit
from safeship.store.convert import require_aware
from safeship.store.database import write_engine
from safeship.store.failures import STORE_FAILURES, leaks_secret, store_unavailable
from safeship.store.opening import open_migrated
from safeship.store.tables import FlagChangeRow, FlagRow

#: How often :meth:`FlagStore.update` re-reads and retries after a missed compare-and-swap.
MAX_ATTEMPTS = 5
#: ``subject_type`` of flag events in the audit trail.
AUDIT_SUBJECT = "flag"
# Key of the PostgreSQL advisory lock that serialises flag writes ("5AFE F1A6").
_PG_FLAGS_LOCK = 0x5AFEF1A6


class FlagExists(UsageError):
    """A flag with that key already exists."""


class VersionConflict(UsageError):
    """The flag changed since the version the caller based its change on."""


@dataclass(frozen=True)
class StoredFlag:
    """A flag as stored: its definition, version, and who created and last changed it."""

    flag: Flag
    version: int
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


@dataclass(frozen=True)
class FlagUpdate:
    """The outcome of :meth:`FlagStore.update`: the flag now, and whether it changed."""

    stored: StoredFlag
    changed: bool


@dataclass(frozen=True)
class FlagChange:
    """One entry of a flag's history (``before`` is None for the creation)."""

    change_id: int
    flag_key: str
    version: int
    action: str
    actor: str
    at: datetime
    reason: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    fields: tuple[FieldChange, ...] = field(default=(), compare=False)


class _SwapMissed(Exception):
    """The compare-and-swap matched no row; the transaction is rolled back and retried."""


class FlagStore:
    """Feature flags, their history and audit events over the state store's database."""

    def __init__(self, engine: Engine, url: str) -> None:
        """Wrap an engine whose database is already migrated (see :meth:`open`)."""
        self._engine = engine
        self._url = url
        self._reader = sessionmaker(engine, expire_on_commit=False)
        self._writer = sessionmaker(write_engine(engine), expire_on_commit=False)
        self._closed = False

    @classmethod
    def open(cls, url: str | None, project_root: Path) -> FlagStore:
        """Open (create, migrate) the store like :meth:`safeship.store.StateStore.open`.

        Raises:
            StoreUnavailable: the database cannot be created, reached or migrated.
        """
        engine, target = open_migrated(url, project_root)
        return cls(engine, target)

    def close(self) -> None:
        """Release every connection; the store cannot be used afterwards."""
        self._closed = True
        self._engine.dispose()

    def __enter__(self) -> FlagStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    # writes -------------------------------------------------------------------------------

    def create(self, flag: Flag, *, actor: str, reason: str, at: datetime) -> StoredFlag:
        """Store the new flag ``flag`` at version 1, with its first history entry.

        Raises:
            FlagExists: a flag with that key exists.
            ConfigError: ``flag`` is invalid (alone, or its prerequisites among the others).
        """
        require_aware(at, "the time of a flag change")
        try:
            with self._session(f"create flag {flag.key}", write=True) as session:
                self._lock(session)
                if session.get(FlagRow, flag.key) is not None:
                    raise FlagExists(f"flag '{flag.key}' already exists",
                                     hint="change it with `safeship flags set`")
                self._check(session, flag, None)
                document = flag_to_dict(flag)
                row = FlagRow(key=flag.key, flag_type=flag.flag_type.value,
                              definition=document, version=1, created_at=at, created_by=actor,
                              updated_at=at, updated_by=actor)
                session.add(row)
                session.flush()
                self._record(session, flag.key, 1, FlagAction.CREATE.value, actor, reason, at,
                             None, document)
                return _stored(row, flag)
        except IntegrityError as exc:  # created by a writer that does not take our lock
            raise FlagExists(f"flag '{flag.key}' already exists") from exc

    def update(self, key: str, change: Callable[[Flag], Flag], *, action: FlagAction | str,
               actor: str, reason: str, at: datetime,
               expected_version: int | None = None) -> FlagUpdate:
        """Apply ``change`` to the latest definition of flag ``key`` and store the result.

        ``change`` must be pure: it may run more than once when a swap is retried. With
        ``expected_version``, the update applies only if the flag is still at that version.

        Raises:
            NotFound: there is no flag ``key``.
            VersionConflict: the flag is no longer at ``expected_version``.
            ConfigError: the changed flag would be invalid.
            UsageError: ``change`` refused (e.g. an unknown variant).
        """
        require_aware(at, "the time of a flag change")
        for _ in range(MAX_ATTEMPTS):
            try:
                with self._session(f"update flag {key}", write=True) as session:
                    return self._update_once(session, key, change, str(action), actor, reason,
                                             at, expected_version)
            except (_SwapMissed, IntegrityError):
                # Lost a race for the next version: read the newer flag and apply again.
                continue
        raise VersionConflict(
            f"flag '{key}' kept changing under this update ({MAX_ATTEMPTS} attempts)",
            hint="try again; another writer is changing it right now")

    def _update_once(self, session: Session, key: str, change: Callable[[Flag], Flag],
                     action: str, actor: str, reason: str, at: datetime,
                     expected_version: int | None) -> FlagUpdate:
        self._lock(session)
        row = session.get(FlagRow, key, with_for_update=True)
        if row is None:
            raise NotFound(f"no flag '{key}'", hint=_LIST_HINT)
        if expected_version is not None and row.version != expected_version:
            raise VersionConflict(
                f"flag '{key}' is at version {row.version}, not {expected_version}: it "
                "changed since you read it",
                hint=f"run `safeship flags show {key}` and apply your change again")
        # What was read is what the swap compares against, whatever happens to ``row`` later.
        read_version, before = row.version, row.definition
        current = self._decode(key, before)
        new = change(current)
        if new == current:
            return FlagUpdate(_stored(row, current), changed=False)
        self._check(session, new, current)
        after = flag_to_dict(new)
        swapped = session.execute(
            update(FlagRow)
            .where(FlagRow.key == key, FlagRow.version == read_version)
            .values(definition=after, flag_type=new.flag_type.value,
                    version=read_version + 1, updated_at=at, updated_by=actor)
            .execution_options(synchronize_session=False)
        )
        if swapped.rowcount != 1:  # type: ignore[attr-defined]
            raise _SwapMissed
        self._record(session, key, read_version + 1, action, actor, reason, at, before, after)
        return FlagUpdate(
            StoredFlag(new, read_version + 1, row.created_at, row.created_by, at, actor),
            changed=True)

    # reads --------------------------------------------------------------------------------

    def get(self, key: str) -> StoredFlag:
        """The flag ``key``.

        Raises:
            NotFound: there is no such flag.
        """
        with self._session(f"read flag {key}", write=False) as session:
            row = session.get(FlagRow, key)
            if row is None:
                raise NotFound(f"no flag '{key}'", hint=_LIST_HINT)
            return _stored(row, self._decode(key, row.definition))

    def list_flags(self) -> list[StoredFlag]:
        """Every flag, by key."""
        with self._session("list flags", write=False) as session:
            rows = session.scalars(select(FlagRow).order_by(FlagRow.key))
            return [_stored(row, self._decode(row.key, row.definition)) for row in rows]

    def flags(self) -> dict[str, Flag]:
        """Every flag's definition by key (what prerequisites are evaluated against)."""
        return {stored.flag.key: stored.flag for stored in self.list_flags()}

    def history(self, key: str, *, limit: int | None = None) -> list[FlagChange]:
        """The changes of flag ``key``, oldest first (the newest ``limit`` if given).

        Raises:
            NotFound: there is no such flag.
        """
        if limit is not None and limit < 1:
            raise UsageError(f"the number of changes to show must be at least 1, not {limit}")
        with self._session(f"read the history of flag {key}", write=False) as session:
            if session.get(FlagRow, key) is None:
                raise NotFound(f"no flag '{key}'", hint=_LIST_HINT)
            query = (select(FlagChangeRow).where(FlagChangeRow.flag_key == key)
                     .order_by(FlagChangeRow.version.desc()))
            if limit is not None:
                query = query.limit(limit)
            rows = list(session.scalars(query))
        return [_change(row) for row in reversed(rows)]

    def audit_events(self, *, subject: str | None = None, limit: int = 100) -> list[AuditEvent]:
        """The newest flag events of the audit trail (of flag ``subject`` if given)."""
        with self._session("read the audit trail", write=False) as session:
            return read_audit(session, subject_type=AUDIT_SUBJECT, subject=subject, limit=limit)

    # plumbing -----------------------------------------------------------------------------

    def _check(self, session: Session, new: Flag, current: Flag | None) -> None:
        """Refuse an invalid ``new`` definition. The other flags are loaded only when the
        change can affect them: new prerequisites, or variants that others may wait for."""
        needs_others = current is None or (
            new.prerequisites != current.prerequisites
            or not set(current.variant_names) <= set(new.variant_names)
        )
        others: dict[str, Flag] | None = None
        if needs_others:
            rows = session.scalars(select(FlagRow).where(FlagRow.key != new.key))
            others = {row.key: self._decode(row.key, row.definition) for row in rows}
        problems = all_problems(new, others)
        if problems:
            raise problems_error(problems, f"flag '{new.key}'")

    @staticmethod
    def _record(session: Session, key: str, version: int, action: str, actor: str, reason: str,
                at: datetime, before: dict[str, Any] | None, after: dict[str, Any]) -> None:
        session.add(FlagChangeRow(flag_key=key, version=version, action=action, actor=actor,
                                  at=at, reason=reason, before=before, after=after))
        changed = ([] if before is None
                   else [format_path(f.path) for f in diff_documents(before, after)])
        session.add(audit_row(
            at=at, actor=actor, action=f"{AUDIT_SUBJECT}.{action}", subject_type=AUDIT_SUBJECT,
            subject=key, reason=reason,
            details={"version": version, "fields": changed}))

    @staticmethod
    def _decode(key: str, definition: Any) -> Flag:
        return flag_from_dict(definition, f"flag '{key}' in the state store", key=key)

    @staticmethod
    def _lock(session: Session) -> None:
        # SQLite holds its write lock already (BEGIN IMMEDIATE); PostgreSQL takes an advisory
        # lock released at commit or rollback.
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_FLAGS_LOCK})

    @contextmanager
    def _session(self, doing: str, *, write: bool) -> Iterator[Session]:
        if self._closed:
            raise InternalError("the flag store was used after close()")
        factory = self._writer if write else self._reader
        try:
            with factory.begin() as session:
                yield session
        except STORE_FAILURES as exc:
            if isinstance(exc, IntegrityError):
                raise
            error = store_unavailable(self._url, doing, exc)
            if leaks_secret(self._url, exc):
                raise error from None
            raise error from exc


_LIST_HINT = "run `safeship flags list` to see the flags"


def _stored(row: FlagRow, flag: Flag) -> StoredFlag:
    return StoredFlag(flag, row.version, row.created_at, row.created_by, row.updated_at,
                      row.updated_by)


def _change(row: FlagChangeRow) -> FlagChange:
    # A creation has no "before": listing every field of the new flag as a change says nothing.
    fields = () if row.before is None else tuple(diff_documents(row.before, row.after or {}))
    return FlagChange(row.id, row.flag_key, row.version, row.action, row.actor, row.at,
                      row.reason, row.before, row.after, fields)
