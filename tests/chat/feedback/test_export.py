"""The operators' feedback export against the real database: every user's votes, each with
the answer and the nearest user message before it, filtered by time and kind."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    InferenceOptions,
    ThreadItem,
    UserMessageItem,
    UserMessageTagContent,
    UserMessageTextContent,
)

from taskchat.chat.feedback.export import COLUMNS, export_feedback, parse_since
from taskchat.chat.feedback.votes import Kind, record_feedback
from taskchat.chat.store.postgres import PostgresStore, chat_id
from taskchat.context import RequestContext
from taskchat.db.engine import user_transaction_raw
from tests.support.threads import BASE, assistant_message, make_thread, user_message


async def vote(
    store: PostgresStore, context: RequestContext, thread_id: str, item_id: str, kind: Kind
) -> None:
    await record_feedback(
        engine=store.engine,
        user_id=context.user_id,
        thread_id=thread_id,
        item_ids=[item_id],
        kind=kind,
    )


async def backdate(store: PostgresStore, user_id: str, item_id: str, moment: datetime) -> None:
    """Say a vote was last changed at `moment` (an older vote, for `since`)."""
    async with user_transaction_raw(store.engine, user_id) as conn:
        await conn.execute(
            "UPDATE chat_feedback SET created_at = $3, updated_at = $3 "
            "WHERE user_id = $1 AND item_id = $2",
            user_id,
            item_id,
            moment,
        )


async def exported(
    store: PostgresStore, *, since: datetime | None = None, kind: Kind | None = None
) -> list[dict[str, str]]:
    out = io.StringIO(newline="")
    count = await export_feedback(engine=store.engine, out=out, since=since, kind=kind)
    out.seek(0)
    reader = csv.DictReader(out)
    assert tuple(reader.fieldnames or ()) == COLUMNS
    found = list(reader)
    assert len(found) == count
    return found


async def stored(store: PostgresStore, context: RequestContext, items: list[ThreadItem]) -> str:
    thread = make_thread()
    await store.save_thread(thread, context)
    for item in items:
        await store.add_thread_item(
            thread.id, item.model_copy(update={"thread_id": thread.id}), context
        )
    return thread.id


async def test_every_users_votes_with_the_answer_and_the_message_before_it(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    alice, bob = ctx(), ctx()
    at = [BASE + timedelta(seconds=n) for n in range(5)]
    first = user_message("", "What is due?", at[0])
    due = assistant_message("", "Nothing is due.", at[1])
    second = UserMessageItem(
        id=chat_id("message"),
        thread_id="",
        created_at=at[2],
        content=[
            UserMessageTextContent(text="Move "),
            UserMessageTagContent(id="task_1", text="Dentist", data={}),
            UserMessageTextContent(text=" to Friday"),
        ],
        attachments=[],
        quoted_text="Dentist, Tuesday",
        inference_options=InferenceOptions(),
    )
    moved = AssistantMessageItem(
        id=chat_id("message"),
        thread_id="",
        created_at=at[3],
        content=[AssistantMessageContent(text="Moved, "), AssistantMessageContent(text="done.")],
    )
    alices = await stored(store, alice, [first, due, second, moved])
    # Bob's answer starts like a spreadsheet formula, and nothing came before it.
    sneaky = assistant_message("", '=HYPERLINK("http://x")', at[0])
    bobs = await stored(store, bob, [sneaky, user_message("", "-1 is fine", at[1])])
    await vote(store, alice, alices, due.id, "positive")
    await vote(store, alice, alices, moved.id, "negative")
    await vote(store, bob, bobs, sneaky.id, "negative")

    rows = {
        row["item_id"]: row for row in await exported(store) if row["thread_id"] in {alices, bobs}
    }
    assert set(rows) == {due.id, moved.id, sneaky.id}
    assert {
        k: rows[due.id][k] for k in ("thread_id", "kind", "assistant_text", "user_message")
    } == {
        "thread_id": alices,
        "kind": "positive",
        "assistant_text": "Nothing is due.",
        "user_message": "What is due?",
    }
    # The nearest user message before the answer, quote and @-mention as written.
    assert rows[moved.id]["user_message"] == "> Dentist, Tuesday\nMove @Dentist to Friday"
    assert rows[moved.id]["assistant_text"] == "Moved, done."
    assert rows[sneaky.id]["user_message"] == ""
    assert rows[sneaky.id]["assistant_text"] == '\'=HYPERLINK("http://x")'
    # No user ids in it: only the ids of threads and items.
    assert alice.user_id not in str(rows) and bob.user_id not in str(rows)
    stamp = datetime.fromisoformat(rows[due.id]["time"])
    assert stamp.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - stamp) < timedelta(minutes=5)


async def test_since_and_kind_choose_the_votes(
    store: PostgresStore, ctx: Callable[[], RequestContext]
) -> None:
    alice, bob = ctx(), ctx()
    old = assistant_message("", "An old answer.")
    new = assistant_message("", "A new answer.")
    bobs_new = assistant_message("", "Bob's new answer.")
    alices = await stored(store, alice, [old, new])
    bobs = await stored(store, bob, [bobs_new])
    await vote(store, alice, alices, old.id, "negative")
    await vote(store, alice, alices, new.id, "negative")
    await vote(store, bob, bobs, bobs_new.id, "positive")
    await backdate(store, alice.user_id, old.id, datetime(2020, 5, 1, 12, tzinfo=UTC))

    async def items(*, since: datetime | None = None, kind: Kind | None = None) -> set[str]:
        rows = await exported(store, since=since, kind=kind)
        return {row["item_id"] for row in rows if row["thread_id"] in {alices, bobs}}

    assert await items() == {old.id, new.id, bobs_new.id}
    assert await items(since=parse_since("2020-05-02")) == {new.id, bobs_new.id}
    assert await items(since=parse_since("2020-05-01T12:00:00Z")) == {old.id, new.id, bobs_new.id}
    assert await items(kind="negative") == {old.id, new.id}
    assert await items(kind="positive", since=parse_since("2020-01-01")) == {bobs_new.id}
    # Oldest first, by the time each vote was given or last changed.
    ordered = [row["item_id"] for row in await exported(store) if row["thread_id"] == alices]
    assert ordered == [old.id, new.id]


@pytest.mark.parametrize(
    ("given", "meant"),
    [
        ("2026-11-30", datetime(2026, 11, 30, tzinfo=UTC)),
        ("2026-11-30T09:30:00Z", datetime(2026, 11, 30, 9, 30, tzinfo=UTC)),
        ("2026-11-30T09:30", datetime(2026, 11, 30, 9, 30, tzinfo=UTC)),
        ("2026-11-30T10:30:00+01:00", datetime(2026, 11, 30, 9, 30, tzinfo=UTC)),
    ],
)
def test_since_reads_a_date_or_an_iso_time_as_utc(given: str, meant: datetime) -> None:
    assert parse_since(given) == meant


@pytest.mark.parametrize("given", ["yesterday", "30/11/2026", "2026-13-01", ""])
def test_a_since_that_is_no_time_says_what_it_takes(given: str) -> None:
    with pytest.raises(ValueError, match=r"neither a date \(2026-11-30\) nor an ISO time"):
        parse_since(given)
