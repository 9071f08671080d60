"""Per-turn cost of the user's tools: build, connect, list, one call, tear down.

Ours: the in-process tasks server bound to the user (tools/servers.py, _sdk/agents.py's
InProcessMCPServer). Baseline: the pattern many ChatKit guides show, a stdio MCP server
spawned per request, serving the same tools. Target: ours at most 15 ms median and at
least 20 times faster.

    uv run python bench/mcp_overhead.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.mcp import MCPServerStdio

from bench._support import database
from taskchat.config import Settings
from taskchat.db.engine import create_engine
from taskchat.tools.servers import TurnTools
from taskchat.tools.tasks import list_tool_definitions

ROUNDS_OURS = 200
ROUNDS_STDIO = 15
TARGET_MS = 15.0
TARGET_SPEEDUP = 20.0


async def ours(settings: Settings, rounds: int) -> list[float]:
    engine = create_engine(settings.database_url, pool_size=2)
    turn_tools = TurnTools(settings, engine, await list_tool_definitions())
    samples = []
    try:
        for _ in range(rounds + 5):
            start = time.perf_counter()
            async with turn_tools.open("bench-mcp") as tools:
                server = tools.servers[0]
                await server.list_tools()
                result = await server.call_tool("list_tasks", {"status": "all", "limit": 5})
                assert not result.is_error, result
            samples.append(time.perf_counter() - start)
    finally:
        await engine.dispose()
    return samples[5:]


async def stdio(database_url: str, rounds: int) -> list[float]:
    samples = []
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(Path(__file__).parents[1])}
    for _ in range(rounds):
        start = time.perf_counter()
        server = MCPServerStdio(
            params={
                "command": sys.executable,
                "args": ["-m", "bench._stdio_tasks", "bench-mcp"],
                "env": env,
            },
            client_session_timeout_seconds=60,
        )
        async with server:
            await server.list_tools()
            result = await server.call_tool("list_tasks", {"status": "all", "limit": 5})
            assert not result.is_error, result
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    with database() as url:
        settings = Settings(_env_file=None, database_url=url, jwt_secret="x" * 40)
        mine = statistics.median(asyncio.run(ours(settings, ROUNDS_OURS))) * 1000
        spawned = statistics.median(asyncio.run(stdio(url, ROUNDS_STDIO))) * 1000
    speedup = spawned / mine
    print(f"in-process tasks server, per turn: median {mine:7.2f} ms")
    print(f"stdio server spawned per turn:     median {spawned:7.2f} ms")
    verdict = "OK" if mine <= TARGET_MS and speedup >= TARGET_SPEEDUP else "OVER TARGET"
    print(
        f"ratio stdio/ours: {speedup:.1f}x (target >= {TARGET_SPEEDUP:.0f}x; ours <= "
        f"{TARGET_MS:.0f} ms) {verdict}"
    )
    sys.exit(0 if verdict == "OK" else 1)


if __name__ == "__main__":
    main()
