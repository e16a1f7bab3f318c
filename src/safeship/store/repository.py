"""The state store: pipeline runs and approval requests, kept in SQLite or PostgreSQL.

:meth:`StateStore.open` creates the database when needed and migrates it to the newest schema.
Every method runs in its own short transaction. Any database or file-system failure surfaces as
:class:`~safeship.errors.StoreUnavailable`, whose text never contains a password.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import TracebackType

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from safeship.errors import InternalError, NotFound, UsageError
from safeship.model.enums import ApprovalStatus, RunStatus
from safeship.model.results import Approval, PipelineRun
from safeship.store.convert import (
    approval_from_row,
    require_aware,
    run_columns,
    run_from_row,
    stage_rows,
)
from safeship.store.database import write_engine
from safeship.store.failures import STORE_FAILURES, leaks_secret, store_unavailable
from safeship.store.opening import open_migrated
from safeship.store.tables import ApprovalRow, FindingRow, GateRow, RunRow, StageRow

#: The shortest prefix of a run id that :meth:`StateStore.get_run` resolves.
MIN_PREFIX = 6
# How many candidates an ambiguous prefix lists.
_SHOWN_CANDIDATES = 5
_DECIDED = (ApprovalStatus.APPROVED.value, ApprovalStatus.REJECTED.value)


class StateStore:
    """Runs and approvals in a SQL database; build one with :meth:`open`."""

    def __init__(self, engine: Engine, url: str) -> None:
        """Wrap an engine whose database is already migrated (use :meth:`open` instead)."""
        self._engine = engine
        self._url = url
        self._reader = sessionmaker(engine, expire_on_commit=False)
        self._writer = sessionmaker(write_engine(engine), expire_on_commit=False)
        self._closed = False

    @classmethod
    def open(cls, url: str | None, project_root: Path) -> StateStore:
        """Open the store at ``url``, migrated to the newest schema.

        With ``url`` None the store is the SQLite file ``<project_root>/.safeship/state.db``;
        that folder is created when missing (other locations must exist already).

        Raises:
            StoreUnavailable: the database cannot be created, reached or migrated.
        """
        engine, target = open_migrated(url, project_root)
        return cls(engine, target)

    def close(self) -> None:
        """Release every connection; the store cannot be used afterwards."""
        self._closed = True
        self._engine.dispose()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # runs ---------------------------------------------------------------------------------

    def save_run(self, run: PipelineRun) -> None:
        """Insert ``run``, or replace a stored run of that id with all its stages and gates.

        Approvals of the run are kept.
        """
        columns = run_columns(run)
        stages = stage_rows(run)
        with self._session("save run " + run.run_id, write=True) as session:
            gate_ids = select(GateRow.id).where(GateRow.run_id == run.run_id)
            for statement in (
                delete(FindingRow).where(FindingRow.gate_result_id.in_(gate_ids)),
                delete(GateRow).where(GateRow.run_id == run.run_id),
                delete(StageRow).where(StageRow.run_id == run.run_id),
            ):
                session.execute(statement.execution_options(synchronize_session=False))
            stored = session.scalar(select(RunRow.run_id).where(RunRow.run_id == run.run_id))
            if stored is None:
                session.add(RunRow(**columns))
                session.flush()  # the run row must exist before its stages reference it
            else:
                session.execute(
                    update(RunRow)
                    .where(RunRow.run_id == run.run_id)
                    .values(columns)
                    .execution_options(synchronize_session=False)
                )
            session.add_all(stages)

    def get_run(self, run_id: str) -> PipelineRun:
        """The run ``run_id``, or the only run whose id starts with it (at least 6 characters).

        Raises:
            NotFound: no run has that id or prefix.
            UsageError: the prefix matches several runs.
        """
        with self._session("read run " + run_id, write=False) as session:
            row = session.get(RunRow, self._resolve(session, run_id))
            if row is None:  # deleted between the two statements
                raise NotFound(f"no run with id '{run_id}'")
            return run_from_row(row)

    def list_runs(self, service: str | None = None, limit: int = 20) -> list[PipelineRun]:
        """The ``limit`` newest runs, newest first, optionally of one service only."""
        if limit < 1:
            raise UsageError(f"the number of runs to list must be at least 1, not {limit}")
        query = select(RunRow).order_by(RunRow.started_at.desc(), RunRow.run_id.desc())
        if service is not None:
            query = query.where(RunRow.service == service)
        with self._session("list runs", write=False) as session:
            return [run_from_row(row) for row in session.scalars(query.limit(limit))]

    def set_run_status(self, run_id: str, status: RunStatus) -> None:
        """Record the new status of run ``run_id`` (or of the run a unique prefix names)."""
        with self._session(f"set the status of run {run_id}", write=True) as session:
            full_id = self._resolve(session, run_id)
            session.execute(
                update(RunRow)
                .where(RunRow.run_id == full_id)
                .values(status=status.value)
                .execution_options(synchronize_session=False)
            )

    # approvals ----------------------------------------------------------------------------

    def request_approval(
        self,
        run_id: str,
        service: str,
        commit: str | None,
        gate_id: str,
        reason: str,
        at: datetime,
    ) -> Approval:
        """Ask a human to decide on gate ``gate_id`` of run ``run_id`` (its exact id).

        Idempotent: while a request for that run and gate is pending, it is returned as is.

        Raises:
            NotFound: there is no run ``run_id``.
        """
        require_aware(at, "the time of an approval request")
        with self._session(f"request an approval for run {run_id}", write=True) as session:
            if session.scalar(select(RunRow.run_id).where(RunRow.run_id == run_id)) is None:
                raise NotFound(f"no run with id '{run_id}'", hint=_RUN_HINT)
            pending = session.scalars(
                select(ApprovalRow)
                .where(
                    ApprovalRow.run_id == run_id,
                    ApprovalRow.gate_id == gate_id,
                    ApprovalRow.status == ApprovalStatus.PENDING.value,
                )
                .order_by(ApprovalRow.id)
                .limit(1)
            ).first()
            if pending is not None:
                return approval_from_row(pending)
            row = ApprovalRow(
                run_id=run_id,
                service=service,
                commit=commit,
                gate_id=gate_id,
                reason_requested=reason,
                status=ApprovalStatus.PENDING.value,
                requested_at=at,
            )
            session.add(row)
            session.flush()
            return approval_from_row(row)

    def approvals_for_run(self, run_id: str) -> list[Approval]:
        """Every approval request of run ``run_id`` (or a unique prefix), oldest first."""
        with self._session(f"read the approvals of run {run_id}", write=False) as session:
            full_id = self._resolve(session, run_id)
            rows = session.scalars(
                select(ApprovalRow).where(ApprovalRow.run_id == full_id).order_by(ApprovalRow.id)
            )
            return [approval_from_row(row) for row in rows]

    def decide_approvals(
        self,
        run_id: str,
        *,
        approve: bool,
        by: str,
        reason: str,
        at: datetime,
        gate_id: str | None = None,
    ) -> list[Approval]:
        """Approve or reject the pending requests of a run (only gate ``gate_id``'s, if given).

        Two people deciding at once cannot both decide the same request.

        Raises:
            NotFound: the run does not exist or has no pending request (for that gate).
        """
        require_aware(at, "the time of an approval decision")
        status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
        with self._session(f"decide the approvals of run {run_id}", write=True) as session:
            full_id = self._resolve(session, run_id)
            statement = update(ApprovalRow).where(
                ApprovalRow.run_id == full_id,
                ApprovalRow.status == ApprovalStatus.PENDING.value,
            )
            if gate_id is not None:
                statement = statement.where(ApprovalRow.gate_id == gate_id)
            decided = session.scalars(
                statement.values(
                    status=status.value, decided_by=by, decision_reason=reason, decided_at=at
                )
                .returning(ApprovalRow)
                .execution_options(synchronize_session=False)
            ).all()
            if not decided:
                which = f" for gate '{gate_id}'" if gate_id is not None else ""
                raise NotFound(
                    f"run {full_id} has no pending approval{which}",
                    hint="list the run's approvals to see which were already decided",
                )
            return sorted((approval_from_row(row) for row in decided), key=_approval_id)

    def find_decision(self, service: str, commit: str | None, gate_id: str) -> Approval | None:
        """The latest approval or rejection of ``gate_id`` for ``service`` at ``commit``.

        A decision is bound to a commit: with no commit there is nothing to match, so None.
        """
        if commit is None:
            return None
        query = (
            select(ApprovalRow)
            .where(
                ApprovalRow.service == service,
                ApprovalRow.commit == commit,
                ApprovalRow.gate_id == gate_id,
                ApprovalRow.status.in_(_DECIDED),
            )
            .order_by(ApprovalRow.decided_at.desc(), ApprovalRow.id.desc())
            .limit(1)
        )
        with self._session(f"look up approvals of {service}", write=False) as session:
            row = session.scalars(query).first()
            return None if row is None else approval_from_row(row)

    # plumbing -----------------------------------------------------------------------------

    @contextmanager
    def _session(self, doing: str, *, write: bool) -> Iterator[Session]:
        """A session in one transaction, committed on success; database failures become
        :class:`StoreUnavailable`, while safeship's own errors pass through unchanged."""
        if self._closed:
            raise InternalError("the state store was used after close()")
        factory = self._writer if write else self._reader
        try:
            with factory.begin() as session:
                yield session
        except STORE_FAILURES as exc:
            error = store_unavailable(self._url, doing, exc)
            if leaks_secret(self._url, exc):
                raise error from None
            raise error from exc

    @staticmethod
    def _resolve(session: Session, run_id: str) -> str:
        """The full id of the run ``run_id`` names, exactly or as a unique prefix."""
        if session.scalar(select(RunRow.run_id).where(RunRow.run_id == run_id)) is not None:
            return run_id
        if len(run_id) < MIN_PREFIX:
            raise NotFound(
                f"no run with id '{run_id}'",
                hint=f"give the full run id or at least {MIN_PREFIX} of its first characters",
            )
        matches = session.scalars(
            select(RunRow.run_id)
            # substr, not LIKE: LIKE is case-insensitive on SQLite and treats % and _ specially.
            .where(func.substr(RunRow.run_id, 1, len(run_id)) == run_id)
            .order_by(RunRow.run_id)
            .limit(_SHOWN_CANDIDATES + 1)
        ).all()
        if not matches:
            raise NotFound(f"no run with id '{run_id}'", hint=_RUN_HINT)
        if len(matches) > 1:
            shown = ", ".join(matches[:_SHOWN_CANDIDATES])
            more = ", ..." if len(matches) > _SHOWN_CANDIDATES else ""
            raise UsageError(
                f"run id prefix '{run_id}' is ambiguous: it matches {shown}{more}",
                hint="give more characters of the run id",
            )
        return matches[0]


_RUN_HINT = "list the recorded runs to see their ids"


def _approval_id(approval: Approval) -> int:
    return approval.approval_id
