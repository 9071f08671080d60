"""The per-user chat limits (turns a minute, streams open at once), and a streamed
request's admission under them.

A streamed request's `Admission` is sent as soon as the request is known to stream, and
answered while the request is parsed and checked and its response made ready: the round trip
overlaps that work instead of coming before it. Its answer is awaited only when the stream
starts (api/admitted.py), so a refusal is still a 429 before anything is sent.

Counted in PostgreSQL, so every replica sees the same counts. Each streamed request takes
a row in `chat_turns` when it is admitted and marks it ended when its stream ends; a
replica that dies mid-stream leaves a row whose lease runs out instead.

A stream's end is not a statement of its own: it is written about END_WRITE_SECONDS later,
with every other end meanwhile, in one statement (a statement is a round trip, and on a busy
server round trips are a large share of a turn's CPU). This replica's admissions do not
count the ends it has not written yet, so its own users never wait for them; other replicas
see the slot back once it is written. A write that fails is tried again RETRY_SECONDS later.
A slot taken by a request that never streamed (refused by its checks, or its client gone
before the first event) is withdrawn: deleted, so it counts against neither limit.
"""

from __future__ import annotations

import asyncio
import contextvars
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

RETRY_SECONDS = 1.0
"""How long after a failed write of ended slots it is tried again."""


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
        self.limiter.ended(self.user_id, self.turn_id, streamed=True)

    def withdraw(self) -> None:
        """The request never streamed: its slot is given back and not counted at all."""
        self.limiter.ended(self.user_id, self.turn_id, streamed=False)


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
        self._ended: dict[str, list[tuple[str, bool]]] = {}
        """Each user's turns that ended here, to be written (and whether they streamed)."""
        self._being_written: list[dict[str, list[tuple[str, bool]]]] = []
        """Ends in a statement under way (not committed yet, so not yet counted as ended)."""
        self._withdrawing: dict[str, set[str]] = {}
        """Each user's turns withdrawn before their admission was answered: left out of this
        replica's counts at once, and written as withdrawn once they are answered."""
        self._closed = False
        self._timer: asyncio.TimerHandle | None = None
        self._writes: set[asyncio.Task[None]] = set()

    @property
    def enabled(self) -> bool:
        return bool(self.per_minute or self.concurrent)

    async def admit(self, user_id: str, turn_id: str | None = None) -> TurnLease:
        """Take a slot for a new stream (as `turn_id`, or a new id), or TooManyTurnsError."""
        turn_id = turn_id or new_id("turn")
        # One round trip (migrations 0012, 0013). The function reads both counts (turns
        # started in the window; streams still open: not ended, lease not run out) without
        # this replica's ends not written yet (an ended turn is not open; a withdrawn one
        # does not count at all) and, when both are under their limits, takes the slot. It
        # takes the user's advisory lock first, so one user's admissions are serialized
        # across replicas (two at once would both see room for one more); other users never
        # wait on it.
        async with pooled_driver(self.engine) as conn:
            counts = await conn.fetchrow(
                "SELECT * FROM chat_admit_turn($1, $2, $3, $4, $5, $6, $7, $8)",
                user_id,
                turn_id,
                WINDOW,
                self.lease,
                self.per_minute,
                self.concurrent,
                self._unwritten(user_id, streamed=True),
                self._unwritten(user_id, streamed=False),
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

    def _unwritten(self, user_id: str, *, streamed: bool) -> list[str]:
        """The user's turns that ended here (or were withdrawn) and are not written yet."""
        batches = [self._ended, *self._being_written]
        turns = [
            turn for batch in batches for turn, did in batch.get(user_id, ()) if did is streamed
        ]
        if not streamed:
            turns.extend(self._withdrawing.get(user_id, ()))
        return turns

    def withdrawing(self, user_id: str, turn_id: str) -> None:
        """A turn whose admission is under way will not stream: leave it out of this
        replica's counts from now on, whatever the admission's answer (`withdrawn` then
        writes it)."""
        self._withdrawing.setdefault(user_id, set()).add(turn_id)

    def withdrawn(self, user_id: str, turn_id: str) -> None:
        """The admission of a turn `withdrawing` named is answered, and a slot it took is
        among the ends to write (`TurnLease.withdraw`): it need not be left out here any
        longer."""
        waiting = self._withdrawing.get(user_id)
        if waiting is not None:
            waiting.discard(turn_id)
            if not waiting:
                del self._withdrawing[user_id]

    def ended(self, user_id: str, turn_id: str, *, streamed: bool) -> None:
        """Give back a slot: written within END_WRITE_SECONDS."""
        if self._closed:
            # After shutdown's last write (a stream cancelled late): its lease runs out.
            return
        self._ended.setdefault(user_id, []).append((turn_id, streamed))
        self._write_in(END_WRITE_SECONDS)

    def _write_in(self, seconds: float) -> None:
        if self._timer is None:
            # In a context of its own: the write is nobody's request (its log lines say so).
            self._timer = asyncio.get_running_loop().call_later(
                seconds, self._write_soon, context=contextvars.Context()
            )

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
        pairs = [(user, turn, streamed) for user, each in ended.items() for turn, streamed in each]
        owners, turns, streamed = (list(column) for column in zip(*pairs, strict=True))
        self._being_written.append(ended)
        try:
            # Shielded: a shutdown that cancels it would leave the slots taken.
            with anyio.CancelScope(shield=True):
                async with pooled_driver(self.engine) as conn:
                    await conn.execute(
                        "SELECT chat_end_turns($1, $2, $3, $4)", owners, turns, streamed, KEEP
                    )
        except Exception as error:
            log_failure(logger, "could not give back %d chat slots", len(turns), error=error)
            if not self._closed:
                # Tried again with whatever ends meanwhile; until then this replica still
                # leaves them out of its counts.
                for user, each in ended.items():
                    self._ended[user] = each + self._ended.get(user, [])
                self._write_in(RETRY_SECONDS)
        finally:
            self._being_written.remove(ended)

    async def aclose(self) -> None:
        """At shutdown: write the ends not written yet, and wait for writes under way.
        Slots given back after this are left to their leases."""
        self._closed = True
        await self.write_ended()
        if self._writes:
            with anyio.CancelScope(shield=True):
                await asyncio.wait(set(self._writes))


class Admission:
    """One streamed request's claim on a slot under the user's chat limits, from the moment
    the request is known to stream until its stream ends.

    `start` sends it (once; nothing when the limits are off); `lease` waits for its answer
    (raising TooManyTurnsError for a refusal); `withdraw` gives the slot back uncounted when
    the request will not stream after all: at once in this replica's counts, and in the
    database once the admission is answered.
    """

    def __init__(self, limiter: TurnLimiter, user_id: str) -> None:
        self._limiter = limiter
        self._user_id = user_id
        self._turn_id = ""
        self._admitting: asyncio.Task[TurnLease] | None = None
        self._withdrawn = False

    @property
    def started(self) -> bool:
        """Whether it was sent (and so must end with `lease` or `withdraw`)."""
        return self._admitting is not None

    async def start(self) -> None:
        """Send the admission, once, and let its statement go out before returning (unless
        it waits for a connection)."""
        if self._admitting is not None or not self._limiter.enabled:
            return
        self._turn_id = new_id("turn")
        self._admitting = asyncio.ensure_future(self._limiter.admit(self._user_id, self._turn_id))
        try:
            # One pass of the event loop: the admission runs until it waits for its answer.
            await asyncio.sleep(0)
        except BaseException:
            self.withdraw()
            raise

    async def lease(self) -> TurnLease:
        """The slot, once the admission is answered; TooManyTurnsError if refused."""
        assert self._admitting is not None, "an admission not started has no lease"
        # Shielded: a client that leaves meanwhile cancels the wait, not the statement
        # (whose slot would then be taken with no stream to give it back).
        return await asyncio.shield(self._admitting)

    def withdraw(self) -> None:
        """The request will not stream after all: its slot, once taken, is withdrawn (it
        counts against neither limit, here from now on, elsewhere once written)."""
        if self._admitting is None or self._withdrawn:
            return
        self._withdrawn = True
        # Even before the admission is answered: the user's next request, sent as soon
        # as this one is refused, must not find this slot in the way.
        self._limiter.withdrawing(self._user_id, self._turn_id)
        self._admitting.add_done_callback(self._answered)

    def _answered(self, admitted: asyncio.Future[TurnLease]) -> None:
        # Its refusal or failure is taken here, so none is left unretrieved; a refused
        # admission took no slot.
        if not admitted.cancelled() and admitted.exception() is None:
            admitted.result().withdraw()
        # Only once the slot is among the ends to write (in the same step: it is never
        # counted in between).
        self._limiter.withdrawn(self._user_id, self._turn_id)
