"""The per-user chat limits: turns a minute, and streams open at once.

Counted in PostgreSQL, so every replica sees the same counts. Each streamed request takes
a row in `chat_turns` when it is admitted and marks it ended when its stream ends; a
replica that dies mid-stream leaves a row whose lease runs out instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

import anyio
from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat.db.engine import user_transaction_raw
from taskchat.errors import ProblemError
from taskchat.ids import new_id

WINDOW = timedelta(minutes=1)
"""The window the turn rate is counted over."""

BUSY_RETRY_SECONDS = 5
"""What a caller with too many open streams is told to wait (streams end at any time)."""

KEEP = timedelta(hours=1)
"""Ended turns older than this are deleted as new ones are admitted."""


class TooManyTurnsError(ProblemError):
    """A chat limit is reached; `Retry-After` says when to try again."""

    status = 429
    code = "rate_limited"

    def __init__(self, detail: str, wait_seconds: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, wait_seconds))})


@dataclass(frozen=True, slots=True)
class TurnLease:
    """An admitted stream's slot; `release` it when the stream ends."""

    limiter: TurnLimiter
    user_id: str
    turn_id: str

    async def release(self) -> None:
        """Mark the stream ended, and drop the user's turns too old to count. Shielded:
        it runs as a cancelled request unwinds."""
        with anyio.CancelScope(shield=True):
            async with user_transaction_raw(self.limiter.engine, self.user_id) as conn:
                await conn.execute(_RELEASE, self.user_id, self.turn_id, KEEP)


_RELEASE = """
WITH old AS (
    DELETE FROM chat_turns
    WHERE user_id = $1 AND id <> $2 AND started_at < now() - $3::interval
      AND (ended_at IS NOT NULL OR lease_until < now())
)
UPDATE chat_turns SET ended_at = now() WHERE user_id = $1 AND id = $2
"""

# Reads both counts (turns started in the window; streams still open: not ended, lease
# not run out) and, when both are under their limits, takes the slot, in one statement.
# The INSERT sees the counts' snapshot; the advisory lock taken before it makes the
# snapshot current for this user. A limit of 0 is off.
_ADMIT = """
WITH counts AS (
    SELECT count(*) FILTER (WHERE started_at > now() - $2::interval) AS recent,
           min(started_at) FILTER (WHERE started_at > now() - $2::interval) AS oldest,
           count(*) FILTER (WHERE ended_at IS NULL AND lease_until > now()) AS open
    FROM chat_turns
    WHERE user_id = $1
      AND (started_at > now() - $2::interval OR (ended_at IS NULL AND lease_until > now()))
), taken AS (
    INSERT INTO chat_turns (user_id, id, started_at, lease_until)
    SELECT $1, $3, now(), now() + $4::interval FROM counts
    WHERE ($5 = 0 OR recent < $5) AND ($6 = 0 OR open < $6)
    RETURNING id
)
SELECT recent, oldest, open, now() AS at, EXISTS (SELECT 1 FROM taken) AS admitted FROM counts
"""


class TurnLimiter:
    """Admits a user's streamed requests while they are under both limits."""

    def __init__(
        self, engine: AsyncEngine, *, per_minute: int, concurrent: int, lease_seconds: float
    ) -> None:
        self.engine = engine
        self.per_minute = per_minute
        """Turns a user may start a minute (0: no limit)."""
        self.concurrent = concurrent
        """Streams a user may have open at once (0: no limit)."""
        self.lease = timedelta(seconds=lease_seconds)

    @property
    def enabled(self) -> bool:
        return bool(self.per_minute or self.concurrent)

    async def admit(self, user_id: str) -> TurnLease:
        """Take a slot for a new stream, or TooManyTurnsError."""
        turn_id = new_id("turn")
        # Locked: one user's admissions are serialized across replicas (two at once would
        # both see room for one more); other users never wait on it.
        async with user_transaction_raw(self.engine, user_id, locked=True) as conn:
            counts = await conn.fetchrow(
                _ADMIT, user_id, WINDOW, turn_id, self.lease, self.per_minute, self.concurrent
            )
        assert counts is not None  # an aggregate always returns a row
        if not counts["admitted"]:
            if self.per_minute and counts["recent"] >= self.per_minute:
                wait = counts["oldest"] + WINDOW - counts["at"]
                raise TooManyTurnsError(
                    f"You are sending messages faster than {self.per_minute} a minute; "
                    f"try again in {math.ceil(wait.total_seconds())} seconds.",
                    math.ceil(wait.total_seconds()),
                )
            raise TooManyTurnsError(
                f"You already have {counts['open']} answers on the way; wait for one to "
                "finish, then send again.",
                BUSY_RETRY_SECONDS,
            )
        return TurnLease(self, user_id, turn_id)
