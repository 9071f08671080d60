"""The connections of one-statement round trips: asyncpg's own pool, beside SQLAlchemy's.

A chat turn sends its statements one at a time, outside any transaction (see SCOPED_ROW in
db/engine.py). Checking a connection out of SQLAlchemy's async pool and back in for each
costs several times the statement itself: a task, greenlet switches and the pool's
bookkeeping. asyncpg's own pool lends one without them. docs/performance.md says why this
maintained pool serves them rather than a lending layer of our own.

The process's connection budget stays one setting: `create_engine` gives this pool half of
DATABASE_POOL_SIZE and SQLAlchemy's pool (the Core transactions of tasks and accounts, the
revocation watch's LISTEN) the rest, with the overflow. A pool of one lends none here: each
statement then checks its connection out of SQLAlchemy's pool and back in.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
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
"""SQLAlchemy's pool replaces a connection older than this (`pool_recycle`)."""

IDLE_SECONDS = 300.0
"""asyncpg's pool closes a connection idle this long (and opens one again when needed), so
none sits idle long enough for a firewall or NAT on the way to drop it silently; it has no
limit on a connection's age."""

WAIT_SECONDS = 30.0
"""How long a statement waits for a connection to be free, as with SQLAlchemy's pool
(`pool_timeout`); then it fails as the database being unreachable does."""

CLOSE_SECONDS = 5.0
"""How long closing the pool waits for statements still running."""


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


async def _json_codecs(connection: Driver) -> None:
    """json and jsonb as SQLAlchemy's asyncpg dialect sets them on its connections (JSON
    text in, Python values out), so a statement reads the same from either pool."""

    def jsonb_encoder(value: str) -> bytes:
        # The binary jsonb format starts with its version byte.
        return b"\x01" + value.encode()

    def jsonb_decoder(value: bytes) -> Any:
        return json.loads(value[1:].decode())

    def json_decoder(value: bytes) -> Any:
        return json.loads(value.decode())

    await connection.set_type_codec(
        "json", encoder=str.encode, decoder=json_decoder, schema="pg_catalog", format="binary"
    )
    await connection.set_type_codec(
        "jsonb", encoder=jsonb_encoder, decoder=jsonb_decoder, schema="pg_catalog", format="binary"
    )


async def _no_reset(connection: Driver) -> None:
    """What asyncpg's pool runs on a connection given back, after its own local clean-up
    (an open transaction is rolled back there): nothing. Its default, a `RESET ALL` and more,
    is a round trip per statement lent, and the statements lent here leave no session state
    behind: each sets the row-level-security setting for itself, transaction-local."""


def _connect_args(engine: AsyncEngine) -> dict[str, Any]:
    """What SQLAlchemy's asyncpg dialect passes to `asyncpg.connect` for `engine`'s URL, so
    both pools reach the same server the same way (a socket directory, `?ssl=`, ...)."""
    _, params = engine.dialect.create_connect_args(engine.url)
    # Two of the dialect's own: the size of its cache of prepared statements is the one
    # asyncpg keeps per connection here (0 behind a transaction-mode PgBouncer), and its
    # naming of prepared statements can only come from connect_args, which create_engine
    # never sets.
    if (cache_size := params.pop("prepared_statement_cache_size", None)) is not None:
        params["statement_cache_size"] = int(cache_size)
    params.pop("prepared_statement_name_func", None)
    return dict(params)


QueryLogger = Callable[[Any], None]
"""Told of every statement a lent connection sends (asyncpg's query logger)."""


