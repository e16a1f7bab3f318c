"""Rollouts in the state store: releases, every transition, and one lease lock per service.

:class:`RolloutStore` shares the state store's engine, migrations and error mapping (any database
failure surfaces as :class:`~safeship.errors.StoreUnavailable` without a password in it). The
rollout engine writes through it *before* it acts, so a controller killed at any instant leaves
in the store exactly what it was doing.

**Lease lock.** One rollout per service: a controller holds the service's lease (holder id and
expiry) while it drives a release. A second holder is refused while the lease is live
(:class:`LeaseHeld`); an expired lease can be taken over. Every write a controller makes checks,
in the same transaction, that it still holds the lease, so a controller that lost its lease (it
stalled past the expiry and another took over) cannot write, and therefore cannot act
(:class:`LeaseLost`).

A release is *active* until it has a ``finished_at``. The meaning of statuses, phases and
commands belongs to the engine (:mod:`safeship.engine.rollout_state`); the store keeps strings.
Times are handed in by the caller (the engine's injected clock), never read here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import (
    Boolean,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from safeship.errors import (
    ExitCode,
    InternalError,
    NotFound,
    SafeshipError,
    StoreUnavailable,
    UsageError,
)
from safeship.store.columns import MetricsJson, UtcDateTime
from safeship.store.convert import require_aware
from safeship.store.database import write_engine
from safeship.store.failures import STORE_FAILURES, leaks_secret, store_unavailable
from safeship.store.opening import open_migrated
from safeship.store.repository import MIN_PREFIX
from safeship.store.tables import ENUM_LENGTH, ID_LENGTH, NAME_LENGTH, Base

_SHOWN = 5


class LeaseHeld(SafeshipError):
    """Another controller holds the service's lease: one rollout per service at a time."""

    exit_code = ExitCode.PENDING

    def __init__(self, lease: Lease, *, hint: str | None = None) -> None:
        self.lease = lease
        what = f" driving release {lease.release_id}" if lease.release_id else ""
        super().__init__(
            f"service '{lease.service}' is locked by controller {lease.holder}{what} until "
            f"{lease.expires_at.isoformat(timespec='seconds')}",
            hint=hint or "wait for it to finish, or use `safeship rollout status` to see it",
        )


class LeaseLost(SafeshipError):
    """This controller no longer holds the lease it acts under: it must stop acting now."""

    exit_code = ExitCode.PENDING


class ReleaseInProgress(SafeshipError):
    """A release of the service is still active; a second one is refused."""

    exit_code = ExitCode.PENDING

    def __init__(self, active: ReleaseRecord) -> None:
        self.active = active
        super().__init__(
            f"service '{active.service}' already has rollout {active.release_id} of version "
            f"'{active.version}' in progress ({active.status}, step {active.step_index})",
            hint=f"wait for it, or run `safeship rollout abort {active.service}` / "
                 f"`safeship rollout resume {active.service}`",
        )


# --------------------------------------------------------------------------- tables


