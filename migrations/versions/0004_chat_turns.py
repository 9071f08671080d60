"""Chat turns: the per-user turn rate and open streams, counted in one place for every
replica, with forced row-level security.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chat_turns",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "id"),
    )
    op.create_index("ix_chat_turns_user_started", "chat_turns", ["user_id", "started_at"])
    op.execute("ALTER TABLE chat_turns ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE chat_turns FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY chat_turns_owner ON chat_turns "
        "USING (user_id = current_setting('taskchat.user_id', true)) "
        "WITH CHECK (user_id = current_setting('taskchat.user_id', true))"
    )


def downgrade() -> None:
    op.execute("DROP POLICY IF EXISTS chat_turns_owner ON chat_turns")
    op.drop_index("ix_chat_turns_user_started", table_name="chat_turns")
    op.drop_table("chat_turns")
