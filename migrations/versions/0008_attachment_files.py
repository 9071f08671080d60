"""Attachment files: the uploaded bytes of chat attachments, under forced row-level
security, when each attachment was created (for the sweep of unsent ones), and the
operator policies that let the sweep find every user's attachments and delete the unsent
ones (only those).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPERATOR = "current_setting('taskchat.operator', true) = 'on'"


def upgrade() -> None:
    # Rows made before this migration count as created now: none is swept for a day.
    op.add_column(
        "chat_attachments",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    )
    op.create_index(
        "ix_chat_attachments_unsent",
        "chat_attachments",
        ["created_at"],
        postgresql_where=sa.text("thread_id IS NULL"),
    )
    op.create_table(
        "chat_attachment_files",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "id"),
        # The bytes go with their attachment: deleting a thread's attachments, or the
        # sweep's, deletes their files in the same statement.
        sa.ForeignKeyConstraint(
            ["user_id", "id"],
            ["chat_attachments.user_id", "chat_attachments.id"],
            ondelete="CASCADE",
        ),
    )
    op.execute("ALTER TABLE chat_attachment_files ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE chat_attachment_files FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY chat_attachment_files_owner ON chat_attachment_files "
        "USING (user_id = current_setting('taskchat.user_id', true)) "
        "WITH CHECK (user_id = current_setting('taskchat.user_id', true))"
    )
    # The sweep (files/sweep.py) spans users: it may read attachments and delete unsent
    # ones, nothing else (a sent one goes only with its message or its thread). Their files
    # go by the foreign key's cascade, which row-level security does not filter, so the
    # files table needs no operator policy.
    op.execute(
        f"CREATE POLICY chat_attachments_operator ON chat_attachments FOR SELECT USING ({OPERATOR})"
    )
    op.execute(
        "CREATE POLICY chat_attachments_operator_delete ON chat_attachments FOR DELETE "
        f"USING ({OPERATOR} AND thread_id IS NULL)"
    )


def downgrade() -> None:
    op.execute("DROP POLICY IF EXISTS chat_attachments_operator_delete ON chat_attachments")
    op.execute("DROP POLICY IF EXISTS chat_attachments_operator ON chat_attachments")
    op.execute("DROP POLICY IF EXISTS chat_attachment_files_owner ON chat_attachment_files")
    op.drop_table("chat_attachment_files")
    op.drop_index("ix_chat_attachments_unsent", table_name="chat_attachments")
    op.drop_column("chat_attachments", "created_at")
