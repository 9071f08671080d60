"""GET /api/account, GET /api/account/export and DELETE /api/account, over real HTTP on the
real database; what is left of a person is counted by a superuser, whom row-level security
hides nothing from."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from taskchat.accounts.revocations import subject_digest
from taskchat.api.services import Services
from taskchat.chat.store.postgres import PostgresStore
from taskchat.config import Settings
from taskchat.context import RequestContext
from taskchat.tasks import service
from taskchat.tasks.schemas import TaskCreate
from tests.support.apps import app_client, running_app
from tests.support.eventually import eventually, holds
from tests.support.fake_openai import FakeOpenAI, Reply, ToolCall
from tests.support.jwks import jwks_served
from tests.support.leftovers import ids_of, rows_of
from tests.support.live import LiveServer
from tests.support.protocol import aiter_events, auth, create_thread, post
from tests.support.settings import make_settings
from tests.support.threads import make_thread, user_message
from tests.support.tokens import TokenFor

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Person:
    """An account registered through the API, and its session token."""

    id: str
    email: str
    name: str
    token: str


async def register(client: httpx.AsyncClient, name: str) -> Person:
    email = f"{name.split()[0].lower()}.{secrets.token_hex(4)}@example.com"
    response = await client.post(
        "/api/auth/register", json={"email": email, "password": PASSWORD, "name": name}
    )
    assert response.status_code == 201, response.text
    session = response.json()
    return Person(id=session["user"]["id"], email=email, name=name, token=session["token"])


async def chat_a_task(
    client: httpx.AsyncClient, fake_model: FakeOpenAI, token: str, title: str
) -> None:
    """A turn in a new thread in which the agent adds the task `title`."""
    fake_model.script(
        Reply(tool_calls=[ToolCall("add_task", {"title": title})]), Reply(text=[f"Added {title}."])
    )
    response, events = await post(client, token, create_thread(f"Remind me: {title}"))
    assert response.status_code == 200
    assert not [event for event in events if event["type"] == "error"], events
    # And a 👍 on the answer, so the person has a vote kept too.
    [answer] = [
        event["item"]
        for event in events
        if event["type"] == "thread.item.done" and event["item"]["type"] == "assistant_message"
    ]
    voted = await client.post(
        "/chatkit",
        json={
            "type": "items.feedback",
            "params": {
                "thread_id": answer["thread_id"],
                "item_ids": [answer["id"]],
                "kind": "positive",
            },
        },
        headers=auth(token),
    )
    assert voted.status_code == 200


async def delete(client: httpx.AsyncClient, token: str, **body: str) -> httpx.Response:
    return await client.request("DELETE", "/api/account", json=body, headers=auth(token))


async def refused_everywhere(client: httpx.AsyncClient, token: str) -> None:
    """`token` gets 401 from every route that takes one."""
    listed = await client.post(
        "/chatkit", json={"type": "threads.list", "params": {}}, headers=auth(token)
    )
    assert listed.status_code == 401
    assert "revoked" in listed.json()["detail"]
    for path in ("/api/tasks", "/api/account", "/api/account/export"):
        assert (await client.get(path, headers=auth(token))).status_code == 401, path
    mcp = await client.post(
        "/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
        headers={**auth(token), "Accept": "application/json, text/event-stream"},
    )
    assert mcp.status_code == 401


# Export ---------------------------------------------------------------------------------


async def test_export_downloads_exactly_the_callers_data(
    client: httpx.AsyncClient, fake_model: FakeOpenAI, superuser_database_url: str
) -> None:
    alice, bob = await register(client, "Alice Liddell"), await register(client, "Bob Dylan")
    await chat_a_task(client, fake_model, alice.token, "Feed the cat")
    await chat_a_task(client, fake_model, alice.token, "Water the plants")
    await chat_a_task(client, fake_model, bob.token, "Bob's errand")

    response = await client.get("/api/account/export", headers=auth(alice.token))

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="taskchat-data-') and disposition.endswith(
        '.json"'
    )
    assert response.headers["cache-control"] == "no-store"
    document = response.json()
    account = document["account"]
    assert account["id"] == alice.id and account["email"] == alice.email
    assert account["name"] == "Alice Liddell" and account["created_at"]
    assert set(account) == {"id", "email", "name", "created_at"}
    for section, table in (
        ("threads", "chat_threads"),
        ("items", "chat_items"),
        ("tasks", "tasks"),
    ):
        exported = [row["id"] for row in document[section]]
        assert len(exported) == len(set(exported)), section
        assert set(exported) == await ids_of(superuser_database_url, table, alice.id), section
    assert len(document["threads"]) == 2
    assert sorted(task["title"] for task in document["tasks"]) == [
        "Feed the cat",
        "Water the plants",
    ]
    assert {item["type"] for item in document["items"]} >= {"user_message", "assistant_message"}
    assert sorted(call["arguments"]["title"] for call in document["tool_calls"]) == [
        "Feed the cat",
        "Water the plants",
    ]
    assert [vote["kind"] for vote in document["feedback"]] == ["positive", "positive"]
    for foreign in (bob.id, bob.email, "Bob's errand"):
        assert foreign not in response.text
    assert "argon2" not in response.text and "password" not in response.text


async def test_export_of_someone_with_nothing(
    client: httpx.AsyncClient, token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    newcomer = await register(client, "New Comer")
    document = (await client.get("/api/account/export", headers=auth(newcomer.token))).json()
    assert document["account"]["email"] == newcomer.email
    assert (document["threads"], document["items"], document["tasks"]) == ([], [], [])
    # A subject we hold no account for (a development token): nothing kept but its id.
    subject = new_user()
    document = (await client.get("/api/account/export", headers=auth(token_for(subject)))).json()
    assert document["account"] == {"id": subject, "email": None, "name": None, "created_at": None}
    assert (document["threads"], document["items"], document["tasks"]) == ([], [], [])


async def test_export_needs_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/account/export")
    assert response.status_code == 401 and response.json()["error"] == "unauthorized"


# Delete ---------------------------------------------------------------------------------


async def test_a_wrong_password_deletes_nothing_and_counts_as_a_failed_sign_in(
    client: httpx.AsyncClient, fake_model: FakeOpenAI, superuser_database_url: str
) -> None:
    alice = await register(client, "Alice Guess")
    await chat_a_task(client, fake_model, alice.token, "Keep me")
    before = await rows_of(superuser_database_url, alice.id)

    missing = await delete(client, alice.token)
    assert missing.status_code == 400 and missing.json()["error"] == "password_required"
    for _ in range(5):  # the per-account, per-address failure limit here is 5 a minute
        wrong = await delete(client, alice.token, password="not my password")
        assert wrong.status_code == 403
        assert wrong.json() == {
            "error": "wrong_password",
            "detail": "That password is incorrect; nothing was deleted.",
        }
    # The guesses used up the budget sign-in has too: neither the right password here nor
    # a sign-in from this address is tried now.
    limited = await delete(client, alice.token, password=PASSWORD)
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    login = await client.post("/api/auth/login", json={"email": alice.email, "password": PASSWORD})
    assert login.status_code == 429

    assert await rows_of(superuser_database_url, alice.id) == before
    assert (await client.get("/api/account", headers=auth(alice.token))).status_code == 200


async def test_deleting_an_account_leaves_no_row_of_it_and_ends_its_sessions(
    client: httpx.AsyncClient, fake_model: FakeOpenAI, superuser_database_url: str
) -> None:
    alice, bob = await register(client, "Alice Gone"), await register(client, "Bob Stays")
    await chat_a_task(client, fake_model, alice.token, "Alice's task")
    await chat_a_task(client, fake_model, bob.token, "Bob's task")
    described = (await client.get("/api/account", headers=auth(alice.token))).json()
    assert described["has_password"] is True and described["email"] == alice.email
    held = await rows_of(superuser_database_url, alice.id)
    assert all(
        held[table]
        for table in (
            "users",
            "chat_threads",
            "chat_items",
            "tasks",
            "chat_feedback",
            "chat_tool_calls",
        )
    )
    assert held["chat_turns"]  # the rate limits' record of the turn goes too
    bobs = await rows_of(superuser_database_url, bob.id)

    deleted = await delete(client, alice.token, password=PASSWORD)

    assert deleted.status_code == 204 and deleted.content == b""
    left = await rows_of(superuser_database_url, alice.id)
    assert left == dict.fromkeys(left, 0)
    assert await rows_of(superuser_database_url, bob.id) == bobs
    await refused_everywhere(client, alice.token)
    login = await client.post("/api/auth/login", json={"email": alice.email, "password": PASSWORD})
    assert login.status_code == 401
    # Bob carries on.
    listed = await client.post(
        "/chatkit", json={"type": "threads.list", "params": {}}, headers=auth(bob.token)
    )
    assert listed.status_code == 200 and len(listed.json()["data"]) == 1


async def test_a_deletion_on_one_replica_ends_the_sessions_on_another(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    alice, bob = await register(client, "Alice Elsewhere"), await register(client, "Bob Here")
    async with running_app(settings) as (app, replica):
        # The other replica has the revocations in memory (accounts/revocations.py),
        # so what refuses the token there is the deletion's notice.
        services: Services = app.state.services

        await eventually(holds(lambda: services.revocations.current), "the replica listens")
        assert (await replica.get("/api/account", headers=auth(alice.token))).status_code == 200

        assert (await delete(client, alice.token, password=PASSWORD)).status_code == 204

        async def refused_there() -> bool:
            answer = await replica.get("/api/account", headers=auth(alice.token))
            return answer.status_code == 401

        await eventually(refused_there, "the other replica refuses the old token")
        await refused_everywhere(replica, alice.token)
        assert (await replica.get("/api/account", headers=auth(bob.token))).status_code == 200


async def test_a_subject_without_an_account_deletes_its_data_with_the_typed_confirmation(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    new_user: Callable[[], str],
    store: PostgresStore,
    superuser_database_url: str,
) -> None:
    subject = new_user()
    token = token_for(subject)
    await service.add_task(engine=store.engine, user_id=subject, data=TaskCreate(title="Mine"))
    described = (await client.get("/api/account", headers=auth(token))).json()
    assert described == {
        "id": subject,
        "email": None,
        "name": None,
        "created_at": None,
        "has_password": False,
    }
    for body in ({}, {"password": PASSWORD}, {"confirmation": "delete my stuff"}):
        refused = await delete(client, token, **body)
        assert refused.status_code == 400, body
        assert refused.json() == {
            "error": "confirmation_required",
            "detail": 'Type "delete my data" to confirm; nothing was deleted.',
        }
    assert (await rows_of(superuser_database_url, subject))["tasks"] == 1

    assert (await delete(client, token, confirmation=" Delete my data ")).status_code == 204
    left = await rows_of(superuser_database_url, subject)
    assert left == dict.fromkeys(left, 0)
    await refused_everywhere(client, token)


async def test_a_turn_streaming_through_the_deletion_leaves_nothing_behind(
    client: httpx.AsyncClient,
    fake_model: FakeOpenAI,
    store: PostgresStore,
    superuser_database_url: str,
) -> None:
    alice, bob = await register(client, "Alice Midway"), await register(client, "Bob Bystander")
    fake_model.script(Reply(text=["Sure, ", "I will remember that."], hold_after=1))
    events: list[dict[str, Any]] = []
    async with client.stream(
        "POST", "/chatkit", json=create_thread("Remind me later"), headers=auth(alice.token)
    ) as response:
        assert response.status_code == 200
        stream = aiter_events(response)
        async for event in stream:
            events.append(event)
            if event["type"] == "thread.item.updated":
                break  # the answer is on its way; the model holds the rest back

        assert (await delete(client, alice.token, password=PASSWORD)).status_code == 204
        # What a tool of this turn, running as the deletion committed, would leave: a task
        # no thread holds, so no foreign key stops it.
        await service.add_task(engine=store.engine, user_id=alice.id, data=TaskCreate(title="Late"))
        others = await client.post(
            "/chatkit", json={"type": "threads.list", "params": {}}, headers=auth(bob.token)
        )
        assert others.status_code == 200
        fake_model.release.set()
        events += [event async for event in stream]

    # The answer could not be stored (its thread is gone): the stream ends with an error
    # event, not a dropped connection, and what the turn left is gone too.
    assert events[-1]["type"] == "error", events[-1]
    left = await rows_of(superuser_database_url, alice.id)
    assert left == dict.fromkeys(left, 0)


# With an identity provider ----------------------------------------------------------------

IDP_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def identity_provider() -> Iterator[LiveServer]:
    """An identity provider's public keys (JWKS), served on loopback."""
    with jwks_served(IDP_KEY, "idp-1") as server:
        yield server


