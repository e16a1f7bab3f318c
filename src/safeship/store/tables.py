"""The ORM tables of the state store: runs, their stages, gate results, findings and approvals;
feature flags with their change history; and the generic audit trail.

Rows mirror the frozen dataclasses of :mod:`safeship.model.results`; ``convert`` maps between
the two. Enums are stored as their string values. The schema itself is created and changed only
by the Alembic migrations in ``migrations/versions``; keep the two in step.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from safeship.store.columns import MetricsJson, UtcDateTime

# Deterministic constraint names, so that migrations can drop and alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID_LENGTH = 128
NAME_LENGTH = 255
ENUM_LENGTH = 32


class Base(DeclarativeBase):
    """Declarative base holding the store's metadata."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class RunRow(Base):
    """One pipeline run (:class:`safeship.model.results.PipelineRun` without its stages)."""

    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_service_started_at", "service", "started_at"),)

    run_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    service: Mapped[str] = mapped_column(String(NAME_LENGTH))
    # "commit" is an SQL keyword; the column gets a name nobody has to quote.
    commit: Mapped[str | None] = mapped_column("commit_sha", String(NAME_LENGTH))
    actor: Mapped[str] = mapped_column(String(NAME_LENGTH))
    risk: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    status: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    config_path: Mapped[str | None] = mapped_column(Text)

    stages: Mapped[list[StageRow]] = relationship(
        order_by="StageRow.position", lazy="selectin", passive_deletes=True
    )


class StageRow(Base):
    """One stage of a run, at its position in the pipeline."""

    __tablename__ = "stage_results"

    run_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    skipped: Mapped[bool] = mapped_column(Boolean)

    gates: Mapped[list[GateRow]] = relationship(
        order_by="GateRow.position", lazy="selectin", passive_deletes=True
    )


class GateRow(Base):
    """One gate result, at its position within its stage."""

    __tablename__ = "gate_results"
    __table_args__ = (
        ForeignKeyConstraint(
            ["run_id", "stage_position"],
            ["stage_results.run_id", "stage_results.position"],
            ondelete="CASCADE",
        ),
        UniqueConstraint("run_id", "stage_position", "position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    stage_position: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(NAME_LENGTH))
    gate_id: Mapped[str] = mapped_column(String(NAME_LENGTH))
    gate_type: Mapped[str] = mapped_column(String(NAME_LENGTH))
    verdict: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    action: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    outcome: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    summary: Mapped[str] = mapped_column(Text)
    duration_s: Mapped[float] = mapped_column(Double)
    metrics: Mapped[dict[str, Any]] = mapped_column(MetricsJson())
    mandatory: Mapped[bool] = mapped_column(Boolean)

    findings: Mapped[list[FindingRow]] = relationship(
        order_by="FindingRow.position", lazy="selectin", passive_deletes=True
    )


class FindingRow(Base):
    """One finding of a gate result, at its position in the gate's findings."""

    __tablename__ = "findings"
    __table_args__ = (UniqueConstraint("gate_result_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    gate_result_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("gate_results.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(NAME_LENGTH))
    message: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    path: Mapped[str | None] = mapped_column(Text)
    line: Mapped[int | None] = mapped_column(Integer)
    # "column" is an SQL keyword, like "commit" above.
    column: Mapped[int | None] = mapped_column("col", Integer)


class ApprovalRow(Base):
    """A request for a human decision on one gate of one run, and the decision once made."""

    __tablename__ = "approvals"
    __table_args__ = (
        Index("ix_approvals_service_commit_gate", "service", "commit_sha", "gate_id"),
        # Ids are never reused, even after deletes: they appear in audit trails.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("runs.run_id", ondelete="CASCADE"), index=True
    )
    service: Mapped[str] = mapped_column(String(NAME_LENGTH))
    commit: Mapped[str | None] = mapped_column("commit_sha", String(NAME_LENGTH))
    gate_id: Mapped[str] = mapped_column(String(NAME_LENGTH))
    reason_requested: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    decided_by: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class FlagRow(Base):
    """The current definition of one feature flag, and its version for compare-and-swap.

    ``definition`` is the flag's document (:mod:`safeship.flags.codec`). It is plain ``json``
    on PostgreSQL, not ``jsonb``: ``jsonb`` reorders object keys, and a flag's variants are
    shown in the order people wrote them.
    """

    __tablename__ = "flags"

    key: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    flag_type: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON())
    # Incremented by every change; an update applies only on the version it read.
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(NAME_LENGTH))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(NAME_LENGTH))


class FlagChangeRow(Base):
    """One change of a flag: who, when, why, and the whole definition before and after."""

    __tablename__ = "flag_changes"
    __table_args__ = (
        # One change per version: two writers can never both record version n + 1.
        UniqueConstraint("flag_key", "version"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # No ON DELETE CASCADE: the history of a flag outlives it.
    flag_key: Mapped[str] = mapped_column(String(NAME_LENGTH), ForeignKey("flags.key"))
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    actor: Mapped[str] = mapped_column(String(NAME_LENGTH))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    reason: Mapped[str] = mapped_column(Text)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


class AuditEventRow(Base):
    """One entry of the audit trail: who did what to which subject, when and why.

    Generic on purpose: a flag change is ``subject_type="flag"``; other families can record
    their own actions here with the details they need.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_subject", "subject_type", "subject"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(NAME_LENGTH))
    action: Mapped[str] = mapped_column(String(NAME_LENGTH))
    subject_type: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    subject: Mapped[str] = mapped_column(String(NAME_LENGTH))
    reason: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(MetricsJson())
