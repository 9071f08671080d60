"""Median time to load a 20-item page from threads of 100, 10,000 and 100,000 items.

Keyset pagination should make a page cost the same whatever the thread's size.
Target: largest/smallest ratio at most 1.5.

    uv run python bench/store_pagination.py
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import TextClause, text

from bench._support import database, median_ms
from taskchat.chat.store.postgres import PostgresStore
from taskchat.context import RequestContext
from taskchat.db.engine import user_transaction

SIZES = (100, 10_000, 100_000)
PAGE = 20
ROUNDS = 300
TARGET = 1.5


def typed(sql: str) -> TextClause:
    # asyncpg cannot infer the type of a parameter used inside jsonb_build_object.
    return text(sql.replace(":u", "CAST(:u AS text)").replace(":t", "CAST(:t AS text)"))


async def fill(store: PostgresStore, context: RequestContext, thread_id: str, size: int) -> None:
    """A thread of `size` user messages, inserted in bulk by the database."""
    async with user_transaction(store.engine, context.user_id) as conn:
        await conn.execute(
            typed(
                "INSERT INTO chat_threads (user_id, id, created_at, data) VALUES "
                "(:u, :t, now(), jsonb_build_object('id', :t, 'created_at', "
                "'2026-01-01T00:00:00', 'status', jsonb_build_object('type', 'active'), "
                "'metadata', '{}'::jsonb))"
            ),
            {"u": context.user_id, "t": thread_id},
        )
        await conn.execute(
            typed(
                "INSERT INTO chat_items (user_id, thread_id, id, type, created_at, data) "
                "SELECT :u, :t, 'msg_' || :t || '_' || g, 'user_message', "
                "timestamptz '2026-01-01' + g * interval '1 second', "
                "jsonb_build_object('id', 'msg_' || :t || '_' || g, 'thread_id', :t, "
                "'created_at', to_char(timestamp '2026-01-01' + g * interval '1 second', "
                "'YYYY-MM-DD\"T\"HH24:MI:SS'), 'type', 'user_message', "
                "'content', jsonb_build_array(jsonb_build_object('type', 'input_text', "
                "'text', 'message number ' || g)), 'attachments', '[]'::jsonb, "
                "'inference_options', '{}'::jsonb) "
                "FROM generate_series(1, :n) AS g"
            ),
            {"u": context.user_id, "t": thread_id, "n": size},
        )
        await conn.execute(text("ANALYZE chat_items"))


async def page_times(
    store: PostgresStore, context: RequestContext, thread_id: str, size: int
) -> list[float]:
    """Times of loading pages: newest first, and from cursors spread over the thread."""
    samples = []
    for round_ in range(ROUNDS):
        order = "desc" if round_ % 2 else "asc"
        cursor = None if round_ % 3 == 0 else f"msg_{thread_id}_{(round_ * 7919) % size + 1}"
        start = time.perf_counter()
        page = await store.load_thread_items(thread_id, cursor, PAGE, order, context)
        samples.append(time.perf_counter() - start)
        assert page.data, "empty page"
    return samples


async def run(url: str) -> float:
    store = PostgresStore.from_url(url)
    context = RequestContext(user_id="bench-user")
    try:
        medians = {}
        for size in SIZES:
            await fill(store, context, f"thr_bench{size}", size)
        for size in SIZES:
            await page_times(store, context, f"thr_bench{size}", size)  # warm caches
        for size in SIZES:
            medians[size] = median_ms(await page_times(store, context, f"thr_bench{size}", size))
    finally:
        await store.engine.dispose()
    for size, value in medians.items():
        print(f"thread of {size:>7} items: median {value:6.3f} ms per {PAGE}-item page")
    ratio = medians[SIZES[-1]] / medians[SIZES[0]]
    verdict = "OK" if ratio <= TARGET else "OVER TARGET"
    print(f"ratio largest/smallest: {ratio:.2f} (target <= {TARGET}) {verdict}")
    return ratio


def main() -> None:
    with database() as url:
        ratio = asyncio.run(run(url))
    sys.exit(0 if ratio <= TARGET else 1)


if __name__ == "__main__":
    main()