class Drivers:
    """asyncpg's pool of up to `size` connections to `engine`'s database, for statements
    sent one at a time; opened on first use (or by `warm`), closed by `aclose` or when the
    engine is disposed."""

    def __init__(
        self,
        engine: AsyncEngine,
        size: int,
        *,
        idle_seconds: float = IDLE_SECONDS,
        wait_seconds: float = WAIT_SECONDS,
    ) -> None:
        # Weak: the engines' registry (`drivers_of`) must not keep an engine alive.
        self._engine = weakref.ref(engine)
        self.size = size
        self._idle_seconds = idle_seconds
        self._wait_seconds = wait_seconds
        self._connect_args = _connect_args(engine)
        self._pool: asyncpg.Pool[asyncpg.Record] | None = None
        self._opening = asyncio.Lock()
        self._loggers: list[QueryLogger] = []
        event.listen(engine.sync_engine, "engine_disposed", self._disposed)

    @property
    def idle(self) -> int:
        """Connections open and free to lend."""
        return self._pool.get_idle_size() if self._pool is not None else 0

    @property
    def open(self) -> int:
        """Connections open, lent or free."""
        return self._pool.get_size() if self._pool is not None else 0

    def add_query_logger(self, logger: QueryLogger) -> None:
        """Tell `logger` of every statement sent on a connection lent from now on."""
        self._loggers.append(logger)

    @asynccontextmanager
    async def driver(self) -> AsyncIterator[Driver]:
        """A connection for a statement or two, outside any transaction."""
        if self.size == 0:
            async with checked_out(self._live_engine()) as driver:
                for logger in self._loggers:
                    driver.add_query_logger(logger)
                yield driver
            return
        pool = self._pool if self._pool is not None else await self._open()
        # Only the wait for a free connection is bounded: asyncpg's own acquire(timeout=)
        # would run each acquisition in a task of its own.
        async with asyncio.timeout(self._wait_seconds):
            lent = await pool.acquire()
        try:
            connection = cast(Driver, lent)
            for logger in self._loggers:
                # A set inside asyncpg: adding the same logger again changes nothing.
                connection.add_query_logger(logger)
            yield connection
        finally:
            await pool.release(lent)

    async def warm(self, connections: int) -> None:
        """Open up to `connections` of them now, so the first requests are not slow."""
        count = min(connections, self.size)
        if count == 0:
            return
        pool = self._pool if self._pool is not None else await self._open()
        async with AsyncExitStack() as held:
            # Held together, or the pool would lend the same connection each time.
            for _ in range(count):
                await held.enter_async_context(pool.acquire())

    async def aclose(self, grace: float = CLOSE_SECONDS) -> None:
        """Close the pool, letting statements still running finish for up to `grace`
        seconds; then its connections are closed at once. A statement that starts
        meanwhile opens a pool again, which disposing of the engine closes."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            await asyncio.wait_for(pool.close(), grace)
        except TimeoutError:
            pool.terminate()

    async def _open(self) -> asyncpg.Pool[asyncpg.Record]:
        async with self._opening:
            if self._pool is None:
                # With min_size=0 making the pool opens no connection: a disposal cannot
                # come between making it and keeping it.
                self._pool = await asyncpg.create_pool(
                    **self._connect_args,
                    min_size=0,
                    max_size=self.size,
                    max_inactive_connection_lifetime=self._idle_seconds,
                    init=_json_codecs,
                    reset=_no_reset,
                )
            return self._pool

    def _live_engine(self) -> AsyncEngine:
        engine = self._engine()
        if engine is None:
            raise RuntimeError("the engine of these connections is gone")
        return engine

    def _disposed(self, *_: Any) -> None:
        """The engine was disposed (without `aclose` first, which `close_engine` in
        db/engine.py calls): its connections here are closed at once, a statement
        still running on one fails (as nothing should be, once the app has stopped), and
        the next statement opens the pool again, as a disposed engine's pool does."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.terminate()


_registry: weakref.WeakKeyDictionary[AsyncEngine, Drivers] = weakref.WeakKeyDictionary()


def lend(engine: AsyncEngine, size: int) -> Drivers:
    """Lend up to `size` connections to `engine`'s database for one-statement round trips
    (`create_engine` calls it with its share of the pool size)."""
    drivers = _registry[engine] = Drivers(engine, size)
    return drivers


def drivers_of(engine: AsyncEngine) -> Drivers:
    """The connections `engine`'s one-statement round trips are lent from (none for an
    engine not made by `create_engine`: its statements check out from its own pool)."""
    drivers = _registry.get(engine)
    return drivers if drivers is not None else lend(engine, 0)


__all__ = [
    "CLOSE_SECONDS",
    "IDLE_SECONDS",
    "RECYCLE_SECONDS",
    "WAIT_SECONDS",
    "Driver",
    "Drivers",
    "QueryLogger",
    "checked_out",
    "discard",
    "driver_of",
    "drivers_of",
    "lend",
    "unusable",
]
