"""A chat turn's hot statements in one round trip each.

Each function sets the row-level-security setting and then runs its statement, as
`chat_set_title_if_unset` (0010) does, so a call is one round trip where a transaction
took four (BEGIN, set_config, statement, COMMIT). A turn made sixteen to twenty-two round
trips; with these it makes about seven.

- `chat_thread(user, thread)`: a thread's stored data, or NULL.
- `chat_newest_items(user, thread, n)`: a thread's `n` newest items, newest first.
- `chat_admit_turn(...)`: the turn limiter's admission (chat/admission.py), behind the
  user's advisory lock.
- `chat_end_turn(user, turn, keep)`: the turn's release.

None is SECURITY DEFINER: each runs as its caller, under the same forced row-level
security as every other statement; the setting ends with the statement's own
transaction. To change one, write a migration that replaces it (CREATE OR REPLACE).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCOPE = "PERFORM set_config('taskchat.user_id', owner, true);"


def upgrade() -> None:
    op.execute(
        f"""
        CREATE FUNCTION chat_thread(owner text, thread text)
        RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
            stored jsonb;
        BEGIN
            {SCOPE}
            SELECT data INTO stored FROM chat_threads WHERE user_id = owner AND id = thread;
            RETURN stored;
        END
        $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION chat_newest_items(owner text, thread text, n integer)
        RETURNS TABLE (id text, data jsonb) LANGUAGE plpgsql VOLATILE AS $$
        #variable_conflict use_column
        BEGIN
            {SCOPE}
            RETURN QUERY
                SELECT id, data FROM chat_items WHERE user_id = owner AND thread_id = thread
                ORDER BY created_at DESC, seq DESC LIMIT n;
        END
        $$
        """
    )
    # The lock comes first and the counts after it: in a function, each statement reads
    # a snapshot of its own, so the counts see every admission the lock waited for.
    # A limit of 0 is off.
    op.execute(
        f"""
        CREATE FUNCTION chat_admit_turn(
            owner text, turn text, span interval, lease interval,
            per_minute integer, concurrent integer
        )
        RETURNS TABLE (
            recent bigint, oldest timestamptz, open bigint, at timestamptz, admitted boolean
        ) LANGUAGE plpgsql VOLATILE AS $$
        #variable_conflict use_column
        BEGIN
            {SCOPE}
            PERFORM pg_advisory_xact_lock(hashtextextended(owner, 0));
            RETURN QUERY
                WITH counts AS (
                    SELECT count(*) FILTER (WHERE started_at > now() - span) AS recent,
                           min(started_at) FILTER (WHERE started_at > now() - span) AS oldest,
                           count(*) FILTER (
                               WHERE ended_at IS NULL AND lease_until > now()
                           ) AS open
                    FROM chat_turns
                    WHERE user_id = owner
                      AND (started_at > now() - span
                           OR (ended_at IS NULL AND lease_until > now()))
                ), taken AS (
                    INSERT INTO chat_turns (user_id, id, started_at, lease_until)
                    SELECT owner, turn, now(), now() + lease FROM counts
                    WHERE (per_minute = 0 OR counts.recent < per_minute)
                      AND (concurrent = 0 OR counts.open < concurrent)
                    RETURNING chat_turns.id
                )
                SELECT counts.recent, counts.oldest, counts.open, now(),
                       EXISTS (SELECT 1 FROM taken)
                FROM counts;
        END
        $$
        """
    )
    # Ends the turn, and drops the user's turns too old to count.
    op.execute(
        f"""
        CREATE FUNCTION chat_end_turn(owner text, turn text, keep interval)
        RETURNS void LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            {SCOPE}
            WITH old AS (
                DELETE FROM chat_turns
                WHERE user_id = owner AND id <> turn AND started_at < now() - keep
                  AND (ended_at IS NOT NULL OR lease_until < now())
            )
            UPDATE chat_turns SET ended_at = now() WHERE user_id = owner AND id = turn;
        END
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS chat_end_turn(text, text, interval)")
    op.execute(
        "DROP FUNCTION IF EXISTS chat_admit_turn(text, text, interval, interval, integer, integer)"
    )
    op.execute("DROP FUNCTION IF EXISTS chat_newest_items(text, text, integer)")
    op.execute("DROP FUNCTION IF EXISTS chat_thread(text, text)")
