"""TurnLimiter on the real database: admissions that race, from two replicas' engines,
never take more slots than the limit allows; released slots come back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from taskchat.chat.limits import TooManyTurnsError, TurnLease, TurnLimiter
from taskchat.db.engine import create_engine


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
        await leases[0].release()
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
            await (await limiter.admit(user)).release()
        try:
            await limiter.admit(user)
            raise AssertionError("a third turn in the minute was admitted")
        except TooManyTurnsError as refused:
            wait = int(refused.headers["Retry-After"])
            assert 55 <= wait <= 60 and f"{wait} seconds" in refused.detail
    finally:
        await engine.dispose()
