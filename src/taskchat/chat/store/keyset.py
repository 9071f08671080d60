"""Keyset pages of the chat tables: a page costs the same in a thread of 10 items or
100,000, because it starts from the indexed `(created_at, seq)` of the row before it
instead of skipping an offset."""

from __future__ import annotations

from typing import Literal, TypeVar

import asyncpg
from chatkit.store import NotFoundError
from chatkit.types import Page, ThreadItem, ThreadMetadata
from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat.db.engine import user_transaction_raw

MAX_PAGE = 1000
"""The most rows one page holds, whatever a client asks for."""

T = TypeVar("T", ThreadMetadata, ThreadItem)


async def keyset_page(
    engine: AsyncEngine,
    table: str,
    scope: str,
    scope_args: list[str],
    *,
    after: str | None,
    limit: int,
    order: str,
    user_id: str,
    gone: str,
) -> tuple[list[asyncpg.Record], bool]:
    """Up to `limit` rows of `table` within `scope` (a condition on `$1`..), after the
    `after` row, in `user_id`'s transaction; and whether there are more."""
    limit = max(1, min(limit, MAX_PAGE))
    async with user_transaction_raw(engine, user_id) as conn:
        args: list[object] = list(scope_args)
        if after:
            cursor = await conn.fetchrow(
                f"SELECT created_at, seq FROM {table} WHERE {scope} AND id = ${len(args) + 1}",
                *args,
                after,
            )
            if cursor is None:
                # A cursor that is gone (deleted, or never this user's): paging on from
                # nowhere would silently end the list early.
                raise NotFoundError(gone)
            args += [cursor["created_at"], cursor["seq"]]
        sql = _page_sql(table, scope, _order(order), bool(after))
        rows = await conn.fetch(sql, *args, limit + 1)
    return rows[:limit], len(rows) > limit


def page(data: list[T], has_more: bool) -> Page[T]:
    """A page of `data`, with the cursor of the next one."""
    # On the last page there is no cursor (the SDK's own store tests expect None there,
    # and a client must not ask again).
    return Page(data=data, has_more=has_more, after=data[-1].id if data and has_more else None)


def _order(order: str) -> Literal["asc", "desc"]:
    return "desc" if order == "desc" else "asc"


def _page_sql(table: str, scope: str, order: Literal["asc", "desc"], cursor: bool) -> str:
    """A keyset page on (created_at, seq); `scope` uses $1.. and the cursor the next two."""
    first = scope.count("$") + 1
    after = ""
    if cursor:
        comparison = ">" if order == "asc" else "<"
        after = f" AND (created_at, seq) {comparison} (${first}, ${first + 1})"
        first += 2
    direction = order.upper()
    return (
        f"SELECT id, data FROM {table} WHERE {scope}{after} "
        f"ORDER BY created_at {direction}, seq {direction} LIMIT ${first}"
    )


__all__ = ["MAX_PAGE", "keyset_page", "page"]
