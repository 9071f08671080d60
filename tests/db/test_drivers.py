"""The connections lent for one-statement round trips (db/drivers.py), on the real database:
lent again for the next statement, never more than half the pool size, within the process's
one budget, dropped when broken (those waiting still served), reading JSON as SQLAlchemy's
connections do, reaching the server as the URL says, warmed at start-up, and closed with the
engine (gracefully, or at once when disposed)."""

from __future__ import annotations

import asyncio
import json
from typing import cast

import asyncpg
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from taskchat.db.drivers import Drivers, drivers_of
from taskchat.db.engine import (
    close_engine,
    create_engine,
    pooled_driver,
    user_transaction_raw,
    warm_pool,
)
from taskchat.db.errors import is_unavailable


async def backend(engine: AsyncEngine, hold: float = 0.0) -> int:
    """The server process id of the connection a statement gets, held for `hold` s."""
    async with pooled_driver(engine) as conn:
        pid: int = await conn.fetchval("SELECT pg_backend_pid()")
        if hold:
            await conn.execute("SELECT pg_sleep($1)", hold)
        return pid


def checked_out(engine: AsyncEngine) -> int:
    """Connections out of SQLAlchemy's pool (create_engine's pool is a queue pool)."""
    return cast(QueuePool, engine.sync_engine.pool).checkedout()


async def superuser(superuser_url: str) -> asyncpg.Connection:
    return await asyncpg.connect(superuser_url.replace("+asyncpg", ""))


async def alive(superuser_url: str, pid: int) -> bool:
    conn = await superuser(superuser_url)
    try:
        return bool(
            await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid)
        )
    finally:
        await conn.close()


async def test_a_statements_connection_is_lent_again_for_the_next(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=4)
    try:
        first = await backend(engine)
        # Lent from its own pool, not SQLAlchemy's, and free again for the next statement.
        assert checked_out(engine) == 0
        assert drivers_of(engine).idle == 1
        assert await backend(engine) == first
    finally:
        await engine.dispose()


async def test_at_most_half_the_pool_size_at_once_and_every_statement_served(
    database_url: str,
) -> None:
    engine = create_engine(database_url, pool_size=4, max_overflow=10)
    try:
        pids = await asyncio.gather(*(backend(engine, hold=0.05) for _ in range(12)))
        assert len(pids) == 12
        assert len(set(pids)) == 2
        assert drivers_of(engine).open == 2 and checked_out(engine) == 0
    finally:
        await engine.dispose()


async def test_the_process_holds_no_more_connections_than_its_pool_size_and_overflow(
    database_url: str,
) -> None:
    # One budget, tuned once: statements and Core transactions at once, each side busy.
    engine = create_engine(database_url, pool_size=4, max_overflow=1)
    pool, lent = cast(QueuePool, engine.sync_engine.pool), drivers_of(engine)
    peak = 0

    async def transaction() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT pg_sleep(0.2)"))

    async def watch() -> None:
        nonlocal peak
        for _ in range(15):
            peak = max(peak, pool.checkedout() + pool.checkedin() + lent.open)
            await asyncio.sleep(0.02)

    try:
        await asyncio.gather(
            watch(),
            *(backend(engine, hold=0.2) for _ in range(8)),
            *(transaction() for _ in range(8)),
        )
        # Two lent, two pooled, one overflow.
        assert peak == 5
    finally:
        await engine.dispose()


async def test_a_broken_connection_is_dropped_and_those_waiting_are_served(
    database_url: str, superuser_database_url: str
) -> None:
    engine = create_engine(database_url, pool_size=2)  # one connection to lend
    admin = await superuser(superuser_database_url)
    try:
        broken = await backend(engine)
        holding = asyncio.Event()

        async def cut_off() -> None:
            async with pooled_driver(engine) as conn:
                holding.set()
                await admin.execute("SELECT pg_terminate_backend($1)", broken)
                await asyncio.sleep(0.2)  # the server has closed it by now
                await conn.fetchval("SELECT 1")

        first = asyncio.create_task(cut_off())
        await holding.wait()
        waiting = [asyncio.create_task(backend(engine)) for _ in range(3)]
        with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, OSError)):
            await first
        pids = await asyncio.wait_for(asyncio.gather(*waiting), timeout=10)
        assert broken not in pids and len(set(pids)) == 1
        assert drivers_of(engine).idle == 1
    finally:
        await admin.close()
        await engine.dispose()


async def test_a_statement_cancelled_midway_leaves_its_connection_usable(
    database_url: str,
) -> None:
    engine = create_engine(database_url, pool_size=2)  # one connection to lend
    try:
        slow = asyncio.create_task(backend(engine, hold=30))
        await asyncio.sleep(0.2)
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        # The next statement is answered at once: the cancelled one no longer runs.
        assert await asyncio.wait_for(backend(engine), timeout=5)
    finally:
        await engine.dispose()


async def test_a_waiter_cancelled_as_it_is_served_passes_the_connection_on(
    database_url: str,
) -> None:
    engine = create_engine(database_url, pool_size=2)  # one connection to lend
    try:
        release = asyncio.Event()

        async def hold() -> None:
            async with pooled_driver(engine):
                await release.wait()

        holder = asyncio.create_task(hold())
        await asyncio.sleep(0)
        given_up = asyncio.create_task(backend(engine))
        await asyncio.sleep(0.01)
        release.set()
        # The connection is handed to the waiter, which is cancelled before it runs.
        await holder
        given_up.cancel()
        with pytest.raises(asyncio.CancelledError):
            await given_up
        assert await asyncio.wait_for(backend(engine), timeout=5)
    finally:
        await engine.dispose()


