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
        """Mark the stream ended. Shielded: it runs as a cancelled request unwinds."""
        with anyio.CancelScope(shield=True):
            async with user_transaction_raw(self.limiter.engine, self.user_id) as conn:
                await conn.execute(
                    "UPDATE chat_turns SET ended_at = now() WHERE user_id = $1 AND id = $2",
                    self.user_id,
                    self.turn_id,
                )


# One statement reads both counts: turns started in the window, and streams still open
# (not ended, lease not run out), with when the window's oldest turn leaves it.
_COUNTS = """
SELECT count(*) FILTER (WHERE started_at > now() - $2::interval) AS recent,
       min(started_at) FILTER (WHERE started_at > now() - $2::interval) AS oldest,
       count(*) FILTER (WHERE ended_at IS NULL AND lease_until > now()) AS open,
       now() AS at
FROM chat_turns
WHERE user_id = $1
  AND (started_at > now() - $2::interval OR (ended_at IS NULL AND lease_until > now()))
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
        async with user_transaction_raw(self.engine, user_id) as conn:
            # Serializes one user's admissions across replicas (two at once would both see
            # room for one more); other users never wait on it.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", user_id)
            counts = await conn.fetchrow(_COUNTS, user_id, WINDOW)
            assert counts is not None  # an aggregate always returns a row
            if self.per_minute and counts["recent"] >= self.per_minute:
                wait = counts["oldest"] + WINDOW - counts["at"]
                raise TooManyTurnsError(
                    f"You are sending messages faster than {self.per_minute} a minute; "
                    f"try again in {math.ceil(wait.total_seconds())} seconds.",
                    math.ceil(wait.total_seconds()),
                )
            if self.concurrent and counts["open"] >= self.concurrent:
                raise TooManyTurnsError(
                    f"You already have {counts['open']} answers on the way; wait for one to "
                    "finish, then send again.",
                    BUSY_RETRY_SECONDS,
                )
            await conn.execute(
                "DELETE FROM chat_turns WHERE user_id = $1 AND started_at < now() - $2::interval "
                "AND (ended_at IS NOT NULL OR lease_until < now())",
                user_id,
                KEEP,
            )
            await conn.execute(
                "INSERT INTO chat_turns (user_id, id, started_at, lease_until) "
                "VALUES ($1, $2, now(), now() + $3::interval)",
                user_id,
                turn_id,
                self.lease,
            )
        return TurnLease(self, user_id, turn_id)
