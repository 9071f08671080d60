"""Deleting everything a person has here, in one transaction.

Every table in `USER_OWNED_TABLES` loses the person's rows, so a table added to that list
later is covered with no change here; the account itself goes too unless an identity
provider owns it. The same transaction revokes the person's tokens (accounts/revocations.py),
so the deletion and the end of every session they had commit together.

A chat turn already streaming when the data goes may still write afterwards (its thread is
gone, so most of its writes fail, but a tool may add a task). `erasing_leftovers` wraps
every such stream and erases again when it ends, which is why `erase` may run for data
already deleted.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterable
from dataclasses import dataclass

import anyio
from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat.accounts.revocations import RevocationWatch, revoke
from taskchat.context import Identity
from taskchat.db.engine import user_transaction_raw
from taskchat.db.tables import USER_OWNED_TABLES, metadata
from taskchat.logs import log_failure

logger = logging.getLogger("taskchat.accounts")


def deletion_order() -> tuple[str, ...]:
    """`USER_OWNED_TABLES`, each table before the tables it refers to: a foreign key
    without ON DELETE CASCADE then never stops the deletion."""
    owned = set(USER_OWNED_TABLES)
    ordered = [table.name for table in reversed(metadata.sorted_tables) if table.name in owned]
    # A listed table that db/tables.py does not describe is still emptied (last).
    return (*ordered, *(name for name in USER_OWNED_TABLES if name not in ordered))


@dataclass(frozen=True, slots=True)
class Erased:
    """What one erasure deleted."""

    rows: dict[str, int]
    """Rows deleted, by table (the account's row under `users`)."""

    revoked_at: float | None = None
    """When the person's tokens were revoked (seconds since the epoch), if they were."""

    @property
    def total(self) -> int:
        """Rows deleted in all."""
        return sum(self.rows.values())


async def erase(
    engine: AsyncEngine, *, user_id: str, account: bool, revoke_tokens: bool = True
) -> Erased:
    """Delete every row of `user_id`, and its account if `account`, and (if
    `revoke_tokens`) refuse its tokens issued until now.

    One transaction: it all goes, or (on any failure) nothing does. A second erasure of a
    turn's leftovers passes `revoke_tokens=False`: the person may have signed in again
    since (with an identity provider), and that session must go on.
    """
    rows: dict[str, int] = {}
    # Row-level security scoped to the person: a mistake here cannot reach anyone else.
    # Under the person's lock, which their tool calls (tools/ledger.py) and attachment
    # writes take too: they wait for the erasure, or it for them, and never take row locks
    # in opposite orders (a deadlock, the erasure aborted).
    async with user_transaction_raw(engine, user_id, locked=True) as conn:
        for table in deletion_order():
            status = await conn.execute(f"DELETE FROM {table} WHERE user_id = $1", user_id)
            rows[table] = _count(status)
        if account:
            status = await conn.execute("DELETE FROM users WHERE id = $1", user_id)
            rows["users"] = _count(status)
        revoked_at = await revoke(conn, user_id=user_id) if revoke_tokens else None
    return Erased(rows=rows, revoked_at=revoked_at)


def _count(status: str) -> int:
    """The row count of an asyncpg command status such as `DELETE 3`."""
    return int(status.rpartition(" ")[2] or 0)


async def erasing_leftovers(
    stream: AsyncIterable[bytes],
    *,
    engine: AsyncEngine,
    revocations: RevocationWatch,
    identity: Identity,
) -> AsyncGenerator[bytes, None]:
    """`stream`; when it ends (or its client leaves), the person's rows erased again if
    their data was deleted while it ran.

    A turn can outlive the deletion by minutes (a slow model, a slow tool), and its tools
    may write rows no thread holds (a task): left, they would outlive the deletion. Every
    row of the person goes, so one who deleted their data here, signed in again with their
    identity provider and chatted before the old turn ended loses that too; an account of
    ours is gone for good anyway.
    """
    try:
        async for chunk in stream:
            yield chunk
    finally:
        with anyio.CancelScope(shield=True):
            try:
                if await revocations.revoked(identity):
                    await erase(
                        engine, user_id=identity.user_id, account=False, revoke_tokens=False
                    )
            except Exception as error:
                log_failure(logger, "could not erase a deleted person's leftovers", error=error)
