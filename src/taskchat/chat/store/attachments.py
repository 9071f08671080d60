"""Attachments, the way the ChatKit SDK does two-phase uploads, over Taskchat's own storage.

1. `attachments.create` (through /chatkit): the name and declared type are checked
   (files/kinds.py), and the attachment is made with an upload descriptor pointing at
   `POST /api/attachments/{id}/upload` on the origin the caller came from (the app's, so
   the browser uploads through the frontend's proxy with its cookie).
2. The upload (api/attachments.py) sends the bytes: their kind is sniffed and must be what
   was declared, the user's quota is checked, the bytes are stored (files/storage.py), and
   the attachment loses its upload descriptor: it is ready to send. The last step is one
   transaction with the attachment's row locked, so an upload that finishes after the
   attachment was sent (409) or deleted (404) changes nothing.
3. A message names it: /chatkit checks it first (chat/request.py, a 409 before the
   stream), then the message claims its attachments, all or none, with a conditional
   update (`PostgresStore.claim_attachments`): of two messages sent at once naming one
   attachment, the second gets an error event. An attachment is sent once: sending it
   again, in any thread, is refused (409); so is deleting a sent one (it goes with its
   message, when an earlier one is answered again, or with its thread).

Attachments never sent are swept after a day (files/sweep.py). Another user's attachment
is a 404 everywhere, exactly like a missing one.
"""

from __future__ import annotations

from collections.abc import Sequence

from chatkit.store import AttachmentStore, NotFoundError
from chatkit.types import (
    Attachment,
    AttachmentCreateParams,
    AttachmentUploadDescriptor,
    FileAttachment,
    ImageAttachment,
    ThreadItem,
    UserMessageItem,
)
from pydantic import TypeAdapter

from taskchat.chat.store.postgres import UNSENT_MAX, PostgresStore, chat_id, too_many_unsent
from taskchat.config import Settings
from taskchat.context import RequestContext
from taskchat.db.engine import user_transaction_raw
from taskchat.errors import ProblemError, ResourceNotFoundError
from taskchat.files.kinds import KINDS, Kind, check_content, declared_kind, file_name
from taskchat.files.storage import (
    AttachmentGoneError,
    AttachmentSentError,
    FileStorage,
    FileTooLargeError,
    QuotaExceededError,
)

PER_MESSAGE_MAX = 5
"""The most attachments one message may carry (the frontend's composers say the same)."""

MODEL_BYTES_MAX = 20 * 1024 * 1024
"""The most attachment bytes one turn sends the model, newest first (the newest always):
older files past it are named to the model, not shown again."""

_KIND_OF_MIME = {kind.mime: kind for kind in KINDS}

_ATTACHMENT = TypeAdapter[Attachment](Attachment)

_SENT_UPLOAD = "This attachment was already sent in a message, so its file cannot change."


def attachment_path(attachment_id: str, action: str) -> str:
    """The path of an attachment's route: `upload` or `content` (the preview)."""
    return f"/api/attachments/{attachment_id}/{action}"


def kind_of(attachment: Attachment) -> Kind | None:
    """The kind an attachment was made as (None for one made before uploads existed)."""
    return _KIND_OF_MIME.get(attachment.mime_type)


