"""What Taskchat adds to a ChatKit turn: auth, PostgreSQL, history, per-turn MCP tools.

Median time to first event and full-turn time of `POST /chatkit` with an instant scripted
model, for Taskchat and for a bare ChatKitServer over an in-memory store (bench/_apps.py)
whose agent has the same tool definitions, both under one uvicorn worker, at 1 and 50
concurrent conversations, with each server's mean turn and CPU time per turn. Then 200
concurrent conversations against Taskchat, which must all succeed.
Target: Taskchat/bare at most 1.5.

Turns come in two kinds, measured apart: a new thread's first turn (`threads.create`,
which is also when Taskchat titles the thread) and a later turn of a thread
(`threads.add_user_message`, with that thread's history). Against the bare server, only
first turns (its in-memory store would grow without bound).

    uv run python bench/chatkit_overhead.py

With `--against DIR`, the baseline is instead the Taskchat of another checkout (DIR, with
its own `uv sync`ed .venv): the same load in alternating batches, to show what a change
costs; the target is then server CPU per turn at most 1.10 times the other's. For example,
against the commit before a change:

    git worktree add /tmp/before HEAD~1 && (cd /tmp/before && uv sync --frozen)
    uv run python bench/chatkit_overhead.py --against /tmp/before
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from tests.support.ports import free_port
from tests.support.protocol import aiter_events

from bench._support import (
    UVICORN,
    baseline,
    cpu_seconds,
    database,
    mean_ms,
    median_ms,
    p95_ms,
    process,
    scripted_model,
    taskchat_env,
    user_headers,
)

LEVELS = (1, 50)
TURNS_PER_LEVEL = 400
STRESS = 200
TARGET = 1.5
"""Against the bare server: Taskchat's median turn and first event at most 1.5 times its."""
AGAINST_TARGET = 1.10
"""Against another checkout: server CPU per turn at most 1.10 times its (comparing a
checkout with itself gave up to 1.10 at 50 concurrent: this is the bench's own noise)."""


@dataclass
class Samples:
    first: list[float] = field(default_factory=list)
    full: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    threads: list[str] = field(default_factory=list)
    """The threads the turns created, in the order they were created."""


def body(text: str, thread_id: str | None = None) -> dict[str, object]:
    """A new thread's first message, or (with `thread_id`) a later one in that thread."""
    message = {
        "content": [{"type": "input_text", "text": text}],
        "attachments": [],
        "inference_options": {},
    }
    if thread_id is None:
        return {"type": "threads.create", "params": {"input": message}}
    return {
        "type": "threads.add_user_message",
        "params": {"thread_id": thread_id, "input": message},
    }


Bodies = Callable[[int], dict[str, object]]
"""The request of conversation `n` (each conversation is one user's)."""


def first_turns(_: int) -> dict[str, object]:
    return body("hello")


async def one_turn(
    http: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    request: dict[str, object],
    out: Samples,
) -> None:
    start = time.perf_counter()
    first: float | None = None
    answered = False
    try:
        async with http.stream("POST", url, json=request, headers=headers) as response:
            if response.status_code != 200:
                out.errors.append(f"HTTP {response.status_code}")
                return
            async for event in aiter_events(response):
                if first is None:
                    first = time.perf_counter() - start
                if event["type"] == "error":
                    out.errors.append(str(event))
                if event["type"] == "thread.created":
                    out.threads.append(event["thread"]["id"])
                item = event.get("item", {})
                if event["type"] == "thread.item.done" and item["type"] == "assistant_message":
                    answered = True
    except httpx.HTTPError as error:
        out.errors.append(type(error).__name__)
        return
    if not answered:
        out.errors.append("no answer")
        return
    out.first.append(first or 0.0)
    out.full.append(time.perf_counter() - start)


Users = list[dict[str, str]]
"""The headers of each conversation's user (one user per concurrent conversation)."""


