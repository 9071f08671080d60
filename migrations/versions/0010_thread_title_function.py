"""Thread titles in one statement: `chat_set_title_if_unset(user, thread, title)` sets the
row-level-security setting and makes the conditional update, so naming a new thread costs
one round trip instead of four (BEGIN, set_config, UPDATE, COMMIT).

Not SECURITY DEFINER: it runs as its caller, under the same forced row-level security as
every other statement; the setting it sets is local to the statement's own transaction.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION chat_set_title_if_unset(owner text, thread text, title text)
        RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
            stored jsonb;
        BEGIN
            PERFORM set_config('taskchat.user_id', owner, true);
            UPDATE chat_threads SET data = jsonb_set(data, '{title}', to_jsonb(title))
            WHERE user_id = owner AND id = thread
                AND coalesce(jsonb_typeof(data->'title'), 'null') = 'null'
            RETURNING data INTO stored;
            RETURN stored;
        END
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS chat_set_title_if_unset(text, text, text)")