def idp_token(subject: str, issued: datetime) -> str:
    claims = {
        "sub": subject,
        "iss": "taskchat",
        "aud": "taskchat",
        "iat": issued,
        "exp": datetime.now(UTC) + timedelta(minutes=5),
        "name": "Ida Provider",
    }
    return jwt.encode(claims, IDP_KEY, algorithm="RS256", headers={"kid": "idp-1"})


async def test_with_an_identity_provider_delete_my_data_keeps_the_account_for_a_fresh_start(
    database_url: str,
    identity_provider: LiveServer,
    store: PostgresStore,
    superuser_database_url: str,
) -> None:
    settings = make_settings(
        database_url,
        jwt_secret=None,
        jwt_jwks_url=f"{identity_provider.url}/jwks.json",
        jwt_algorithms=["RS256"],
    )
    subject = f"idp|{secrets.token_hex(6)}"
    context = RequestContext(user_id=subject)
    thread = make_thread(title="Plans")
    await store.save_thread(thread, context)
    await store.add_thread_item(thread.id, user_message(thread.id, "hello"), context)
    await service.add_task(engine=store.engine, user_id=subject, data=TaskCreate(title="Plan"))
    old = idp_token(subject, datetime.now(UTC) - timedelta(minutes=2))

    async with app_client(settings) as http:
        described = (await http.get("/api/account", headers=auth(old))).json()
        assert described["has_password"] is False and described["email"] is None
        refused = await http.request(
            "DELETE", "/api/account", json={"password": "anything"}, headers=auth(old)
        )
        assert refused.status_code == 400
        assert (await rows_of(superuser_database_url, subject))["chat_items"] == 1

        deleted = await http.request(
            "DELETE", "/api/account", json={"confirmation": "delete my data"}, headers=auth(old)
        )
        assert deleted.status_code == 204
        left = await rows_of(superuser_database_url, subject)
        assert left == dict.fromkeys(left, 0)
        gone = await http.get("/api/account", headers=auth(old))
        assert gone.status_code == 401
        # What is kept to refuse the old tokens does not name the person.
        engine = create_async_engine(superuser_database_url)
        try:
            async with engine.begin() as conn:
                kept = await conn.scalar(
                    text("SELECT count(*) FROM token_revocations WHERE subject_digest = :d"),
                    {"d": subject_digest(subject)},
                )
                assert kept == 1
                # A minute later (the deletion moved back in time), the provider signs the
                # person in again: a new token is accepted, and there is nothing of theirs.
                await conn.execute(
                    text(
                        "UPDATE token_revocations "
                        "SET revoked_at = revoked_at - interval '1 minute' "
                        "WHERE subject_digest = :d"
                    ),
                    {"d": subject_digest(subject)},
                )
        finally:
            await engine.dispose()
        fresh = idp_token(subject, datetime.now(UTC))

        async def accepted() -> bool:
            # The update reaches the app as a notice (accounts/revocations.py).
            return (await http.get("/api/account", headers=auth(fresh))).status_code == 200

        await eventually(accepted, "the moved revocation is seen")
        again = await http.get("/api/account/export", headers=auth(fresh))
        assert again.status_code == 200
        assert (again.json()["threads"], again.json()["tasks"]) == ([], [])
        assert (await http.get("/api/account", headers=auth(old))).status_code == 401
