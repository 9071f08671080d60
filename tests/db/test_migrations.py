"""Migrations build the schema from nothing, remove it again, and match `db/tables.py`."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from taskchat.db.migrate import (
    alembic_config,
    current_revision,
    downgrade,
    head_revision,
    upgrade,
)
from taskchat.db.tables import USER_OWNED_TABLES, metadata


@pytest.fixture
async def empty_database(database_url: str) -> AsyncIterator[str]:
    """A new, empty database on the test server (the test role needs CREATEDB)."""
    name = f"taskchat_mig_{secrets.token_hex(4)}"
    admin = create_async_engine(database_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        await admin.dispose()


async def tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
            return {row[0] for row in rows}
    finally:
        await engine.dispose()


async def test_upgrade_builds_everything_and_downgrade_removes_it(empty_database: str) -> None:
    assert await tables(empty_database) == set()
    await upgrade(empty_database)
    assert await tables(empty_database) == {
        *USER_OWNED_TABLES,
        "users",
        "token_revocations",
        "alembic_version",
    }
    engine = create_async_engine(empty_database)
    try:
        assert await current_revision(engine) == head_revision()
        async with engine.connect() as conn:
            rls = await conn.execute(
                text(
                    "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
                    "WHERE relname = ANY(:names)"
                ),
                {"names": list(USER_OWNED_TABLES)},
            )
            forced = {row[0]: (row[1], row[2]) for row in rls}
            assert forced == dict.fromkeys(USER_OWNED_TABLES, (True, True))
    finally:
        await engine.dispose()
    await downgrade(empty_database)
    assert await tables(empty_database) == {"alembic_version"}
    await upgrade(empty_database)
    assert await tables(empty_database) == {
        *USER_OWNED_TABLES,
        "users",
        "token_revocations",
        "alembic_version",
    }


async def test_tables_and_migrations_agree(database_url: str) -> None:
    def diff(sync_conn: Connection) -> list[Any]:
        context = MigrationContext.configure(sync_conn)
        return list(compare_metadata(context, metadata))

    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(diff)
    finally:
        await engine.dispose()
    assert differences == []


def test_the_head_revision_is_the_one_alembic_finds() -> None:
    # head_revision() reads the revision files itself (alembic costs start-up time).
    script = ScriptDirectory.from_config(alembic_config(""))
    assert head_revision() == script.get_current_head()
    assert head_revision() is not None
