"""POST /api/auth/register and /api/auth/login: email + password, answered with a JWT."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from taskchat.accounts import service
from taskchat.accounts.limits import AttemptLimiter
from taskchat.api.problems import problem
from taskchat.auth import mint_token
from taskchat.config import Settings

router = APIRouter(prefix="/api/auth")

Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
]


class RegisterBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: str = Field(min_length=8, max_length=256)
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class LoginBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: str = Field(max_length=256)


class UserOut(BaseModel):
    id: str
    email: str
    name: str


class SessionOut(BaseModel):
    """A signed-in session: the token to send as `Authorization: Bearer`."""

    token: str
    expires_at: datetime
    user: UserOut


def _session(settings: Settings, account: service.Account) -> SessionOut:
    expires = datetime.now(UTC) + timedelta(seconds=settings.jwt_ttl_seconds)
    token = mint_token(settings, sub=account.id, name=account.display_name)
    return SessionOut(
        token=token,
        expires_at=expires,
        user=UserOut(id=account.id, email=account.email, name=account.display_name),
    )


def _refusal(request: Request, email: str) -> Response | None:
    settings: Settings = request.app.state.settings
    if settings.jwt_jwks_url:
        return problem(
            501, "accounts_disabled", "Accounts are managed by the identity provider here."
        )
    limiter: AttemptLimiter = request.app.state.attempt_limiter
    address = request.client.host if request.client else "unknown"
    wait = limiter.admit(account=service.normalize_email(email), address=address)
    if wait is not None:
        return problem(
            429,
            "too_many_attempts",
            f"Too many attempts; try again in {int(wait) + 1} seconds.",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    return None


@router.post("/register", status_code=201, response_model=None)
async def register(request: Request, body: RegisterBody) -> SessionOut | Response:
    """Create an account and sign it in."""
    refused = _refusal(request, body.email)
    if refused is not None:
        return refused
    try:
        account = await service.create_account(
            engine=request.app.state.engine,
            email=body.email,
            password=body.password,
            display_name=body.name,
        )
    except service.EmailTakenError:
        return problem(409, "email_taken", "An account with this email already exists.")
    return _session(request.app.state.settings, account)


@router.post("/login", response_model=None)
async def login(request: Request, body: LoginBody) -> SessionOut | Response:
    """Sign in; a wrong email or password gets the same answer."""
    refused = _refusal(request, body.email)
    if refused is not None:
        return refused
    account = await service.authenticate(
        engine=request.app.state.engine, email=body.email, password=body.password
    )
    if account is None:
        limiter: AttemptLimiter = request.app.state.attempt_limiter
        limiter.failed(account=service.normalize_email(body.email))
        return problem(401, "invalid_credentials", "The email or password is incorrect.")
    return _session(request.app.state.settings, account)
