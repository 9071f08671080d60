"""Refusing the tokens of a person whose data was deleted.

A deleted account's tokens stay validly signed until they expire, and an identity
provider's tokens for someone who deleted their data here do too. Deleting writes a
revocation for the token subject (`revoke`, in the deleting transaction); every
authenticated request then asks `revoked` whether its token was issued up to that moment.

Every request has to be checked, on every replica, because a deletion on one replica must
end sessions on all of them. Each app keeps the table in memory for that
(accounts/revocation_watch.py); `revoked` here is the check by the database, one
primary-key probe straight through asyncpg (see `db/engine.py`), for whenever that copy
cannot be trusted.

Keyed by a SHA-256 digest of the subject, not the subject itself: nothing kept after a
deletion names the account (an identity provider's subject may be an email address).
A token issued after the revocation passes: with an identity provider the person may sign
in again and start over with no data; an account of ours is gone, so no new token is minted
for it (except by an operator's `taskchat token`).
"""

from __future__ import annotations

import hashlib

from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat.context import Identity
from taskchat.db.drivers import Driver
from taskchat.db.engine import pooled_driver

LEEWAY_SECONDS = 10
"""Tokens issued up to this long after a revocation are refused too: an identity provider's
clock may run ahead of ours (the same leeway `auth.py` gives expiry)."""


def subject_digest(subject: str) -> bytes:
    """The key a subject's revocation is kept under."""
    return hashlib.sha256(subject.encode("utf-8")).digest()


async def revoke(conn: Driver, *, user_id: str) -> float:
    """Refuse `user_id`'s tokens issued until now (in the caller's transaction); the time
    of the revocation (seconds since the epoch, the database's clock)."""
    return float(
        await conn.fetchval(
            "INSERT INTO token_revocations (subject_digest, revoked_at) VALUES ($1, now()) "
            "ON CONFLICT (subject_digest) DO UPDATE SET revoked_at = EXCLUDED.revoked_at "
            "RETURNING extract(epoch FROM revoked_at)::float8",
            subject_digest(user_id),
        )
    )


def issued_at(identity: Identity) -> float | None:
    """When `identity`'s token was issued (its `iat`), if it says."""
    issued = identity.claims.get("iat")
    return float(issued) if isinstance(issued, int | float) else None


def refuses(revoked_at: float, issued: float | None) -> bool:
    """Whether a revocation at `revoked_at` refuses a token issued at `issued`. A token
    without `iat` cannot show it came after the revocation: it counts as issued before."""
    return issued is None or issued <= revoked_at + LEEWAY_SECONDS


_REVOKED_AT = (
    "SELECT extract(epoch FROM revoked_at)::float8 FROM token_revocations WHERE subject_digest = $1"
)


async def revoked(engine: AsyncEngine, identity: Identity) -> bool:
    """Whether `identity`'s token was issued before its subject's data was deleted, asked
    of the database."""
    async with pooled_driver(engine) as conn:
        revoked_at = await conn.fetchval(_REVOKED_AT, subject_digest(identity.user_id))
    return revoked_at is not None and refuses(revoked_at, issued_at(identity))
