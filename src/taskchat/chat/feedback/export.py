"""The operators' feedback export (`taskchat feedback export`): every user's votes as CSV,
each with the answer voted on and the person's message before it, for reviewing answers.

It reads across users through `operator_transaction_raw` and the read-only
`chat_feedback_operator` and `chat_items_operator` policies (migration 0006), and streams:
rows come from a server-side cursor a page at a time and are written as they come, so an
export of any size holds one page in memory.

What it leaves out on purpose: user ids, emails and names. A row's `thread_id` groups the
votes of one conversation; an operator who must reach the person behind one (a complaint,
say) can look the thread up in the database as the superuser, where every such look is
their own deliberate act rather than a column in a file that gets passed around.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any, TextIO

from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat.chat.feedback.votes import Kind
from taskchat.db.engine import operator_transaction_raw
from taskchat.errors import TaskchatError

COLUMNS = ("thread_id", "item_id", "kind", "time", "assistant_text", "user_message")
"""The CSV's header row."""

PAGE_ROWS = 500
"""Rows the cursor fetches at a time."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet reads a cell starting with one of these as a formula (CSV injection)."""

# The nearest user message before the answer, by the thread's own order (created_at, seq),
# found through the items' (user_id, thread_id, created_at, seq) index.
_SELECT = """
SELECT f.thread_id, f.item_id, f.kind, f.updated_at, a.data AS answer, q.data AS question
FROM chat_feedback f
JOIN chat_items a
  ON a.user_id = f.user_id AND a.thread_id = f.thread_id AND a.id = f.item_id
LEFT JOIN LATERAL (
  SELECT u.data FROM chat_items u
  WHERE u.user_id = f.user_id AND u.thread_id = f.thread_id AND u.type = 'user_message'
    AND (u.created_at, u.seq) < (a.created_at, a.seq)
  ORDER BY u.created_at DESC, u.seq DESC
  LIMIT 1
) q ON true
"""


class ExportWriteError(TaskchatError):
    """The CSV could not be written (a full disk, a closed pipe): not the database's fault."""


def parse_since(value: str) -> datetime:
    """`--since`: a date (midnight UTC) or an ISO 8601 time (UTC unless it says otherwise).

    Raises:
        ValueError: with a sentence naming the forms accepted.
    """
    try:
        if len(value) == len("YYYY-MM-DD"):
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"--since {value!r} is neither a date (2026-11-30) nor an ISO time "
            "(2026-11-30T09:00:00Z)"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def export_feedback(
    *,
    engine: AsyncEngine,
    out: TextIO,
    since: datetime | None = None,
    kind: Kind | None = None,
) -> int:
    """Write the votes given or last changed at or after `since` (all without it), of
    `kind` (both without it), oldest first, to `out` as CSV with a header row.

    Returns:
        How many votes were written.
    """
    conditions: list[str] = []
    args: list[object] = []
    # Only the filters asked for: a `$1 IS NULL OR ...` would keep the planner from the
    # index on updated_at.
    if since is not None:
        args.append(since)
        conditions.append(f"f.updated_at >= ${len(args)}")
    if kind is not None:
        args.append(kind)
        conditions.append(f"f.kind = ${len(args)}")
    where = f"WHERE {' AND '.join(conditions)} " if conditions else ""
    sql = f"{_SELECT}{where}ORDER BY f.updated_at, f.thread_id, f.item_id"
    writer = csv.writer(out)
    _write(writer.writerow, COLUMNS)
    written = 0
    async with operator_transaction_raw(engine) as conn:
        async for row in conn.cursor(sql, *args, prefetch=PAGE_ROWS):
            _write(
                writer.writerow,
                (
                    row["thread_id"],
                    row["item_id"],
                    row["kind"],
                    row["updated_at"].astimezone(UTC).isoformat(),
                    _cell(assistant_text(row["answer"])),
                    _cell(user_text(row["question"]) if row["question"] is not None else ""),
                ),
            )
            written += 1
    return written


def assistant_text(item: dict[str, Any]) -> str:
    """An assistant message's text: its output parts, in order."""
    return "".join(_texts(item.get("content", ()), "output_text"))


def user_text(item: dict[str, Any]) -> str:
    """A user message as its writer saw it: the quoted text (as a `> ` line) if any, then
    the text, with each @-mention as `@<title>`."""
    parts: list[str] = []
    for part in item.get("content", ()):
        if part.get("type") == "input_text":
            parts.append(str(part.get("text", "")))
        elif part.get("type") == "input_tag":
            parts.append(f"@{part.get('text', '')}")
    text = "".join(parts)
    quoted = item.get("quoted_text")
    return f"> {quoted}\n{text}" if quoted else text


def _write(write: Callable[[Sequence[str]], object], row: Sequence[str]) -> None:
    try:
        write(row)
    except OSError as error:
        # Without its cause: an OSError in the chain reads as a database out of reach.
        raise ExportWriteError(f"could not write the CSV: {error.strerror or error}") from None


def _texts(parts: Iterable[dict[str, Any]], kind: str) -> Iterable[str]:
    return (str(part.get("text", "")) for part in parts if part.get("type") == kind)


def _cell(text: str) -> str:
    """`text`, with a leading `'` if a spreadsheet would run it as a formula (the OWASP
    advice for CSV injection: people's messages are untrusted)."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


__all__ = [
    "COLUMNS",
    "ExportWriteError",
    "assistant_text",
    "export_feedback",
    "parse_since",
    "user_text",
]
