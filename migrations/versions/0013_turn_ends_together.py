"""Ended streams' slots given back together, in one statement for every user
(chat/admission.py).

- `chat_admit_turn(..., ended, withdrawn)`: the admission of 0012, which does not count the
  user's `ended` turns as open, nor their `withdrawn` ones at all: they ended (or never
  streamed) on this replica and are not written yet. The six-argument admission stays, for
  a replica still running the code before this.
- `chat_end_turns(owners, ended, streamed, keep)`: `chat_end_turn` for many turns of many
  users, each user's under their own scope, in the order of their ids (two replicas' writes
  lock their rows in the same order). A turn that never streamed is deleted instead: it
  counts against neither limit.

As in 0012, neither is SECURITY DEFINER: each runs as its caller, under forced row-level
security, and the scope ends with the statement's own transaction.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# `owner`'s turns in `turns` ended now, those in `withdrawn` deleted; their other turns that
# ended (or whose lease ran out) more than `keep` ago dropped.
END_TURNS = """
            WITH old AS (
                DELETE FROM chat_turns
                WHERE user_id = owner
                  AND (id = ANY(withdrawn)
                       OR (NOT (id = ANY(turns)) AND started_at < now() - keep
                           AND (ended_at IS NOT NULL OR lease_until < now())))
            )
            UPDATE chat_turns SET ended_at = now()
            WHERE user_id = owner AND id = ANY(turns) AND ended_at IS NULL;
"""


def upgrade() -> None:
    # The lock first and the counts after it: in a function each statement reads a snapshot
    # of its own, so the counts see every admission the lock waited for. A limit of 0 is
    # off.
    op.execute(
        """
        CREATE FUNCTION chat_admit_turn(
            owner text, turn text, span interval, lease interval,
            per_minute integer, concurrent integer, ended text[], withdrawn text[]
        )
        RETURNS TABLE (
            recent bigint, oldest timestamptz, open bigint, at timestamptz, admitted boolean
        ) LANGUAGE plpgsql VOLATILE AS $$
        #variable_conflict use_column
        BEGIN
            PERFORM set_config('taskchat.user_id', owner, true);
            PERFORM pg_advisory_xact_lock(hashtextextended(owner, 0));
            RETURN QUERY
                WITH counts AS (
                    SELECT count(*) FILTER (WHERE started_at > now() - span) AS recent,
                           min(started_at) FILTER (WHERE started_at > now() - span) AS oldest,
                           count(*) FILTER (
                               WHERE ended_at IS NULL AND lease_until > now()
                                 AND NOT (id = ANY(ended))
                           ) AS open
                    FROM chat_turns
                    WHERE user_id = owner AND NOT (id = ANY(withdrawn))
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
    op.execute(
        f"""
        CREATE FUNCTION chat_end_turns(
            owners text[], ended text[], streamed boolean[], keep interval
        )
        RETURNS void LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
            owner text;
            turns text[];
            withdrawn text[];
        BEGIN
            FOR owner, turns, withdrawn IN
                SELECT one.owner,
                       coalesce(array_agg(one.turn) FILTER (WHERE one.streamed), '{{}}'),
                       coalesce(array_agg(one.turn) FILTER (WHERE NOT one.streamed), '{{}}')
                FROM unnest(owners, ended, streamed) AS one(owner, turn, streamed)
                GROUP BY one.owner
                ORDER BY one.owner
            LOOP
                PERFORM set_config('taskchat.user_id', owner, true);
                {END_TURNS}
            END LOOP;
        END
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS chat_end_turns(text[], text[], boolean[], interval)")
    op.execute(
        "DROP FUNCTION IF EXISTS chat_admit_turn("
        "text, text, interval, interval, integer, integer, text[], text[])"
    )