class PostgresAttachmentStore(AttachmentStore[RequestContext]):
    """ChatKit's attachment store: makes attachments, takes their uploads, serves their
    bytes, deletes them; metadata in the chat store, bytes in `files`."""

    def __init__(self, store: PostgresStore, files: FileStorage, settings: Settings) -> None:
        self._store = store
        self.files = files
        """Where the bytes are kept."""
        self._max_bytes = settings.attachment_max_bytes
        self._quota_bytes = settings.attachment_quota_bytes
        # Outside a request (no origin): the backend's configured address, the one a
        # caller that is not a trusted proxy gets too (api/middleware.py).
        self._fallback_origin = settings.public_url

    def generate_attachment_id(self, mime_type: str, context: RequestContext) -> str:
        return chat_id("attachment")

    async def create_attachment(
        self, input: AttachmentCreateParams, context: RequestContext
    ) -> Attachment:
        # The SDK stores what this returns (Store.save_attachment).
        name = file_name(input.name)
        kind = declared_kind(name, input.mime_type)
        if input.size <= 0:
            raise ProblemError(
                f"The file's declared size ({input.size} bytes) is not a size a file can "
                "have; an attachment needs at least one byte.",
                code="invalid_size",
            )
        if input.size > self._max_bytes:
            raise FileTooLargeError(self._max_bytes)
        unsent, used = await self._usage(context.user_id)
        if unsent >= UNSENT_MAX:
            # Before the file's checks go further; storing it checks again, atomically
            # (PostgresStore.save_attachment).
            raise too_many_unsent(unsent)
        if self._quota_bytes and used + input.size > self._quota_bytes:
            raise QuotaExceededError(used=used, size=input.size, quota=self._quota_bytes)
        attachment_id = self.generate_attachment_id(kind.mime, context)
        origin = context.origin or self._fallback_origin
        upload = AttachmentUploadDescriptor(
            url=origin + attachment_path(attachment_id, "upload"),
            method="POST",
        )
        if kind.image:
            return ImageAttachment(
                id=attachment_id,
                name=name,
                mime_type=kind.mime,
                upload_descriptor=upload,
                preview_url=origin + attachment_path(attachment_id, "content"),
            )
        return FileAttachment(
            id=attachment_id, name=name, mime_type=kind.mime, upload_descriptor=upload
        )

    async def delete_attachment(self, attachment_id: str, context: RequestContext) -> None:
        # Only checks: the row is deleted by Store.delete_attachment, which the SDK calls
        # next, with its file (the foreign key's cascade) and only while it is not sent.
        attachment = await self._store.load_attachment(attachment_id, context)
        if attachment.thread_id is not None:
            raise AttachmentSentError(
                "This attachment was sent in a message; it is deleted with its conversation."
            )

    async def unsent(self, attachment_id: str, context: RequestContext) -> tuple[Attachment, Kind]:
        """The caller's attachment that can still take an upload, and its kind: a 404 for
        one they do not have, a 409 for one already sent."""
        attachment = await self.owned(attachment_id, context)
        kind = kind_of(attachment)
        if attachment.thread_id is not None or kind is None:
            raise AttachmentSentError(_SENT_UPLOAD)
        return attachment, kind

    async def upload(
        self, attachment_id: str, kind: Kind, content: bytes, context: RequestContext
    ) -> Attachment:
        """Store the uploaded `content` of the attachment (of `kind`, from `unsent`): a 400
        if it is not the kind declared, a 413 past the quota; a 409 if the attachment was
        sent while its bytes arrived, a 404 if it was deleted meanwhile. The attachment,
        now ready to send."""
        if len(content) > self._max_bytes:
            raise FileTooLargeError(self._max_bytes)
        check_content(kind, content)
        # One transaction from the check to the last write, the row locked: a message
        # sending it, its deletion (with its thread, by attachments.delete, by the sweep,
        # or the person's account) waits for the upload, or the upload sees it happened.
        # With a quota, the user's advisory lock too (taken first): two uploads at once
        # cannot both pass it.
        user_id = context.user_id
        async with user_transaction_raw(
            self._store.engine, user_id, locked=bool(self._quota_bytes)
        ) as conn:
            row = await conn.fetchrow(
                "SELECT thread_id, data FROM chat_attachments WHERE user_id = $1 AND id = $2 "
                "FOR UPDATE",
                user_id,
                attachment_id,
            )
            if row is None:
                raise AttachmentGoneError(attachment_id)
            if row["thread_id"] is not None:
                raise AttachmentSentError(_SENT_UPLOAD)
            await self.files.save(
                conn,
                user_id=user_id,
                attachment_id=attachment_id,
                content=content,
                quota_bytes=self._quota_bytes,
            )
            ready = _ATTACHMENT.validate_python(row["data"]).model_copy(
                update={"upload_descriptor": None}
            )
            await conn.execute(
                "UPDATE chat_attachments SET data = $3 WHERE user_id = $1 AND id = $2",
                user_id,
                attachment_id,
                ready.model_dump_json(),
            )
        return ready

    async def content(
        self, attachment_id: str, context: RequestContext
    ) -> tuple[Attachment, Kind, bytes]:
        """The caller's attachment, its kind and its bytes; a 404 if they have no such
        attachment, or it has no file yet."""
        attachment = await self.owned(attachment_id, context)
        kind = kind_of(attachment)
        content = await self.files.load(user_id=context.user_id, attachment_id=attachment_id)
        if content is None or kind is None:
            raise ResourceNotFoundError(f"Attachment {attachment_id} has no file yet.")
        return attachment, kind, content

    async def model_files(
        self, newest_first: Sequence[ThreadItem], context: RequestContext
    ) -> dict[str, bytes]:
        """The files of the attachments in a turn's history that the model gets to see."""
        ids = [
            attachment.id
            for item in newest_first
            if isinstance(item, UserMessageItem)
            for attachment in item.attachments
        ]
        if not ids:  # most turns: nothing to ask the storage for
            return {}
        return await self.files.load_many(
            user_id=context.user_id, attachment_ids=ids, budget_bytes=MODEL_BYTES_MAX
        )

    async def owned(self, attachment_id: str, context: RequestContext) -> Attachment:
        """The caller's attachment with this id; a 404 (never another user's)."""
        try:
            return await self._store.load_attachment(attachment_id, context)
        except NotFoundError:
            raise ResourceNotFoundError(f"Attachment {attachment_id} not found") from None

    async def _usage(self, user_id: str) -> tuple[int, int]:
        """The user's attachments not sent yet, and the bytes of their stored files."""
        async with user_transaction_raw(self._store.engine, user_id) as conn:
            unsent = await conn.fetchval(
                "SELECT count(*) FROM chat_attachments WHERE user_id = $1 AND thread_id IS NULL",
                user_id,
            )
        return int(unsent), await self.files.used_bytes(user_id=user_id)


__all__ = [
    "MODEL_BYTES_MAX",
    "PER_MESSAGE_MAX",
    "UNSENT_MAX",
    "PostgresAttachmentStore",
    "attachment_path",
    "kind_of",
]
