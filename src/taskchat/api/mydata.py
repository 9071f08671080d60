"""The signed-in person's own data: GET /api/account (what is kept about them),
GET /api/account/export (all of it, as a JSON download) and DELETE /api/account (all of it
gone, and every session with it).

Who holds the account decides what deleting asks for. An account of ours (email and
password) asks for its password, counted against the sign-in limits like a sign-in, so a
stolen session cannot guess it here; the account goes with the data. A subject we hold no
account for (an identity provider's, with JWT_JWKS_URL, or a development token's) asks for
a typed confirmation, and only the data goes: the account is the provider's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from taskchat.accounts import policy, service
from taskchat.accounts.erasure import erase
from taskchat.accounts.export import export_document
from taskchat.api.accounts import client_address
from taskchat.api.deps import CurrentIdentity, ServicesDep
from taskchat.api.errors import problem_responses
from taskchat.api.services import Services
from taskchat.context import Identity
from taskchat.errors import ProblemError
from taskchat.text import SafeText

router = APIRouter(prefix="/api/account")

CONFIRMATION = "delete my data"
"""What a person without a password here types to delete their data (any case)."""


class AccountOut(BaseModel):
    """What is kept about the signed-in person's account."""

    id: str
    """The token's subject: the id every row of theirs is kept under."""

    email: str | None
    """The account's email; null for an identity provider's account (not kept here)."""

    name: str | None
    """The account's display name; null for an identity provider's account."""

    created_at: datetime | None
    """When the account was made; null for an identity provider's account."""

    has_password: bool
    """Whether the account is ours, with a password: deleting it asks for the password.
    Otherwise deleting the data asks for the typed confirmation."""


class DeleteBody(BaseModel):
    """The proof that the person means it: the password, or the confirmation."""

    model_config = ConfigDict(extra="forbid")

    password: SafeText | None = Field(default=None, max_length=policy.MAX_LENGTH)
    confirmation: SafeText | None = Field(default=None, max_length=100)


class WrongPasswordError(ProblemError):
    """The password given to delete an account is not its password."""

    status = 403
    code = "wrong_password"

    def __init__(self) -> None:
        super().__init__("That password is incorrect; nothing was deleted.")


async def _account_of(services: Services, identity: Identity) -> service.AccountDetails | None:
    """The account of ours that `identity` is, if any (never with an identity provider)."""
    if services.settings.jwt_jwks_url:
        return None
    return await service.find_account(engine=services.engine, account_id=identity.user_id)


def _account_out(identity: Identity, account: service.AccountDetails | None) -> AccountOut:
    if account is None:
        return AccountOut(
            id=identity.user_id, email=None, name=None, created_at=None, has_password=False
        )
    return AccountOut(
        id=account.id,
        email=account.email,
        name=account.display_name,
        created_at=account.created_at,
        has_password=True,
    )


@router.get("", responses=problem_responses(401))
async def read_account(identity: CurrentIdentity, services: ServicesDep) -> AccountOut:
    """What is kept about the signed-in person, and what deleting will ask for."""
    return _account_out(identity, await _account_of(services, identity))


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": (
                "The person's data: account, threads, items, tasks, feedback, tool calls, "
                "attachments (described; each file downloads from its own URL)."
            ),
            "content": {"application/json": {}},
        },
        **problem_responses(401, 503),
    },
)
async def export_data(identity: CurrentIdentity, services: ServicesDep) -> StreamingResponse:
    """The signed-in person's data (accounts/export.py: every section, files described and
    not inlined), as a JSON file download, written as read."""
    # Read before answering: a database that is down is a 503 here, not a broken download.
    account = _account_out(identity, await _account_of(services, identity))
    fields: dict[str, Any] = account.model_dump(mode="json", exclude={"has_password"})
    day = datetime.now(UTC).date().isoformat()
    return StreamingResponse(
        export_document(services.engine, user_id=identity.user_id, account=fields),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="taskchat-data-{day}.json"',
            "Cache-Control": "no-store",
        },
    )


@router.delete("", status_code=204, responses=problem_responses(400, 401, 403, 429, 503))
async def delete_account(
    request: Request, body: DeleteBody, identity: CurrentIdentity, services: ServicesDep
) -> Response:
    """Delete the signed-in person's data (and account, if it is ours) and end every
    session of theirs: their tokens issued until now get 401 from here on.

    An account of ours needs `{"password": ...}` (a wrong one is a 403 and counts as a
    failed sign-in); any other needs `{"confirmation": "delete my data"}`.
    """
    account = await _account_of(services, identity)
    if account is None:
        if (body.confirmation or "").strip().lower() != CONFIRMATION:
            raise ProblemError(
                f'Type "{CONFIRMATION}" to confirm; nothing was deleted.',
                code="confirmation_required",
            )
    else:
        await _check_password(request, services, account, body.password)
    erased = await erase(services.engine, user_id=identity.user_id, account=account is not None)
    if erased.revoked_at is not None:
        services.revocations.noted(identity.user_id, erased.revoked_at)
    return Response(status_code=204)


async def _check_password(
    request: Request, services: Services, account: service.Account, password: str | None
) -> None:
    """Return if `password` is the account's; count it like a sign-in attempt."""
    if not password:
        raise ProblemError(
            "Type your password to delete your account; nothing was deleted.",
            code="password_required",
        )
    limiter, address = services.attempt_limiter, client_address(request)
    # Under the account's email, as sign-in counts it: guesses here and at sign-in share
    # one budget.
    limiter.admit(account=account.email, address=address)
    if not await service.password_matches(
        engine=services.engine,
        passwords=services.passwords,
        account_id=account.id,
        password=password,
    ):
        limiter.failed(account=account.email, address=address)
        raise WrongPasswordError