class ReleaseRow(Base):
    """One release of one service: what it deploys, how, where it is, how it ended."""

    __tablename__ = "releases"
    __table_args__ = (Index("ix_releases_service_started_at", "service", "started_at"),)

    release_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    service: Mapped[str] = mapped_column(String(NAME_LENGTH))
    version: Mapped[str] = mapped_column(String(NAME_LENGTH))
    kind: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    artifact_reference: Mapped[str | None] = mapped_column(Text)
    artifact_sha256: Mapped[str | None] = mapped_column(String(64))
    strategy: Mapped[str] = mapped_column(String(NAME_LENGTH))
    status: Mapped[str] = mapped_column(String(ENUM_LENGTH), index=True)
    decision: Mapped[str | None] = mapped_column(String(ENUM_LENGTH))
    reason: Mapped[str | None] = mapped_column(Text)
    stable_version: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    max_canary_percent: Mapped[float] = mapped_column(Double)
    rollback_seconds: Mapped[float | None] = mapped_column(Double)
    downtime_seconds: Mapped[float | None] = mapped_column(Double)
    actor: Mapped[str] = mapped_column(String(NAME_LENGTH))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    phase: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    step_index: Mapped[int] = mapped_column(Integer)
    paused: Mapped[bool] = mapped_column(Boolean)
    step_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    step_deadline_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    desired_weights: Mapped[dict[str, Any]] = mapped_column(MetricsJson())
    observed_weights: Mapped[dict[str, Any] | None] = mapped_column(MetricsJson())
    observed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    plan: Mapped[dict[str, Any]] = mapped_column(MetricsJson())
    rollback_plan: Mapped[dict[str, Any] | None] = mapped_column(MetricsJson())
    request: Mapped[dict[str, Any]] = mapped_column(MetricsJson())
    progress: Mapped[dict[str, Any]] = mapped_column(MetricsJson())
    command: Mapped[str | None] = mapped_column(String(ENUM_LENGTH))
    command_by: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    command_reason: Mapped[str | None] = mapped_column(Text)
    command_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class TransitionRow(Base):
    """One state change of a release (or one verdict), with its time and reason."""

    __tablename__ = "rollout_transitions"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    release_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("releases.release_id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    event: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    from_status: Mapped[str | None] = mapped_column(String(ENUM_LENGTH))
    to_status: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    phase: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    step_index: Mapped[int | None] = mapped_column(Integer)
    step_kind: Mapped[str | None] = mapped_column(String(ENUM_LENGTH))
    weights: Mapped[dict[str, Any] | None] = mapped_column(MetricsJson())
    reason: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(MetricsJson())
    holder: Mapped[str | None] = mapped_column(String(NAME_LENGTH))


class LeaseRow(Base):
    """The lease lock of one service."""

    __tablename__ = "rollout_leases"

    service: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    holder: Mapped[str] = mapped_column(String(NAME_LENGTH))
    release_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    acquired_at: Mapped[datetime] = mapped_column(UtcDateTime())
    renewed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class ReleaseRecord:
    """A release as stored (JSON columns as plain dicts)."""

    release_id: str
    service: str
    version: str
    kind: str
    artifact_reference: str | None
    artifact_sha256: str | None
    strategy: str
    status: str
    decision: str | None
    reason: str | None
    stable_version: str | None
    max_canary_percent: float
    rollback_seconds: float | None
    downtime_seconds: float | None
    actor: str
    started_at: datetime
    finished_at: datetime | None
    phase: str
    step_index: int
    paused: bool
    step_started_at: datetime | None
    step_deadline_at: datetime | None
    heartbeat_at: datetime | None
    desired_weights: dict[str, Any]
    observed_weights: dict[str, Any] | None
    observed_at: datetime | None
    plan: dict[str, Any]
    rollback_plan: dict[str, Any] | None
    request: dict[str, Any]
    progress: dict[str, Any]
    command: str | None
    command_by: str | None
    command_reason: str | None
    command_at: datetime | None

    @property
    def active(self) -> bool:
        """True until the release has finished (promoted, rolled back or aborted)."""
        return self.finished_at is None


_RELEASE_FIELDS = tuple(f.name for f in fields(ReleaseRecord))
_UPDATABLE = frozenset(_RELEASE_FIELDS) - {"release_id", "service", "started_at"}


@dataclass(frozen=True)
class TransitionRecord:
    """One stored transition."""

    transition_id: int
    release_id: str
    at: datetime
    event: str
    from_status: str | None
    to_status: str
    phase: str
    step_index: int | None
    step_kind: str | None
    weights: dict[str, Any] | None
    reason: str
    details: dict[str, Any]
    holder: str | None


@dataclass(frozen=True)
class NewTransition:
    """A transition to record; ``to_status`` defaults to the release's status after the write."""

    event: str
    reason: str
    to_status: str | None = None
    step_index: int | None = None
    step_kind: str | None = None
    weights: Mapping[str, float] | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Lease:
    """Who holds a service's lease, and until when."""

    service: str
    holder: str
    release_id: str | None
    acquired_at: datetime
    renewed_at: datetime
    expires_at: datetime

    def live(self, at: datetime) -> bool:
        """True while the lease has not expired at ``at``."""
        return at < self.expires_at


@dataclass(frozen=True)
class ReleaseState:
    """What a controller polls for: where the release is and what a person asked."""

    status: str
    phase: str
    step_index: int
    paused: bool
    finished_at: datetime | None
    command: str | None
    command_by: str | None
    command_reason: str | None
    command_at: datetime | None


_STATE_FIELDS = tuple(f.name for f in fields(ReleaseState))


def _transition_row(release_id: str, new: NewTransition, before: str | None, at: datetime,
                    holder: str | None, *, status: str, phase: str,
                    step_index: int) -> TransitionRow:
    return TransitionRow(
        release_id=release_id, at=at, event=new.event, from_status=before,
        to_status=new.to_status or status, phase=phase,
        step_index=new.step_index if new.step_index is not None else step_index,
        step_kind=new.step_kind,
        weights=dict(new.weights) if new.weights is not None else None,
        reason=new.reason, details=dict(new.details), holder=holder,
    )


def _release(row: ReleaseRow) -> ReleaseRecord:
    return ReleaseRecord(**{name: getattr(row, name) for name in _RELEASE_FIELDS})


def _transition(row: TransitionRow) -> TransitionRecord:
    return TransitionRecord(
        row.id, row.release_id, row.at, row.event, row.from_status, row.to_status, row.phase,
        row.step_index, row.step_kind, row.weights, row.reason, row.details, row.holder,
    )


def _lease(row: LeaseRow) -> Lease:
    return Lease(row.service, row.holder, row.release_id, row.acquired_at, row.renewed_at,
                 row.expires_at)


# --------------------------------------------------------------------------- the store


class RolloutStore:
    """Releases, transitions and leases over the state store's database."""

    def __init__(self, engine: Engine, url: str) -> None:
        """Wrap an engine whose database is already migrated (see :meth:`open`)."""
        self._engine = engine
        self._url = url
        self._reader = sessionmaker(engine, expire_on_commit=False)
        self._writer = sessionmaker(write_engine(engine), expire_on_commit=False)
        self._closed = False

    @classmethod
    def open(cls, url: str | None, project_root: Path) -> RolloutStore:
        """Open (create, migrate) the store like :meth:`safeship.store.StateStore.open`."""
        engine, target = open_migrated(url, project_root)
        return cls(engine, target)

    def close(self) -> None:
        """Release every connection."""
        self._closed = True
        self._engine.dispose()

    def __enter__(self) -> RolloutStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    # leases -------------------------------------------------------------------------------

    def acquire_lease(self, service: str, holder: str, *, at: datetime, ttl_s: float,
                      release_id: str | None = None, steal_from: str | None = None) -> Lease:
        """Take (or keep) the lease of ``service`` for ``ttl_s`` seconds from ``at``.

        Granted when nobody holds it, ``holder`` already does, it expired, or its holder is
        ``steal_from`` (a controller known to be dead). Otherwise :class:`LeaseHeld`.
        """
        require_aware(at, "the time of a lease")
        if ttl_s <= 0:
            raise UsageError(f"a lease must last longer than 0 s, not {ttl_s}")
        expires = at + timedelta(seconds=ttl_s)
        try:
            with self._session(f"take the lease of {service}", write=True) as session:
                row = session.get(LeaseRow, service, with_for_update=True)
                if row is None:
                    row = LeaseRow(service=service, holder=holder, release_id=release_id,
                                   acquired_at=at, renewed_at=at, expires_at=expires)
                    session.add(row)
                    session.flush()
                    return _lease(row)
                current = _lease(row)
                mine = current.holder == holder
                if not (mine or not current.live(at) or current.holder == steal_from):
                    raise LeaseHeld(current)
                if not mine:
                    row.acquired_at = at
                row.holder = holder
                row.renewed_at = at
                row.expires_at = expires
                if release_id is not None or not mine:
                    row.release_id = release_id
                session.flush()
                return _lease(row)
        except StoreUnavailable as exc:
            if not isinstance(exc.__cause__, IntegrityError):
                raise
            # Lost an insert race with another controller: it holds the lease now.
            held = self.lease(service)
            if held is None:  # pragma: no cover - it released it already
                raise
            raise LeaseHeld(held) from None

    def renew_lease(self, service: str, holder: str, *, at: datetime, ttl_s: float,
                    release_id: str | None = None) -> Lease:
        """Extend ``holder``'s lease; :class:`LeaseLost` when somebody else holds it now."""
        require_aware(at, "the time of a lease")
        with self._session(f"renew the lease of {service}", write=True) as session:
            row = self._owned(session, service, holder)
            row.renewed_at = at
            row.expires_at = at + timedelta(seconds=ttl_s)
            if release_id is not None:
                row.release_id = release_id
            session.flush()
            return _lease(row)

    def release_lease(self, service: str, holder: str) -> bool:
        """Give the lease up (only ``holder``'s own); True when it was released."""
        with self._session(f"release the lease of {service}", write=True) as session:
            row = session.get(LeaseRow, service, with_for_update=True)
            if row is None or row.holder != holder:
                return False
            session.delete(row)
            return True

    def lease(self, service: str) -> Lease | None:
        """The lease of ``service`` as stored (live or expired), or None."""
        with self._session(f"read the lease of {service}", write=False) as session:
            row = session.get(LeaseRow, service)
            return None if row is None else _lease(row)

    # releases -----------------------------------------------------------------------------

    def create_release(self, record: ReleaseRecord, *, holder: str,
                       first: NewTransition) -> ReleaseRecord:
        """Insert a new active release under ``holder``'s lease, with its first transition.

        Raises:
            ReleaseInProgress: the service already has an active release.
            LeaseLost: ``holder`` does not hold the service's lease.
        """
        require_aware(record.started_at, "the start of a release")
        with self._session(f"record release of {record.service}", write=True) as session:
            self._owned(session, record.service, holder)
            active = session.scalars(
                select(ReleaseRow)
                .where(ReleaseRow.service == record.service, ReleaseRow.finished_at.is_(None))
                .order_by(ReleaseRow.started_at.desc())
                .limit(1)
            ).first()
            if active is not None:
                raise ReleaseInProgress(_release(active))
            row = ReleaseRow(**{name: getattr(record, name) for name in _RELEASE_FIELDS})
            session.add(row)
            session.flush()
            session.add(_transition_row(row.release_id, first, None, record.started_at, holder,
                                        status=row.status, phase=row.phase,
                                        step_index=row.step_index))
            return _release(row)

    def update_release(self, release_id: str, *, holder: str | None, at: datetime,
                       changes: Mapping[str, Any] | None = None,
                       transition: NewTransition | None = None,
                       renew_ttl_s: float | None = None,
                       clear_command_at: datetime | None = None) -> None:
        """Change columns of a release and record a transition, in one transaction.

        With ``holder`` set, the write happens only if ``holder`` holds the service's lease
        (:class:`LeaseLost` otherwise): a controller that lost its lease can no longer act.
        With ``renew_ttl_s`` too, the same transaction renews the lease. With
        ``clear_command_at``, the pending command is cleared if it is still the one sent at
        that time (a newer command is kept for the next poll).

        Only the columns named are read and written, so a write costs the same however large
        the plan and the request are; the caller keeps its own copy of the record.
        """
        require_aware(at, "the time of a transition")
        values = dict(changes or {})
        unknown = set(values) - _UPDATABLE
        if unknown:
            raise InternalError(f"cannot update release columns {sorted(unknown)}")
        with self._session(f"update release {release_id}", write=True) as session:
            head = session.execute(
                select(ReleaseRow.service, ReleaseRow.status, ReleaseRow.phase,
                       ReleaseRow.step_index, ReleaseRow.command_at)
                .where(ReleaseRow.release_id == release_id).with_for_update()
            ).first()
            if head is None:
                raise NotFound(f"no release with id '{release_id}'")
            if holder is not None:
                lease = self._owned(session, head.service, holder)
                if renew_ttl_s is not None:
                    lease.renewed_at = at
                    lease.expires_at = at + timedelta(seconds=renew_ttl_s)
            if clear_command_at is not None and head.command_at == clear_command_at:
                values.update(command=None, command_by=None, command_reason=None,
                              command_at=None)
            if values:
                session.execute(update(ReleaseRow).where(ReleaseRow.release_id == release_id)
                                .values(values).execution_options(synchronize_session=False))
            if transition is not None:
                session.add(_transition_row(
                    release_id, transition, head.status, at, holder,
                    status=values.get("status", head.status),
                    phase=values.get("phase", head.phase),
                    step_index=values.get("step_index", head.step_index)))

    def poll_release(self, release_id: str) -> ReleaseState:
        """The few columns a controller watches while it waits: status and pending command."""
        with self._session(f"poll release {release_id}", write=False) as session:
            row = session.execute(
                select(*(getattr(ReleaseRow, name) for name in _STATE_FIELDS))
                .where(ReleaseRow.release_id == release_id)
            ).first()
            if row is None:
                raise NotFound(f"no release with id '{release_id}'")
            return ReleaseState(*row)

    def set_command(self, release_id: str, command: str, *, by: str, reason: str,
                    at: datetime) -> ReleaseRecord:
        """Ask the controller of an active release to pause, resume, promote or abort."""
        require_aware(at, "the time of a command")
        with self._session(f"send a command to release {release_id}", write=True) as session:
            row = session.get(ReleaseRow, release_id, with_for_update=True)
            if row is None:
                raise NotFound(f"no release with id '{release_id}'")
            if row.finished_at is not None:
                raise UsageError(f"release {release_id} has already finished ({row.status})")
            row.command = command
            row.command_by = by
            row.command_reason = reason
            row.command_at = at
            session.add(_transition_row(
                row.release_id,
                NewTransition("command", f"{command} requested by {by}: {reason}",
                              details={"command": command, "by": by}),
                row.status, at, None, status=row.status, phase=row.phase,
                step_index=row.step_index))
            session.flush()
            return _release(row)

    def get_release(self, release_id: str) -> ReleaseRecord:
        """The release ``release_id``, or the only one whose id starts with it (6+ chars)."""
        with self._session(f"read release {release_id}", write=False) as session:
            row = session.get(ReleaseRow, release_id)
            if row is not None:
                return _release(row)
            if len(release_id) < MIN_PREFIX:
                raise NotFound(f"no release with id '{release_id}'")
            rows = session.scalars(
                select(ReleaseRow)
                .where(func.substr(ReleaseRow.release_id, 1, len(release_id)) == release_id)
                .order_by(ReleaseRow.release_id)
                .limit(_SHOWN + 1)
            ).all()
            if not rows:
                raise NotFound(f"no release with id '{release_id}'")
            if len(rows) > 1:
                raise UsageError(f"release id prefix '{release_id}' is ambiguous",
                                 hint="give more characters of the release id")
            return _release(rows[0])

    def active_release(self, service: str) -> ReleaseRecord | None:
        """The release of ``service`` still in progress, or None."""
        query = (select(ReleaseRow)
                 .where(ReleaseRow.service == service, ReleaseRow.finished_at.is_(None))
                 .order_by(ReleaseRow.started_at.desc()).limit(1))
        with self._session(f"read the active release of {service}", write=False) as session:
            row = session.scalars(query).first()
            return None if row is None else _release(row)

    def list_releases(self, service: str | None = None, limit: int = 20,
                      status: str | None = None) -> list[ReleaseRecord]:
        """The ``limit`` newest releases, newest first (of one service / status if given)."""
        if limit < 1:
            raise UsageError(f"the number of releases to list must be at least 1, not {limit}")
        query = select(ReleaseRow).order_by(ReleaseRow.started_at.desc(),
                                            ReleaseRow.release_id.desc())
        if service is not None:
            query = query.where(ReleaseRow.service == service)
        if status is not None:
            query = query.where(ReleaseRow.status == status)
        with self._session("list releases", write=False) as session:
            return [_release(row) for row in session.scalars(query.limit(limit))]

    def services(self) -> list[str]:
        """Every service with at least one release, sorted."""
        with self._session("list services", write=False) as session:
            return list(session.scalars(
                select(ReleaseRow.service).distinct().order_by(ReleaseRow.service)))

    def transitions(self, release_id: str, *, event: str | None = None,
                    after_id: int = 0) -> list[TransitionRecord]:
        """The transitions of a release, oldest first (only ``event`` ones if given)."""
        query = (select(TransitionRow)
                 .where(TransitionRow.release_id == release_id, TransitionRow.id > after_id)
                 .order_by(TransitionRow.id))
        if event is not None:
            query = query.where(TransitionRow.event == event)
        with self._session(f"read transitions of {release_id}", write=False) as session:
            return [_transition(row) for row in session.scalars(query)]

    def last_transition(self, release_id: str, event: str | None = None
                        ) -> TransitionRecord | None:
        """The newest transition of a release (of ``event`` if given), or None."""
        query = (select(TransitionRow).where(TransitionRow.release_id == release_id)
                 .order_by(TransitionRow.id.desc()).limit(1))
        if event is not None:
            query = query.where(TransitionRow.event == event)
        with self._session(f"read transitions of {release_id}", write=False) as session:
            row = session.scalars(query).first()
            return None if row is None else _transition(row)

    def observe(self, release_id: str, *, holder: str, at: datetime,
                weights: Mapping[str, float]) -> None:
        """Record the split read back from the router and the controller's heartbeat."""
        require_aware(at, "the time of an observation")
        with self._session(f"record weights of {release_id}", write=True) as session:
            row = session.get(ReleaseRow, release_id, with_for_update=True)
            if row is None:
                raise NotFound(f"no release with id '{release_id}'")
            self._owned(session, row.service, holder)
            session.execute(update(ReleaseRow).where(ReleaseRow.release_id == release_id)
                            .values(observed_weights=dict(weights), observed_at=at,
                                    heartbeat_at=at)
                            .execution_options(synchronize_session=False))

    # plumbing -----------------------------------------------------------------------------

    @staticmethod
    def _owned(session: Session, service: str, holder: str) -> LeaseRow:
        row = session.get(LeaseRow, service, with_for_update=True)
        if row is None or row.holder != holder:
            other = "nobody" if row is None else row.holder
            raise LeaseLost(
                f"controller {holder} no longer holds the lease of '{service}' (held by "
                f"{other}); it stops acting",
                hint=f"run `safeship rollout status {service}` to see who drives it now",
            )
        return row

    @contextmanager
    def _session(self, doing: str, *, write: bool) -> Iterator[Session]:
        if self._closed:
            raise InternalError("the rollout store was used after close()")
        factory = self._writer if write else self._reader
        try:
            with factory.begin() as session:
                yield session
        except STORE_FAILURES as exc:
            error = store_unavailable(self._url, doing, exc)
            if leaks_secret(self._url, exc):
                raise error from None
            raise error from exc
