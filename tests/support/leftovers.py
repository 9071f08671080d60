"""What the database holds of one user, seen by a superuser (row-level security does not
hide anything from one)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from taskchat.db.tables import USER_OWNED_TABLES


async def rows_of(superuser_url: str, user_id: str) -> dict[str, int]:
    """Rows of `user_id` in every table with a `user_id` column (those of
    `USER_OWNED_TABLES`, and any other), and its row in `users`, by table."""
    engine = create_async_engine(superuser_url)
    try:
        async with engine.connect() as conn:
            found = await conn.execute(
                text(
                    "SELECT table_name FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND column_name = 'user_id'"
                )
            )
            tables = sorted({row[0] for row in found} | set(USER_OWNED_TABLES))
            counts: dict[str, int] = {}
            for table in tables:
                counts[table] = await conn.scalar(
                    text(f"SELECT count(*) FROM {table} WHERE user_id = :user"), {"user": user_id}
                )
            counts["users"] = await conn.scalar(
                text("SELECT count(*) FROM users WHERE id = :user"), {"user": user_id}
            )
            return counts
    finally:
        await engine.dispose()


async def ids_of(superuser_url: str, table: str, user_id: str) -> set[str]:
    """The ids of `user_id`'s rows in `table`."""
    engine = create_async_engine(superuser_url)
    try:
        async with engine.connect() as conn:
            found = await conn.execute(
                text(f"SELECT id FROM {table} WHERE user_id = :user"), {"user": user_id}
            )
            return {row[0] for row in found}
    finally:
        await engine.dispose()
