"""POST /chatkit: the one ChatKit endpoint."""

from __future__ import annotations

import json
import logging
from typing import Any

from chatkit.server import StreamingResult
from chatkit.store import NotFoundError
from chatkit.types import (
    ChatKitReq,
    ThreadsAddUserMessageReq,
    ThreadsCreateReq,
    ThreadsRetryAfterItemReq,
    UserMessageInput,
    UserMessageItem,
)
from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import ValidationError

from taskchat.api.deps import CurrentIdentity
from taskchat.api.problems import problem
from taskchat.chat.context import RequestContext
from taskchat.chat.server import CHATKIT_REQUEST, TaskchatServer
from taskchat.chat.store import UnsupportedError
from taskchat.config import Settings
from taskchat.logs import request_id_var

logger = logging.getLogger("taskchat.api")

router = APIRouter()


SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class BodyTooLargeError(Exception):
    """The request body is over the configured limit."""


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refusing one over `limit` bytes without reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLargeError
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError
        chunks.append(chunk)
    return b"".join(chunks)


def parse_request(body: bytes) -> ChatKitReq | Response:
    """The parsed ChatKit request, or a 400 that says what is wrong."""
    try:
        raw: Any = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return problem(400, "invalid_json", "The request body is not valid JSON.")
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        return problem(400, "invalid_request", "The request must be a JSON object with a 'type'.")
    try:
        return CHATKIT_REQUEST.validate_python(raw)
    except ValidationError as error:
        kinds = {problem_["type"] for problem_ in error.errors()}
        if "union_tag_invalid" in kinds:
            return problem(
                400, "unknown_request_type", f"Unknown ChatKit request type {raw['type']!r}."
            )
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"][1:])
        return problem(
            400, "invalid_request", f"Invalid {raw['type']} request at {where}: {first['msg']}."
        )


def message_length(message: UserMessageInput) -> int:
    """Characters of text in a user message, quoted text and tags included."""
    return sum(len(part.text) for part in message.content) + len(message.quoted_text or "")


async def precheck(
    parsed: ChatKitReq, server: TaskchatServer, context: RequestContext, max_chars: int
) -> Response | None:
    """Check what would otherwise fail after the stream's 200 headers are sent."""
    if isinstance(parsed, ThreadsCreateReq | ThreadsAddUserMessageReq):
        if message_length(parsed.params.input) > max_chars:
            return problem(
                413,
                "message_too_long",
                f"The message is longer than {max_chars} characters; shorten it and send again.",
            )
        for attachment_id in parsed.params.input.attachments:
            await server.store.load_attachment(attachment_id, context)
    # Any request naming a thread answers 404 for a thread the caller cannot see, before
    # anything streams (afterwards, an error could only end the stream silently).
    thread_id = getattr(parsed.params, "thread_id", None)
    if isinstance(thread_id, str):
        await server.store.load_thread(thread_id, context)
    if isinstance(parsed, ThreadsRetryAfterItemReq):
        item = await server.store.load_item(parsed.params.thread_id, parsed.params.item_id, context)
        if not isinstance(item, UserMessageItem):
            return problem(
                400, "invalid_request", "threads.retry_after_item must name a user message."
            )
    return None


@router.post("/chatkit", response_model=None)
async def chatkit_endpoint(request: Request, identity: CurrentIdentity) -> Response:
    """Serve one ChatKit protocol request for the verified caller."""
    # Read from app state rather than as dependencies: each dependency costs time on
    # every request, and this is the hottest route.
    server: TaskchatServer = request.app.state.chatkit_server
    settings: Settings = request.app.state.settings
    try:
        body = await read_body(request, settings.max_body_bytes)
    except BodyTooLargeError:
        return problem(
            413, "body_too_large", f"The request body is over {settings.max_body_bytes} bytes."
        )
    parsed = parse_request(body)
    if isinstance(parsed, Response):
        return parsed
    context = RequestContext(
        user_id=identity.user_id,
        claims=identity.claims,
        request_id=request_id_var.get(),
        metadata=parsed.metadata,
    )
    try:
        early = await precheck(parsed, server, context, settings.max_message_chars)
        if early is not None:
            return early
        result = await server.process_parsed(parsed, context)
    except NotFoundError as error:
        return problem(404, "not_found", str(error))
    except UnsupportedError as error:
        return problem(400, "unsupported", str(error))
    except NotImplementedError:
        return problem(
            400, "unsupported", f"The {parsed.type} request is not supported by this server."
        )
    if isinstance(result, StreamingResult):
        return StreamingResponse(result, media_type="text/event-stream", headers=SSE_HEADERS)
    return Response(content=result.json, media_type="application/json")
