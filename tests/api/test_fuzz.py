"""Fuzzing the API's edges (issue 10): generated hostile requests to every ChatKit request
type, to /api/auth/*, /api/tasks and /api/feedback, over real HTTP to the app under uvicorn.

Every answer is a 4xx in the `{"error", "detail"}` shape, a JSON answer, or a 200 event
stream that ends cleanly (an error event is a fine end; a dropped connection is not);
never a 5xx and never a hang. The server keeps answering /healthz after every request,
and a real turn after all of them.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import warnings
from collections.abc import Iterator
from typing import Any, get_args

import httpx
import hypothesis
import pytest
from chatkit.types import ChatKitReq, StreamingReq
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import PydanticJsonSchemaWarning

from taskchat.api.accounts import LoginBody, RegisterBody
from taskchat.app import create_app
from taskchat.auth import mint_token
from taskchat.chat.store.postgres import chat_id
from taskchat.config import Settings
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.fuzz_target import (
    CREDENTIALS,
    GOOD_CREDENTIALS,
    Target,
    add_attachment,
    credentials,
    first_turn,
)
from tests.support.fuzzing import (
    ANY_JSON,
    JUNK,
    KEYS,
    TEXT,
    UNSTORABLE,
    Body,
    FromSchema,
    Json,
    Ref,
    documents,
    mostly,
    query_value,
    unstorable,
    weighted,
)
from tests.support.live import LiveServer
from tests.support.protocol import SSE, assistant_texts, create_thread, sse_events

with warnings.catch_warnings():
    # Action's `type` defaults to its own TypeVar, which has no JSON form; pydantic says so
    # and leaves the default out, which is all the schema needs here.
    warnings.simplefilter("ignore", PydanticJsonSchemaWarning)
    CHATKIT_SCHEMA: dict[str, Any] = TypeAdapter[ChatKitReq](ChatKitReq).json_schema()

REQUEST_TYPES = sorted(CHATKIT_SCHEMA["discriminator"]["mapping"])
"""Every ChatKit request type, from the installed SDK's own request union."""

STREAMING_TYPES = frozenset(kind.model_fields["type"].default for kind in get_args(StreamingReq))

# --- What a request may name -----------------------------------------------------------

ID_TEXT = st.one_of(TEXT, st.sampled_from(["", "thr_", "msg_" + "f" * 300]))


def refs(*names: str) -> st.SearchStrategy[Json]:
    """Mostly one of the named fixture values (a name repeated is likelier), else any text.
    The first is the one that makes a request valid."""
    return mostly(st.sampled_from([Ref(name) for name in names]), ID_TEXT)


THREAD_IDS = refs("own-thread", "own-thread", "own-thread", "foreign-thread", "missing-thread")
# Never the thread the other requests use, so one delete does not turn the rest into 404s.
DELETABLE_THREAD_IDS = refs("spare-thread", "foreign-thread", "missing-thread")
ITEM_IDS = refs(
    "own-message", "own-message", "own-answer", "foreign-message", "missing-item", "own-thread"
)
ATTACHMENT_IDS = refs("own-attachment", "foreign-attachment", "missing-attachment")
CURSORS = refs("own-thread", "own-message", "missing-item")
SMALL_JSON_OBJECTS = st.dictionaries(KEYS, ANY_JSON, max_size=3)

CHATKIT_FIELDS: dict[str, st.SearchStrategy[Json]] = {
    "thread_id": THREAD_IDS,
    "item_id": ITEM_IDS,
    "item_ids[]": ITEM_IDS,
    "attachment_id": ATTACHMENT_IDS,
    # Most messages have none; each one named can be missing or someone else's.
    "attachments": mostly(st.just([]), st.lists(ATTACHMENT_IDS, min_size=1, max_size=2)),
    "after": CURSORS,
    # Up to the test app's limits (2,000 characters, titles 200); over them is HOSTILE's.
    "text": mostly(TEXT, st.sampled_from([1_999, 2_000]).map(lambda n: "y" * n)),
    "title": mostly(TEXT, st.just("t" * 200)),
    "limit": st.integers(-10, 2_000),
    "metadata": st.one_of(SMALL_JSON_OBJECTS, st.fixed_dictionaries({"page": SMALL_JSON_OBJECTS})),
}


def chatkit_requests(kind: str, *, hostile: bool) -> st.SearchStrategy[Json]:
    """Requests of `kind`, from its schema: hostile ones, or valid ones."""
    fields = dict(CHATKIT_FIELDS)
    if kind == "threads.delete":
        fields["thread_id"] = DELETABLE_THREAD_IDS
    request = {"$ref": CHATKIT_SCHEMA["discriminator"]["mapping"][kind]}
    return FromSchema(CHATKIT_SCHEMA, fields, hostile=hostile).document(request)


