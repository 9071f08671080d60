"""The per-user chat limits: turns a minute, and streams open at once.

Counted in PostgreSQL, so every replica sees the same counts. Each streamed request takes
a row in `chat_turns` when it is admitted and marks it ended when its stream ends; a
replica that dies mid-stream leaves a row whose lease runs out instead.

A stream's end is not a statement of its own: it is written at most END_WRITE_SECONDS
later, with every other end meanwhile, in one statement. A statement is a round trip, and on
a busy server round trips are a large share of a turn's CPU. This replica's admissions do
not count the ends it has not written yet, so its own users never wait for them; other
replicas see the slot back within END_WRITE_SECONDS.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from datetime import timedelta

import anyio
from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat.db.engine import pooled_driver
from taskchat.errors import ProblemError
from taskchat.ids import new_id
from taskchat.logs import log_failure

logger = logging.getLogger("taskchat.chat")

WINDOW = timedelta(minutes=1)
"""The window the turn rate is counted over."""

BUSY_RETRY_SECONDS = 5
"""What a caller with too many open streams is told to wait (streams end at any time)."""

KEEP = timedelta(hours=1)
"""Ended turns older than this are deleted as new ones end."""

END_WRITE_SECONDS = 0.1
"""How long an ended stream's slot may wait to be written, with the others that end
meanwhile."""


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

    def release(self) -> None:
        """The stream ended: its slot is given back (END_WRITE_SECONDS)."""
        self.limiter.ended(self.user_id, self.turn_id)


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
        self._ended: dict[str, list[str]] = {}
        """Each user's turns that ended here, to be written."""
        self._being_written: list[dict[str, list[str]]] = []
        """Ends in a statement under way (not committed yet, so not yet counted as ended)."""
        self._timer: asyncio.TimerHandle | None = None
        self._writes: set[asyncio.Task[None]] = set()

    @property
    def enabled(self) -> bool:
        return bool(self.per_minute or self.concurrent)

    async def admit(self, user_id: str) -> TurnLease:
        """Take a slot for a new stream, or TooManyTurnsError."""
        turn_id = new_id("turn")
        # One round trip (migrations 0012, 0013). The function reads both counts (turns
        # started in the window; streams still open: not ended, lease not run out, and not
        # among the user's `ended` here, not written yet) and, when both are under their
        # limits, takes the slot. It takes the user's advisory lock first, so one user's
        # admissions are serialized across replicas (two at once would both see room for one
        # more); other users never wait on it.
        async with pooled_driver(self.engine) as conn:
            counts = await conn.fetchrow(
                "SELECT * FROM chat_admit_turn($1, $2, $3, $4, $5, $6, $7)",
                user_id,
                turn_id,
                WINDOW,
                self.lease,
                self.per_minute,
                self.concurrent,
                self._unwritten(user_id),
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

    def _unwritten(self, user_id: str) -> list[str]:
        """The user's turns that ended here and are not written yet."""
        turns = list(self._ended.get(user_id, ()))
        for batch in self._being_written:
            turns.extend(batch.get(user_id, ()))
        return turns

    def ended(self, user_id: str, turn_id: str) -> None:
        """Give back an ended stream's slot: written within END_WRITE_SECONDS."""
        self._ended.setdefault(user_id, []).append(turn_id)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(END_WRITE_SECONDS, self._write_soon)

    def _write_soon(self) -> None:
        self._timer = None
        task = asyncio.ensure_future(self.write_ended())
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def write_ended(self) -> None:
        """Write every end not written yet, in one statement."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        ended, self._ended = self._ended, {}
        if not ended:
            return
        owners = [user for user, turns in ended.items() for _ in turns]
        turns = [turn for each in ended.values() for turn in each]
        self._being_written.append(ended)
        try:
            # Shielded: a shutdown that cancels it would leave the slots taken.
            with anyio.CancelScope(shield=True):
                async with pooled_driver(self.engine) as conn:
                    await conn.execute("SELECT chat_end_turns($1, $2, $3)", owners, turns, KEEP)
        except Exception as error:
            # Their leases run out instead, as those of a replica that stopped.
            log_failure(logger, "could not give back %d chat slots", len(turns), error=error)
        finally:
            self._being_written.remove(ended)

    async def aclose(self) -> None:
        """At shutdown: write the ends not written yet, and wait for writes under way."""
        await self.write_ended()
        if self._writes:
            with anyio.CancelScope(shield=True):
                await asyncio.wait(set(self._writes))
