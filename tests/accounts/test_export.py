"""The export document: every row of the person's, once, in order, and nothing else, read in
keyset pages."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

from chatkit.types import FileAttachment

from taskchat.accounts.export import SECTIONS, export_document
from taskchat.chat.feedback.votes import Kind, record_feedback
from taskchat.chat.store.postgres import PostgresStore, chat_id
from taskchat.context import RequestContext
from taskchat.tasks import service
from taskchat.tasks.schemas import TaskCreate
from tests.support.leftovers import ids_of
from tests.support.threads import assistant_message, make_thread, user_message


async def exported(store: PostgresStore, user_id: str, *, page_rows: int) -> tuple[str, Any]:
    account = {"id": user_id, "email": None, "name": None, "created_at": None}
    chunks = [
        chunk
        async for chunk in export_document(
            store.engine, user_id=user_id, account=account, page_rows=page_rows
        )
    ]
    raw = b"".join(chunks).decode()
    return raw, json.loads(raw)


async def fill(store: PostgresStore, context: RequestContext, threads: int) -> list[str]:
    """`threads` threads made at the same moment (so only their order of saving tells them
    apart), each with a user and an assistant message; returns the thread ids in order."""
    ids = []
    for index in range(threads):
        thread = make_thread(title=f"{context.user_id} thread {index}")
        await store.save_thread(thread, context)
        await store.add_thread_item(thread.id, user_message(thread.id, f"ask {index}"), context)
        await store.add_thread_item(
            thread.id, assistant_message(thread.id, f"answer {index}"), context
        )
        ids.append(thread.id)
    return ids


async def test_the_export_holds_every_row_of_the_person_once_and_no_one_elses(
    store: PostgresStore,
    ctx: Callable[[], RequestContext],
    superuser_database_url: str,
) -> None:
    alice, bob = ctx(), ctx()
    thread_ids = await fill(store, alice, 5)
    bob_threads = await fill(store, bob, 2)
    for title in ("Buy milk", "Call mum", "File taxes"):
        await service.add_task(
            engine=store.engine,
            user_id=alice.user_id,
            data=TaskCreate(title=title, due_date=date(2026, 12, 24)),
        )
    await service.add_task(
        engine=store.engine, user_id=bob.user_id, data=TaskCreate(title="Bob's secret")
    )
    for who, name in ((alice, "alice-notes.txt"), (bob, "bob-notes.txt")):
        await store.save_attachment(
            FileAttachment(id=chat_id("attachment"), name=name, mime_type="text/plain"), who
        )
    votes: dict[str, Kind] = {alice.user_id: "negative", bob.user_id: "positive"}
    for who, threads in ((alice, thread_ids[:1]), (bob, bob_threads)):
        answer = (await store.load_thread_items(threads[0], None, 10, "desc", who)).data[0]
        await record_feedback(
            engine=store.engine,
            user_id=who.user_id,
            thread_id=threads[0],
            item_ids=[answer.id],
            kind=votes[who.user_id],
        )

    # Two rows a page: every section takes several pages, ties on created_at included.
    raw, document = await exported(store, alice.user_id, page_rows=2)

    assert list(document) == [
        "format",
        "exported_at",
        "account",
        *(section.name for section in SECTIONS),
    ]
    assert document["format"] == "taskchat-export/1"
    assert document["account"]["id"] == alice.user_id
    assert [thread["id"] for thread in document["threads"]] == thread_ids
    assert document["threads"][0]["title"] == f"{alice.user_id} thread 0"
    items = document["items"]
    assert {item["id"] for item in items} == await ids_of(
        superuser_database_url, "chat_items", alice.user_id
    )
    assert len(items) == 10
    # Grouped by thread, each thread's items in the order they were written.
    by_thread: dict[str, list[str]] = {}
    for item in items:
        by_thread.setdefault(item["thread_id"], []).append(item["type"])
    assert set(by_thread) == set(thread_ids)
    assert all(kinds == ["user_message", "assistant_message"] for kinds in by_thread.values())
    asked = [item for item in items if item["type"] == "user_message"]
    assert all(
        item["content"][0]["text"] == f"ask {thread_ids.index(item['thread_id'])}" for item in asked
    )
    tasks = document["tasks"]
    assert {task["id"] for task in tasks} == await ids_of(
        superuser_database_url, "tasks", alice.user_id
    )
    assert sorted(task["title"] for task in tasks) == ["Buy milk", "Call mum", "File taxes"]
    assert {task["due_date"] for task in tasks} == {"2026-12-24"}
    assert all("user_id" not in task for task in tasks)
    assert document["tool_calls"] == []  # no tool ran in these threads (see tests/api)
    assert [attached["name"] for attached in document["attachments"]] == ["alice-notes.txt"]
    [vote] = document["feedback"]
    assert vote["thread_id"] == thread_ids[0] and vote["kind"] == "negative"
    assert set(vote) == {"thread_id", "item_id", "kind", "created_at", "updated_at"}
    assert bob.user_id not in raw and "Bob's secret" not in raw and "bob-notes" not in raw


async def test_the_export_of_someone_with_nothing_has_empty_sections(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    nobody = ctx()
    _, document = await exported(store, nobody.user_id, page_rows=2)
    assert document["account"]["id"] == nobody.user_id
    assert all(document[section.name] == [] for section in SECTIONS)
