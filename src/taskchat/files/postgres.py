"""Attachment bytes in PostgreSQL (`chat_attachment_files`), under row-level security.

A row per uploaded file, keyed like its attachment, whose foreign key cascades: deleting an
attachment row (with its thread or its message, by `attachments.delete` or by the sweep)
deletes its bytes in the same statement. Files are at most ATTACHMENT_MAX_BYTES (50 MB at the
most), which `bytea` holds comfortably; PostgreSQL compresses and stores large values out of
line (TOAST), so the table's pages stay small.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat.db.drivers import Driver
from taskchat.db.engine import user_transaction_raw
from taskchat.files.storage import AttachmentGoneError, FileStorage, QuotaExceededError


class PostgresFileStorage(FileStorage):
    """Attachment bytes in the app's own database (so its backups hold them)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def save(
        self,
        conn: Driver,
        *,
        user_id: str,
        attachment_id: str,
        content: bytes,
        quota_bytes: int,
    ) -> None:
        if quota_bytes:
            used = await conn.fetchval(
                "SELECT coalesce(sum(size), 0) FROM chat_attachment_files "
                "WHERE user_id = $1 AND id <> $2",
                user_id,
                attachment_id,
            )
            if used + len(content) > quota_bytes:
                raise QuotaExceededError(used=used, size=len(content), quota=quota_bytes)
        try:
            await conn.execute(
                "INSERT INTO chat_attachment_files (user_id, id, size, content, created_at) "
                "VALUES ($1, $2, $3, $4, now()) ON CONFLICT (user_id, id) DO UPDATE SET "
                "size = EXCLUDED.size, content = EXCLUDED.content, "
                "created_at = EXCLUDED.created_at",
                user_id,
                attachment_id,
                len(content),
                content,
            )
        except asyncpg.ForeignKeyViolationError:
            raise AttachmentGoneError(attachment_id) from None

    async def load(self, *, user_id: str, attachment_id: str) -> bytes | None:
        async with user_transaction_raw(self.engine, user_id) as conn:
            content: bytes | None = await conn.fetchval(
                "SELECT content FROM chat_attachment_files WHERE user_id = $1 AND id = $2",
                user_id,
                attachment_id,
            )
        return content

    async def load_many(
        self, *, user_id: str, attachment_ids: Sequence[str], budget_bytes: int
    ) -> dict[str, bytes]:
        if not attachment_ids:
            return {}
        async with user_transaction_raw(self.engine, user_id) as conn:
            sizes = {
                row["id"]: row["size"]
                for row in await conn.fetch(
                    "SELECT id, size FROM chat_attachment_files "
                    "WHERE user_id = $1 AND id = ANY($2::text[])",
                    user_id,
                    list(attachment_ids),
                )
            }
            chosen: list[str] = []
            spent = 0
            for attachment_id in dict.fromkeys(attachment_ids):
                size = sizes.get(attachment_id)
                if size is None or (chosen and spent + size > budget_bytes):
                    continue
                chosen.append(attachment_id)
                spent += size
            rows = await conn.fetch(
                "SELECT id, content FROM chat_attachment_files "
                "WHERE user_id = $1 AND id = ANY($2::text[])",
                user_id,
                chosen,
            )
        return {row["id"]: row["content"] for row in rows}

    async def delete(self, *, user_id: str, attachment_id: str) -> None:
        async with user_transaction_raw(self.engine, user_id) as conn:
            await conn.execute(
                "DELETE FROM chat_attachment_files WHERE user_id = $1 AND id = $2",
                user_id,
                attachment_id,
            )

    async def used_bytes(self, *, user_id: str) -> int:
        async with user_transaction_raw(self.engine, user_id) as conn:
            used = await conn.fetchval(
                "SELECT coalesce(sum(size), 0) FROM chat_attachment_files WHERE user_id = $1",
                user_id,
            )
        return int(used)


__all__ = ["PostgresFileStorage"]
