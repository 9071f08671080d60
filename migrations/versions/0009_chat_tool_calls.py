"""Chat tool calls: each side-effecting tool call a turn made, with its result, keyed by the
user message the turn answered, so a retried turn gets the first result instead of acting
twice; under forced row-level security. The rows go with their message (and thread).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chat_tool_calls",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("thread_id", sa.Text(), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("call_key", sa.Text(), nullable=False),
        sa.Column("occurrence", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("tool", sa.Text(), nullable=False),
        sa.Column("arguments", sa.dialects.postgresql.JSONB(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("detail", sa.dialects.postgresql.JSONB(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "thread_id", "message_id", "call_key", "occurrence"),
        sa.ForeignKeyConstraint(
            ["user_id", "thread_id", "message_id"],
            ["chat_items.user_id", "chat_items.thread_id", "chat_items.id"],
            ondelete="CASCADE",
        ),
    )
    op.execute("ALTER TABLE chat_tool_calls ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE chat_tool_calls FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY chat_tool_calls_owner ON chat_tool_calls "
        "USING (user_id = current_setting('taskchat.user_id', true)) "
        "WITH CHECK (user_id = current_setting('taskchat.user_id', true))"
    )


def downgrade() -> None:
    op.execute("DROP POLICY IF EXISTS chat_tool_calls_owner ON chat_tool_calls")
    op.drop_table("chat_tool_calls")
