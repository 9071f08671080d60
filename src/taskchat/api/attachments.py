"""The attachment routes beside /chatkit: the upload of a file `attachments.create` made
room for, and its bytes (an image's preview, a text file's download).

    POST /api/attachments/{attachment_id}/upload    multipart/form-data, field `file`
    GET  /api/attachments/{attachment_id}/content   the file, as stored

Both answer 404 for an attachment the caller does not have, another user's included. The
browser reaches them through the frontend's proxy, with its session cookie as the only
credential (turned into the bearer token here as for /chatkit).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Request, Response

from taskchat.api.deps import CurrentIdentity, services_of
from taskchat.api.errors import problem_responses
from taskchat.api.middleware import caller_origin
from taskchat.api.multipart import drain, read_file_field
from taskchat.context import Identity, RequestContext
from taskchat.errors import ProblemError
from taskchat.logs import request_id_var
from taskchat.text import check_text

if TYPE_CHECKING:
    # The chat machinery loads after start-up (api/services.py); these are its types.
    from taskchat.chat.store.attachments import PostgresAttachmentStore

router = APIRouter()

ATTACHMENT_ID_MAX = 100
"""Longer than any id we make (`atc_` and 24 hex digits); longer ones are refused unread."""

AttachmentId = Annotated[str, Path(max_length=ATTACHMENT_ID_MAX)]

CONTENT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
"""The Content-Security-Policy of a served file: opened on its own, nothing in it runs or
loads (images are drawn whatever it says; a browser's own image page needs the style)."""


async def _attachments(request: Request) -> PostgresAttachmentStore:
    return (await services_of(request).chat_parts()).chat_server.attachments


def _context(request: Request, identity: Identity) -> RequestContext:
    return RequestContext(
        user_id=identity.user_id,
        claims=identity.claims,
        request_id=request_id_var.get(),
        origin=caller_origin(request, services_of(request).settings.public_url),
    )


@router.post(
    "/api/attachments/{attachment_id}/upload",
    summary="Upload the file of an attachment made by attachments.create",
    response_class=Response,
    responses={
        200: {"description": "The attachment, ready to send.", "content": {"application/json": {}}},
        **problem_responses(400, 401, 404, 409, 413, 503),
    },
)
async def upload_attachment(
    request: Request, identity: CurrentIdentity, attachment_id: AttachmentId
) -> Response:
    """Store the file of the caller's attachment; answers the attachment as now stored.

    400: the body is not a form with a `file`, or the file is not the kind declared (its
    type is read from its bytes); 404: no such attachment of the caller's; 409: the
    attachment was already sent; 413: the file is over ATTACHMENT_MAX_BYTES, or the
    caller's stored files would pass ATTACHMENT_QUOTA_BYTES.
    """
    max_bytes = services_of(request).settings.attachment_max_bytes
    context = _context(request, identity)
    attachments = await _attachments(request)
    try:
        check_text(attachment_id, "attachment_id")
        # Before the body is kept: a foreign id is refused without taking its bytes.
        _, kind = await attachments.unsent(attachment_id, context)
    except ProblemError:
        await drain(request, max_bytes)
        raise
    content = await read_file_field(request, max_bytes)
    # Checked again as the file is stored: it may have been sent or deleted meanwhile.
    ready = await attachments.upload(attachment_id, kind, content, context)
    return Response(
        ready.model_dump_json(context={"exclude_metadata": True}),
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


@router.get(
    "/api/attachments/{attachment_id}/content",
    summary="The file of an attachment (an image's preview, a text file's download)",
    response_class=Response,
    responses={
        200: {"description": "The file's bytes, with its type."},
        **problem_responses(401, 404, 503),
    },
)
async def attachment_content(
    request: Request, identity: CurrentIdentity, attachment_id: AttachmentId
) -> Response:
    """The caller's attachment's file: an image inline, a text file as a download; 404 for
    an attachment the caller does not have, or whose file is not uploaded yet."""
    check_text(attachment_id, "attachment_id")
    attachments = await _attachments(request)
    attachment, kind, content = await attachments.content(
        attachment_id, _context(request, identity)
    )
    media_type = kind.mime if kind.image else f"{kind.mime}; charset=utf-8"
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": content_disposition(
                "inline" if kind.image else "attachment", attachment.name
            ),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": CONTENT_POLICY,
            # Kept in no cache: after signing out, or deleting the file, on a computer
            # others use, nothing of it stays on its disk. (`private, no-cache` would still
            # store the bytes there; with no validator to revalidate against, it would not
            # even save a download.)
            "Cache-Control": "no-store",
        },
    )


def content_disposition(disposition: str, name: str) -> str:
    """A Content-Disposition header naming the file: an ASCII stand-in for old clients, and
    the real name percent-encoded (RFC 6266)."""
    plain = "".join(char if " " <= char <= "~" and char not in '"\\' else "_" for char in name)
    return f"{disposition}; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"
