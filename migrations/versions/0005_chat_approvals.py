"""Chat approvals: tool calls that wait for the person's Delete or Keep, with the paused
run they resume, under forced row-level security.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chat_approvals",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("thread_id", sa.Text(), nullable=False),
        sa.Column("calls", sa.dialects.postgresql.JSONB(), nullable=False),
        sa.Column("run_state", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("user_id", "id"),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'declined')", name="ck_chat_approvals_status"
        ),
    )
    op.create_index("ix_chat_approvals_user_created", "chat_approvals", ["user_id", "created_at"])
    op.execute("ALTER TABLE chat_approvals ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE chat_approvals FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY chat_approvals_owner ON chat_approvals "
        "USING (user_id = current_setting('taskchat.user_id', true)) "
        "WITH CHECK (user_id = current_setting('taskchat.user_id', true))"
    )


def downgrade() -> None:
    op.execute("DROP POLICY IF EXISTS chat_approvals_owner ON chat_approvals")
    op.drop_index("ix_chat_approvals_user_created", table_name="chat_approvals")
    op.drop_table("chat_approvals")
