"""Refusing the tokens of a person whose data was deleted.

A deleted account's tokens stay validly signed until they expire, and an identity
provider's tokens for someone who deleted their data here do too. Deleting writes a
revocation for the token subject (`revoke`, in the deleting transaction); every
authenticated request then asks `revoked` whether its token was issued up to that moment.

The check is one primary-key probe of a table that holds a row per deletion ever made,
straight through asyncpg (see `db/engine.py`): it has to run on every request, on every
replica, because a deletion on one replica must end sessions on all of them.

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
from taskchat.db.engine import Driver, pooled_driver

LEEWAY_SECONDS = 10
"""Tokens issued up to this long after a revocation are refused too: an identity provider's
clock may run ahead of ours (the same leeway `auth.py` gives expiry)."""


def subject_digest(subject: str) -> bytes:
    """The key a subject's revocation is kept under."""
    return hashlib.sha256(subject.encode("utf-8")).digest()


async def revoke(conn: Driver, *, user_id: str) -> None:
    """Refuse `user_id`'s tokens issued until now (in the caller's transaction)."""
    await conn.execute(
        "INSERT INTO token_revocations (subject_digest, revoked_at) VALUES ($1, now()) "
        "ON CONFLICT (subject_digest) DO UPDATE SET revoked_at = EXCLUDED.revoked_at",
        subject_digest(user_id),
    )


# A token without `iat` cannot show it came after the revocation: it counts as issued before.
_REVOKED = (
    "SELECT EXISTS (SELECT 1 FROM token_revocations WHERE subject_digest = $1 "
    "AND ($2::float8 IS NULL OR $2::float8 <= extract(epoch FROM revoked_at) + $3))"
)


async def revoked(engine: AsyncEngine, identity: Identity) -> bool:
    """Whether `identity`'s token was issued before its subject's data was deleted."""
    issued = identity.claims.get("iat")
    issued_at = float(issued) if isinstance(issued, int | float) else None
    async with pooled_driver(engine) as conn:
        return bool(
            await conn.fetchval(
                _REVOKED, subject_digest(identity.user_id), issued_at, LEEWAY_SECONDS
            )
        )
