"""The model client's transport (aiohttp under httpx2), against raw HTTP servers on loopback:
what it sends and receives, its pooled connections, and its failures as the openai client
reports them."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx2 as httpx
import openai
import pytest
from yarl import URL

from taskchat.agent.transport import AiohttpTransport

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class Server:
    url: str
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[Server]:
    """A loopback server running `handler` per connection, counting connections."""
    handlers: set[asyncio.Task[None]] = set()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server.connections += 1
        if (task := asyncio.current_task()) is not None:
            handlers.add(task)
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client closed the connection
        finally:
            writer.close()

    listening = await asyncio.start_server(accept, "127.0.0.1", 0)
    server = Server(f"http://127.0.0.1:{listening.sockets[0].getsockname()[1]}")
    try:
        yield server
    finally:
        listening.close()
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await listening.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """One request: its head, and its body by Content-Length."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    return head + await reader.readexactly(length)


def answer(body: bytes, *headers: bytes) -> bytes:
    extra = b"".join(header + b"\r\n" for header in headers)
    return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n%s\r\n%s" % (len(body), extra, body)


def client(timeout: float = 5) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=AiohttpTransport(max_connections=10), timeout=timeout)


async def test_a_request_and_its_answer_pass_through_unchanged() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server.requests.append(await read_request(reader))
        writer.write(
            b"HTTP/1.1 201 Made It\r\ncontent-type: application/json\r\n"
            b'x-one: 1\r\nx-one: 2\r\ncontent-length: 11\r\n\r\n{"ok":true}'
        )
        await writer.drain()

    async with serving(handler) as server, client() as http:
        response = await http.post(
            f"{server.url}/v1/chat/completions?x=a%20b",
            json={"text": "héllo"},
            headers={"Authorization": "Bearer k", "X-Trace": "t"},
        )
    assert response.status_code == 201
    assert response.reason_phrase == "Made It"
    assert response.headers.get_list("x-one") == ["1", "2"]
    assert response.json() == {"ok": True}
    (sent,) = server.requests
    head, _, body = sent.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /v1/chat/completions?x=a%20b HTTP/1.1"
    sent_headers = {
        name.lower(): value.strip()
        for name, _, value in (line.partition(b":") for line in lines[1:])
    }
    assert sent_headers[b"authorization"] == b"Bearer k"
    assert sent_headers[b"x-trace"] == b"t"
    assert sent_headers[b"content-type"] == b"application/json"
    # httpx's own headers, and none of aiohttp's in their place.
    assert sent_headers[b"user-agent"].startswith(b"python-httpx")
    assert body == '{"text":"héllo"}'.encode()


async def test_a_streamed_body_is_passed_on_as_each_piece_arrives() -> None:
    first_read = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nfirst\r\n")
        await writer.drain()
        # The rest is sent only once the client has the first piece: a transport that
        # waited for more before passing it on would never get it.
        await first_read.wait()
        writer.write(b"4\r\nlast\r\n0\r\n\r\n")
        await writer.drain()

    async with serving(handler) as server, client() as http:
        pieces = []
        async with http.stream("GET", server.url) as response:
            async for piece in response.aiter_raw():
                pieces.append(piece)
                first_read.set()
    assert pieces == [b"first", b"last"]


async def test_connections_are_reused_but_never_one_left_mid_answer() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            request = await read_request(reader)
            if request.startswith(b"GET /long"):
                # Half of a long answer: the client leaves it unread.
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n" + b"x" * 10)
            else:
                writer.write(answer(b"served %d" % server.connections))
            await writer.drain()

    async with serving(handler) as server, client() as http:
        assert (await http.get(f"{server.url}/a")).text == "served 1"
        assert (await http.get(f"{server.url}/b")).text == "served 1"
        async with http.stream("GET", f"{server.url}/long") as response:
            async for _ in response.aiter_raw():
                break
        # The half-read connection is closed, not handed to the next request (which would
        # read the rest of the long answer as its own).
        assert (await http.get(f"{server.url}/c")).text == "served 2"
        assert server.connections == 2


async def test_closing_the_client_closes_its_connections() -> None:
    closed = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer(b"ok"))
        await writer.drain()
        assert await reader.read() == b""  # the client's end of the connection closed
        closed.set()

    async with serving(handler) as server:
        http = client()
        assert (await http.get(server.url)).text == "ok"
        assert not closed.is_set()
        await http.aclose()
        await asyncio.wait_for(closed.wait(), 5)


async def test_a_body_cut_short_is_an_error() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial")
        await writer.drain()

    async with serving(handler) as server, client() as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get(server.url)


async def stays_silent(reader: asyncio.StreamReader, _: asyncio.StreamWriter) -> None:
    await read_request(reader)
    await asyncio.sleep(30)


async def hangs_up(reader: asyncio.StreamReader, _: asyncio.StreamWriter) -> None:
    await read_request(reader)


@pytest.mark.parametrize(
    ("handler", "expected", "not_expected"),
    [
        # What the turn tells the person depends on it: "took too long" against "could not
        # be reached".
        (stays_silent, openai.APITimeoutError, None),
        (hangs_up, openai.APIConnectionError, openai.APITimeoutError),
    ],
)
async def test_the_openai_client_reports_a_failed_answer_as_it_does_with_httpx(
    handler: Handler, expected: type[Exception], not_expected: type[Exception] | None
) -> None:
    async with serving(handler) as server, client(timeout=0.3) as http:
        model = openai.AsyncOpenAI(
            api_key="k", base_url=f"{server.url}/v1", max_retries=0, http_client=http
        )
        with pytest.raises(expected) as raised:
            await model.chat.completions.create(model="m", messages=[])
    if not_expected is not None:
        assert not isinstance(raised.value, not_expected)


async def test_a_server_that_is_not_there_could_not_be_reached() -> None:
    async with serving(hangs_up) as server:
        url = server.url  # its port is free again once the server closes
    async with client() as http:
        model = openai.AsyncOpenAI(
            api_key="k", base_url=f"{url}/v1", max_retries=0, http_client=http
        )
        with pytest.raises(openai.APIConnectionError) as raised:
            await model.chat.completions.create(model="m", messages=[])
    assert not isinstance(raised.value, openai.APITimeoutError)
    assert isinstance(raised.value.__cause__, httpx.ConnectError)


async def test_a_direct_post_sends_its_body_and_reads_a_compressed_answer() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server.requests.append(await read_request(reader))
        writer.write(answer(gzip.compress(b'{"title": "Groceries"}'), b"content-encoding: gzip"))
        await writer.drain()

    transport = AiohttpTransport(max_connections=10)
    try:
        async with serving(handler) as server:
            status, body = await transport.post(
                URL(f"{server.url}/v1/responses"),
                b'{"input": "milk"}',
                {"Authorization": "Bearer k", "Content-Type": "application/json"},
                5,
            )
    finally:
        await transport.aclose()
    assert (status, body) == (200, b'{"title": "Groceries"}')
    (sent,) = server.requests
    head, _, sent_body = sent.partition(b"\r\n\r\n")
    assert head.startswith(b"POST /v1/responses HTTP/1.1\r\n")
    assert b"\r\nAuthorization: Bearer k\r\n" in head
    assert sent_body == b'{"input": "milk"}'


async def test_a_direct_post_to_a_server_that_is_not_there_fails_as_httpx_would() -> None:
    async with serving(hangs_up) as server:
        url = URL(f"{server.url}/v1/responses")
    transport = AiohttpTransport(max_connections=10)
    try:
        with pytest.raises(httpx.ConnectError):
            await transport.post(url, b"{}", {}, 5)
    finally:
        await transport.aclose()
