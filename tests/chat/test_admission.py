"""TurnLimiter on the real database: admissions that race, from two replicas' engines,
never take more slots than the limit allows; released slots come back, at once to their
own replica and soon to the others."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import asyncpg
import pytest

from taskchat.chat.admission import (
    END_WRITE_SECONDS,
    RETRY_SECONDS,
    Admission,
    TooManyTurnsError,
    TurnLease,
    TurnLimiter,
)
from taskchat.db.engine import create_engine
from tests.support.eventually import eventually, holds
from tests.support.statements import counted


@asynccontextmanager
async def two_replicas(
    database_url: str, *, per_minute: int, concurrent: int
) -> AsyncIterator[tuple[TurnLimiter, TurnLimiter]]:
    """Two replicas' limiters, each with its engine (disposed after)."""
    engines = [create_engine(database_url, pool_size=2) for _ in range(2)]
    try:
        here, there = (
            TurnLimiter(engine, per_minute=per_minute, concurrent=concurrent, lease_seconds=60)
            for engine in engines
        )
        yield here, there
    finally:
        for engine in engines:
            await engine.dispose()


async def test_racing_admissions_across_replicas_never_pass_the_limit(
    database_url: str, new_user: Callable[[], str]
) -> None:
    engines = [create_engine(database_url, pool_size=10) for _ in range(2)]
    replicas = [
        TurnLimiter(engine, per_minute=0, concurrent=3, lease_seconds=60) for engine in engines
    ]
    user = new_user()

    async def try_once(n: int) -> TurnLease | None:
        try:
            return await replicas[n % 2].admit(user)
        except TooManyTurnsError:
            return None

    try:
        leases = [lease for lease in await asyncio.gather(*map(try_once, range(20))) if lease]
        assert len(leases) == 3
        leases[0].release()
        await replicas[0].write_ended()
        assert await replicas[1].admit(user)
    finally:
        for engine in engines:
            await engine.dispose()


async def test_turns_a_minute_say_when_the_next_one_fits(
    database_url: str, new_user: Callable[[], str]
) -> None:
    engine = create_engine(database_url, pool_size=2)
    limiter = TurnLimiter(engine, per_minute=2, concurrent=0, lease_seconds=60)
    user = new_user()
    try:
        for _ in range(2):
            (await limiter.admit(user)).release()
        try:
            await limiter.admit(user)
            raise AssertionError("a third turn in the minute was admitted")
        except TooManyTurnsError as refused:
            wait = int(refused.headers["Retry-After"])
            assert 55 <= wait <= 60 and f"{wait} seconds" in refused.detail
    finally:
        await engine.dispose()


async def test_an_ended_stream_gives_its_slot_back_here_at_once_and_elsewhere_soon(
    database_url: str, new_user: Callable[[], str]
) -> None:
    user = new_user()
    async with two_replicas(database_url, per_minute=0, concurrent=1) as (here, there):
        (await here.admit(user)).release()
        # Here: the next admission leaves out the end not written yet, with no wait.
        (await here.admit(user)).release()
        # Elsewhere: once the end is written with the others, within END_WRITE_SECONDS.
        for _ in range(100):
            try:
                taken = await there.admit(user)
                break
            except TooManyTurnsError:
                await asyncio.sleep(END_WRITE_SECONDS / 2)
        else:
            raise AssertionError("the other replica never saw the slot given back")
        taken.release()
        # At shutdown, what ended is written before the database closes.
        await there.aclose()
        assert await here.admit(user)


async def test_ends_of_many_users_are_written_in_one_statement(
    database_url: str, new_user: Callable[[], str]
) -> None:
    engine = create_engine(database_url, pool_size=4)
    # The other replica has an engine of its own: this one's statements are counted.
    other_engine = create_engine(database_url, pool_size=2)
    replica = TurnLimiter(engine, per_minute=0, concurrent=1, lease_seconds=60)
    elsewhere = TurnLimiter(other_engine, per_minute=0, concurrent=1, lease_seconds=60)
    users = [new_user() for _ in range(3)]
    sent = counted(engine)
    try:
        leases = [await replica.admit(user) for user in users]
        for lease in leases:
            lease.release()
        await replica.write_ended()
        # asyncpg tells its query loggers just after each statement.
        await eventually(holds(lambda: any("end_turns" in each for each in sent)), "ends written")
        # (asyncpg's own type lookups, once per connection, aside.)
        assert [each for each in sent if "chat_" in each and "admit" not in each] == [
            "SELECT chat_end_turns($1, $2, $3, $4)"
        ]
        for user in users:
            assert await elsewhere.admit(user)  # each slot is back
    finally:
        await engine.dispose()
        await other_engine.dispose()


async def test_a_withdrawn_slot_counts_against_neither_limit(
    database_url: str, new_user: Callable[[], str]
) -> None:
    user = new_user()
    async with two_replicas(database_url, per_minute=1, concurrent=1) as (here, there):
        (await here.admit(user)).withdraw()
        await here.write_ended()
        (await there.admit(user)).release()  # the minute's one turn, still free
        await there.write_ended()
        with pytest.raises(TooManyTurnsError, match="a minute"):
            await here.admit(user)


async def test_a_failed_write_of_ends_is_tried_again(
    database_url: str, new_user: Callable[[], str]
) -> None:
    user = new_user()
    end_turns = "chat_end_turns(text[], text[], boolean[], interval)"
    admin = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        async with two_replicas(database_url, per_minute=0, concurrent=1) as (here, there):
            (await here.admit(user)).release()
            await admin.execute(f"ALTER FUNCTION {end_turns} RENAME TO chat_end_turns_gone")
            try:
                await here.write_ended()  # fails: the function is gone
                with pytest.raises(TooManyTurnsError):
                    await there.admit(user)
                # Here, the end not written is still left out.
                (await here.admit(user)).release()
            finally:
                await admin.execute(
                    "ALTER FUNCTION chat_end_turns_gone(text[], text[], boolean[], interval) "
                    "RENAME TO chat_end_turns"
                )
            await asyncio.sleep(RETRY_SECONDS + 0.5)
            assert await there.admit(user)  # written by the retry
    finally:
        await admin.close()


async def test_a_slot_withdrawn_before_its_admission_is_answered_counts_nowhere(
    database_url: str, new_user: Callable[[], str]
) -> None:
    # A request refused by its checks while its admission is still on the way, and the
    # person's next message sent at once: the first slot must not stand in its way.
    async with two_replicas(database_url, per_minute=2, concurrent=1) as (here, there):
        user = new_user()
        refused = Admission(here, user)
        await refused.start()
        refused.withdraw()  # before its answer has come back
        sent = Admission(here, user)
        await sent.start()
        lease = await sent.lease()  # not 429: the withdrawn slot is left out here at once
        lease.release()
        await eventually(holds(lambda: not here._withdrawing), "the first admission answered")
        await here.write_ended()
        # Written: the other replica counts the one slot that streamed, not the withdrawn one.
        second = await there.admit(user)
        second.release()
        with pytest.raises(TooManyTurnsError):
            await there.admit(user)  # two a minute