CHATKIT_DOCUMENTS = {
    kind: documents(chatkit_requests(kind, hostile=True)) for kind in REQUEST_TYPES
}
CHATKIT_UNSTORABLE = {
    kind: unstorable(chatkit_requests(kind, hostile=False)) for kind in REQUEST_TYPES
}


@pytest.fixture(scope="module")
def target(settings: Settings, database_url: str, fake_openai: FakeOpenAI) -> Iterator[Target]:
    """Its own app, so what the fuzzing does (rate limits, deleted threads) stays here."""
    # Chat limits high enough never to refuse: a 429 would end each request before the
    # paths behind it, which are what is being fuzzed (the limiter still runs each time).
    roomy = settings.model_copy(
        update={"chat_turns_per_minute": 1_000_000, "chat_concurrent_streams": 10_000}
    )
    server = LiveServer(create_app(roomy))
    server.start()
    fake_openai.reset()  # unscripted: every turn is answered "(no script)"
    owner, other = f"fuzz-{secrets.token_hex(6)}", f"fuzz-other-{secrets.token_hex(6)}"
    # A fresh connection per request: a refused body may close the connection, and a
    # stale kept-alive one would fail the next request on the client's side.
    limits = httpx.Limits(max_keepalive_connections=0)
    try:
        with httpx.Client(base_url=server.url, timeout=20, limits=limits) as http:
            own_thread, (own_message, own_answer) = first_turn(
                http, mint_token(settings, sub=owner), "first"
            )
            spare_thread, _ = first_turn(http, mint_token(settings, sub=owner), "spare")
            foreign_thread, (foreign_message, _) = first_turn(
                http, mint_token(settings, sub=other), "not yours"
            )
            account = {"email": f"fuzz-{secrets.token_hex(4)}@example.com", "password": "p" * 12}
            registered = http.post("/api/auth/register", json={**account, "name": "Fuzz"})
            assert registered.status_code == 201, registered.text
            values = {
                "own-thread": own_thread,
                "own-message": own_message,
                "own-answer": own_answer,
                "spare-thread": spare_thread,
                "foreign-thread": foreign_thread,
                "foreign-message": foreign_message,
                "missing-thread": chat_id("thread"),
                "missing-item": chat_id("message"),
                "own-attachment": asyncio.run(add_attachment(database_url, owner)),
                "foreign-attachment": asyncio.run(add_attachment(database_url, other)),
                "missing-attachment": chat_id("attachment"),
                "account-email": account["email"],
                "account-password": account["password"],
            }
            yield Target(http, values, credentials(settings, owner))
    finally:
        fake_openai.reset()
        server.stop()


# --- The property ------------------------------------------------------------------------

DETAIL_LIMIT = 300
"""The longest error sentence: an answer never echoes a large input back."""


def assert_answered(response: httpx.Response, *, streams: bool = False) -> None:
    """A 4xx in the error shape, a JSON answer, or (if the request `streams`) an event
    stream that ended (`Target.send` has read it to its end)."""
    status, kind = response.status_code, response.headers.get("content-type", "")
    # What was reached, for --hypothesis-show-statistics.
    hypothesis.event("status", status)
    assert status < 500, f"{status}: {response.text[:300]}"
    if status >= 400:
        body = response.json()
        assert isinstance(body, dict) and set(body) == {"error", "detail"}, response.text[:300]
        assert all(isinstance(value, str) for value in body.values()), body
        assert len(body["detail"]) <= DETAIL_LIMIT, body["detail"][:DETAIL_LIMIT]
        return
    assert status in (200, 201), status
    if kind.startswith(SSE):
        assert streams, "a stream for a request that does not stream"
        events = sse_events(response)
        assert events, "an empty stream"
        assert all(isinstance(event.get("type"), str) for event in events), events
        hypothesis.event("the stream's last event", events[-1]["type"])
    else:
        assert kind.startswith("application/json"), kind
        response.json()


def assert_refused(response: httpx.Response) -> None:
    """Refused for its credentials; or, for a body declared over the limit, for its size
    (which is checked first, and reads no more of it than the token check would)."""
    refused = response.status_code == 401
    too_large = response.status_code == 413 and response.json()["error"] == "body_too_large"
    assert refused or too_large, response.text[:300]


def assert_still_serving(target: Target) -> None:
    assert target.http.get("/healthz").status_code == 200


SCALE = int(os.environ.get("TASKCHAT_FUZZ_SCALE", "0"))
"""0: the same examples every run, for CI. N: N times as many, new ones each run (to look
for more than CI does)."""


