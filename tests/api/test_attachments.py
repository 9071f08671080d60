"""Attachments end to end: attachments.create, the upload, the preview, sending, deleting,
over real HTTP on the real database, with the scripted model reading what it was sent."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from taskchat.app import create_app
from taskchat.chat.store.attachments import UNSENT_MAX, PostgresAttachmentStore
from taskchat.chat.store.postgres import PostgresStore
from taskchat.config import Settings
from taskchat.context import RequestContext
from taskchat.db.engine import user_transaction_raw
from taskchat.errors import ProblemError
from taskchat.files.postgres import PostgresFileStorage
from tests.support.apps import app_client
from tests.support.attachments import (
    add_message_with,
    create,
    create_request,
    create_thread_with,
    png,
    upload,
    uploaded,
)
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.live import LiveServer
from tests.support.protocol import assistant_texts, auth, post, thread_id_of
from tests.support.settings import scripted_settings
from tests.support.tokens import TokenFor


def user_parts(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The content parts of the user messages of a chat-completions request."""
    parts: list[dict[str, Any]] = []
    for message in request["messages"]:
        if message["role"] == "user" and isinstance(message["content"], list):
            parts.extend(message["content"])
    return parts


async def file_rows(store: PostgresStore, user_id: str) -> int:
    async with user_transaction_raw(store.engine, user_id) as conn:
        count = await conn.fetchval(
            "SELECT count(*) FROM chat_attachment_files WHERE user_id = $1", user_id
        )
    return int(count)


async def test_an_uploaded_image_reaches_the_model_as_image_input(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    new_user: Callable[[], str],
    fake_model: FakeOpenAI,
) -> None:
    token = token_for(new_user())
    image = png(2, 2)
    made = await create(client, token, "dot.png", "image/png", len(image))
    assert made.status_code == 200
    attachment = made.json()
    assert attachment["type"] == "image" and attachment["mime_type"] == "image/png"
    assert attachment["upload_descriptor"]["method"] == "POST"
    # The URLs point back where the client came from (here the backend itself).
    backend = str(client.base_url).rstrip("/")
    assert attachment["upload_descriptor"]["url"] == (
        f"{backend}/api/attachments/{attachment['id']}/upload"
    )
    done = await upload(client, token, attachment["id"], image, "dot.png", "image/png")
    assert done.status_code == 200
    assert done.json()["upload_descriptor"] is None
    fake_model.script(Reply(text=["A red square."]))
    response, events = await post(
        client, token, create_thread_with("What is this?", attachment["id"])
    )
    assert response.status_code == 200
    assert assistant_texts(events) == ["A red square."]
    sent = next(e["item"] for e in events if e["type"] == "thread.item.done")
    assert [a["id"] for a in sent["attachments"]] == [attachment["id"]]
    parts = user_parts(fake_model.requests[-1])
    expected = "data:image/png;base64," + base64.b64encode(image).decode()
    assert {"type": "text", "text": "What is this?"} in parts
    assert [p["image_url"]["url"] for p in parts if p["type"] == "image_url"] == [expected]


async def test_the_next_turn_still_shows_the_model_the_image(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    new_user: Callable[[], str],
    fake_model: FakeOpenAI,
) -> None:
    token = token_for(new_user())
    image = png(3, 1)
    attachment = await uploaded(client, token, "wide.png", "image/png", image)
    fake_model.script(Reply(text=["Seen."]), Reply(text=["Still red."]))
    _, events = await post(client, token, create_thread_with("Look", attachment["id"]))
    thread_id = thread_id_of(events)
    _, later = await post(client, token, add_message_with(thread_id, "And now?"))
    assert assistant_texts(later) == ["Still red."]
    urls = [p["image_url"]["url"] for p in user_parts(fake_model.requests[-1]) if "image_url" in p]
    assert urls == ["data:image/png;base64," + base64.b64encode(image).decode()]


