"""Chat feedback: one 👍/👎 vote per user and assistant message, under forced row-level
security, going with its item; and the read-only operator policies the feedback export
needs on it and on the items it quotes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPERATOR = "current_setting('taskchat.operator', true) = 'on'"
"""What `db/engine.operator_transaction_raw` sets; no request ever does."""


def upgrade() -> None:
    op.create_table(
        "chat_feedback",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("thread_id", sa.Text(), nullable=False),
        sa.Column("item_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "thread_id", "item_id"),
        sa.ForeignKeyConstraint(
            ["user_id", "thread_id", "item_id"],
            ["chat_items.user_id", "chat_items.thread_id", "chat_items.id"],
            ondelete="CASCADE",
        ),
        sa.CheckConstraint("kind IN ('positive', 'negative')", name="ck_chat_feedback_kind"),
    )
    op.create_index("ix_chat_feedback_updated", "chat_feedback", ["updated_at"])
    op.execute("ALTER TABLE chat_feedback ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE chat_feedback FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY chat_feedback_owner ON chat_feedback "
        "USING (user_id = current_setting('taskchat.user_id', true)) "
        "WITH CHECK (user_id = current_setting('taskchat.user_id', true))"
    )
    # The export reads every user's votes, the answers voted on and the messages before
    # them; nothing more (no thread titles, no tasks, no thread nobody voted in), and never
    # writes.
    op.execute(
        f"CREATE POLICY chat_feedback_operator ON chat_feedback FOR SELECT USING ({OPERATOR})"
    )
    op.execute(
        "CREATE POLICY chat_items_operator ON chat_items FOR SELECT USING ("
        f"{OPERATOR} AND EXISTS (SELECT 1 FROM chat_feedback f "
        "WHERE f.user_id = chat_items.user_id AND f.thread_id = chat_items.thread_id))"
    )


def downgrade() -> None:
    for table in ("chat_feedback", "chat_items"):
        op.execute(f"DROP POLICY IF EXISTS {table}_operator ON {table}")
    op.execute("DROP POLICY IF EXISTS chat_feedback_owner ON chat_feedback")
    op.drop_index("ix_chat_feedback_updated", table_name="chat_feedback")
    op.drop_table("chat_feedback")
