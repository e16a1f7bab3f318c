"""Rollouts: releases, their state transitions, and one lease lock per service.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01

Frozen on purpose: a migration never imports the ORM tables, which keep changing after it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

_ID = sa.String(128)
_NAME = sa.String(255)
_ENUM = sa.String(32)


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Create the releases, rollout_transitions and rollout_leases tables."""
    op.create_table(
        "releases",
        sa.Column("release_id", _ID, nullable=False),
        sa.Column("service", _NAME, nullable=False),
        sa.Column("version", _NAME, nullable=False),
        sa.Column("kind", _ENUM, nullable=False),
        sa.Column("artifact_reference", sa.Text(), nullable=True),
        sa.Column("artifact_sha256", sa.String(64), nullable=True),
        sa.Column("strategy", _NAME, nullable=False),
        sa.Column("status", _ENUM, nullable=False),
        sa.Column("decision", _ENUM, nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("stable_version", _NAME, nullable=True),
        sa.Column("max_canary_percent", sa.Double(), nullable=False),
        sa.Column("rollback_seconds", sa.Double(), nullable=True),
        sa.Column("downtime_seconds", sa.Double(), nullable=True),
        sa.Column("actor", _NAME, nullable=False),
        sa.Column("started_at", _timestamp(), nullable=False),
        sa.Column("finished_at", _timestamp(), nullable=True),
        sa.Column("phase", _ENUM, nullable=False),
        sa.Column("step_index", sa.Integer(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("step_started_at", _timestamp(), nullable=True),
        sa.Column("step_deadline_at", _timestamp(), nullable=True),
        sa.Column("heartbeat_at", _timestamp(), nullable=True),
        sa.Column("desired_weights", _json(), nullable=False),
        sa.Column("observed_weights", _json(), nullable=True),
        sa.Column("observed_at", _timestamp(), nullable=True),
        sa.Column("plan", _json(), nullable=False),
        sa.Column("rollback_plan", _json(), nullable=True),
        sa.Column("request", _json(), nullable=False),
        sa.Column("progress", _json(), nullable=False),
        sa.Column("command", _ENUM, nullable=True),
        sa.Column("command_by", _NAME, nullable=True),
        sa.Column("command_reason", sa.Text(), nullable=True),
        sa.Column("command_at", _timestamp(), nullable=True),
        sa.PrimaryKeyConstraint("release_id", name="pk_releases"),
    )
    op.create_index("ix_releases_service_started_at", "releases", ["service", "started_at"])
    op.create_index("ix_releases_status", "releases", ["status"])

    op.create_table(
        "rollout_transitions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("release_id", _ID, nullable=False),
        sa.Column("at", _timestamp(), nullable=False),
        sa.Column("event", _ENUM, nullable=False),
        sa.Column("from_status", _ENUM, nullable=True),
        sa.Column("to_status", _ENUM, nullable=False),
        sa.Column("phase", _ENUM, nullable=False),
        sa.Column("step_index", sa.Integer(), nullable=True),
        sa.Column("step_kind", _ENUM, nullable=True),
        sa.Column("weights", _json(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("details", _json(), nullable=False),
        sa.Column("holder", _NAME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_rollout_transitions"),
        sa.ForeignKeyConstraint(
            ["release_id"], ["releases.release_id"],
            name="fk_rollout_transitions_release_id_releases", ondelete="CASCADE",
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_rollout_transitions_release_id", "rollout_transitions", ["release_id"])

    op.create_table(
        "rollout_leases",
        sa.Column("service", _NAME, nullable=False),
        sa.Column("holder", _NAME, nullable=False),
        sa.Column("release_id", _ID, nullable=True),
        sa.Column("acquired_at", _timestamp(), nullable=False),
        sa.Column("renewed_at", _timestamp(), nullable=False),
        sa.Column("expires_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("service", name="pk_rollout_leases"),
    )


def downgrade() -> None:
    """Drop everything :func:`upgrade` created, children before parents."""
    op.drop_table("rollout_leases")
    op.drop_index("ix_rollout_transitions_release_id", table_name="rollout_transitions")
    op.drop_table("rollout_transitions")
    op.drop_index("ix_releases_status", table_name="releases")
    op.drop_index("ix_releases_service_started_at", table_name="releases")
    op.drop_table("releases")
