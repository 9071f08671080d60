"""The pooled asyncpg connections of one-statement round trips, kept checked out.

A chat turn sends six or seven statements, each on its own (see SCOPED_ROW in
db/engine.py). Checking a connection out of SQLAlchemy's async pool and back in for each
costs several times the statement itself: a task, three greenlet switches and the pool's
bookkeeping (bench/chatkit_overhead.py). `Drivers` checks
connections out of that pool once and hands them round itself: a free one is taken
without an await.

They stay the pool's connections, so a process never holds more than its pool size and
overflow allow. At most half the pool size is kept, so the Core transactions (tasks,
accounts) and the revocation watch's LISTEN still find pooled connections rather than
open overflow ones (each a new connection to open). A pool of one keeps none: each
statement then checks its connection out and back in.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias, cast

import anyio
import asyncpg
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from taskchat.db.errors import is_unavailable

if TYPE_CHECKING:
    # Generic only in asyncpg-stubs; at run time the class takes no parameters.
    Driver: TypeAlias = asyncpg.Connection[asyncpg.Record]
    """A pooled asyncpg connection."""
else:
    Driver = asyncpg.Connection

logger = logging.getLogger("taskchat.db")

RECYCLE_SECONDS = 1800
"""A connection kept longer than this is given back to the pool (when it comes back or is
about to be lent), which replaces it: the pool's own `pool_recycle`, so a kept connection
is recycled as a pooled one is."""


async def driver_of(conn: AsyncConnection) -> Driver:
    """The asyncpg connection under a SQLAlchemy one."""
    raw = await conn.get_raw_connection()
    # SQLAlchemy types the driver's connection as Any; with the asyncpg dialect it is
    # always an asyncpg connection.
    return cast(Driver, raw.driver_connection)


def unusable(driver: Driver, error: BaseException) -> bool:
    """Whether a connection that saw `error` may be in a state the next user must not get."""
    if not isinstance(error, Exception):  # cancelled mid-statement, or shutting down
        return True
    if is_unavailable(error):
        return True
    return bool(driver.is_closed() or driver.is_in_transaction())


async def discard(conn: AsyncConnection) -> None:
    """Drop a connection whose state is unknown instead of returning it to the pool.

    SQLAlchemy's reset-on-return cannot see a transaction asyncpg started itself: after
    an error or a cancellation mid-statement the connection could still be busy, in a
    transaction, or dead (a database restart).
    """
    with anyio.CancelScope(shield=True):
        await conn.invalidate()


@asynccontextmanager
async def checked_out(engine: AsyncEngine) -> AsyncIterator[Driver]:
    """A connection checked out of `engine`'s pool for this use only, and dropped rather
    than given back if it is left in a state the next user must not get."""
    # engine.connect(), not engine.raw_connection(): the latter's synchronous close()
    # returns the connection to the pool by blocking the event loop.
    async with engine.connect() as conn:
        driver = await driver_of(conn)
        try:
            yield driver
        except BaseException as error:
            if unusable(driver, error):
                await discard(conn)
            raise


@dataclass
class _Held:
    conn: AsyncConnection
    driver: Driver
    since: float
    generation: int


class Drivers:
    """Up to `size` connections checked out of `engine`'s pool, lent one at a time."""

    def __init__(
        self, engine: AsyncEngine, size: int, *, recycle_seconds: float = RECYCLE_SECONDS
    ) -> None:
        # Weak: the engines' registry (`drivers_of`) must not keep an engine alive.
        self._engine = weakref.ref(engine)
        self.size = size
        self._recycle_seconds = recycle_seconds
        self._idle: list[_Held] = []
        self._count = 0
        """Connections checked out for lending: idle, lent, or being opened."""
        self._waiters: deque[asyncio.Future[_Held | None]] = deque()
        self._generation = 0
        """Bumped when the engine is disposed: what was checked out before is closed."""
        event.listen(engine.sync_engine, "engine_disposed", self._disposed)

    @property
    def idle(self) -> int:
        return len(self._idle)

    @asynccontextmanager
    async def driver(self) -> AsyncIterator[Driver]:
        """A connection for a statement or two, outside any transaction."""
        if self.size == 0:
            async with checked_out(self._live_engine()) as driver:
                yield driver
            return
        held = await self._acquire()
        try:
            yield held.driver
        except BaseException as error:
            if unusable(held.driver, error):
                await self._drop(held)
            else:
                await self._give_back(held)
            raise
        await self._give_back(held)

    async def _acquire(self) -> _Held:
        while True:
            if self._idle:
                kept = self._idle.pop()
                if not self._aged(kept):
                    return kept
                await self._recycle(kept)
                continue
            if self._count < self.size:
                return await self._open()
            waiter: asyncio.Future[_Held | None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                handed_over = await waiter
            except BaseException:
                if not waiter.done():
                    self._waiters.remove(waiter)
                elif not waiter.cancelled():
                    # Handed over just as this task was cancelled: pass it on.
                    handed = waiter.result()
                    if handed is None:
                        self._wake()
                    else:
                        await self._give_back(handed)
                raise
            if handed_over is not None:
                return handed_over
            # None: a connection was dropped, and its place is this task's to fill.

    async def _open(self) -> _Held:
        engine = self._live_engine()
        self._count += 1
        generation = self._generation
        try:
            conn = await engine.connect()
            try:
                driver = await driver_of(conn)
            except BaseException:
                await discard(conn)
                raise
        except BaseException:
            if generation == self._generation:  # else the engine's disposal reset the count
                self._count -= 1
            self._wake()
            raise
        return _Held(conn, driver, time.monotonic(), generation)

    def _live_engine(self) -> AsyncEngine:
        engine = self._engine()
        if engine is None:
            raise RuntimeError("the engine of these connections is gone")
        return engine

    async def _give_back(self, held: _Held) -> None:
        if held.generation != self._generation:
            # Checked out before the engine was disposed: closed, not lent again.
            try:
                await discard(held.conn)
            finally:
                self._wake()
            return
        if self._aged(held):
            await self._recycle(held)
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(held)
                return
        self._idle.append(held)

    def _aged(self, held: _Held) -> bool:
        return time.monotonic() - held.since >= self._recycle_seconds

    async def _recycle(self, held: _Held) -> None:
        """Give `held` back to the pool, which replaces it once it is past `pool_recycle`."""
        self._count -= 1
        try:
            with anyio.CancelScope(shield=True):
                await held.conn.close()
        except Exception as error:
            # SQLAlchemy drops a connection that fails on its way back; the statement
            # it served succeeded all the same.
            logger.warning("a database connection failed on its way back: %s", type(error).__name__)
        finally:
            self._wake()

    async def _drop(self, held: _Held) -> None:
        if held.generation == self._generation:
            self._count -= 1
        try:
            await discard(held.conn)
        finally:
            self._wake()

    def _wake(self) -> None:
        """Tell one waiting task that a place is free (it opens a connection itself)."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _disposed(self, *_: Any) -> None:
        """The engine was disposed: close the idle connections, and the lent ones when
        they come back. Runs inside `AsyncEngine.dispose`, where SQLAlchemy's synchronous
        calls may await the driver."""
        self._generation += 1
        idle, self._idle = self._idle, []
        self._count = 0
        for held in idle:
            if (sync := held.conn.sync_connection) is not None:
                sync.invalidate()
        while self._waiters:
            self._wake()


_registry: weakref.WeakKeyDictionary[AsyncEngine, Drivers] = weakref.WeakKeyDictionary()


def drivers_of(engine: AsyncEngine) -> Drivers:
    """The lent connections of `engine` (made on first use: half its pool size)."""
    drivers = _registry.get(engine)
    if drivers is None:
        size = cast(Any, engine.sync_engine.pool).size() // 2
        drivers = _registry[engine] = Drivers(engine, size)
    return drivers


__all__ = [
    "RECYCLE_SECONDS",
    "Driver",
    "Drivers",
    "checked_out",
    "discard",
    "driver_of",
    "drivers_of",
    "unusable",
]
