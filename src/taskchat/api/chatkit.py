"""POST /chatkit: the one ChatKit endpoint, in three steps: admit, parse and check, serve."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from taskchat.accounts.erasure import erasing_leftovers
from taskchat.api.admitted import AdmittedStream
from taskchat.api.deps import current_identity, services_of
from taskchat.api.errors import problem_responses
from taskchat.api.middleware import caller_origin
from taskchat.chat.admission import Admission
from taskchat.chat.context import ChatContext
from taskchat.logs import request_id_var

router = APIRouter()


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
    # Called, not declared as dependencies (CurrentIdentity, ServicesDep): each dependency
    # FastAPI resolves costs Python calls on the hottest route, before every first event.
    identity = await current_identity(request)
    services = services_of(request)
    settings, server = services.settings, (await services.chat_parts()).chat_server
    # Imported here, not at the top: the ChatKit SDK loads after start-up (api/services.py);
    # once loaded, each is a dict lookup.
    from chatkit.server import StreamingResult
    from chatkit.types import is_streaming_req

    from taskchat.chat.failures import told_as_problems
    from taskchat.chat.request import check_sizes, check_targets, parse_request, says_it_streams

    # Its size is already limited (MAX_BODY_BYTES, api/middleware.py).
    body = await request.body()

    # 1. Admit. A stream's admission is sent as soon as the request is seen to stream, and
    # answered while it is parsed, checked and its response made ready; whatever refuses
    # the request after this gives the slot back, and a refusal of both is told as the
    # check's (a 400 or a 404 before a 429).
    admission = Admission(services.turn_limiter, identity.user_id)
    if says_it_streams(body):
        await admission.start()
    try:
        # 2. Parse and check: everything that can be refused is, before anything streams.
        parsed = parse_request(body)
        check_sizes(parsed, len(body), settings.max_message_chars)
        if is_streaming_req(parsed):
            await admission.start()
        context = ChatContext(
            user_id=identity.user_id,
            claims=identity.claims,
            request_id=request_id_var.get(),
            metadata=parsed.metadata,
            origin=caller_origin(request, settings.public_url),
        )
        with told_as_problems(parsed.type):
            context = await check_targets(parsed, server.store, context)
            # 3. Serve: a stream not started yet, or the JSON answer.
            result = await server.process_parsed(parsed, context)
    except BaseException:
        admission.withdraw()
        raise
    if isinstance(result, StreamingResult):
        events = erasing_leftovers(
            result, engine=services.engine, revocations=services.revocations, identity=identity
        )
        return AdmittedStream(events, admission, first_is_pure=server.first_event_is_pure(parsed))
    # Seen to stream, yet not (a body that names two types, the last one read).
    admission.withdraw()
    return Response(content=result.json, media_type="application/json")
