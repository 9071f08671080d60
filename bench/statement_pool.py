"""CPU per one-statement round trip: a connection lent from asyncpg's own pool (db/drivers.py,
as every chat turn's statements are), against one checked out of SQLAlchemy's async pool
and back in for each statement.

50 concurrent tasks send the chat's thread read (`SELECT chat_thread($1, $2)`, the statement a
later turn sends first) one statement at a time, outside any transaction, on a pool size of
10 (half of it lent). This process's CPU time per statement (the database's own is not
counted), STATEMENTS statements a batch, three alternating batches.

Target: ours at most half the checkout's: lending from a pool of its own must keep
paying for the second pool beside SQLAlchemy's.

    uv run python bench/statement_pool.py
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy.ext.asyncio import AsyncEngine

from bench._support import alternating_batches, database, median_ratio
from taskchat.db.drivers import Driver, checked_out, drivers_of
from taskchat.db.engine import create_engine

CONCURRENCY = 50
STATEMENTS = 20_000
BATCHES = 3
POOL_SIZE = 10
TARGET = 0.5

Lend = Callable[[], AbstractAsyncContextManager[Driver]]


async def per_statement(lend: Lend) -> float:
    """Seconds of this process's CPU per statement, CONCURRENCY tasks sending them."""
    left = STATEMENTS

    async def sender() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            async with lend() as conn:
                await conn.fetchval("SELECT chat_thread($1, $2)", "bench-user", "thr_missing")

    start = time.process_time()
    await asyncio.gather(*(sender() for _ in range(CONCURRENCY)))
    return (time.process_time() - start) / STATEMENTS


async def compare(engine: AsyncEngine) -> list[float]:
    lenders: dict[str, Lend] = {
        "lent": drivers_of(engine).driver,
        "checkout": lambda: checked_out(engine),
    }
    for lend in lenders.values():  # warm-up: connections, prepared statements
        await per_statement(lend)

    async def measure(name: str) -> float:
        return await per_statement(lenders[name])

    return await alternating_batches(measure, "lent", "checkout", BATCHES, "statement")


def main() -> None:
    with database() as url:

        async def run() -> list[float]:
            engine = create_engine(url, pool_size=POOL_SIZE)
            try:
                return await compare(engine)
            finally:
                await engine.dispose()

        ratios = asyncio.run(run())
    median = median_ratio(ratios, "lent/checkout", TARGET)
    sys.exit(0 if median <= TARGET else 1)


if __name__ == "__main__":
    main()