async def test_the_responses_api_gets_the_image_as_input_image(
    database_url: str, fake_model: FakeOpenAI, token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    from tests.support.settings import make_settings

    settings = make_settings(
        database_url,
        model_provider="openai",
        openai_api_key="test-key",
        model_base_url=fake_model.base_url,
        model_max_retries=0,
    )
    fake_model.script(Reply(text=["Red."]))
    image = png()
    async with app_client(settings) as http:
        token = token_for(new_user())
        attachment = await uploaded(http, token, "dot.png", "image/png", image)
        _, events = await post(http, token, create_thread_with("Colour?", attachment["id"]))
    assert assistant_texts(events) == ["Red."]
    parts = [
        part
        for item in fake_model.requests[-1]["input"]
        if item.get("role") == "user" and isinstance(item.get("content"), list)
        for part in item["content"]
    ]
    images = [part for part in parts if part["type"] == "input_image"]
    assert [part["image_url"] for part in images] == [
        "data:image/png;base64," + base64.b64encode(image).decode()
    ]


async def test_a_text_file_reaches_the_model_cut_at_the_limit(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    new_user: Callable[[], str],
    fake_model: FakeOpenAI,
) -> None:
    token = token_for(new_user())
    # The session's settings keep the default: the model reads 20,000 characters.
    text = "START " + "é" * 24_000 + " END-OF-FILE"
    attachment = await uploaded(client, token, "notes.md", "text/markdown", text.encode())
    assert attachment["type"] == "file"
    fake_model.script(Reply(text=["Read it."]))
    await post(client, token, create_thread_with("Summarise", attachment["id"]))
    texts = [p["text"] for p in user_parts(fake_model.requests[-1]) if p["type"] == "text"]
    file_part = next(t for t in texts if "notes.md" in t)
    assert "START " in file_part and "END-OF-FILE" not in file_part
    assert "only its first 20,000 of 24,018 characters" in file_part
    assert file_part.count("é") == 20_000 - len("START ")


async def test_a_short_json_file_reaches_the_model_whole(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    new_user: Callable[[], str],
    fake_model: FakeOpenAI,
) -> None:
    token = token_for(new_user())
    content = json.dumps({"tasks": ["water plants"]}).encode()
    attachment = await uploaded(client, token, "list.json", "application/json", content)
    await post(client, token, create_thread_with("", attachment["id"]))
    texts = [p["text"] for p in user_parts(fake_model.requests[-1]) if p["type"] == "text"]
    assert any(content.decode() in t and "list.json" in t and "cut" not in t for t in texts)


async def test_the_preview_serves_the_bytes_with_safe_headers(
    client: httpx.AsyncClient, token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    token = token_for(new_user())
    image = png()
    attachment = await uploaded(client, token, "rød prik.png", "image/png", image)
    preview = await client.get(f"/api/attachments/{attachment['id']}/content", headers=auth(token))
    assert preview.status_code == 200 and preview.content == image
    assert preview.headers["content-type"] == "image/png"
    assert preview.headers["x-content-type-options"] == "nosniff"
    assert preview.headers["content-disposition"] == (
        "inline; filename=\"r_d prik.png\"; filename*=UTF-8''r%C3%B8d%20prik.png"
    )
    assert "sandbox" in preview.headers["content-security-policy"]
    # Kept in no browser cache: nothing of it stays on a shared computer after sign-out.
    assert preview.headers["cache-control"] == "no-store"
    assert attachment["preview_url"].endswith(f"/api/attachments/{attachment['id']}/content")
    text = await uploaded(client, token, "a.csv", "text/csv", b"a,b\n1,2\n")
    download = await client.get(f"/api/attachments/{text['id']}/content", headers=auth(token))
    assert download.headers["content-type"] == "text/csv; charset=utf-8"
    assert download.headers["content-disposition"].startswith('attachment; filename="a.csv"')
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["cache-control"] == "no-store"


@pytest.fixture(params=["trusted", "untrusted"])
def proxy_server(
    request: pytest.FixtureRequest, database_url: str, fake_model: FakeOpenAI
) -> Iterator[tuple[LiveServer, bool]]:
    """The app under uvicorn, whose FORWARDED_ALLOW_IPS names the tests' own address
    (trusted) or another (untrusted); PUBLIC_URL is set, sign-ins limited per address."""
    trusted = request.param == "trusted"
    settings = scripted_settings(
        database_url,
        fake_model,
        forwarded_allow_ips="127.0.0.1" if trusted else "192.0.2.1",
        public_url="https://backend.example.com",
        auth_rate_limit_address="2/minute",
    )
    live = LiveServer(create_app(settings))
    live.start()
    yield live, trusted
    live.stop()


async def test_forwarded_headers_are_believed_only_from_a_trusted_proxy(
    proxy_server: tuple[LiveServer, bool], token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    live, trusted = proxy_server
    token = token_for(new_user())
    forwarded = {"X-Forwarded-Host": "tasks.example.com", "X-Forwarded-Proto": "https"}
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as http:
        made = await http.post(
            "/chatkit",
            json=create_request("a.png", "image/png", 10),
            headers={**auth(token), **forwarded},
        )
        attachment_id = made.json()["id"]
        plain = await http.post(
            "/chatkit", json=create_request("b.png", "image/png", 10), headers=auth(token)
        )

        # The client's address too: sign-ins are limited per address (2 a minute here).
        email = f"{new_user()}@example.com"

        async def login_from(address: str) -> int:
            response = await http.post(
                "/api/auth/login",
                json={"email": email, "password": "wrong-password"},
                headers={"X-Forwarded-For": address},
            )
            return response.status_code

        logins = [await login_from("192.0.2.10"), await login_from("192.0.2.11")]
        logins.append(await login_from("192.0.2.12"))
    if trusted:
        # The proxy's word: the app's origin, which the browser uploads to with its cookie.
        assert made.json()["upload_descriptor"]["url"] == (
            f"https://tasks.example.com/api/attachments/{attachment_id}/upload"
        )
        assert made.json()["preview_url"] == (
            f"https://tasks.example.com/api/attachments/{attachment_id}/content"
        )
        # Naming none, the origin it reached the backend at.
        assert plain.json()["upload_descriptor"]["url"].startswith(f"{live.url}/api/")
        assert logins == [401, 401, 401]
    else:
        # Anyone else's headers choose nothing: PUBLIC_URL, whatever Host they sent.
        assert made.json()["upload_descriptor"]["url"] == (
            f"https://backend.example.com/api/attachments/{attachment_id}/upload"
        )
        assert plain.json()["upload_descriptor"]["url"].startswith("https://backend.example.com/")
        assert logins == [401, 401, 429]


async def test_a_forwarded_host_that_is_not_a_plain_host_is_ignored(
    client: httpx.AsyncClient, token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    token = token_for(new_user())
    odd = {"X-Forwarded-Host": "evil.example/path?x", "X-Forwarded-Proto": "https"}
    other = await client.post(
        "/chatkit", json=create_request("a.png", "image/png", 10), headers={**auth(token), **odd}
    )
    # From a trusted proxy (the tests' loopback), ignored: the backend's own origin.
    url = urlsplit(other.json()["upload_descriptor"]["url"])
    assert url.netloc == client.base_url.netloc.decode() and "evil" not in url.geturl()


@pytest.mark.parametrize(
    ("name", "mime_type", "said"),
    [
        ("setup.exe", "application/x-msdownload", "cannot be attached"),
        ("logo.svg", "image/svg+xml", "SVG"),
        ("logo.png", "image/svg+xml", "SVG"),
        ("dot.png", "text/plain", "its name ends in .png, which is a PNG image"),
        ("notes", "text/plain", "its name must end in .txt"),
        ("report.pdf", "application/pdf", "application/pdf"),
        ("weird\nname.txt", "text/plain", "control characters"),
    ],
)
async def test_a_type_that_is_not_allowed_is_refused_at_create(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    new_user: Callable[[], str],
    name: str,
    mime_type: str,
    said: str,
) -> None:
    response = await create(client, token_for(new_user()), name, mime_type)
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_file" and said in response.json()["detail"]


@pytest.mark.parametrize(
    ("name", "mime_type", "content", "said"),
    [
        ("notes.txt", "text/plain", png(), "its content is a PNG image"),
        ("dot.png", "image/png", b"just some text", "not an image of an accepted kind"),
        ("dot.png", "image/png", b"GIF89a\x01\x00\x01\x00", "its content is a GIF image"),
        ("dot.png", "image/png", b"MZ\x90\x00\x03\x00\x00\x00", "not an image"),
        ("data.json", "application/json", b"{not json", "does not parse as JSON"),
        ("notes.txt", "text/plain", b"caf\xe9", "not UTF-8 text"),
        ("notes.txt", "text/plain", b"a\x00b", "NUL"),
        ("notes.txt", "text/plain", b"", "empty"),
    ],
)
async def test_content_that_is_not_what_was_declared_is_refused(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    new_user: Callable[[], str],
    name: str,
    mime_type: str,
    content: bytes,
    said: str,
) -> None:
    token = token_for(new_user())
    # An empty file declared as such is refused at create already (a size of 0 bytes);
    # declared as one byte, it is the upload that must refuse it.
    made = await create(client, token, name, mime_type, len(content) or 1)
    response = await upload(client, token, made.json()["id"], content, name, mime_type)
    assert response.status_code == 400
    assert said in response.json()["detail"]
    # Nothing was stored: the attachment is still waiting for its file.
    preview = await client.get(f"/api/attachments/{made.json()['id']}/content", headers=auth(token))
    assert preview.status_code == 404


async def test_a_body_that_is_not_a_form_with_a_file_is_refused(
    client: httpx.AsyncClient, token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    token = token_for(new_user())
    made = await create(client, token, "a.txt", "text/plain")
    path = f"/api/attachments/{made.json()['id']}/upload"
    raw = await client.post(path, content=b"hello", headers=auth(token))
    assert raw.status_code == 400 and raw.json()["error"] == "invalid_upload"
    other_field = await client.post(
        path, files={"document": ("a.txt", b"hello", "text/plain")}, headers=auth(token)
    )
    assert other_field.status_code == 400 and "'file'" in other_field.json()["detail"]


async def test_a_declared_size_over_the_limit_is_413_at_create(
    client: httpx.AsyncClient, token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    response = await create(
        client, token_for(new_user()), "big.png", "image/png", 5 * 1024 * 1024 + 1
    )
    assert response.status_code == 413
    assert response.json()["detail"] == (
        "The file is larger than the 5 MB (5,242,880 bytes) an attachment may have; "
        "attach a smaller one."
    )


@pytest.mark.parametrize("size", [-5, 0])
async def test_a_declared_size_of_no_bytes_or_fewer_is_400_at_create(
    client: httpx.AsyncClient, token_for: TokenFor, new_user: Callable[[], str], size: int
) -> None:
    token = token_for(new_user())
    response = await create(client, token, "notes.txt", "text/plain", size)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_size"
    assert f"({size} bytes)" in response.json()["detail"]


@pytest.mark.parametrize("control", ["\u202e", "\u202d", "\u2066", "\u2069"])
async def test_a_file_name_that_reorders_its_text_is_refused(
    client: httpx.AsyncClient, token_for: TokenFor, new_user: Callable[[], str], control: str
) -> None:
    # Shown as "txt.png": a text file that reads as an image.
    response = await create(client, token_for(new_user()), f"{control}gnp.txt", "text/plain")
    assert response.status_code == 400
    assert "change the direction of its text" in response.json()["detail"]


async def test_an_oversized_upload_is_413_and_nothing_is_stored(
    database_url: str,
    fake_model: FakeOpenAI,
    token_for: TokenFor,
    new_user: Callable[[], str],
    store: PostgresStore,
) -> None:
    settings = scripted_settings(database_url, fake_model, attachment_max_bytes=2048)
    user = new_user()
    async with app_client(settings) as http:
        token = token_for(user)
        # The client may declare less than it sends: the bytes are counted as they come.
        made = await create(http, token, "big.txt", "text/plain", 10)
        response = await upload(http, token, made.json()["id"], b"x" * 2049, "big.txt")
        assert response.status_code == 413 and response.json()["error"] == "file_too_large"
        assert "2 KB (2,048 bytes)" in response.json()["detail"]
        exact = await upload(http, token, made.json()["id"], b"x" * 2048, "big.txt")
        assert exact.status_code == 200
    assert await file_rows(store, user) == 1


async def test_the_quota_is_413_once_the_users_files_would_pass_it(
    database_url: str,
    fake_model: FakeOpenAI,
    token_for: TokenFor,
    new_user: Callable[[], str],
) -> None:
    settings = scripted_settings(database_url, fake_model, attachment_quota_bytes=5000)
    async with app_client(settings) as http:
        token = token_for(new_user())
        await uploaded(http, token, "a.txt", "text/plain", b"a" * 3000)
        # Declared honestly, refused before any bytes are sent.
        early = await create(http, token, "b.txt", "text/plain", 3000)
        assert early.status_code == 413 and early.json()["error"] == "quota_exceeded"
        # Declared small, the upload itself is refused.
        made = await create(http, token, "b.txt", "text/plain", 10)
        late = await upload(http, token, made.json()["id"], b"b" * 3000, "b.txt")
        assert late.status_code == 413 and late.json()["error"] == "quota_exceeded"
        assert late.json()["detail"] == (
            "This file (3 KB) does not fit: your attachments already take 3 KB of the 5 KB "
            "you may keep. Delete conversations with files you no longer need, then attach "
            "it again."
        )
        # Someone else's files do not count against this user.
        other = token_for(new_user())
        await uploaded(http, other, "c.txt", "text/plain", b"c" * 3000)


async def test_another_users_attachment_is_404_at_every_route(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    new_user: Callable[[], str],
    fake_model: FakeOpenAI,
) -> None:
    owner = token_for(new_user())
    attachment = await uploaded(client, owner, "mine.png", "image/png", png())
    intruder = token_for(new_user())
    for attachment_id in (attachment["id"], "atc_0123456789abcdef01234567"):
        up = await upload(client, intruder, attachment_id, png(), "x.png", "image/png")
        assert up.status_code == 404, attachment_id
        seen = await client.get(f"/api/attachments/{attachment_id}/content", headers=auth(intruder))
        assert seen.status_code == 404
        deleted, _ = await post(
            client,
            intruder,
            {"type": "attachments.delete", "params": {"attachment_id": attachment_id}},
        )
        assert deleted.status_code == 404
        sent, _ = await post(client, intruder, create_thread_with("mine now", attachment_id))
        assert sent.status_code == 404
    # Nothing reached the model, and the owner's attachment is untouched.
    assert fake_model.requests == []
    preview = await client.get(f"/api/attachments/{attachment['id']}/content", headers=auth(owner))
    assert preview.status_code == 200 and preview.content == png()


async def test_an_attachment_is_sent_once_and_then_belongs_to_its_thread(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    new_user: Callable[[], str],
    fake_model: FakeOpenAI,
) -> None:
    token = token_for(new_user())
    waiting = await create(client, token, "later.png", "image/png")
    not_yet, _ = await post(client, token, create_thread_with("see", waiting.json()["id"]))
    assert not_yet.status_code == 400 and not_yet.json()["error"] == "attachment_not_uploaded"
    attachment = await uploaded(client, token, "once.png", "image/png", png())
    _, events = await post(client, token, create_thread_with("first", attachment["id"]))
    thread_id = thread_id_of(events)
    again, _ = await post(client, token, add_message_with(thread_id, "again", attachment["id"]))
    elsewhere, _ = await post(client, token, create_thread_with("elsewhere", attachment["id"]))
    replaced = await upload(client, token, attachment["id"], png(2, 2), "once.png", "image/png")
    deleted, _ = await post(
        client, token, {"type": "attachments.delete", "params": {"attachment_id": attachment["id"]}}
    )
    for refused in (again, elsewhere, replaced, deleted):
        assert refused.status_code == 409 and refused.json()["error"] == "attachment_sent"
    assert len(fake_model.requests) == 1


async def test_too_many_attachments_in_one_message_is_400(
    client: httpx.AsyncClient, token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    token = token_for(new_user())
    ids = [(await create(client, token, f"{n}.txt", "text/plain")).json()["id"] for n in range(6)]
    response, _ = await post(client, token, create_thread_with("all of them", *ids))
    assert response.status_code == 400 and response.json()["error"] == "too_many_attachments"


async def unsent_rows(user_id: str, store: PostgresStore) -> int:
    async with user_transaction_raw(store.engine, user_id) as conn:
        count = await conn.fetchval(
            "SELECT count(*) FROM chat_attachments WHERE user_id = $1 AND thread_id IS NULL",
            user_id,
        )
    return int(count)


async def test_past_the_unsent_cap_attachments_create_is_409_until_one_is_removed(
    client: httpx.AsyncClient, token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    token = token_for(new_user())
    made = [await create(client, token, f"f{n}.txt", "text/plain") for n in range(UNSENT_MAX)]
    assert [response.status_code for response in made] == [200] * UNSENT_MAX
    refused = await create(client, token, "one-more.txt", "text/plain")
    assert refused.status_code == 409 and refused.json()["error"] == "too_many_unsent"
    assert f"You have {UNSENT_MAX} attachments that were never sent" in refused.json()["detail"]
    removed = await client.post(
        "/chatkit",
        json={"type": "attachments.delete", "params": {"attachment_id": made[0].json()["id"]}},
        headers=auth(token),
    )
    assert removed.status_code == 200
    assert (await create(client, token, "one-more.txt", "text/plain")).status_code == 200


async def test_parallel_creates_keep_no_more_than_the_unsent_cap(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    new_user: Callable[[], str],
    store: PostgresStore,
) -> None:
    user_id = new_user()
    token = token_for(user_id)
    responses = await asyncio.gather(
        *(create(client, token, f"f{n}.txt", "text/plain") for n in range(60))
    )
    codes = sorted(response.status_code for response in responses)
    assert set(codes) == {200, 409}, codes
    assert codes.count(200) <= UNSENT_MAX
    assert all(
        response.json()["error"] == "too_many_unsent"
        for response in responses
        if response.status_code == 409
    )
    assert await unsent_rows(user_id, store) == codes.count(200)


async def test_removing_an_unsent_attachment_deletes_its_file(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    new_user: Callable[[], str],
    store: PostgresStore,
) -> None:
    user = new_user()
    token = token_for(user)
    attachment = await uploaded(client, token, "gone.png", "image/png", png())
    assert await file_rows(store, user) == 1
    response, _ = await post(
        client, token, {"type": "attachments.delete", "params": {"attachment_id": attachment["id"]}}
    )
    assert response.status_code == 200
    assert await file_rows(store, user) == 0
    preview = await client.get(f"/api/attachments/{attachment['id']}/content", headers=auth(token))
    assert preview.status_code == 404
    with pytest.raises(Exception, match="not found"):
        await store.load_attachment(attachment["id"], RequestContext(user_id=user))


async def test_deleting_a_thread_deletes_its_files(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    new_user: Callable[[], str],
    store: PostgresStore,
) -> None:
    user = new_user()
    token = token_for(user)
    sent = await uploaded(client, token, "sent.png", "image/png", png())
    kept = await uploaded(client, token, "kept.txt", "text/plain", b"not sent yet")
    _, events = await post(client, token, create_thread_with("with a file", sent["id"]))
    thread_id = thread_id_of(events)
    assert await file_rows(store, user) == 2
    deleted, _ = await post(
        client, token, {"type": "threads.delete", "params": {"thread_id": thread_id}}
    )
    assert deleted.status_code == 200
    assert await file_rows(store, user) == 1
    gone = await client.get(f"/api/attachments/{sent['id']}/content", headers=auth(token))
    assert gone.status_code == 404
    still = await client.get(f"/api/attachments/{kept['id']}/content", headers=auth(token))
    assert still.status_code == 200


async def test_uploads_need_a_signed_in_caller(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/attachments/atc_x/upload", files={"file": ("a.txt", b"hi", "text/plain")}
    )
    assert response.status_code == 401
    preview = await client.get("/api/attachments/atc_x/content")
    assert preview.status_code == 401


def attachment_store(store: PostgresStore, settings: Settings) -> PostgresAttachmentStore:
    """The app's attachment store over the test database (what the upload route drives)."""
    return PostgresAttachmentStore(store, PostgresFileStorage(store.engine), settings)


async def attachment_row(store: PostgresStore, user_id: str, attachment_id: str) -> Any:
    """The attachment's row (its thread) and its file's bytes, as stored; None if gone."""
    async with user_transaction_raw(store.engine, user_id) as conn:
        return await conn.fetchrow(
            "SELECT a.thread_id, f.content FROM chat_attachments a "
            "LEFT JOIN chat_attachment_files f USING (user_id, id) "
            "WHERE a.user_id = $1 AND a.id = $2",
            user_id,
            attachment_id,
        )


async def test_an_upload_finishing_after_the_send_changes_nothing(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    new_user: Callable[[], str],
    store: PostgresStore,
    settings: Settings,
) -> None:
    user = new_user()
    token = token_for(user)
    context = RequestContext(user_id=user)
    attachments = attachment_store(store, settings)
    first = png()
    attachment = await uploaded(client, token, "dot.png", "image/png", first)
    # A second upload of it starts while it is unsent (the route's first step), and its
    # bytes are still arriving when the message is sent.
    _, kind = await attachments.unsent(attachment["id"], context)
    _, events = await post(client, token, create_thread_with("look", attachment["id"]))
    thread_id = thread_id_of(events)
    with pytest.raises(ProblemError) as refused:
        await attachments.upload(attachment["id"], kind, png(2, 2), context)
    assert refused.value.status == 409 and refused.value.code == "attachment_sent"
    # The sent file is untouched and still its thread's: the sweep leaves it, and it goes
    # with its thread.
    row = await attachment_row(store, user, attachment["id"])
    assert row["thread_id"] == thread_id and row["content"] == first
    deleted, _ = await post(
        client, token, {"type": "threads.delete", "params": {"thread_id": thread_id}}
    )
    assert deleted.status_code == 200
    assert await attachment_row(store, user, attachment["id"]) is None


async def waiting_on_a_lock(store: PostgresStore, user_id: str) -> None:
    """Return once another session waits for a row lock on an attachment (up to 20 s)."""
    for _ in range(400):
        async with user_transaction_raw(store.engine, user_id) as conn:
            waiting = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE '%chat_attachments%' AND pid <> pg_backend_pid()"
            )
        if waiting:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the upload never waited for the attachment's row")


async def test_an_upload_finishing_after_the_attachment_was_deleted_brings_nothing_back(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    new_user: Callable[[], str],
    store: PostgresStore,
    settings: Settings,
) -> None:
    user = new_user()
    token = token_for(user)
    context = RequestContext(user_id=user)
    attachments = attachment_store(store, settings)
    made = (await create(client, token, "dot.png", "image/png")).json()
    _, kind = await attachments.unsent(made["id"], context)
    # A deletion (attachments.delete, the sweep, the account's) that holds the row while
    # the upload stores its file; it commits once the upload waits for it.
    async with user_transaction_raw(store.engine, user) as deleting:
        await deleting.execute(
            "SELECT 1 FROM chat_attachments WHERE user_id = $1 AND id = $2 FOR NO KEY UPDATE",
            user,
            made["id"],
        )
        upload_done = asyncio.ensure_future(attachments.upload(made["id"], kind, png(), context))
        await waiting_on_a_lock(store, user)
        await deleting.execute(
            "DELETE FROM chat_attachments WHERE user_id = $1 AND id = $2", user, made["id"]
        )
    with pytest.raises(ProblemError) as refused:
        await upload_done
    assert refused.value.status == 404
    # Not made again (without a thread, and counted against the quota, until a sweep).
    assert await attachment_row(store, user, made["id"]) is None
    assert await file_rows(store, user) == 0


async def test_answering_an_earlier_message_again_deletes_the_later_messages_files(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    new_user: Callable[[], str],
    fake_model: FakeOpenAI,
    store: PostgresStore,
) -> None:
    user = new_user()
    token = token_for(user)
    kept = await uploaded(client, token, "kept.png", "image/png", png())
    later = await uploaded(client, token, "later.txt", "text/plain", b"second message's file")
    fake_model.script(Reply(text=["One."]), Reply(text=["Two."]), Reply(text=["One again."]))
    _, events = await post(client, token, create_thread_with("first", kept["id"]))
    thread_id = thread_id_of(events)
    [first] = [
        e["item"]["id"]
        for e in events
        if e["type"] == "thread.item.done" and e["item"]["type"] == "user_message"
    ]
    await post(client, token, add_message_with(thread_id, "second", later["id"]))
    assert await file_rows(store, user) == 2
    retried, events = await post(
        client,
        token,
        {"type": "threads.retry_after_item", "params": {"thread_id": thread_id, "item_id": first}},
    )
    assert retried.status_code == 200 and assistant_texts(events) == ["One again."]
    # The second message is gone, and its file with it: not counted, not served.
    assert await attachment_row(store, user, later["id"]) is None
    assert await file_rows(store, user) == 1
    gone = await client.get(f"/api/attachments/{later['id']}/content", headers=auth(token))
    assert gone.status_code == 404
    # The retried message keeps its own.
    row = await attachment_row(store, user, kept["id"])
    assert row["thread_id"] == thread_id and row["content"] == png()
