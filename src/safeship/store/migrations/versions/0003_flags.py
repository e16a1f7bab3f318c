"""Feature flags with their full change history, and the generic audit trail.

Revision ID: 0003
Revises: 0002
Create Date: 2025-03-01

Frozen on purpose: a migration never imports the ORM tables, which keep changing after it.
Flag definitions are plain ``json`` on PostgreSQL (not ``jsonb``, which reorders keys).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

_NAME = sa.String(255)
_ENUM = sa.String(32)


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _jsonb() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Create the flags, flag_changes and audit_events tables."""
    op.create_table(
        "flags",
        sa.Column("key", _NAME, nullable=False),
        sa.Column("flag_type", _ENUM, nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("created_by", _NAME, nullable=False),
        sa.Column("updated_at", _timestamp(), nullable=False),
        sa.Column("updated_by", _NAME, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_flags"),
    )

    op.create_table(
        "flag_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("flag_key", _NAME, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", _ENUM, nullable=False),
        sa.Column("actor", _NAME, nullable=False),
        sa.Column("at", _timestamp(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_flag_changes"),
        sa.ForeignKeyConstraint(["flag_key"], ["flags.key"], name="fk_flag_changes_flag_key_flags"),
        sa.UniqueConstraint("flag_key", "version", name="uq_flag_changes_flag_key_version"),
        sqlite_autoincrement=True,
    )

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", _timestamp(), nullable=False),
        sa.Column("actor", _NAME, nullable=False),
        sa.Column("action", _NAME, nullable=False),
        sa.Column("subject_type", _ENUM, nullable=False),
        sa.Column("subject", _NAME, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("details", _jsonb(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_subject", "audit_events", ["subject_type", "subject"])


def downgrade() -> None:
    """Drop everything :func:`upgrade` created, children before parents."""
    op.drop_index("ix_audit_events_subject", table_name="audit_events")
    op.drop_index("ix_audit_events_at", table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_table("flag_changes")
    op.drop_table("flags")
