"""POST /chatkit: the one ChatKit endpoint."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncGenerator, AsyncIterable
from dataclasses import replace
from functools import cache
from typing import TYPE_CHECKING, Any, get_args

import anyio
from fastapi import APIRouter, Request, Response
from pydantic import TypeAdapter, ValidationError

from taskchat import text
from taskchat.accounts.erasure import erase
from taskchat.api.admitted import AdmittedStream, admission, give_back
from taskchat.api.deps import current_identity, services_of
from taskchat.api.errors import problem_responses
from taskchat.api.origin import caller_origin
from taskchat.context import Identity, RequestContext
from taskchat.errors import ProblemError, ResourceNotFoundError, UnsupportedError
from taskchat.logs import log_failure, request_id_var

if TYPE_CHECKING:
    from chatkit.server import NonStreamingResult, StreamingResult
    from chatkit.types import ChatKitReq

    from taskchat.api.services import Services
    from taskchat.chat.server import TaskchatServer
    from taskchat.config import Settings

logger = logging.getLogger("taskchat.api")

router = APIRouter()


@cache
def chatkit_request() -> TypeAdapter[ChatKitReq]:
    """The request parser, built once: building it costs about 18 ms of CPU, which the SDK
    pays per request. Built on first use rather than at import, off the start-up path."""
    from chatkit.types import ChatKitReq

    return TypeAdapter[ChatKitReq](ChatKitReq)


@cache
def _streaming_start() -> re.Pattern[bytes]:
    """A body that opens with the type of a streaming request (ChatKit's clients and ours
    put `type` first): only the top-level key can come first."""
    from chatkit.types import StreamingReq

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


@router.post(
    "/chatkit",
    summary="Serve one ChatKit protocol request",
    response_class=Response,
    responses={
        200: {
            "description": "A streaming request's server-sent events, or a JSON answer.",
            "content": {"text/event-stream": {}, "application/json": {}},
        },
        **problem_responses(400, 401, 404, 409, 413, 429, 503),
    },
)
async def chatkit_endpoint(request: Request) -> Response:
    """Serve one ChatKit protocol request (any type) for the verified caller."""
    # Called, not declared as dependencies (CurrentIdentity, ServicesDep): this is the
    # hottest route, and each dependency FastAPI resolves adds about 75 Python calls to
    # every request (counted with cProfile), before the first event of every answer.
    identity = await current_identity(request)
    services = services_of(request)
    settings, server = services.settings, (await services.chat_parts()).chat_server
    # Imported here, not at the top: the ChatKit SDK (chatkit.server brings the Agents
    # SDK) loads after start-up (api/services.py); once loaded, each is a dict lookup.
    from chatkit.server import StreamingResult
    from chatkit.types import is_streaming_req

    from taskchat.api.prechecks import check_sizes

    # Its size is already limited (MAX_BODY_BYTES, api/body_limit.py).
    body = await request.body()
    # A stream's admission is sent as soon as the request is seen to stream, and answered
    # while it is parsed, checked and its response made ready (api/admitted.py); whatever
    # refuses the request after this gives the slot back, and a refusal of both is told
    # as the check's (a 400 or a 404 before a 429).
    limiter = services.turn_limiter
    admitting = await admission(limiter, identity.user_id) if says_it_streams(body) else None
    try:
        parsed = parse_request(body)
        check_sizes(parsed, len(body), settings.max_message_chars)
        if admitting is None and is_streaming_req(parsed):
            admitting = await admission(limiter, identity.user_id)
        result = await _served(server, parsed, identity, request, settings)
    except BaseException:
        give_back(admitting)
        raise
    if isinstance(result, StreamingResult):
        return AdmittedStream(
            _finishing(result, services, identity),
            admitting,
            first_is_pure=server.opens_before_storing(parsed),
        )
    # Seen to stream, yet not (a body that names two types, the last one read).
    give_back(admitting)
    return Response(content=result.json, media_type="application/json")


async def _served(
    server: TaskchatServer,
    parsed: ChatKitReq,
    identity: Identity,
    request: Request,
    settings: Settings,
) -> StreamingResult | NonStreamingResult:
    """`parsed`, checked and served for the verified caller (a stream not started yet)."""
    from chatkit.store import NotFoundError

    from taskchat.api.prechecks import check_targets

    context = RequestContext(
        user_id=identity.user_id,
        claims=identity.claims,
        request_id=request_id_var.get(),
        metadata=parsed.metadata,
        origin=caller_origin(request, settings.public_url),
    )
    try:
        if (thread := await check_targets(parsed, server.store, context)) is not None:
            # Read just now: the SDK's own load of the thread is answered from it.
            context = replace(context, known_thread=thread)
        return await server.process_parsed(parsed, context)
    except NotFoundError as error:
        # The store's sentence names the id that was asked for, as the client sent it.
        raise ResourceNotFoundError(text.shortened(str(error), 160)) from None
    except NotImplementedError:
        raise UnsupportedError(
            f"The {parsed.type} request is not supported by this server."
        ) from None


async def _finishing(
    stream: AsyncIterable[bytes], services: Services, identity: Identity
) -> AsyncGenerator[bytes, None]:
    """The stream; when it ends (or the client leaves), what it wrote after its person's
    data was deleted, deleted too."""
    try:
        async for chunk in stream:
            yield chunk
    finally:
        with anyio.CancelScope(shield=True):
            await _erase_leftovers(services, identity)


async def _erase_leftovers(services: Services, identity: Identity) -> None:
    """Erase the person's rows again if their data was deleted while this turn streamed.

    A turn can outlive the deletion by minutes (a slow model, a slow tool), and
    its tools may write rows no thread holds (a task): left, they would outlive the
    deletion. Runs after the stream's last write. Every row of the person goes, so one who
    deleted their data here, signed in again with their identity provider and chatted
    before the old turn ended loses that too; an account of ours is gone for good anyway.
    """
    try:
        if await services.revocations.revoked(identity):
            await erase(
                services.engine, user_id=identity.user_id, account=False, revoke_tokens=False
            )
    except Exception as error:
        log_failure(logger, "could not erase a deleted person's leftovers", error=error)
