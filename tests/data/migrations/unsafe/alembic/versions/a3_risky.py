"""Every kind of risky op call, with a real downgrade."""

import sqlalchemy as sa
from alembic import op

revision = "a3"
down_revision = "a2"

USERS = "users"


def upgrade() -> None:
    op.rename_table("customers", "clients")
    op.alter_column(USERS, "mail", new_column_name="email")
    op.alter_column(USERS, "age", type_=sa.BigInteger(), existing_type=sa.Integer())
    op.add_column(USERS, sa.Column("tier", sa.Integer(), nullable=False))
    op.create_index("ix_users_tier", USERS, ["tier"])
    op.create_foreign_key("fk_users_plan", USERS, "plans", ["plan_id"], ["id"])
    _backfill()
    with op.batch_alter_table("events") as batch_op:
        batch_op.drop_column("payload")


def _backfill() -> None:
    op.execute("""
        UPDATE users SET tier = 0;
        DELETE FROM audit_log;
    """)


def downgrade() -> None:
    op.drop_constraint("fk_users_plan", USERS, type_="foreignkey")
    op.drop_index("ix_users_tier", table_name=USERS)
    op.drop_column(USERS, "tier")
    op.alter_column(USERS, "age", type_=sa.Integer())
    op.alter_column(USERS, "email", new_column_name="mail")
    op.rename_table("clients", "customers")
