"""Initial schema: runs, stage results, gate results, findings and approvals.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Frozen on purpose: a migration never imports the ORM tables, which keep changing after it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

_ID = sa.String(128)
_NAME = sa.String(255)
_ENUM = sa.String(32)


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create every table and index of the first schema."""
    op.create_table(
        "runs",
        sa.Column("run_id", _ID, nullable=False),
        sa.Column("service", _NAME, nullable=False),
        sa.Column("commit_sha", _NAME, nullable=True),
        sa.Column("actor", _NAME, nullable=False),
        sa.Column("risk", _ENUM, nullable=False),
        sa.Column("status", _ENUM, nullable=False),
        sa.Column("started_at", _timestamp(), nullable=False),
        sa.Column("finished_at", _timestamp(), nullable=True),
        sa.Column("config_path", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("run_id", name="pk_runs"),
    )
    op.create_index("ix_runs_started_at", "runs", ["started_at"])
    op.create_index("ix_runs_service_started_at", "runs", ["service", "started_at"])

    op.create_table(
        "stage_results",
        sa.Column("run_id", _ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", _NAME, nullable=False),
        sa.Column("skipped", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "position", name="pk_stage_results"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name="fk_stage_results_run_id_runs", ondelete="CASCADE"
        ),
    )

    op.create_table(
        "gate_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", _ID, nullable=False),
        sa.Column("stage_position", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("stage", _NAME, nullable=False),
        sa.Column("gate_id", _NAME, nullable=False),
        sa.Column("gate_type", _NAME, nullable=False),
        sa.Column("verdict", _ENUM, nullable=False),
        sa.Column("action", _ENUM, nullable=False),
        sa.Column("outcome", _ENUM, nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("duration_s", sa.Double(), nullable=False),
        sa.Column(
            "metrics", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("mandatory", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_gate_results"),
        sa.ForeignKeyConstraint(
            ["run_id", "stage_position"],
            ["stage_results.run_id", "stage_results.position"],
            name="fk_gate_results_run_id_stage_position_stage_results",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "run_id",
            "stage_position",
            "position",
            name="uq_gate_results_run_id_stage_position_position",
        ),
    )

    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("gate_result_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("rule", _NAME, nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("severity", _ENUM, nullable=False),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("col", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_findings"),
        sa.ForeignKeyConstraint(
            ["gate_result_id"],
            ["gate_results.id"],
            name="fk_findings_gate_result_id_gate_results",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "gate_result_id", "position", name="uq_findings_gate_result_id_position"
        ),
    )

    op.create_table(
        "approvals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", _ID, nullable=False),
        sa.Column("service", _NAME, nullable=False),
        sa.Column("commit_sha", _NAME, nullable=True),
        sa.Column("gate_id", _NAME, nullable=False),
        sa.Column("reason_requested", sa.Text(), nullable=False),
        sa.Column("status", _ENUM, nullable=False),
        sa.Column("decided_by", _NAME, nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("requested_at", _timestamp(), nullable=False),
        sa.Column("decided_at", _timestamp(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_approvals"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name="fk_approvals_run_id_runs", ondelete="CASCADE"
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_approvals_run_id", "approvals", ["run_id"])
    op.create_index(
        "ix_approvals_service_commit_gate", "approvals", ["service", "commit_sha", "gate_id"]
    )


def downgrade() -> None:
    """Drop everything :func:`upgrade` created, children before parents."""
    op.drop_index("ix_approvals_service_commit_gate", table_name="approvals")
    op.drop_index("ix_approvals_run_id", table_name="approvals")
    op.drop_table("approvals")
    op.drop_table("findings")
    op.drop_table("gate_results")
    op.drop_table("stage_results")
    op.drop_index("ix_runs_service_started_at", table_name="runs")
    op.drop_index("ix_runs_started_at", table_name="runs")
    op.drop_table("runs")
