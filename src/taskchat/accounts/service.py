"""Creating accounts and checking passwords (argon2 through pwdlib)."""

from __future__ import annotations

import asyncio
import secrets
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime

import anyio
import anyio.to_thread
from pwdlib import PasswordHash
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat.db.models import USERS
from taskchat.errors import TaskchatError

_users = USERS

# argon2id with pwdlib's recommended parameters (about 0.2 s and 64 MiB per hash here).
_HASHER = PasswordHash.recommended()
# Each argon2 hash takes 64 MiB and a core for about 0.2 s: at most two at a time.
_HASHING_SLOTS = 2
_hashing: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


def _hash_limiter() -> anyio.CapacityLimiter:
    # One per event loop (a limiter waits with that loop's primitives).
    loop = asyncio.get_running_loop()
    if loop not in _hashing:
        _hashing[loop] = anyio.CapacityLimiter(_HASHING_SLOTS)
    return _hashing[loop]


# Verified against when no account matches, so a missing email costs as long as a
# wrong password and the timing does not tell which it was.
_DUMMY_HASH = _HASHER.hash(secrets.token_hex(16))


class EmailTakenError(TaskchatError):
    """An account with that email exists."""


@dataclass(frozen=True)
class Account:
    """An account as the rest of the app sees it (never the hash)."""

    id: str
    email: str
    display_name: str


def normalize_email(email: str) -> str:
    return email.strip().lower()


async def create_account(
    *, engine: AsyncEngine, email: str, password: str, display_name: str
) -> Account:
    """A new account; EmailTakenError if the email is in use (case-insensitively)."""
    digest = await anyio.to_thread.run_sync(_HASHER.hash, password, limiter=_hash_limiter())
    account = Account(
        id=f"usr_{secrets.token_hex(12)}", email=normalize_email(email), display_name=display_name
    )
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
        raise EmailTakenError(account.email) from None
    return account


async def authenticate(*, engine: AsyncEngine, email: str, password: str) -> Account | None:
    """The account if the email and password match, else None (which part is not said)."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(
                    _users.c.id, _users.c.email, _users.c.display_name, _users.c.password_hash
                ).where(_users.c.email == normalize_email(email))
            )
        ).first()
    digest = row.password_hash if row is not None else _DUMMY_HASH
    matches = await anyio.to_thread.run_sync(
        _HASHER.verify, password, digest, limiter=_hash_limiter()
    )
    if row is None or not matches:
        return None
    return Account(id=row.id, email=row.email, display_name=row.display_name)
