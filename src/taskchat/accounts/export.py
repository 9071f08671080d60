"""A person's data as one JSON document, written as it is read.

The document is an object: `format`, `exported_at`, `account`, then one array per entry
of `SECTIONS`, in that order. Each section is read in keyset pages, each page in its own
short user-scoped transaction, and sent as soon as it is read: an export of any size
holds one page in memory and a pooled connection only while a page is read, however
slowly the download goes.

Adding a table to the export is one `Section` entry. Not exported, on purpose:
`chat_turns` (when each chat request started and ended, kept an hour for the rate limits)
and `chat_approvals` (a confirmation's card, with the answer given, is already an item of
its thread; the row adds the paused agent run, a machine copy of that same conversation).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat.db.engine import user_transaction_raw

FORMAT = "taskchat-export/1"
"""The document's `format`: changes that would break a reader get a new number."""

PAGE_ROWS = 100
"""Rows read (and sent) at once; a chat item is a few kilobytes of JSON at most."""


@dataclass(frozen=True, slots=True)
class Section:
    """One array of the export: a user-owned table's rows, one JSON object each."""

    name: str
    """The section's key in the document."""

    table: str
    """The table read; every row whose `user_id` is the person's."""

    key: tuple[str, ...]
    """Columns that order the rows and page through them: unique within one user's rows,
    and best the tail of an index that starts with `user_id`."""

    document: str = "to_jsonb(t) - 'user_id'"
    """SQL for one row's JSON object, the table being `t`; by default every column but
    `user_id`."""

    def page_sql(self, *, after: bool) -> str:
        """A page of the section: `$1` the user id, then the key of the last row sent (if
        `after`), then the page size."""
        columns = ", ".join(f"t.{column}" for column in self.key)
        where = "t.user_id = $1"
        limit = 2
        if after:
            places = ", ".join(f"${n + 2}" for n in range(len(self.key)))
            where += f" AND ({columns}) > ({places})"
            limit += len(self.key)
        return (
            f"SELECT {columns}, ({self.document})::text AS document FROM {self.table} t "
            f"WHERE {where} ORDER BY {columns} LIMIT ${limit}"
        )


SECTIONS: tuple[Section, ...] = (
    # A thread's and an item's stored JSON is the ChatKit object itself (ids, times, the
    # thread's title and status; an item's thread, type and content).
    Section("threads", "chat_threads", key=("created_at", "seq"), document="t.data"),
    Section("items", "chat_items", key=("thread_id", "created_at", "seq"), document="t.data"),
    Section("tasks", "tasks", key=("id",)),
    # Votes on answers: the item voted on, the vote, when given and last changed.
    Section("feedback", "chat_feedback", key=("thread_id", "item_id")),
    # Each attachment as ChatKit describes it (id, name, type, thread), not its bytes: a
    # file is downloaded from its own URL (GET /api/attachments/<id>/content).
    Section("attachments", "chat_attachments", key=("id",), document="t.data"),
    # What the assistant's tools did while answering each message (tools/ledger.py): the
    # tool, its arguments and its result, kept so that a retried answer does not repeat it.
    Section(
        "tool_calls",
        "chat_tool_calls",
        key=("thread_id", "message_id", "call_key", "occurrence"),
        document="to_jsonb(t) - 'user_id' - 'seq'",
    ),
)
"""The export's arrays, in order."""


async def export_document(
    engine: AsyncEngine,
    *,
    user_id: str,
    account: Mapping[str, Any],
    sections: tuple[Section, ...] = SECTIONS,
    page_rows: int = PAGE_ROWS,
) -> AsyncIterator[bytes]:
    """The export of `user_id`'s data, in chunks; `account` is its `account` object.

    A failure part-way raises out of the iteration: the download then ends unfinished
    (and the JSON unclosed) rather than looking complete.
    """
    head = {
        "format": FORMAT,
        "exported_at": datetime.now(UTC).isoformat(),
        "account": dict(account),
    }
    # The head object without its closing brace; the sections follow as its members.
    yield json.dumps(head, ensure_ascii=False, default=str)[:-1].encode()
    for section in sections:
        yield f", {json.dumps(section.name)}: [".encode()
        first = True
        async for documents in _pages(engine, user_id, section, page_rows):
            joined = ",\n".join(documents)
            yield (("\n" if first else ",\n") + joined).encode()
            first = False
        yield b"]" if first else b"\n]"
    yield b"}\n"


async def _pages(
    engine: AsyncEngine, user_id: str, section: Section, page_rows: int
) -> AsyncIterator[list[str]]:
    """The section's rows as JSON text, `page_rows` at a time."""
    after: tuple[Any, ...] = ()
    while True:
        async with user_transaction_raw(engine, user_id) as conn:
            rows = await conn.fetch(section.page_sql(after=bool(after)), user_id, *after, page_rows)
        if not rows:
            return
        yield [row["document"] for row in rows]
        if len(rows) < page_rows:
            return
        last = rows[-1]
        after = tuple(last[column] for column in section.key)