def fuzz(examples: int) -> hypothesis.settings:
    # No example database: nothing left in the tree, and a derandomized run needs none.
    return hypothesis.settings(
        max_examples=examples * max(SCALE, 1),
        deadline=None,
        derandomize=not SCALE,
        database=None,
    )


def post_chatkit(target: Target, body: Body, credential: str) -> httpx.Response:
    return target.send(
        "POST",
        "/chatkit",
        content=body.to_bytes(target.resolve),
        headers=[*target.headers(credential), (b"content-type", b"application/json")],
    )


# --- /chatkit ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", REQUEST_TYPES)
@fuzz(20)
@given(data=st.data())
def test_chatkit_answers_every_request_plainly(
    target: Target, kind: str, data: st.DataObject
) -> None:
    body = data.draw(CHATKIT_DOCUMENTS[kind], label="body")
    credential = data.draw(CREDENTIALS, label="credential")
    response = post_chatkit(target, body, credential)
    assert_answered(response, streams=kind in STREAMING_TYPES)
    if credential not in GOOD_CREDENTIALS:
        assert_refused(response)
    assert_still_serving(target)


@pytest.mark.parametrize("kind", REQUEST_TYPES)
@fuzz(8)
@given(data=st.data())
def test_chatkit_refuses_text_it_cannot_store(
    target: Target, kind: str, data: st.DataObject
) -> None:
    response = post_chatkit(target, data.draw(CHATKIT_UNSTORABLE[kind], label="body"), "token")
    assert_answered(response)
    assert response.status_code == 400, response.text[:300]
    assert response.json()["error"] in ("invalid_text", "invalid_json"), response.text[:300]
    assert_still_serving(target)


@fuzz(40)
@given(body=JUNK, credential=CREDENTIALS)
def test_chatkit_refuses_junk(target: Target, body: Body, credential: str) -> None:
    response = post_chatkit(target, body, credential)
    assert_answered(response)
    if credential not in GOOD_CREDENTIALS:
        assert_refused(response)
    else:
        assert response.status_code in (400, 413), response.text[:300]
    assert_still_serving(target)


# --- /api/auth ---------------------------------------------------------------------------

SIGN_IN_FIELDS: dict[str, st.SearchStrategy[Json]] = {
    "email": st.one_of(
        st.emails().map(str), st.just(Ref("account-email")), TEXT, st.just("e" * 250 + "@x.io")
    ),
    "password": st.one_of(TEXT, st.just(Ref("account-password")), st.just("p" * 256)),
    "name": st.one_of(TEXT, st.just("n" * 80)),
}
SIGN_IN_MODELS: dict[str, type[BaseModel]] = {
    "/api/auth/register": RegisterBody,
    "/api/auth/login": LoginBody,
}
SIGN_IN_BODIES: dict[str, st.SearchStrategy[Body]] = {
    "documents": st.one_of(
        [
            documents(FromSchema({}, SIGN_IN_FIELDS).document(model.model_json_schema()))
            for model in SIGN_IN_MODELS.values()
        ]
    ),
    "unstorable": st.one_of(
        [
            unstorable(
                FromSchema({}, SIGN_IN_FIELDS, hostile=False).document(model.model_json_schema())
            )
            for model in SIGN_IN_MODELS.values()
        ]
    ),
    "junk": JUNK,
}
"""Bodies for either route (a login body to register is one more wrong body)."""

CONTENT_TYPES = weighted(
    (4, "application/json"),
    (1, ""),
    (1, "text/plain"),
    (1, "application/json; charset=utf-16"),
    (1, "application/x-www-form-urlencoded"),
)


@pytest.mark.parametrize("family", sorted(SIGN_IN_BODIES))
@fuzz(20)
@given(data=st.data())
def test_sign_in_answers_every_body_plainly(
    target: Target, family: str, data: st.DataObject
) -> None:
    path = data.draw(st.sampled_from(sorted(SIGN_IN_MODELS)), label="path")
    body = data.draw(SIGN_IN_BODIES[family], label="body")
    content_type = data.draw(CONTENT_TYPES, label="content type")
    headers = {"Content-Type": content_type} if content_type else {}
    response = target.send("POST", path, content=body.to_bytes(target.resolve), headers=headers)
    assert_answered(response)
    if family == "unstorable":
        assert response.status_code == 400, response.text[:300]
    elif family == "junk":
        assert response.status_code in (400, 413), response.text[:300]
    assert_still_serving(target)


# --- /api/tasks --------------------------------------------------------------------------

