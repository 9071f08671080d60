"""The model client's HTTP transport: httpx2's transport interface over an aiohttp session.

The openai client speaks httpx2, whose default transport (httpcore2: a pure-Python HTTP/1.1
state machine, anyio streams, a connection pool scanned before each request) costs as much
CPU per model request as much of the rest of openai's request path, and a new thread's turn
makes two requests (its answer and its title). aiohttp parses HTTP in C and keeps its pool
per host. openai supports aiohttp as a transport itself (its `aiohttp` extra); this is our
own, small one, so that its failures keep the meaning the rest of the app gives them: a
refused connection is "could not be reached", not a timeout. Measured by
bench/model_pool.py (docs/performance.md).

What it keeps from the transport it replaces: timeouts per phase (connect, read, and the
wait for a pooled connection), keep-alive connections closed after KEEPALIVE_SECONDS idle,
the system's certificate store for HTTPS, no proxy from the environment (a custom
transport never had one: httpx reads proxy variables only for its own), no decompression
or cookies here (httpx does both above the transport).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager

import aiohttp
import httpx2 as httpx
from yarl import URL

KEEPALIVE_SECONDS = 5.0
"""How long an idle connection is kept (httpx's default, which the model client had)."""

# Most specific first: the first match names the failure.
_FAILURES: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
    (aiohttp.SocketTimeoutError, httpx.ReadTimeout),
    (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
    (asyncio.TimeoutError, httpx.TimeoutException),
    (aiohttp.ClientConnectorError, httpx.ConnectError),
    (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientPayloadError, httpx.RemoteProtocolError),
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),
    (aiohttp.ClientOSError, httpx.ReadError),
    (aiohttp.ClientError, httpx.ReadError),
)
"""aiohttp's failures as the httpx errors the openai client (and our turn) understand: before
an answer's headers, timeouts become `APITimeoutError` and the rest `APIConnectionError`,
each retried by the openai client; while its body streams they reach the turn as they are,
as httpcore's did."""


@contextmanager
def _as_httpx_errors() -> Iterator[None]:
    try:
        yield
    except (TimeoutError, aiohttp.ClientError) as error:
        for kind, failure in _FAILURES:
            if isinstance(error, kind):
                raise failure(str(error) or type(error).__name__) from error
        raise  # unreachable: the last row matches every ClientError


class _Body(httpx.AsyncByteStream):
    """A response's body as it arrives: each piece is passed on as soon as it is read."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx_errors():
            async for chunk in self._response.content.iter_any():
                yield chunk

    async def aclose(self) -> None:
        # Back to the pool if it was read to its end; aiohttp closes a connection whose
        # answer was left unread (a stream the reader gave up on).
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Sends httpx requests with aiohttp; one session, made on first use in the running
    event loop (aiohttp binds it to that loop), closed by `aclose`."""

    def __init__(self, *, max_connections: int, ssl_context: ssl.SSLContext | None = None) -> None:
        self._max_connections = max_connections
        self._ssl = ssl_context or httpx.create_ssl_context()
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}

    def _open_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self._max_connections, keepalive_timeout=KEEPALIVE_SECONDS, ssl=self._ssl
        )
        return aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            trust_env=False,
        )

    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None:
            if self._closed:
                raise httpx.TransportError("the model client is closed")
            self._session = self._open_session()
        return self._session

    def _timeout(
        self, pool: float | None, connect: float | None, read: float | None
    ) -> aiohttp.ClientTimeout:
        # httpx's per-phase timeouts: `pool` bounds the wait for a connection (aiohttp's
        # `connect` includes the connecting), `read` the wait between two reads.
        key = (pool, connect, read)
        timeout = self._timeouts.get(key)
        if timeout is None:
            total_connect = None if pool is None or connect is None else pool + connect
            timeout = aiohttp.ClientTimeout(
                total=None, connect=total_connect, sock_connect=connect, sock_read=read
            )
            # A client has one or two timeouts; keyed, each is built once.
            self._timeouts[key] = timeout
        return timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._session_now()
        body = await request.aread()
        phases = request.extensions.get("timeout", {})
        with _as_httpx_errors():
            response = await session.request(
                request.method,
                # Already encoded by httpx: not parsed and quoted again.
                URL(str(request.url), encoded=True),
                headers=request.headers.multi_items(),
                data=body or None,
                allow_redirects=False,
                timeout=self._timeout(
                    phases.get("pool"), phases.get("connect"), phases.get("read")
                ),
            )
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_Body(response),
            request=request,
            extensions={
                "http_version": b"HTTP/1.1",
                "reason_phrase": (response.reason or "").encode(),
            },
        )

    async def post(
        self, url: URL, body: bytes, headers: Mapping[str, str], phase_seconds: float
    ) -> tuple[int, bytes]:
        """POST `body` to `url` and read the whole answer (decompressed): its status and
        body; `phase_seconds` bounds the wait for a connection, the connecting, and each
        read. Straight through aiohttp, with no httpx request or response around it, for
        calls that need nothing else (the title call). Failures are httpx's, as for every
        request here."""
        session = self._session_now()
        with _as_httpx_errors():
            async with session.post(
                url,
                data=body,
                headers=headers,
                timeout=self._timeout(phase_seconds, phase_seconds, phase_seconds),
                auto_decompress=True,
            ) as response:
                return response.status, await response.read()

    async def aclose(self) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.close()
            self._session = None
