"""The app a fuzz test sends its requests to, the credentials it sends them with, and
the threads, items and attachments they may name."""

from __future__ import annotations

from typing import Any

import httpx
import jwt
from chatkit.types import FileAttachment
from hypothesis import strategies as st

from taskchat.auth import mint_token
from taskchat.chat.store.postgres import PostgresStore, chat_id
from taskchat.config import Settings
from taskchat.context import RequestContext
from tests.support.fuzzing import weighted
from tests.support.protocol import create_thread, sse_events

GOOD_CREDENTIALS = ("token", "token-lowercase-scheme")
BAD_CREDENTIALS = (
    "none",
    "empty",
    "scheme-only",
    "basic",
    "garbage",
    "expired",
    "wrong-secret",
    "alg-none",
    "other-audience",
    "nul-subject",
    "long-subject",
    "latin-1",
)
CREDENTIALS = weighted((6, "token"), (1, "token-lowercase-scheme"), (1, "bad")).flatmap(
    lambda name: st.sampled_from(BAD_CREDENTIALS) if name == "bad" else st.just(name)
)
"""Names of Authorization headers (see `credentials`): a valid token seven times in eight."""


class Target:
    """The app under uvicorn, its client, and what the requests may name.

    Not a dataclass: a failing example prints its arguments, and this one briefly.
    """

    def __init__(
        self, http: httpx.Client, values: dict[str, str], authorizations: dict[str, bytes | None]
    ) -> None:
        self.http = http
        self.values = values
        """What each `Ref` stands for."""
        self.authorizations = authorizations
        """Authorization header values by name (see `credentials`); None: no header."""

    def __repr__(self) -> str:
        return f"Target({self.http.base_url})"

    def resolve(self, name: str) -> str:
        return self.values[name]

    def headers(self, credential: str) -> list[tuple[bytes, bytes]]:
        """The Authorization header named `credential` (none for "none")."""
        value = self.authorizations[credential]
        return [] if value is None else [(b"authorization", value)]

    def send(self, method: str, url: str, **request: Any) -> httpx.Response:
        """The whole answer; an AssertionError if it stops before its end or stalls."""
        try:
            with self.http.stream(method, url, **request) as response:
                try:
                    response.read()
                except httpx.RemoteProtocolError as error:
                    raise AssertionError(
                        f"the {response.status_code} answer dropped before its end: {error}"
                    ) from None
        except httpx.TimeoutException as error:
            raise AssertionError(f"no answer, or an answer that stalled: {error!r}") from None
        return response


def credentials(settings: Settings, sub: str) -> dict[str, bytes | None]:
    """The Authorization header of each name in GOOD_CREDENTIALS and BAD_CREDENTIALS, for
    user `sub` (the bad ones: no header, other schemes, and tokens that must not verify)."""
    token = mint_token(settings, sub=sub)
    now_claims = {"iss": settings.jwt_issuer, "aud": settings.jwt_audience, "sub": sub}
    late = {**now_claims, "exp": 2_000_000_000}
    return {
        "token": f"Bearer {token}".encode(),
        "token-lowercase-scheme": f"bearer {token}".encode(),
        "none": None,
        "empty": b"",
        "scheme-only": b"Bearer",
        "basic": b"Basic dXNlcjpwYXNz",
        "garbage": b"Bearer not.a.token",
        "expired": f"Bearer {mint_token(settings, sub=sub, ttl_seconds=-60)}".encode(),
        "wrong-secret": f"Bearer {jwt.encode(late, 'x' * 32, algorithm='HS256')}".encode(),
        "alg-none": f"Bearer {jwt.encode(late, '', algorithm='none')}".encode(),
        "other-audience": (
            "Bearer " + mint_token(settings, sub=sub, extra_claims={"aud": "someone-else"})
        ).encode(),
        "nul-subject": f"Bearer {mint_token(settings, sub='a' + chr(0) + 'b')}".encode(),
        "long-subject": f"Bearer {mint_token(settings, sub='s' * 300)}".encode(),
        "latin-1": b"Bearer \xff\xfe\xe9",
    }


def first_turn(http: httpx.Client, token: str, text: str) -> tuple[str, list[str]]:
    """A new thread with one turn: its id, and its items' ids (message, answer)."""
    response = http.post(
        "/chatkit", json=create_thread(text), headers={"Authorization": f"Bearer {token}"}
    )
    events = sse_events(response)
    thread = next(e["thread"]["id"] for e in events if e["type"] == "thread.created")
    items = [e["item"]["id"] for e in events if e["type"] == "thread.item.done"]
    return thread, items


async def add_attachment(database_url: str, user_id: str) -> str:
    """The id of a new attachment of `user_id`'s, stored directly: the app takes no uploads."""
    store = PostgresStore.from_url(database_url, pool_size=1)
    try:
        attachment = FileAttachment(id=chat_id("attachment"), name="a.txt", mime_type="text/plain")
        await store.save_attachment(attachment, RequestContext(user_id=user_id))
    finally:
        await store.engine.dispose()
    return attachment.id
