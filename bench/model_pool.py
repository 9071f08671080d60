"""CPU per model request with a pool of idle connections: Taskchat's model HTTP client
(aiohttp under httpx2, agent/transport.py) against the openai client's default, httpx2's
own transport (httpcore2).

After a burst of turns the model client keeps dozens of connections; httpcore2 asks each
idle one whether its server closed it before every request. Both clients send the same
sequential requests to one loopback server, after the same burst left IDLE connections
pooled (a minimal server in this process answers them); three alternating batches each,
CPU time of this process (client and server) per request, and the median ratio.

Target: ours/httpx2's at most 0.3.

    uv run python bench/model_pool.py
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx2 as httpx

from bench._support import alternating_batches, median_ratio
from taskchat.agent.llm import build_http_client
from taskchat.config import Settings

IDLE = 80
"""Connections the burst leaves in the pool (openai's default client keeps up to 100)."""
REQUESTS = 500
BATCHES = 3
TARGET = 0.3


HANDLERS: set[asyncio.Task[None]] = set()
"""The server's connections, awaited at the end (each ends when its client closes it)."""


async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A keep-alive HTTP/1.1 server that answers every GET with "ok"."""
    if (task := asyncio.current_task()) is not None:
        HANDLERS.add(task)
    try:
        while True:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok"
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass  # the client closed the connection
    finally:
        writer.close()


def httpx2_client() -> httpx.AsyncClient:
    """The openai client's default HTTP client: httpx2's transport, openai's limits."""
    return httpx.AsyncClient(
        limits=httpx.Limits(max_connections=1000, max_keepalive_connections=100)
    )


async def cpu_per_request(http: httpx.AsyncClient, url: str) -> float:
    # The burst: IDLE requests at once, each on a connection of its own, then pooled.
    await asyncio.gather(*(http.get(url) for _ in range(IDLE)))
    start = time.process_time()
    for _ in range(REQUESTS):
        response = await http.get(url)
        assert response.status_code == 200
    return (time.process_time() - start) / REQUESTS


async def main() -> float:
    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    settings = Settings(_env_file=None)

    async def measure(name: str) -> float:
        http = build_http_client(settings) if name == "ours" else httpx2_client()
        async with http:
            return await cpu_per_request(http, url)

    try:
        ratios = await alternating_batches(measure, "ours", "httpx2", BATCHES, "request")
    finally:
        server.close()
        await server.wait_closed()
        await asyncio.gather(*HANDLERS)
    return median_ratio(ratios, "ours/httpx2's", TARGET)


if __name__ == "__main__":
    sys.exit(0 if asyncio.run(main()) <= TARGET else 1)
