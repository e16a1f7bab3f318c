"""Add a column; nobody wrote a downgrade."""

import sqlalchemy as sa
from alembic import op

revision = "a1"
down_revision = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("plan", sa.Text(), nullable=True))
