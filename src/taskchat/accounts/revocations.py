"""Refusing the tokens of a person whose data was deleted, on every replica.

A deleted account's tokens stay validly signed until they expire, and an identity
provider's tokens for someone who deleted their data here do too. Deleting writes a
revocation for the token subject (`revoke`, in the deleting transaction); every
authenticated request then asks whether its token was issued up to that moment.

Keyed by a SHA-256 digest of the subject, not the subject itself: nothing kept after a
deletion names the account (an identity provider's subject may be an email address).
A token issued after the revocation passes: with an identity provider the person may sign
in again and start over with no data; an account of ours is gone, so no new token is minted
for it (except by an operator's `taskchat token`).

`revoked` asks the database: one primary-key probe straight through asyncpg. Asking it on
every request would cost a round trip each, twice a chat turn, so each app keeps the table
in memory instead (`RevocationWatch`): it LISTENs on one dedicated connection to the
changes that migration 0011's trigger announces, loads the table, applies each notice as it
arrives, and confirms the connection every CONFIRM_SECONDS. Answers come from memory only
while that copy is known to be current: from its load until the connection is lost, a
confirmation fails, or a notice cannot be read. Otherwise (at start-up, while reconnecting)
every check asks the database. So a revocation counts on every replica as soon as its
notice arrives, and in this process at once (`noted`). The one gap: a connection that goes
silent without closing (a network partition) is noticed by the next confirmation, so notices
can be missed for at most twice CONFIRM_SECONDS, and the table is loaded again after it.
The copy holds one small entry per deletion ever made.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time

from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat.context import Identity
from taskchat.db.drivers import Driver
from taskchat.db.engine import dedicated_driver, pooled_driver

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


logger = logging.getLogger("taskchat.auth")

CHANNEL = "taskchat_token_revocations"
"""The channel migration 0011's trigger notifies."""

CONFIRM_SECONDS = 5.0
"""How often the listening connection is confirmed with a round trip, and how long that
may take: the copy counts as current for twice this after the last confirmation."""

RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
"""Waits before reconnecting after consecutive failures (the last one repeats)."""


class RevocationWatch:
    """Answers `revoked` from memory while the copy is current, from the database when not."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._revoked_at: dict[bytes, float] = {}
        """Revocation times (seconds since the epoch) by subject digest."""
        self._current_until = 0.0
        """The monotonic time until which the copy counts as current (0: it does not)."""
        self._arriving: list[str] | None = None
        """Notices that arrived while the table loads, applied after it (else None)."""
        self._wake = asyncio.Event()
        """Set when the copy must be loaded again (a TRUNCATE, an unreadable notice, a lost
        connection)."""
        self._failures = 0
        self._loaded = False
        """Whether the copy was loaded on the connection last listened on."""

    @property
    def current(self) -> bool:
        """Whether answers come from memory."""
        return time.monotonic() < self._current_until

    async def revoked(self, identity: Identity) -> bool:
        """Whether `identity`'s token was issued before its subject's data was deleted."""
        if not self.current:
            return await revoked(self._engine, identity)
        revoked_at = self._revoked_at.get(subject_digest(identity.user_id))
        return revoked_at is not None and refuses(revoked_at, issued_at(identity))

    def noted(self, user_id: str, revoked_at: float) -> None:
        """A revocation this process has just committed, counted before its notice arrives
        (the notice and the deleting request's answer travel on different connections)."""
        self._revoked_at[subject_digest(user_id)] = revoked_at

    async def run(self) -> None:
        """Keep the copy current until cancelled (the app's shutdown), reconnecting after
        failures; meanwhile every check asks the database."""
        while True:
            try:
                async with dedicated_driver(self._engine) as conn:
                    await self._watch(conn)
            except Exception as error:
                if self._loaded:
                    logger.warning(
                        "token revocations: lost the database's notices (%s); checking "
                        "tokens against the database until they are back",
                        type(error).__name__,
                    )
                else:
                    logger.debug("token revocations: cannot listen (%s)", type(error).__name__)
            finally:
                self._current_until, self._loaded = 0.0, False
            await asyncio.sleep(RETRY_SECONDS[min(self._failures, len(RETRY_SECONDS) - 1)])
            self._failures += 1

    async def _watch(self, conn: Driver) -> None:
        """Listen, load, and confirm on `conn` until it fails (raises)."""
        closed = False

        def lost(_: object) -> None:
            nonlocal closed
            closed, self._current_until = True, 0.0
            self._wake.set()

        conn.add_termination_listener(lost)
        await conn.add_listener(CHANNEL, self._notice)
        while True:
            await self._load(conn)
            while not self._wake.is_set():
                try:
                    await asyncio.wait_for(self._wake.wait(), CONFIRM_SECONDS)
                except TimeoutError:
                    await asyncio.wait_for(conn.fetchval("SELECT 1"), CONFIRM_SECONDS)
                    self._current_until = time.monotonic() + 2 * CONFIRM_SECONDS
            if closed:
                raise ConnectionError("the listening connection closed")

    async def _load(self, conn: Driver) -> None:
        """The whole table, then the notices that arrived while it was read (each says
        what a row now is, so applying one the table already shows changes nothing)."""
        self._wake.clear()
        self._arriving = []
        try:
            rows = await conn.fetch(
                "SELECT subject_digest, extract(epoch FROM revoked_at)::float8 "
                "FROM token_revocations"
            )
            self._revoked_at = {bytes(digest): float(at) for digest, at in rows}
            for notice in self._arriving:
                self._apply(notice)
        finally:
            self._arriving = None
        if self._wake.is_set():
            return
        self._loaded = True
        if self._failures:
            logger.info("token revocations: notices are back; checking tokens from memory")
        self._failures = 0
        self._current_until = time.monotonic() + 2 * CONFIRM_SECONDS

    def _notice(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        if self._arriving is not None:
            self._arriving.append(str(payload))
        else:
            self._apply(str(payload))

    def _apply(self, notice: str) -> None:
        verb, _, rest = notice.partition(" ")
        try:
            if verb == "set":
                digest, at = rest.split(" ")
                self._revoked_at[bytes.fromhex(digest)] = float(at)
                return
            if verb == "forget":
                self._revoked_at.pop(bytes.fromhex(rest), None)
                return
            if verb != "reload":
                raise ValueError(verb)
        except ValueError:
            logger.warning("token revocations: unreadable notice; loading them again")
        # A TRUNCATE, or a notice this version cannot read: the copy is no longer known.
        self._current_until = 0.0
        self._wake.set()


__all__ = ["CHANNEL", "CONFIRM_SECONDS", "RevocationWatch"]
