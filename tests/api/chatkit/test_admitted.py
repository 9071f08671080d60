"""An answer's stream starts only once admitted, and its slot always comes back: on the real
database, with the response driven as the ASGI server drives it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable

import pytest
from starlette.types import Message

from taskchat.api.admitted import AdmittedStream
from taskchat.chat.admission import Admission, TooManyTurnsError, TurnLimiter
from taskchat.db.engine import create_engine

SCOPE = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "method": "POST"}


async def never_disconnects() -> Message:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


async def events(started: list[bool]) -> AsyncGenerator[bytes, None]:
    started.append(True)
    yield b"data: {}\n\n"


@pytest.fixture
async def limiter(database_url: str) -> AsyncIterator[TurnLimiter]:
    engine = create_engine(database_url, pool_size=2)
    try:
        yield TurnLimiter(engine, per_minute=0, concurrent=1, lease_seconds=60)
    finally:
        await engine.dispose()


async def admitted_for(limiter: TurnLimiter, user: str) -> Admission:
    """The user's admission, sent."""
    admission = Admission(limiter, user)
    await admission.start()
    assert admission.started
    return admission


async def test_an_admitted_stream_gives_its_slot_back_when_it_ends(
    limiter: TurnLimiter, new_user: Callable[[], str]
) -> None:
    user, sent, started = new_user(), list[Message](), list[bool]()

    async def send(message: Message) -> None:
        sent.append(message)

    response = AdmittedStream(events(started), await admitted_for(limiter, user))
    await response(SCOPE, never_disconnects, send)
    assert [message["type"] for message in sent] == ["http.response.start"] + [
        "http.response.body"
    ] * 2
    assert (await limiter.admit(user)).turn_id  # the one slot is free again


async def test_a_refused_stream_sends_nothing(
    limiter: TurnLimiter, new_user: Callable[[], str]
) -> None:
    user, sent, started = new_user(), list[Message](), list[bool]()
    await limiter.admit(user)  # the user's one slot, taken

    async def send(message: Message) -> None:
        sent.append(message)

    response = AdmittedStream(events(started), await admitted_for(limiter, user))
    with pytest.raises(TooManyTurnsError):
        await response(SCOPE, never_disconnects, send)
    assert sent == [] and started == []


async def test_a_client_gone_before_the_first_event_gives_the_slot_back(
    limiter: TurnLimiter, new_user: Callable[[], str]
) -> None:
    user, started = new_user(), list[bool]()

    async def send(message: Message) -> None:
        raise OSError("the client went away")

    response = AdmittedStream(events(started), await admitted_for(limiter, user))
    with pytest.raises(OSError, match="went away"):
        await response(SCOPE, never_disconnects, send)
    assert started == []
    assert (await limiter.admit(user)).turn_id  # the slot it took is free again


async def test_a_pure_first_event_is_made_meanwhile_and_dropped_if_refused(
    limiter: TurnLimiter, new_user: Callable[[], str]
) -> None:
    user, sent, started = new_user(), list[Message](), list[bool]()

    async def send(message: Message) -> None:
        sent.append(message)

    admitted = AdmittedStream(
        events(started), await admitted_for(limiter, user), first_is_pure=True
    )
    await admitted(SCOPE, never_disconnects, send)
    assert [message.get("body") for message in sent] == [None, b"data: {}\n\n", b""]
    closed: list[bool] = []

    async def watched() -> AsyncGenerator[bytes, None]:
        try:
            async for chunk in events(started):
                yield chunk
        finally:
            closed.append(True)

    started.clear()
    sent.clear()
    await limiter.admit(user)  # the user's one slot, taken
    refused = AdmittedStream(watched(), await admitted_for(limiter, user), first_is_pure=True)
    with pytest.raises(TooManyTurnsError):
        await refused(SCOPE, never_disconnects, send)
    assert started == [True] and closed == [True] and sent == []


async def test_no_limits_no_admission(database_url: str, new_user: Callable[[], str]) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        unlimited = TurnLimiter(engine, per_minute=0, concurrent=0, lease_seconds=60)
        admission = Admission(unlimited, new_user())
        await admission.start()
        assert not admission.started
    finally:
        await engine.dispose()