async def load(
    url: str, users: Users, concurrency: int, turns: int, bodies: Bodies = first_turns
) -> Samples:
    out = Samples()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:
        for _ in range(max(1, turns // concurrency)):
            await asyncio.gather(
                *(
                    one_turn(http, url, users[n % len(users)], bodies(n), out)
                    for n in range(concurrency)
                )
            )
    return out


async def open_threads(url: str, users: Users, concurrency: int) -> Bodies:
    """One thread for each of `concurrency` conversations (by its first turn), and the
    later turns of those threads."""
    threads: list[str] = []
    for n in range(concurrency):
        opened = await load(url, users[n : n + 1], 1, 1)
        if opened.errors or not opened.threads:
            raise SystemExit(f"could not open a thread at {url}: {opened.errors[:1]}")
        threads.append(opened.threads[0])
    return lambda n: body("and then?", threads[n])


async def compare(
    ours: tuple[str, Users, Bodies],
    bare: tuple[str, Users, Bodies],
    concurrency: int,
    turns: int,
) -> tuple[Samples, Samples]:
    """Batches of `concurrency` turns, alternating between the two servers.

    Alternating keeps slow drifts of the machine (other load, CPU clocks) from
    landing on one side of the comparison, and so does swapping which goes first.
    """
    mine, base = Samples(), Samples()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with (
        httpx.AsyncClient(timeout=120, limits=limits) as ours_http,
        httpx.AsyncClient(timeout=120, limits=limits) as bare_http,
    ):
        sides = ((ours_http, ours, mine), (bare_http, bare, base))
        for batch in range(max(1, turns // concurrency)):
            # Each side goes first every other time: the second of a pair runs right after
            # a burst of the first's work (busier database, warmer machine).
            for http, (url, users, bodies), out in sides if batch % 2 == 0 else sides[::-1]:
                await asyncio.gather(
                    *(
                        one_turn(http, url, users[n % len(users)], bodies(n), out)
                        for n in range(concurrency)
                    )
                )
    return mine, base


@dataclass
class Side:
    """One server under load: where to send turns, and its process (for its CPU time)."""

    name: str
    url: str
    users: Users
    server: subprocess.Popen[bytes]


def report(level: str, ours: Side, base: Side, mine: Samples, theirs: Samples) -> float:
    """Print one level's comparison; the worst median ratio."""
    worst = 0.0
    for label, ours_s, base_s in (
        ("first event", mine.first, theirs.first),
        ("full turn", mine.full, theirs.full),
    ):
        ratio = median_ms(ours_s) / median_ms(base_s)
        worst = max(worst, ratio)
        print(
            f"{level}, {label:<11}: {ours.name} "
            f"{median_ms(ours_s):7.2f} ms, {base.name} {median_ms(base_s):7.2f} ms, "
            f"ratio {ratio:.2f}"
        )
    print(
        f"{level}, full turn mean/p95: {ours.name} "
        f"{mean_ms(mine.full):.2f}/{p95_ms(mine.full):.2f} ms, {base.name} "
        f"{mean_ms(theirs.full):.2f}/{p95_ms(theirs.full):.2f} ms, "
        f"mean ratio {mean_ms(mine.full) / mean_ms(theirs.full):.2f}"
    )
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--against",
        type=Path,
        help="compare with the Taskchat of this checkout (with its own .venv) instead",
    )
    against: Path | None = parser.parse_args().against
    model_cmd, model_url, model_probe = scripted_model()
    ours_port, base_port = free_port(), free_port()
    with database() as db_url:
        env = taskchat_env(db_url, model_url, DATABASE_POOL_SIZE="20", DATABASE_MAX_OVERFLOW="20")
        base_python, base_root, base_app = baseline(against)
        with (
            process(model_cmd, {}, model_probe),
            process(
                [sys.executable, *UVICORN, "bench._apps:taskchat_app", "--port", str(ours_port)],
                env,
                f"http://127.0.0.1:{ours_port}/healthz",
            ) as ours_server,
            process(
                [base_python, *UVICORN, base_app, "--port", str(base_port)],
                env,
                f"http://127.0.0.1:{base_port}/healthz",
                root=base_root,
            ) as base_server,
        ):
            # One user per concurrent conversation, as people chat: one user's 50 streams
            # at once would measure its admissions queueing on one lock (chat/admission.py),
            # which CHAT_CONCURRENT_STREAMS (3 by default) never lets happen.
            users = user_headers(env, STRESS)
            ours = Side("taskchat", f"http://127.0.0.1:{ours_port}/chatkit", users, ours_server)
            base = Side(
                "bare" if against is None else "against",
                f"http://127.0.0.1:{base_port}/chatkit",
                [{}] if against is None else users,
                base_server,
            )
            worst = worst_cpu = 0.0
            failed = False
            kinds = ["first turns"] if against is None else ["first turns", "later turns"]
            for kind, concurrency in ((kind, level) for kind in kinds for level in LEVELS):
                ours_bodies: Bodies
                base_bodies: Bodies
                if kind == "first turns":
                    ours_bodies = base_bodies = first_turns
                else:
                    ours_bodies = asyncio.run(open_threads(ours.url, ours.users, concurrency))
                    base_bodies = asyncio.run(open_threads(base.url, base.users, concurrency))
                # Warm-up.
                asyncio.run(load(ours.url, ours.users, concurrency, concurrency * 2, ours_bodies))
                asyncio.run(load(base.url, base.users, concurrency, concurrency * 2, base_bodies))
                cpu_before = cpu_seconds(ours.server.pid), cpu_seconds(base.server.pid)
                mine, theirs = asyncio.run(
                    compare(
                        (ours.url, ours.users, ours_bodies),
                        (base.url, base.users, base_bodies),
                        concurrency,
                        TURNS_PER_LEVEL,
                    )
                )
                cpu_ours = (cpu_seconds(ours.server.pid) - cpu_before[0]) / len(mine.full)
                cpu_base = (cpu_seconds(base.server.pid) - cpu_before[1]) / len(theirs.full)
                level = f"{kind}, {concurrency:>2} concurrent"
                worst = max(worst, report(level, ours, base, mine, theirs))
                worst_cpu = max(worst_cpu, cpu_ours / cpu_base)
                print(
                    f"{level}, server CPU per turn: {ours.name} "
                    f"{cpu_ours * 1000:.2f} ms, {base.name} {cpu_base * 1000:.2f} ms, "
                    f"ratio {cpu_ours / cpu_base:.2f}"
                )
                if mine.errors or theirs.errors:
                    failed = True
                    print(f"errors: {ours.name} {mine.errors[:3]}, {base.name} {theirs.errors[:3]}")
            stress = asyncio.run(load(ours.url, ours.users, STRESS, STRESS))
            print(
                f"{STRESS} concurrent against taskchat: {len(stress.full)} answered, "
                f"{len(stress.errors)} errors {stress.errors[:3]}"
            )
            failed = failed or bool(stress.errors)
    if against is None:
        within = worst <= TARGET
        summary = f"worst median ratio taskchat/bare: {worst:.2f} (target <= {TARGET})"
    else:
        within = worst_cpu <= AGAINST_TARGET
        summary = (
            f"worst CPU-per-turn ratio taskchat/against: {worst_cpu:.2f} "
            f"(target <= {AGAINST_TARGET})"
        )
    verdict = "OK" if within and not failed else "OVER TARGET"
    print(f"{summary} {verdict}")
    sys.exit(0 if verdict == "OK" else 1)


if __name__ == "__main__":
    main()
