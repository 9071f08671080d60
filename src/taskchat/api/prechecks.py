"""What /chatkit refuses before it answers 200: once a stream has started, a failure can
only be an error event, and some of these (the SDK's own `ValueError`s) would end it with
none at all. Each check raises a ProblemError; passing them all, the request is served."""

from __future__ import annotations

import json

from chatkit.types import (
    ChatKitReq,
    ClientToolCallItem,
    InputTranscribeReq,
    ItemsFeedbackReq,
    StructuredInputItem,
    ThreadMetadata,
    ThreadsAddClientToolOutputReq,
    ThreadsAddStructuredInputReq,
    ThreadsAddUserMessageReq,
    ThreadsCreateReq,
    ThreadsCustomActionReq,
    ThreadsRetryAfterItemReq,
    ThreadsSyncCustomActionReq,
    ThreadsUpdateReq,
    UserMessageInput,
    UserMessageItem,
    UserMessageTagContent,
    WidgetItem,
)

from taskchat.chat.attachments import PER_MESSAGE_MAX
from taskchat.chat.store import PostgresStore
from taskchat.context import RequestContext
from taskchat.errors import ProblemError, UnsupportedError
from taskchat.files.storage import AttachmentSentError

TITLE_MAX = 200
"""The longest thread title, in characters."""

TAG_DATA_MAX_BYTES = 2_000
"""The largest data of one tag in a message, as JSON."""

METADATA_MAX_BYTES = 16_000
"""The largest request metadata (page context), as JSON."""

FEEDBACK_ITEMS_MAX = 100
"""The most distinct items one feedback request may name."""


def message_length(message: UserMessageInput) -> int:
    """Characters of text in a user message, quoted text and tags included."""
    return sum(len(part.text) for part in message.content) + len(message.quoted_text or "")


def check_sizes(parsed: ChatKitReq, body_size: int, max_chars: int) -> None:
    """Refuse what is too big to keep: messages, tags, titles, metadata, feedback lists."""
    if isinstance(parsed, ThreadsCreateReq | ThreadsAddUserMessageReq):
        message = parsed.params.input
        # A file named twice is attached once.
        message.attachments = list(dict.fromkeys(message.attachments))
        if len(message.attachments) > PER_MESSAGE_MAX:
            raise ProblemError(
                f"A message can carry at most {PER_MESSAGE_MAX} attachments.",
                code="too_many_attachments",
            )
        if message_length(message) > max_chars:
            raise ProblemError(
                f"The message is longer than {max_chars} characters; shorten it and send again.",
                status=413,
                code="message_too_long",
            )
        for part in message.content:
            if isinstance(part, UserMessageTagContent) and _json_size(part.data) > (
                TAG_DATA_MAX_BYTES
            ):
                raise ProblemError(
                    f"The data of the tag {part.text!r} is over {TAG_DATA_MAX_BYTES} bytes.",
                    status=413,
                    code="tag_too_large",
                )
    elif isinstance(parsed, ThreadsUpdateReq) and len(parsed.params.title) > TITLE_MAX:
        raise ProblemError(
            f"A thread title can be at most {TITLE_MAX} characters.", code="title_too_long"
        )
    elif isinstance(parsed, ItemsFeedbackReq):
        # Repeats change nothing: one vote per item (and one query, not one per repeat).
        parsed.params.item_ids = list(dict.fromkeys(parsed.params.item_ids))
        if len(parsed.params.item_ids) > FEEDBACK_ITEMS_MAX:
            raise ProblemError(
                f"Feedback can name at most {FEEDBACK_ITEMS_MAX} items at once.",
                code="invalid_request",
            )
    # Metadata cannot be larger than the body it came in: most requests skip the count.
    if body_size > METADATA_MAX_BYTES and _json_size(parsed.metadata) > METADATA_MAX_BYTES:
        raise ProblemError(
            f"The request's metadata is over {METADATA_MAX_BYTES} bytes.",
            status=413,
            code="metadata_too_large",
        )


async def check_targets(
    parsed: ChatKitReq, store: PostgresStore, context: RequestContext
) -> ThreadMetadata | None:
    """Refuse a request whose thread, item or attachment the caller cannot use (404 for
    one they cannot see), or that this server does not serve. Returns the thread the
    request names, if it names one."""
    if isinstance(parsed, InputTranscribeReq):
        # Before the SDK decodes the audio: bad base64 would otherwise be a 500.
        raise UnsupportedError("The input.transcribe request is not supported by this server.")
    if isinstance(parsed, ThreadsCreateReq | ThreadsAddUserMessageReq):
        # Here a 409 before the stream; the message's claim of its attachments checks
        # again (PostgresStore.claim_attachments), so a message sent meanwhile that took
        # one still wins, and this one ends with an error event.
        for attachment_id in parsed.params.input.attachments:
            attachment = await store.load_attachment(attachment_id, context)
            if attachment.thread_id is not None:
                # Sent once, it belongs to that message (and goes with its thread).
                raise AttachmentSentError(
                    f"{attachment.name} was already sent in a message; attach the file "
                    "again to send it here."
                )
            if attachment.upload_descriptor is not None:
                raise ProblemError(
                    f"{attachment.name} has not been uploaded yet; wait until it is, or remove it.",
                    code="attachment_not_uploaded",
                )
    # Any request naming a thread answers 404 for a thread the caller cannot see.
    thread_id = getattr(parsed.params, "thread_id", None)
    thread = await store.load_thread(thread_id, context) if isinstance(thread_id, str) else None
    if isinstance(parsed, ThreadsRetryAfterItemReq):
        item = await store.load_item(parsed.params.thread_id, parsed.params.item_id, context)
        if not isinstance(item, UserMessageItem):
            raise ProblemError(
                "threads.retry_after_item must name a user message.", code="invalid_request"
            )
    elif isinstance(parsed, ThreadsAddClientToolOutputReq):
        newest = await store.load_thread_items(parsed.params.thread_id, None, 1, "desc", context)
        waiting = [
            item
            for item in newest.data
            if isinstance(item, ClientToolCallItem) and item.status == "pending"
        ]
        if not waiting:
            raise ProblemError(
                "There is no client tool call waiting for output in this thread.",
                code="invalid_request",
            )
    elif isinstance(parsed, ThreadsAddStructuredInputReq):
        item = await store.load_item(parsed.params.thread_id, parsed.params.item_id, context)
        if not isinstance(item, StructuredInputItem):
            raise ProblemError(f"Item {item.id} is not a structured input.", code="invalid_request")
        if item.status != "pending":
            raise ProblemError(
                f"Structured input {item.id} was already answered.", code="invalid_request"
            )
    elif isinstance(parsed, ThreadsCustomActionReq | ThreadsSyncCustomActionReq):
        if parsed.params.item_id is not None:
            item = await store.load_item(parsed.params.thread_id, parsed.params.item_id, context)
            if not isinstance(item, WidgetItem):
                raise ProblemError(
                    f"An action must come from a widget; item {item.id} is not one.",
                    code="invalid_request",
                )
        if isinstance(parsed, ThreadsSyncCustomActionReq):
            # Every action of ours streams (chat/task_actions.py): none is answered in sync.
            raise UnsupportedError(
                "The threads.sync_custom_action request is not supported by this server; "
                "its widgets' actions are sent as threads.custom_action."
            )
    return thread


def _json_size(value: object) -> int:
    return len(json.dumps(value, ensure_ascii=False, default=str))
