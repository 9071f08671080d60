"""Creating accounts and checking passwords."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat.accounts.passwords import Passwords
from taskchat.db.tables import USERS
from taskchat.errors import ProblemError
from taskchat.ids import new_id

_users = USERS

ID_PREFIX = "usr"
"""Account ids (the `sub` of the tokens they get) look like `usr_...`."""


class EmailTakenError(ProblemError):
    """An account with that email exists."""

    status = 409
    code = "email_taken"

    def __init__(self) -> None:
        super().__init__("An account with this email already exists.")


@dataclass(frozen=True)
class Account:
    """An account as the rest of the app sees it (never the hash)."""

    id: str
    email: str
    display_name: str


def normalize_email(email: str) -> str:
    """The form an email is stored and looked up in (emails match case-insensitively)."""
    return email.strip().lower()


async def create_account(
    *, engine: AsyncEngine, passwords: Passwords, email: str, password: str, display_name: str
) -> Account:
    """A new account; EmailTakenError if the email is in use (case-insensitively)."""
    digest = await passwords.hash(password)
    account = Account(id=new_id(ID_PREFIX), email=normalize_email(email), display_name=display_name)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(_users).values(
                    id=account.id,
                    email=account.email,
                    display_name=account.display_name,
                    password_hash=digest,
                    created_at=datetime.now(UTC),
                )
            )
    except IntegrityError:
        raise EmailTakenError from None
    return account


async def authenticate(
    *, engine: AsyncEngine, passwords: Passwords, email: str, password: str
) -> Account | None:
    """The account if the email and password match, else None (which part is not said)."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(
                    _users.c.id, _users.c.email, _users.c.display_name, _users.c.password_hash
                ).where(_users.c.email == normalize_email(email))
            )
        ).first()
    digest = row.password_hash if row is not None else None
    if not await passwords.verify(password, digest) or row is None:
        return None
    return Account(id=row.id, email=row.email, display_name=row.display_name)


@dataclass(frozen=True)
class AccountDetails(Account):
    """An account with what else is kept about it (what a data export shows)."""

    created_at: datetime


async def find_account(*, engine: AsyncEngine, account_id: str) -> AccountDetails | None:
    """The account with id `account_id`, or None (deleted, or a subject we hold no account for)."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(
                    _users.c.id, _users.c.email, _users.c.display_name, _users.c.created_at
                ).where(_users.c.id == account_id)
            )
        ).first()
    if row is None:
        return None
    return AccountDetails(
        id=row.id, email=row.email, display_name=row.display_name, created_at=row.created_at
    )


async def password_matches(
    *, engine: AsyncEngine, passwords: Passwords, account_id: str, password: str
) -> bool:
    """Whether `password` is the password of account `account_id` (False if it is gone)."""
    async with engine.connect() as conn:
        digest = await conn.scalar(select(_users.c.password_hash).where(_users.c.id == account_id))
    return await passwords.verify(password, digest)