async def test_lent_connections_read_and_write_json_as_sqlalchemys_connections_do(
    database_url: str,
) -> None:
    engine = create_engine(database_url, pool_size=4)
    value = {"title": "Milk ü", "tags": [1, None, True], "nested": {"a": 1.5}}
    query = "SELECT $1::jsonb, $2::json, '[1, {\"x\": null}]'::jsonb"
    try:
        async with pooled_driver(engine) as lent:
            row = await lent.fetchrow(query, json.dumps(value), json.dumps(value))
            assert row is not None
            from_lent = tuple(row)
        async with user_transaction_raw(engine, "anyone") as pooled:
            row = await pooled.fetchrow(query, json.dumps(value), json.dumps(value))
            assert row is not None
            from_pool = tuple(row)
        assert from_lent == from_pool == (value, value, [1, {"x": None}])
    finally:
        await engine.dispose()


async def test_disposing_the_engine_closes_the_lent_connections(
    database_url: str, superuser_database_url: str
) -> None:
    engine = create_engine(database_url, pool_size=4)
    try:
        pid = await backend(engine)
        await engine.dispose()
        for _ in range(50):
            if not await alive(superuser_database_url, pid):
                break
            await asyncio.sleep(0.05)
        assert not await alive(superuser_database_url, pid)
        # A disposed engine still serves (with new connections), as SQLAlchemy's does.
        assert await backend(engine) != pid
    finally:
        await engine.dispose()


async def test_a_pool_of_one_lends_nothing(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        await backend(engine)
        assert drivers_of(engine).open == 0 and checked_out(engine) == 0
        async with engine.connect():  # the only connection is the pool's to give
            assert checked_out(engine) == 1
    finally:
        await engine.dispose()


async def test_an_idle_connection_is_closed_after_its_idle_time(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=1)
    drivers = Drivers(engine, 2, idle_seconds=0.05)
    try:
        async with drivers.driver() as conn:
            first = await conn.fetchval("SELECT pg_backend_pid()")
        assert drivers.open == 1
        await asyncio.sleep(0.3)
        assert drivers.open == 0
        async with drivers.driver() as conn:  # and a new one is opened when needed
            assert await conn.fetchval("SELECT pg_backend_pid()") != first
    finally:
        await engine.dispose()


async def test_lent_connections_take_the_urls_own_connect_arguments(database_url: str) -> None:
    # Query arguments of SQLAlchemy's dialect, which asyncpg would otherwise send to the
    # server as settings it does not know.
    url = make_url(database_url).update_query_dict(
        {"ssl": "disable", "prepared_statement_cache_size": "0"}
    )
    engine = create_engine(url.render_as_string(hide_password=False), pool_size=4)
    try:
        async with pooled_driver(engine) as conn:
            assert (
                await conn.fetchval("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                is False
            )
            await conn.fetchval("SELECT $1::int", 1)
            # No statement kept prepared on the server (what a PgBouncer in transaction
            # mode needs), as SQLAlchemy's connections are told by the same argument.
            assert await conn.fetchval("SELECT count(*) FROM pg_prepared_statements") == 0
        assert drivers_of(engine).open == 1
    finally:
        await engine.dispose()


async def test_warming_opens_connections_in_both_pools(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=6)
    try:
        await warm_pool(engine, 2)
        assert drivers_of(engine).idle == 2
        assert cast(QueuePool, engine.sync_engine.pool).checkedin() == 2
    finally:
        await engine.dispose()


async def test_closing_lets_a_running_statement_finish_then_closes_its_connection(
    database_url: str, superuser_database_url: str
) -> None:
    engine = create_engine(database_url, pool_size=4)
    try:
        pid = await backend(engine)
        running = asyncio.create_task(backend(engine, hold=0.3))
        await asyncio.sleep(0.1)
        await close_engine(engine)
        assert await running == pid
        assert not await alive(superuser_database_url, pid)
    finally:
        await engine.dispose()


async def test_closing_cuts_a_statement_that_runs_past_the_wait(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=4)
    try:
        running = asyncio.create_task(backend(engine, hold=3))
        await asyncio.sleep(0.1)
        await asyncio.wait_for(drivers_of(engine).aclose(grace=0.2), timeout=5)
        with pytest.raises((asyncpg.InterfaceError, asyncpg.PostgresError, OSError)):
            await asyncio.wait_for(running, timeout=5)
    finally:
        await engine.dispose()


async def test_a_connection_opening_as_the_engine_is_disposed_is_closed_not_lent(
    database_url: str,
) -> None:
    engine = create_engine(database_url, pool_size=4)
    try:
        opening = asyncio.create_task(backend(engine))
        await asyncio.sleep(0)  # now connecting
        await engine.dispose()
        with pytest.raises(asyncpg.InterfaceError, match="closing"):
            await opening
        assert drivers_of(engine).open == 0
        assert await backend(engine)  # the next statement opens the pool again
    finally:
        await engine.dispose()


async def test_a_statement_that_cannot_get_a_connection_in_time_is_told_unavailable(
    database_url: str,
) -> None:
    engine = create_engine(database_url, pool_size=1)
    drivers = Drivers(engine, 1, wait_seconds=0.1)
    try:
        async with drivers.driver():
            with pytest.raises(TimeoutError) as waited:
                async with drivers.driver():
                    pass
        assert is_unavailable(waited.value)
    finally:
        await drivers.aclose()
        await engine.dispose()
