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
from pydantic import TypeAdapter, ValidationError

from taskchat.api.deps import CurrentIdentity, services_of
from taskchat.api.errors import problem_responses
from taskchat.chat.store import PostgresStore
from taskchat.context import RequestContext
from taskchat.errors import ProblemError, ResourceNotFoundError, UnsupportedError
from taskchat.logs import request_id_var

logger = logging.getLogger("taskchat.api")

router = APIRouter()

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

CHATKIT_REQUEST = TypeAdapter[ChatKitReq](ChatKitReq)
"""Built once: building it costs about 18 ms of CPU, which the SDK pays per request."""


class BodyTooLargeError(ProblemError):
    """The request body is over the configured limit."""

    status = 413
    code = "body_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body is over {limit} bytes.")


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refusing one over `limit` bytes without reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLargeError(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_request(body: bytes) -> ChatKitReq:
    """The parsed ChatKit request, or a 400 that says what is wrong."""
    try:
        raw: Any = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ProblemError("The request body is not valid JSON.", code="invalid_json") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise ProblemError(
            "The request must be a JSON object with a 'type'.", code="invalid_request"
        )
    try:
        return CHATKIT_REQUEST.validate_python(raw)
    except ValidationError as error:
        kinds = {problem["type"] for problem in error.errors()}
        if "union_tag_invalid" in kinds:
            raise ProblemError(
                f"Unknown ChatKit request type {raw['type']!r}.", code="unknown_request_type"
            ) from None
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"][1:])
        raise ProblemError(
            f"Invalid {raw['type']} request at {where}: {first['msg']}.", code="invalid_request"
        ) from None


def message_length(message: UserMessageInput) -> int:
    """Characters of text in a user message, quoted text and tags included."""
    return sum(len(part.text) for part in message.content) + len(message.quoted_text or "")


async def precheck(
    parsed: ChatKitReq, store: PostgresStore, context: RequestContext, max_chars: int
) -> None:
    """Refuse now what would otherwise fail after the stream's 200 headers are sent."""
    if isinstance(parsed, ThreadsCreateReq | ThreadsAddUserMessageReq):
        if message_length(parsed.params.input) > max_chars:
            raise ProblemError(
                f"The message is longer than {max_chars} characters; shorten it and send again.",
                status=413,
                code="message_too_long",
            )
        for attachment_id in parsed.params.input.attachments:
            await store.load_attachment(attachment_id, context)
    # Any request naming a thread answers 404 for a thread the caller cannot see, before
    # anything streams (afterwards, an error could only end the stream silently).
    thread_id = getattr(parsed.params, "thread_id", None)
    if isinstance(thread_id, str):
        await store.load_thread(thread_id, context)
    if isinstance(parsed, ThreadsRetryAfterItemReq):
        item = await store.load_item(parsed.params.thread_id, parsed.params.item_id, context)
        if not isinstance(item, UserMessageItem):
            raise ProblemError(
                "threads.retry_after_item must name a user message.", code="invalid_request"
            )


@router.post(
    "/chatkit",
    summary="Serve one ChatKit protocol request",
    response_class=Response,
    responses={
        200: {
            "description": "A streaming request's server-sent events, or a JSON answer.",
            "content": {"text/event-stream": {}, "application/json": {}},
        },
        **problem_responses(400, 401, 404, 413),
    },
)
async def chatkit_endpoint(request: Request, identity: CurrentIdentity) -> Response:
    """Serve one ChatKit protocol request (any type) for the verified caller."""
    # The accessor rather than ServicesDep: this is the hottest route, and each dependency
    # FastAPI resolves adds about 75 Python calls to every request (counted with cProfile).
    services = services_of(request)
    settings, server = services.settings, services.chat_server
    parsed = parse_request(await read_body(request, settings.max_body_bytes))
    context = RequestContext(
        user_id=identity.user_id,
        claims=identity.claims,
        request_id=request_id_var.get(),
        metadata=parsed.metadata,
    )
    try:
        await precheck(parsed, server.store, context, settings.max_message_chars)
        result = await server.process_parsed(parsed, context)
    except NotFoundError as error:
        raise ResourceNotFoundError(str(error)) from None
    except NotImplementedError:
        raise UnsupportedError(
            f"The {parsed.type} request is not supported by this server."
        ) from None
    if isinstance(result, StreamingResult):
        return StreamingResponse(result, media_type="text/event-stream", headers=SSE_HEADERS)
    return Response(content=result.json, media_type="application/json")
