"""Where attachment bytes are kept: the interface the chat server uses, whatever the backend.

Taskchat has one backend, PostgreSQL (`files/postgres.py`), so a deployment's backups hold
everything. The interface is what an object-storage backend would implement too. One thing
it would have to add: the attachment rows (`chat_attachments`) are deleted with their thread,
with their message (a retry), by `attachments.delete` and by the sweep, and the PostgreSQL
backend's bytes go with them by a foreign key's cascade; a backend outside the database would
have to delete its objects then as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from taskchat.db.drivers import Driver
from taskchat.errors import ProblemError, ResourceNotFoundError


class FileTooLargeError(ProblemError):
    """A file over ATTACHMENT_MAX_BYTES."""

    status = 413
    code = "file_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"The file is larger than the {size_text(limit)} ({limit:,} bytes) an attachment "
            "may have; attach a smaller one."
        )


class QuotaExceededError(ProblemError):
    """The file would take the user's stored attachments past ATTACHMENT_QUOTA_BYTES."""

    status = 413
    code = "quota_exceeded"

    def __init__(self, *, used: int, size: int, quota: int) -> None:
        super().__init__(
            f"This file ({size_text(size)}) does not fit: your attachments already take "
            f"{size_text(used)} of the {size_text(quota)} you may keep. Delete conversations "
            "with files you no longer need, then attach it again."
        )


class AttachmentGoneError(ResourceNotFoundError):
    """The attachment is not the user's (any more): deleted while its file was being
    stored or its message sent, or never theirs."""

    def __init__(self, attachment_id: str) -> None:
        super().__init__(f"Attachment {attachment_id} not found")


class AttachmentSentError(ProblemError):
    """The attachment belongs to a message already: its file cannot change, it cannot be
    deleted on its own, and no other message can carry it."""

    status = 409
    code = "attachment_sent"


class FileStorage(Protocol):
    """The bytes of attachments, by user and attachment id.

    Every method is scoped to `user_id`: another user's file is never read, replaced or
    deleted, whatever id is given.
    """

    async def save(
        self,
        conn: Driver,
        *,
        user_id: str,
        attachment_id: str,
        content: bytes,
        quota_bytes: int,
    ) -> None:
        """Store (or replace) the file of an attachment the user has, within `conn`'s
        transaction.

        The caller holds the attachment's row locked in that transaction (so it cannot be
        sent or deleted meanwhile), and with a quota the user's advisory lock too (so two
        uploads at once cannot both pass it). A backend in the database writes there, and
        its bytes commit or roll back with the attachment; one elsewhere would write its
        object while the locks are held.

        Raises QuotaExceededError when the user's other files and this one would pass
        `quota_bytes` (0: no quota), and AttachmentGoneError when the attachment is gone.
        """
        ...

    async def load(self, *, user_id: str, attachment_id: str) -> bytes | None:
        """The file's bytes, or None if it has none (not uploaded, or not the user's)."""
        ...

    async def load_many(
        self, *, user_id: str, attachment_ids: Sequence[str], budget_bytes: int
    ) -> dict[str, bytes]:
        """The files of `attachment_ids` that fit in `budget_bytes` together, taken in the
        order given (the first always, whatever its size); the others are left out."""
        ...

    async def delete(self, *, user_id: str, attachment_id: str) -> None:
        """Forget the file (nothing happens if there is none)."""
        ...

    async def used_bytes(self, *, user_id: str) -> int:
        """The bytes of all the user's stored files (what the quota counts)."""
        ...


def size_text(size: int) -> str:
    """A size in words: "512 bytes", "40 KB", "5 MB", "4.5 MB" (binary units)."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + " MB"


__all__ = [
    "AttachmentGoneError",
    "AttachmentSentError",
    "FileStorage",
    "FileTooLargeError",
    "QuotaExceededError",
    "size_text",
]
