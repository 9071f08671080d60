"""Chat store: threads, items, attachments, with forced row-level security.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("chat_threads", "chat_items", "chat_attachments")


def upgrade() -> None:
    op.create_table(
        "chat_threads",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", postgresql.JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "id"),
    )
    op.create_index(
        "ix_chat_threads_user_created", "chat_threads", ["user_id", "created_at", "seq"]
    )
    op.create_table(
        "chat_items",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("thread_id", sa.Text(), nullable=False),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", postgresql.JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "thread_id", "id"),
        sa.ForeignKeyConstraint(
            ["user_id", "thread_id"],
            ["chat_threads.user_id", "chat_threads.id"],
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_chat_items_thread_created",
        "chat_items",
        ["user_id", "thread_id", "created_at", "seq"],
    )
    op.create_table(
        "chat_attachments",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("thread_id", sa.Text(), nullable=True),
        sa.Column("data", postgresql.JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "id"),
    )
    op.create_index("ix_chat_attachments_thread", "chat_attachments", ["user_id", "thread_id"])
    for table in TABLES:
        # FORCE makes the policy apply to the table's owner too, which is usually the
        # role the app connects as.
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {table}_owner ON {table} "
            "USING (user_id = current_setting('taskchat.user_id', true)) "
            "WITH CHECK (user_id = current_setting('taskchat.user_id', true))"
        )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.execute(f"DROP POLICY IF EXISTS {table}_owner ON {table}")
    op.drop_index("ix_chat_attachments_thread", table_name="chat_attachments")
    op.drop_table("chat_attachments")
    op.drop_index("ix_chat_items_thread_created", table_name="chat_items")
    op.drop_table("chat_items")
    op.drop_index("ix_chat_threads_user_created", table_name="chat_threads")
    op.drop_table("chat_threads")
