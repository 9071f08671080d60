"""The token revocations, kept in each app's memory and current through LISTEN/NOTIFY.

Every authenticated request asks whether its token was revoked (accounts/revocations.py).
Asked of the database, that is a pool checkout and a round trip per request, and a chat
turn asks twice: about 6% of a turn's server CPU under load (a py-spy profile of
bench/chatkit_overhead.py). Instead each app holds `token_revocations` in a dict: it
LISTENs on one dedicated connection to the changes that migration 0011's trigger announces,
loads the table, applies each notice as it arrives, and confirms the connection every
CONFIRM_SECONDS.

Answers come from memory only while that copy is known to be current: from its load until
the connection is lost, a confirmation fails, or a notice cannot be read. Otherwise (at
start-up, while reconnecting) every check asks the database, as it did before. So a
revocation counts on every replica as soon as its notice arrives (milliseconds after the
commit), and in this process at once (`noted`). The one gap: a connection that goes silent
without closing (a network partition) is noticed by the next confirmation, so notices can
be missed for at most twice CONFIRM_SECONDS, and the table is loaded again after it.

Memory: one entry per deletion ever made, about 150 bytes each.
"""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat.accounts.revocations import issued_at, refuses, revoked, subject_digest
from taskchat.context import Identity
from taskchat.db.drivers import Driver
from taskchat.db.engine import dedicated_driver

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
