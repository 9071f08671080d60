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

from taskchat.db.engine import pooled_driver
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
            async with pooled_driver(self.limiter.engine) as conn:
                # One round trip (migration 0012): the function scopes itself to the user.
                await conn.execute(
                    "SELECT chat_end_turn($1, $2, $3)", self.user_id, self.turn_id, KEEP
                )


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
        # One round trip (migration 0012). The function reads both counts (turns started
        # in the window; streams still open: not ended, lease not run out) and, when both
        # are under their limits, takes the slot. It takes the user's advisory lock first,
        # so one user's admissions are serialized across replicas (two at once would both
        # see room for one more); other users never wait on it.
        async with pooled_driver(self.engine) as conn:
            counts = await conn.fetchrow(
                "SELECT * FROM chat_admit_turn($1, $2, $3, $4, $5, $6)",
                user_id,
                turn_id,
                WINDOW,
                self.lease,
                self.per_minute,
                self.concurrent,
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
