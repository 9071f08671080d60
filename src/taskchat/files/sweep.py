"""The sweep: attachments made but never sent in a message are deleted after a day.

An attachment is a row (and its file) from `attachments.create` on; only a message makes it
part of a thread. One removed from the composer is deleted at once, but one whose page was
closed mid-message stays behind: the sweep deletes those, for every user, with their files
(the foreign key's cascade). Every backend process runs it hourly (`run_sweeps`, from the
app's lifespan), and operators can run it once with `taskchat attachments sweep`.

Safe with several replicas: a run holds a PostgreSQL advisory lock, so only one process
sweeps at a time (the others skip that round), and each batch is an idempotent DELETE
whose condition (`thread_id IS NULL`) is checked again on the row it deletes, so an
attachment sent while the sweep runs is never taken.
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat.db.engine import operator_transaction_raw
from taskchat.logs import log_failure

logger = logging.getLogger("taskchat.files")

UNSENT_AGE = timedelta(days=1)
"""How long an attachment may wait to be sent before the sweep deletes it."""

INTERVAL_SECONDS = 3600.0
"""How often each process sweeps (give or take a tenth, so replicas drift apart)."""

BATCH = 500
"""Attachments deleted per transaction: a large backlog never holds locks for long."""

_LOCK = "SELECT pg_try_advisory_xact_lock(hashtextextended('taskchat.attachment_sweep', 0))"

_DELETE = (
    "WITH doomed AS (SELECT user_id, id FROM chat_attachments "
    "WHERE thread_id IS NULL AND created_at < now() - $1::interval "
    "ORDER BY created_at LIMIT $2), "
    "gone AS (DELETE FROM chat_attachments AS a USING doomed AS d "
    "WHERE a.user_id = d.user_id AND a.id = d.id AND a.thread_id IS NULL RETURNING 1) "
    "SELECT count(*) FROM gone"
)


async def sweep_unsent(engine: AsyncEngine, *, older_than: timedelta = UNSENT_AGE) -> int | None:
    """Delete every user's attachments never sent and older than `older_than`, with their
    files; how many, or None when another process was sweeping (nothing done)."""
    total = 0
    while True:
        async with operator_transaction_raw(engine) as conn:
            if not await conn.fetchval(_LOCK):
                return total or None
            deleted = int(await conn.fetchval(_DELETE, older_than, BATCH))
        total += deleted
        if deleted < BATCH:
            return total


async def run_sweeps(
    engine: AsyncEngine, interval: float = INTERVAL_SECONDS, first: float | None = None
) -> None:
    """Sweep every `interval` seconds, the first time after `first` seconds (by default a
    few minutes after start-up), until cancelled (the app's shutdown). A failed sweep is
    logged and tried again next time."""
    # Not every replica of a fresh deploy at once.
    delay = random.uniform(60, 300) if first is None else first
    while True:
        await asyncio.sleep(delay)
        try:
            deleted = await sweep_unsent(engine)
            if deleted:
                logger.info("swept %d unsent attachment(s)", deleted)
        except Exception as error:
            log_failure(logger, "could not sweep unsent attachments", error=error)
        delay = interval * random.uniform(0.9, 1.1)


__all__ = ["UNSENT_AGE", "run_sweeps", "sweep_unsent"]
