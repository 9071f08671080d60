"""A ChatKit request, parsed and checked before /chatkit answers 200.

Once a stream has started, a failure can only be an error event, and some of these (the
SDK's own `ValueError`s) would end it with none at all. So everything that can be refused is
refused here, with a ProblemError (a 400, 404, 409 or 413 naming what is wrong): the body
that is not a ChatKit request (`parse_request`), what is too big to keep (`check_sizes`),
and a thread, item or attachment the caller cannot use, or a request this server does not
serve (`check_targets`). What the checks read is handed on in the request's `ChatContext`.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from functools import cache
from typing import Any, get_args

from chatkit.types import (
    ChatKitReq,
    ClientToolCallItem,
    InputTranscribeReq,
    ItemsFeedbackReq,
    StreamingReq,
    StructuredInputItem,
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
from pydantic import TypeAdapter, ValidationError

from taskchat import text
from taskchat.chat.context import ChatContext
from taskchat.chat.store.attachments import PER_MESSAGE_MAX
from taskchat.chat.store.postgres import PostgresStore
from taskchat.errors import ProblemError, UnsupportedError
from taskchat.files.storage import AttachmentSentError


@cache
def chatkit_request() -> TypeAdapter[ChatKitReq]:
    """The request parser, built once (the SDK builds one per request). Built on first use
    rather than at import, off the start-up path."""
    return TypeAdapter[ChatKitReq](ChatKitReq)


@cache
def _streaming_start() -> re.Pattern[bytes]:
    """A body that opens with the type of a streaming request (ChatKit's clients and ours
    put `type` first): only the top-level key can come first."""
    types = (get_args(kind.model_fields["type"].annotation)[0] for kind in get_args(StreamingReq))
    names = b"|".join(re.escape(name.encode()) for name in types)
    return re.compile(rb'\s*\{\s*"type"\s*:\s*"(?:' + names + rb')"')


def says_it_streams(body: bytes) -> bool:
    """Whether `body` opens as a streaming request (before it is parsed; a body that does
    not may still be one, whose type comes later)."""
    return _streaming_start().match(body) is not None


def parse_request(body: bytes) -> ChatKitReq:
    """The parsed ChatKit request, or a 400 that says what is wrong."""
    try:
        raw: Any = text.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ProblemError("The request body is not valid JSON.", code="invalid_json") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise ProblemError(
            "The request must be a JSON object with a 'type'.", code="invalid_request"
        )
    try:
        return chatkit_request().validate_python(raw)
    except ValidationError as error:
        kinds = {problem["type"] for problem in error.errors()}
        if "union_tag_invalid" in kinds:
            raise ProblemError(
                f"Unknown ChatKit request type {text.shortened(raw['type'])!r}.",
                code="unknown_request_type",
            ) from None
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"][1:])
        raise ProblemError(
            f"Invalid {raw['type']} request at {where}: {first['msg']}.", code="invalid_request"
        ) from None


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
    parsed: ChatKitReq, store: PostgresStore, context: ChatContext
) -> ChatContext:
    """Refuse a request whose thread, item or attachment the caller cannot use (404 for
    one they cannot see), or that this server does not serve. Returns `context` with the
    thread the request names, as read for the check."""
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
            # Every action of ours streams (chat/widgets/actions.py): none is answered in sync.
            raise UnsupportedError(
                "The threads.sync_custom_action request is not supported by this server; "
                "its widgets' actions are sent as threads.custom_action."
            )
    return replace(context, thread=thread)


def _json_size(value: object) -> int:
    return len(json.dumps(value, ensure_ascii=False, default=str))