QUERY_NAMES = st.one_of(st.sampled_from(["status", "q", "limit", "cursor", "after"]), KEYS)
QUERY_VALUES = st.one_of(
    TEXT,
    st.sampled_from(["open", "done", "all", "", "0", "1", "100", "101", "-1", "1e3", "9" * 30]),
    st.builds(lambda a, bad, b: f"{a}{bad}{b}", TEXT, UNSTORABLE, TEXT),
    st.sampled_from([200, 201, 2_000]).map(lambda n: "q" * n),
)


@fuzz(60)
@given(
    params=st.lists(st.tuples(QUERY_NAMES, QUERY_VALUES), max_size=4),
    credential=CREDENTIALS,
)
def test_tasks_answers_every_query_plainly(
    target: Target, params: list[tuple[str, str]], credential: str
) -> None:
    query = "&".join(f"{query_value(name)}={query_value(value)}" for name, value in params)
    response = target.send("GET", f"/api/tasks?{query}", headers=target.headers(credential))
    assert_answered(response)
    if credential not in GOOD_CREDENTIALS:
        assert_refused(response)
    elif response.status_code == 200:
        assert isinstance(response.json()["data"], list)
    assert_still_serving(target)


TASK_IDS = st.one_of(
    st.just("task_" + "0" * 24),
    TEXT,
    st.builds(lambda a, bad, b: f"{a}{bad}{b}", TEXT, UNSTORABLE, TEXT),
    st.sampled_from(["t" * 100, "t" * 101, "..", "."]),
)
DONE_BODIES = st.fixed_dictionaries(
    {"done": st.one_of(st.booleans(), TEXT, st.integers(), st.none(), ANY_JSON)},
    optional={"title": TEXT, "user_id": TEXT},
)


@fuzz(60)
@given(data=st.data(), task_id=TASK_IDS, credential=CREDENTIALS)
def test_marking_a_task_answers_every_id_and_body_plainly(
    target: Target, data: st.DataObject, task_id: str, credential: str
) -> None:
    if data.draw(st.booleans(), label="junk body"):
        body = data.draw(JUNK, label="body").to_bytes(target.resolve)
    else:
        body = json.dumps(data.draw(DONE_BODIES, label="body")).encode()
    response = target.send(
        "PATCH",
        f"/api/tasks/{query_value(task_id)}",
        content=body,
        headers=[(b"content-type", b"application/json"), *target.headers(credential)],
    )
    if response.status_code == 307:
        # An id that is empty or ends in "/" makes a path with a trailing slash, which
        # Starlette redirects to the path without it (as it does on every route).
        assert not response.headers["location"].endswith("/"), response.headers["location"]
        hypothesis.event("status", 307)
        assert_still_serving(target)
        return
    assert_answered(response)
    if credential not in GOOD_CREDENTIALS:
        assert_refused(response)
    # None of these ids is the caller's: nothing is ever marked.
    assert response.status_code != 200, response.text[:300]
    assert_still_serving(target)


# --- /api/feedback -----------------------------------------------------------------------

FEEDBACK_THREADS = st.one_of(
    st.sampled_from(["own-thread", "foreign-thread", "missing-thread"]).map(Ref),
    QUERY_VALUES,
)


@fuzz(40)
@given(
    thread=FEEDBACK_THREADS,
    params=st.lists(st.tuples(QUERY_NAMES, QUERY_VALUES), max_size=2),
    credential=CREDENTIALS,
)
def test_reading_votes_answers_every_query_plainly(
    target: Target, thread: str | Ref, params: list[tuple[str, str]], credential: str
) -> None:
    value = target.resolve(thread.name) if isinstance(thread, Ref) else thread
    query = "&".join(
        f"{query_value(name)}={query_value(text_)}"
        for name, text_ in [("thread_id", value), *params]
    )
    response = target.send("GET", f"/api/feedback?{query}", headers=target.headers(credential))
    assert_answered(response)
    if credential not in GOOD_CREDENTIALS:
        assert_refused(response)
    elif response.status_code == 200:
        # Only the caller's own thread can be read.
        assert value == target.resolve("own-thread"), response.text[:300]
        assert isinstance(response.json()["data"], list)
    assert_still_serving(target)


# --- After all of it ---------------------------------------------------------------------


def test_after_the_fuzzing_a_real_turn_is_served(target: Target, fake_model: FakeOpenAI) -> None:
    fake_model.script(Reply(text=["still ", "here"]))
    response = target.send(
        "POST",
        "/chatkit",
        json=create_thread("are you there?"),
        headers=target.headers("token"),
    )
    assert response.status_code == 200
    assert assistant_texts(sse_events(response)) == ["still here"]
