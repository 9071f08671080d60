"""POST /api/auth/register and /api/auth/login: email + password, answered with a JWT."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from taskchat.accounts import policy, service
from taskchat.api.deps import ServicesDep
from taskchat.api.errors import problem_responses
from taskchat.api.services import Services
from taskchat.auth import mint_token
from taskchat.config import Settings
from taskchat.errors import ProblemError
from taskchat.text import STORABLE, SafeText

router = APIRouter(prefix="/api/auth")

Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
    STORABLE,
]


class RegisterBody(BaseModel):
    """A new account."""

    model_config = ConfigDict(extra="forbid")

    email: Email
    # The shortest length is a rule of accounts/policy.py, answered as weak_password with
    # the other rules; the longest bounds what any request may make us hash.
    password: SafeText = Field(max_length=policy.MAX_LENGTH)
    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80), STORABLE
    ]


class LoginBody(BaseModel):
    """A sign-in."""

    model_config = ConfigDict(extra="forbid")

    email: Email
    password: SafeText = Field(max_length=policy.MAX_LENGTH)


class UserOut(BaseModel):
    """The signed-in account."""

    id: str
    email: str
    name: str


class SessionOut(BaseModel):
    """A signed-in session: the token to send as `Authorization: Bearer`."""

    token: str
    expires_at: datetime
    user: UserOut


class InvalidCredentialsError(ProblemError):
    """The email or the password is wrong (never said which)."""

    status = 401
    code = "invalid_credentials"

    def __init__(self) -> None:
        super().__init__("The email or password is incorrect.")


def _session(settings: Settings, account: service.Account) -> SessionOut:
    expires = datetime.now(UTC) + timedelta(seconds=settings.jwt_ttl_seconds)
    token = mint_token(settings, sub=account.id, name=account.display_name)
    return SessionOut(
        token=token,
        expires_at=expires,
        user=UserOut(id=account.id, email=account.email, name=account.display_name),
    )


def _accounts_on(services: Services) -> None:
    """Refuse the request if accounts are not kept here."""
    if services.settings.jwt_jwks_url:
        raise ProblemError(
            "Accounts are managed by the identity provider here.",
            status=501,
            code="accounts_disabled",
        )


def client_address(request: Request) -> str:
    """The client's address: X-Forwarded-For counts only from FORWARDED_ALLOW_IPS (uvicorn's
    proxy headers set it), which the frontend fills with the address it saw itself."""
    return request.client.host if request.client else "unknown"


def _admit(request: Request, services: Services, email: str) -> None:
    """Count the attempt; refuse it if a limit is reached."""
    services.attempt_limiter.admit(
        account=service.normalize_email(email), address=client_address(request)
    )


@router.post("/register", status_code=201, responses=problem_responses(400, 409, 429, 501, 503))
async def register(request: Request, body: RegisterBody, services: ServicesDep) -> SessionOut:
    """Create an account and sign it in; a weak password is a 400 `weak_password`."""
    _accounts_on(services)
    # Before the attempt is counted, like a body that does not validate: refusing it costs
    # no hash and no query, and someone trying passwords in the form should not use up
    # the sign-in limit their address shares with everyone behind it. The rules are
    # public, so a refusal tells a guesser nothing.
    policy.check_new_password(body.password, email=body.email)
    _admit(request, services, body.email)
    account = await service.create_account(
        engine=services.engine,
        passwords=services.passwords,
        email=body.email,
        password=body.password,
        display_name=body.name,
    )
    return _session(services.settings, account)


@router.post("/login", responses=problem_responses(401, 429, 501, 503))
async def login(request: Request, body: LoginBody, services: ServicesDep) -> SessionOut:
    """Sign in; a wrong email or password gets the same answer.

    The password policy is not checked here: accounts made before it still sign in."""
    _accounts_on(services)
    _admit(request, services, body.email)
    account = await service.authenticate(
        engine=services.engine,
        passwords=services.passwords,
        email=body.email,
        password=body.password,
    )
    email, address = service.normalize_email(body.email), client_address(request)
    if account is None:
        services.attempt_limiter.failed(account=email, address=address)
        raise InvalidCredentialsError
    services.attempt_limiter.succeeded(account=email, address=address)
    return _session(services.settings, account)
