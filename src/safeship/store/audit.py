"""The generic audit trail: who did what to which subject, when and why.

Repositories append an event in the same transaction as the change it describes (see
:func:`audit_row`), so the trail never misses a change nor records one that was rolled back.
:func:`read_audit` lists events, newest first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeship.errors import UsageError
from safeship.store.convert import require_aware
from safeship.store.tables import AuditEventRow


@dataclass(frozen=True)
class AuditEvent:
    """One recorded action (``action`` is dotted, e.g. ``flag.kill``)."""

    event_id: int
    at: datetime
    actor: str
    action: str
    subject_type: str
    subject: str
    reason: str
    details: dict[str, Any]


def audit_row(*, at: datetime, actor: str, action: str, subject_type: str, subject: str,
              reason: str, details: Mapping[str, Any] | None = None) -> AuditEventRow:
    """A new audit row, for the caller to add to its session (and so to its transaction)."""
    require_aware(at, "the time of an audit event")
    return AuditEventRow(at=at, actor=actor, action=action, subject_type=subject_type,
                         subject=subject, reason=reason, details=dict(details or {}))


def read_audit(session: Session, *, subject_type: str | None = None,
               subject: str | None = None, limit: int = 100) -> list[AuditEvent]:
    """The ``limit`` newest events (of one subject type / subject when given), newest first."""
    if limit < 1:
        raise UsageError(f"the number of audit events to list must be at least 1, not {limit}")
    query = select(AuditEventRow).order_by(AuditEventRow.id.desc()).limit(limit)
    if subject_type is not None:
        query = query.where(AuditEventRow.subject_type == subject_type)
    if subject is not None:
        query = query.where(AuditEventRow.subject == subject)
    return [
        AuditEvent(row.id, row.at, row.actor, row.action, row.subject_type, row.subject,
                   row.reason, row.details)
        for row in session.scalars(query)
    ]
