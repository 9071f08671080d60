"""What Taskchat adds to a ChatKit turn: auth, PostgreSQL, history, per-turn MCP tools.

Median time to first event and full-turn time of `POST /chatkit` (threads.create) with an
instant scripted model, for Taskchat and for a bare ChatKitServer over an in-memory store
(bench/_apps.py) whose agent has the same tool definitions, both under one uvicorn worker,
at 1 and 50 concurrent conversations.
Then 200 concurrent conversations against Taskchat, which must all succeed.
Target: Taskchat/bare at most 1.5.

    uv run python bench/chatkit_overhead.py
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from bench._support import database, median_ms, process, scripted_model
from taskchat.auth import mint_token
from taskchat.config import Settings
from taskchat.db.local import free_port

SECRET = "bench-secret-" + "x" * 40
LEVELS = (1, 50)
TURNS_PER_LEVEL = 400
STRESS = 200
TARGET = 1.5


@dataclass
class Samples:
    first: list[float] = field(default_factory=list)
    full: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def body(text: str) -> dict[str, object]:
    return {
        "type": "threads.create",
        "params": {
            "input": {
                "content": [{"type": "input_text", "text": text}],
                "attachments": [],
                "inference_options": {},
            }
        },
    }


async def one_turn(
    http: httpx.AsyncClient, url: str, headers: dict[str, str], out: Samples
) -> None:
    start = time.perf_counter()
    first: float | None = None
    answered = False
    try:
        async with http.stream("POST", url, json=body("hello"), headers=headers) as response:
            if response.status_code != 200:
                out.errors.append(f"HTTP {response.status_code}")
                return
            async for line in response.aiter_lines():
                if not line.startswith("data: "):
                    continue
                if first is None:
                    first = time.perf_counter() - start
                event = json.loads(line[6:])
                if event["type"] == "error":
                    out.errors.append(str(event))
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


async def load(url: str, headers: dict[str, str], concurrency: int, turns: int) -> Samples:
    out = Samples()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:
        for _ in range(max(1, turns // concurrency)):
            await asyncio.gather(*(one_turn(http, url, headers, out) for _ in range(concurrency)))
    return out


async def compare(
    ours: tuple[str, dict[str, str]],
    bare: tuple[str, dict[str, str]],
    concurrency: int,
    turns: int,
) -> tuple[Samples, Samples]:
    """Batches of `concurrency` turns, alternating between the two servers.

    Alternating keeps slow drifts of the machine (other load, CPU clocks) from
    landing on one side of the comparison.
    """
    mine, base = Samples(), Samples()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with (
        httpx.AsyncClient(timeout=120, limits=limits) as ours_http,
        httpx.AsyncClient(timeout=120, limits=limits) as bare_http,
    ):
        sides = ((ours_http, ours, mine), (bare_http, bare, base))
        for _ in range(max(1, turns // concurrency)):
            for http, (url, headers), out in sides:
                await asyncio.gather(
                    *(one_turn(http, url, headers, out) for _ in range(concurrency))
                )
    return mine, base


def main() -> None:
    model_cmd, model_url, model_probe = scripted_model()
    ours_port, bare_port = free_port(), free_port()
    with database() as db_url:
        env = {
            "DATABASE_URL": db_url,
            "JWT_SECRET": SECRET,
            "ENVIRONMENT": "production",
            "MODEL_PROVIDER": "openai_compatible",
            "MODEL_BASE_URL": model_url,
            "MODEL_NAME": "scripted",
            "MODEL_MAX_RETRIES": "2",
            "DATABASE_POOL_SIZE": "20",
            "DATABASE_MAX_OVERFLOW": "20",
        }
        uvicorn = [sys.executable, "-m", "uvicorn", "--factory", "--log-level", "warning"]
        with (
            process(model_cmd, {}, model_probe),
            process(
                [*uvicorn, "bench._apps:taskchat_app", "--port", str(ours_port)],
                env,
                f"http://127.0.0.1:{ours_port}/healthz",
            ),
            process(
                [*uvicorn, "bench._apps:baseline_app", "--port", str(bare_port)],
                env,
                f"http://127.0.0.1:{bare_port}/healthz",
            ),
        ):
            values: dict[str, Any] = {k.lower(): v for k, v in env.items()}
            settings = Settings(_env_file=None, **values)
            token = mint_token(settings, sub="bench-user", ttl_seconds=3600)
            ours = (f"http://127.0.0.1:{ours_port}/chatkit", {"Authorization": f"Bearer {token}"})
            bare: tuple[str, dict[str, str]] = (f"http://127.0.0.1:{bare_port}/chatkit", {})
            worst = 0.0
            failed = False
            for concurrency in LEVELS:
                asyncio.run(load(*ours, concurrency, concurrency * 2))  # warm-up
                asyncio.run(load(*bare, concurrency, concurrency * 2))
                mine, base = asyncio.run(compare(ours, bare, concurrency, TURNS_PER_LEVEL))
                for label, ours_s, base_s in (
                    ("first event", mine.first, base.first),
                    ("full turn", mine.full, base.full),
                ):
                    ratio = median_ms(ours_s) / median_ms(base_s)
                    worst = max(worst, ratio)
                    print(
                        f"{concurrency:>3} concurrent, {label:<11}: taskchat "
                        f"{median_ms(ours_s):7.2f} ms, bare {median_ms(base_s):7.2f} ms, "
                        f"ratio {ratio:.2f}"
                    )
                if mine.errors or base.errors:
                    failed = True
                    print(f"errors: taskchat {mine.errors[:3]}, bare {base.errors[:3]}")
            stress = asyncio.run(load(*ours, STRESS, STRESS))
            print(
                f"{STRESS} concurrent against taskchat: {len(stress.full)} answered, "
                f"{len(stress.errors)} errors {stress.errors[:3]}"
            )
            failed = failed or bool(stress.errors)
    verdict = "OK" if worst <= TARGET and not failed else "OVER TARGET"
    print(f"worst ratio taskchat/bare: {worst:.2f} (target <= {TARGET}) {verdict}")
    sys.exit(0 if verdict == "OK" else 1)


if __name__ == "__main__":
    main()
