"""Tool calls that wait for the person's answer, kept in PostgreSQL.

A turn whose model calls a tool that needs confirmation (delete_task, or an external tool
listed in `confirm_tools`) pauses: the Agents SDK hands back its run state, which is kept
here with the calls, for this user and thread, until it is answered or expires. Kept in
the database, so a restart or another replica can take the answer; answered at most once,
by one conditional UPDATE, so two clicks (or two replicas) can never both resume it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat.db.engine import user_transaction
from taskchat.db.tables import CHAT_APPROVALS
from taskchat.ids import new_id

Status = Literal["pending", "approved", "declined"]

_t = CHAT_APPROVALS.c


@dataclass(frozen=True, slots=True)
class Approval:
    """A paused turn's confirmation, as stored."""

    id: str
    thread_id: str
    calls: list[dict[str, Any]]
    """What waits, as the card shows it: `{"tool": ..., "title": ...}` per call."""
    run_state: str
    """The SDK's serialized RunState, which the answer resumes."""
    status: Status
    expires_at: datetime


def _approval(row: Any) -> Approval:
    return Approval(
        id=row.id,
        thread_id=row.thread_id,
        calls=list(row.calls),
        run_state=row.run_state,
        status=row.status,
        expires_at=row.expires_at,
    )


_COLUMNS = (_t.id, _t.thread_id, _t.calls, _t.run_state, _t.status, _t.expires_at)


@dataclass(frozen=True, slots=True)
class Approvals:
    """The confirmations of every user, each one visible only to its owner."""

    engine: AsyncEngine
    timeout: timedelta
    """How long a confirmation can still be answered (APPROVAL_TIMEOUT_SECONDS)."""

    async def create(
        self, user_id: str, thread_id: str, calls: list[dict[str, Any]], run_state: str
    ) -> Approval:
        async with user_transaction(self.engine, user_id) as conn:
            row = (
                await conn.execute(
                    insert(CHAT_APPROVALS)
                    .values(
                        user_id=user_id,
                        id=new_id("appr"),
                        thread_id=thread_id,
                        calls=calls,
                        run_state=run_state,
                        status="pending",
                        created_at=func.now(),
                        expires_at=func.now() + self.timeout,
                    )
                    .returning(*_COLUMNS)
                )
            ).one()
        return _approval(row)

    async def answer(
        self, user_id: str, thread_id: str, approval_id: str, approve: bool
    ) -> Approval | None:
        """Take the answer, if the confirmation is this user's, in this thread, still
        pending and not expired; None otherwise (and nothing changes)."""
        async with user_transaction(self.engine, user_id) as conn:
            row = (
                await conn.execute(
                    update(CHAT_APPROVALS)
                    .where(
                        _t.user_id == user_id,
                        _t.id == approval_id,
                        _t.thread_id == thread_id,
                        _t.status == "pending",
                        _t.expires_at > func.now(),
                    )
                    .values(status="approved" if approve else "declined", answered_at=func.now())
                    .returning(*_COLUMNS)
                )
            ).first()
        return None if row is None else _approval(row)

    async def get(self, user_id: str, thread_id: str, approval_id: str) -> Approval | None:
        async with user_transaction(self.engine, user_id) as conn:
            row = (
                await conn.execute(
                    select(*_COLUMNS).where(
                        _t.user_id == user_id, _t.id == approval_id, _t.thread_id == thread_id
                    )
                )
            ).first()
        return None if row is None else _approval(row)


__all__ = ["Approval", "Approvals", "Status"]
