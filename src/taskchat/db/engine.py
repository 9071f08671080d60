"""The async engine and user-scoped transactions, in the two styles Taskchat queries with.

- `user_transaction`: a SQLAlchemy Core connection (tasks, accounts: typed statements
  over the `Table`s of `db/tables.py`).
- `user_transaction_raw` and `pooled_driver`: an asyncpg connection itself, for the chat
  store's statements, which every turn makes several of (SQL text, `$1` parameters; see
  the store).

Transactions check their connections out of SQLAlchemy's pool; `pooled_driver`'s
statements, sent one at a time, borrow from asyncpg's (db/drivers.py). `create_engine`
splits one pool size between the two.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import QueuePool

from taskchat.db.drivers import RECYCLE_SECONDS, Driver, checked_out, driver_of, drivers_of, lend

USER_SETTING = "taskchat.user_id"
"""The per-transaction setting that the row-level security policies compare with."""

OPERATOR_SETTING = "taskchat.operator"
"""Set to 'on' only by operator work that spans users (commands such as a feedback
export, the attachment sweep), never while serving a request. A table's `<table>_operator`
policy, where a migration creates one, lets such a transaction see every user's rows; the
policy says what it allows (SELECT only, or DELETE too)."""


def create_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10) -> AsyncEngine:
    """An asyncpg engine with a fixed-size pool, and `pool_size` split between it and the
    connections lent for one-statement round trips (db/drivers.py): half of it there, the
    rest, with the overflow, in SQLAlchemy's pool.

    No pre-ping: it would cost a round trip per transaction. A connection that broke
    while pooled (a database restart) fails one statement and is then dropped: by
    asyncpg's pool itself, or by `discard` (db/drivers.py) from SQLAlchemy's.
    """
    lent = pool_size // 2
    engine = create_async_engine(
        url,
        pool_size=pool_size - lent,
        max_overflow=max_overflow,
        pool_recycle=RECYCLE_SECONDS,
        # Bound parameters (message text, emails) stay out of exception text, and so out
        # of any log line that prints an error.
        hide_parameters=True,
    )
    lend(engine, lent)
    return engine


@asynccontextmanager
async def user_transaction(
    engine: AsyncEngine, user_id: str, *, locked: bool = False
) -> AsyncIterator[AsyncConnection]:
    """A transaction in which row-level security sees only `user_id`'s rows.

    `locked` also takes the user's transaction-level advisory lock, as
    `user_transaction_raw` does (the same lock: either waits for the other).
    """
    async with engine.begin() as conn:
        # is_local=true: the setting ends with the transaction, so a pooled connection
        # never carries one user's id into another user's request.
        await conn.execute(
            _LOCKED_SCOPE_CORE if locked else _SCOPE_CORE,
            {"name": USER_SETTING, "value": user_id},
        )
        yield conn


_SCOPE_CORE = text("SELECT set_config(:name, :value, true)")
_LOCKED_SCOPE_CORE = text(
    "SELECT set_config(:name, :value, true), pg_advisory_xact_lock(hashtextextended(:value, 0))"
)


async def warm_pool(engine: AsyncEngine, connections: int) -> None:
    """Open up to `connections` connections now in each of the two pools (no more than it
    holds), so the first requests are not slow."""
    conns: list[AsyncConnection] = []
    try:
        for _ in range(min(connections, cast(QueuePool, engine.sync_engine.pool).size())):
            conn = await engine.connect()
            conns.append(conn)
            await conn.execute(text("SELECT 1"))
    finally:
        for conn in conns:
            await conn.close()
    await drivers_of(engine).warm(connections)


async def close_engine(engine: AsyncEngine) -> None:
    """Close the connections lent for one-statement round trips (statements still running
    may finish for a few seconds), then the engine's own pool."""
    try:
        await drivers_of(engine).aclose()
    finally:
        await engine.dispose()


@asynccontextmanager
async def user_transaction_raw(
    engine: AsyncEngine, user_id: str, *, locked: bool = False
) -> AsyncIterator[Driver]:
    """Like `user_transaction`, but yields the pooled asyncpg connection itself.

    `locked` also takes the user's transaction-level advisory lock, in the same round
    trip: the user's other `locked` transactions, on any replica, wait for this one.

    For hot paths: the same transaction costs a fraction of what it costs through
    SQLAlchemy Core (bench/chatkit_overhead.py). The pool, its size and its lifecycle stay
    SQLAlchemy's.
    Parameters are `$1`-style; jsonb takes JSON text and returns Python values (the codec
    SQLAlchemy installs on its asyncpg connections).
    """
    async with _raw_transaction(engine, _LOCKED_SCOPE if locked else _SCOPE, user_id) as driver:
        yield driver


@asynccontextmanager
async def operator_transaction_raw(engine: AsyncEngine) -> AsyncIterator[Driver]:
    """A transaction that the `*_operator` policies open to every user's rows.

    Only for operator work across users: a request always runs in `user_transaction_raw`,
    whose rows are one user's. Row-level security still limits this transaction to what
    each table's operator policy allows.
    """
    async with _raw_transaction(engine, _OPERATOR_SCOPE) as driver:
        yield driver


@asynccontextmanager
async def _raw_transaction(engine: AsyncEngine, scope: str, *args: str) -> AsyncIterator[Driver]:
    """A transaction on the pooled asyncpg connection that runs `scope` first."""
    async with checked_out(engine) as driver, driver.transaction():
        await driver.execute(scope, *args)
        yield driver


_SCOPE = f"SELECT set_config('{USER_SETTING}', $1, true)"
_OPERATOR_SCOPE = f"SELECT set_config('{OPERATOR_SETTING}', 'on', true)"
_LOCKED_SCOPE = f"{_SCOPE}, pg_advisory_xact_lock(hashtextextended($1, 0))"

SCOPED_ROW = f"(SELECT set_config('{USER_SETTING}', $1, true)) AS scope"
"""FROM clause for a one-statement write whose `$1` is the user id.

`INSERT ... SELECT <values> FROM {SCOPED_ROW}` sets the row-level-security setting
while producing the row it then inserts, so the policy's check sees it, in one round
trip without BEGIN/COMMIT; the setting ends with the statement's own transaction.
"""


@asynccontextmanager
async def pooled_driver(engine: AsyncEngine) -> AsyncIterator[Driver]:
    """A pooled asyncpg connection, outside any transaction (see SCOPED_ROW); one of
    those lent for such statements (db/drivers.py)."""
    async with drivers_of(engine).driver() as driver:
        yield driver


@asynccontextmanager
async def dedicated_driver(engine: AsyncEngine) -> AsyncIterator[Driver]:
    """An asyncpg connection made as the pool makes them, but taken out of it for good: for
    work that holds a connection for as long as the app runs (a LISTEN). Closed (abruptly:
    nothing is left to finish on it) at the end."""
    async with engine.connect() as conn:
        driver = await driver_of(conn)
        # Detached: the pool may open another in its place, and never hands this one out.
        await conn.run_sync(lambda sync: sync.detach())
        try:
            yield driver
        finally:
            # Not close(): on a connection whose peer went silent that waits for a reply.
            driver.terminate()
