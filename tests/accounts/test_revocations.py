"""The in-memory copy of the token revocations (accounts/revocations.py), on the real
database: what another process writes reaches it through the trigger's notices, it answers
without the database while current, and asks the database while it is not."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from taskchat.accounts.revocations import RevocationWatch, subject_digest
from taskchat.context import Identity
from tests.support.eventually import eventually, holds


def identity(subject: str, issued_seconds_ago: float = 60) -> Identity:
    issued = time.time() - issued_seconds_ago
    return Identity(user_id=subject, claims={"sub": subject, "iat": issued})


@dataclass
class Watched:
    watch: RevocationWatch
    engine: AsyncEngine
    """The app role's engine the watch was made with (its connections named `name`)."""
    name: str


@asynccontextmanager
async def running_watch(database_url: str, *, start: bool = True) -> AsyncIterator[Watched]:
    name = f"revocation-watch-{secrets.token_hex(4)}"
    engine = create_async_engine(
        database_url,
        pool_size=1,
        max_overflow=0,
        pool_timeout=30,
        connect_args={"server_settings": {"application_name": name}},
    )
    watch = RevocationWatch(engine)
    task = asyncio.create_task(watch.run()) if start else None
    try:
        if start:
            await eventually(holds(lambda: watch.current), "the copy is current")
        yield Watched(watch, engine, name)
    finally:
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await engine.dispose()


@pytest.fixture
async def superuser(superuser_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(superuser_database_url)
    yield engine
    await engine.dispose()


async def sql(engine: AsyncEngine, statement: str, **values: object) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(statement), values)


REVOKE = (
    "INSERT INTO token_revocations (subject_digest, revoked_at) VALUES (:d, now()) "
    "ON CONFLICT (subject_digest) DO UPDATE SET revoked_at = EXCLUDED.revoked_at"
)


async def test_what_another_process_writes_counts_as_its_notice_arrives(
    database_url: str, superuser: AsyncEngine, new_user: Callable[[], str]
) -> None:
    subject = new_user()
    before, after = identity(subject), identity(subject, issued_seconds_ago=-60)
    async with running_watch(database_url) as watched:
        watch = watched.watch
        assert not await watch.revoked(before)

        await sql(superuser, REVOKE, d=subject_digest(subject))
        await eventually(lambda: watch.revoked(before), "the insert is seen")
        assert not await watch.revoked(after)  # issued after the revocation: it passes

        # Moved back an hour (as docs/your-data.md's restore steps or an operator might): the
        # token issued a minute ago comes after it now.
        await sql(
            superuser,
            "UPDATE token_revocations SET revoked_at = now() - interval '1 hour' "
            "WHERE subject_digest = :d",
            d=subject_digest(subject),
        )
        await eventually(_negated(watch.revoked, before), "the update is seen")

        await sql(superuser, REVOKE, d=subject_digest(subject))
        await eventually(lambda: watch.revoked(before), "the second revocation is seen")
        await sql(
            superuser,
            "DELETE FROM token_revocations WHERE subject_digest = :d",
            d=subject_digest(subject),
        )
        await eventually(_negated(watch.revoked, before), "the delete is seen")
        assert watch.current


def _negated(
    check: Callable[[Identity], Awaitable[bool]], who: Identity
) -> Callable[[], Awaitable[bool]]:
    async def negated() -> bool:
        return not await check(who)

    return negated


async def test_while_current_it_answers_without_the_database(
    database_url: str, superuser: AsyncEngine, new_user: Callable[[], str]
) -> None:
    revoked_subject, other = new_user(), new_user()
    await sql(superuser, REVOKE, d=subject_digest(revoked_subject))
    async with running_watch(database_url) as watched:
        # The pool's only connection held elsewhere: a check that asked the database would
        # wait for it (30 s) instead of answering.
        async with watched.engine.connect() as held:
            await held.execute(text("SELECT 1"))
            answers = await asyncio.wait_for(
                asyncio.gather(
                    watched.watch.revoked(identity(revoked_subject)),
                    watched.watch.revoked(identity(other)),
                ),
                timeout=1,
            )
        assert list(answers) == [True, False]


async def test_a_revocation_this_process_made_counts_before_its_notice(
    database_url: str, new_user: Callable[[], str]
) -> None:
    subject = new_user()
    async with running_watch(database_url) as watched:
        # No row and no notice (the deleting request's transaction is not in this test):
        # only `noted` can make it count.
        watched.watch.noted(subject, time.time())
        assert watched.watch.current
        assert await watched.watch.revoked(identity(subject))
        assert not await watched.watch.revoked(identity(subject, issued_seconds_ago=-60))


async def test_not_listening_it_asks_the_database(
    database_url: str, superuser: AsyncEngine, new_user: Callable[[], str]
) -> None:
    subject = new_user()
    async with running_watch(database_url, start=False) as watched:
        assert not watched.watch.current
        assert not await watched.watch.revoked(identity(subject))
        await sql(superuser, REVOKE, d=subject_digest(subject))
        assert await watched.watch.revoked(identity(subject))  # at once: no notice needed
        assert not await watched.watch.revoked(identity(subject, issued_seconds_ago=-60))
        # A token that does not say when it was issued counts as issued before.
        assert await watched.watch.revoked(Identity(user_id=subject, claims={"sub": subject}))


async def test_a_lost_connection_falls_back_to_the_database_then_reloads(
    database_url: str, superuser: AsyncEngine, new_user: Callable[[], str]
) -> None:
    during, after = new_user(), new_user()
    async with running_watch(database_url) as watched:
        watch = watched.watch
        async with superuser.begin() as conn:
            ended = await conn.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = :name"
                ),
                {"name": watched.name},
            )
        assert ended == 1  # the listening connection is the engine's only one so far
        await eventually(holds(lambda: not watch.current), "the loss is noticed")
        # Revoked while nothing listens: no notice reaches the watch, the database answers.
        await sql(superuser, REVOKE, d=subject_digest(during))
        assert await watch.revoked(identity(during))

        await eventually(holds(lambda: watch.current), "it listens again")
        # The reload brought what was missed, and notices arrive again.
        assert await watch.revoked(identity(during))
        await sql(superuser, REVOKE, d=subject_digest(after))
        await eventually(lambda: watch.revoked(identity(after)), "new notices are seen")


async def test_a_truncate_or_an_unreadable_notice_reloads_the_table(
    database_url: str, superuser: AsyncEngine, new_user: Callable[[], str]
) -> None:
    subject, later = new_user(), new_user()
    async with running_watch(database_url) as watched:
        watch = watched.watch
        await sql(superuser, REVOKE, d=subject_digest(subject))
        await eventually(lambda: watch.revoked(identity(subject)), "the insert is seen")

        await sql(superuser, "NOTIFY taskchat_token_revocations, 'something new'")
        await sql(superuser, REVOKE, d=subject_digest(later))
        await eventually(lambda: watch.revoked(identity(later)), "seen after the reload")
        await eventually(holds(lambda: watch.current), "current again")

        # Other tests' revocations go too: no test relies on one surviving it.
        await sql(superuser, "TRUNCATE token_revocations")
        await eventually(_negated(watch.revoked, identity(subject)), "the truncate is seen")
        await eventually(holds(lambda: watch.current), "current after the truncate")
        assert not await watch.revoked(identity(later))
