"""What open answers cost the server in memory, and whether turns leave any behind.

Taskchat (production settings, as in bench/turn_cost.py) under one uvicorn worker, with a
scripted model. Prints the server process's resident memory (RSS, from /proc):
- idle, after a warm-up;
- over 5,000 turns at 50 concurrent, after each 1,000;
- at 200 and at 1,000 answers streaming at once (each held open for a few seconds by a
  paced model reply), at the peak, with the memory per open stream above the RSS just
  before them.

Target: flat after warm-up. The last 4,000 of the 5,000 turns grow RSS by at most 5%.

    uv run python bench/stream_memory.py
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from tests.support.fake_openai import TITLE_MODEL
from tests.support.ports import free_port

from bench._support import (
    PRODUCTION_LOGS,
    UVICORN,
    database,
    process,
    scripted_model,
    taskchat_env,
    user_headers,
)
from bench.chatkit_overhead import Samples, first_turns, load, one_turn

OPEN_STREAMS = (200, 1000)
CHUNKS, CHUNK_DELAY = 10, 0.4
"""A held answer: ten chunks, 0.4 s apart (four seconds open)."""
TURNS, EVERY, CONCURRENCY = 5000, 1000, 50
GROWTH_TARGET = 0.05


def rss_mib(pid: int) -> float:
    """Resident memory of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


async def held_streams(
    url: str, control: str, users: list[dict[str, str]], pid: int
) -> tuple[float, Samples]:
    """`len(users)` answers streaming at once; the peak RSS while they are open."""
    count = len(users)
    async with httpx.AsyncClient(timeout=60) as http:
        reply = {"text": ["word "] * CHUNKS, "chunk_delay": CHUNK_DELAY}
        (await http.post(f"{control}/script", json=[reply] * count)).raise_for_status()
    out = Samples()
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    peak = rss_mib(pid)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:
        turns = asyncio.gather(
            *(one_turn(http, url, users[n], first_turns(n), out) for n in range(count))
        )
        while not turns.done():
            peak = max(peak, rss_mib(pid))
            await asyncio.sleep(0.1)
        await turns
    return peak, out


def main() -> None:
    model_cmd, model_url, model_probe = scripted_model()
    control = model_url.removesuffix("/v1") + "/_control"
    port = free_port()
    with database() as db_url:
        env = taskchat_env(
            db_url,
            model_url,
            **PRODUCTION_LOGS,
            # Title calls go to the scripted model's title route (it answers them with an
            # error: the threads get their fallback titles), not to the held replies.
            TITLE_MODEL_NAME=TITLE_MODEL,
        )
        with (
            process(model_cmd, {}, model_probe),
            process(
                [sys.executable, *UVICORN, "bench._apps:taskchat_app", "--port", str(port)],
                env,
                f"http://127.0.0.1:{port}/healthz",
                quiet=True,
            ) as server,
        ):
            users = user_headers(env, max(OPEN_STREAMS))
            url = f"http://127.0.0.1:{port}/chatkit"
            asyncio.run(load(url, users, CONCURRENCY, CONCURRENCY * 4))
            time.sleep(1)
            idle = rss_mib(server.pid)
            print(f"idle (after {CONCURRENCY * 4} turns): {idle:.1f} MiB")
            failed = False
            # Before the streams: their peak would hide a slow growth under freed memory.
            readings: list[float] = []
            for _ in range(TURNS // EVERY):
                out = asyncio.run(load(url, users, CONCURRENCY, EVERY))
                failed = failed or bool(out.errors)
                readings.append(rss_mib(server.pid))
            print(
                f"RSS after each {EVERY} of {TURNS} turns at {CONCURRENCY} concurrent: "
                + ", ".join(f"{each:.1f}" for each in readings)
                + " MiB"
            )
            for count in OPEN_STREAMS:
                before = rss_mib(server.pid)
                peak, out = asyncio.run(held_streams(url, control, users[:count], server.pid))
                failed = failed or bool(out.errors) or len(out.full) < count
                print(
                    f"{count} answers streaming at once: peak {peak:.1f} MiB, "
                    f"{(peak - before) * 1024 / count:.0f} KiB per open stream above the "
                    f"{before:.1f} MiB before them; {len(out.full)} answered, "
                    f"errors {out.errors[:3]}"
                )
    growth = readings[-1] / readings[0] - 1
    within = growth <= GROWTH_TARGET and not failed
    print(
        f"growth over the last {TURNS - EVERY} turns: {growth * 100:+.1f}% "
        f"(target <= {GROWTH_TARGET * 100:.0f}%) {'OK' if within else 'OVER TARGET'}"
    )
    sys.exit(0 if within else 1)


if __name__ == "__main__":
    main()
