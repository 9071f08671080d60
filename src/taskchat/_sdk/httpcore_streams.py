"""httpcore2 2.16: asking a pooled connection whether its server closed it, cheaply.

Before each request, httpcore's connection pool asks every idle connection whether the
server has closed it (`AsyncHTTP11Connection.has_expired`: is the socket readable?). Its
anyio streams look the socket up through `TypedAttributeProvider.extra`, which builds a
dict of every attribute of the socket on each call. At 50 concurrent turns the model
client pools dozens of connections, and those lookups were about 4% of a turn's CPU
(py-spy; the title call and the answer's request each scan the pool).

`install(transport)` gives the transport's pool (httpx2 does not expose the option) a
network backend whose streams keep their socket and answer `is_readable` from it with
httpcore's own check; everything else is the default backend's.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import Any

import httpcore2
import httpx2 as httpx
from httpcore2._backends.auto import AutoBackend
from httpcore2._utils import is_socket_readable

SocketOption = Any
"""What httpcore passes through to `setsockopt` (its own alias is private)."""


class _KeptSocketStream(httpcore2.AsyncNetworkStream):
    """A default stream that remembers its socket for the readability check."""

    def __init__(self, stream: httpcore2.AsyncNetworkStream) -> None:
        self._stream = stream
        self._socket = stream.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        return _KeptSocketStream(
            await self._stream.start_tls(ssl_context, server_hostname, timeout)
        )

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return is_socket_readable(self._socket)
        return self._stream.get_extra_info(info)


class KeptSocketBackend(httpcore2.AsyncNetworkBackend):
    """httpcore's default network backend, with streams that keep their socket."""

    def __init__(self) -> None:
        self._backend = AutoBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        stream = await self._backend.connect_tcp(
            host, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )
        return _KeptSocketStream(stream)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        stream = await self._backend.connect_unix_socket(
            path, timeout=timeout, socket_options=socket_options
        )
        return _KeptSocketStream(stream)

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


def install(transport: httpx.AsyncHTTPTransport) -> None:
    """Open `transport`'s connections, from now on, through `KeptSocketBackend`."""
    pool = transport._pool
    # Always true: a proxy's pool (HTTP or SOCKS) is a connection pool too, and opens its
    # connections through the same backend.
    if isinstance(pool, httpcore2.AsyncConnectionPool):
        pool._network_backend = KeptSocketBackend()


__all__ = ["KeptSocketBackend", "install"]
