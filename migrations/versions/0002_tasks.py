"""Tasks: the user's task list, with forced row-level security.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.Column("priority", sa.Text(), server_default="normal", nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("done", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("user_id", "id"),
    )
    op.create_index("ix_tasks_user_done_created", "tasks", ["user_id", "done", "created_at"])
    op.execute("ALTER TABLE tasks ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE tasks FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tasks_owner ON tasks "
        "USING (user_id = current_setting('taskchat.user_id', true)) "
        "WITH CHECK (user_id = current_setting('taskchat.user_id', true))"
    )


def downgrade() -> None:
    op.execute("DROP POLICY IF EXISTS tasks_owner ON tasks")
    op.drop_index("ix_tasks_user_done_created", table_name="tasks")
    op.drop_table("tasks")
