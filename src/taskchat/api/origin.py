"""The origin a caller reached Taskchat at: the base of URLs handed back to it."""

from __future__ import annotations

import re

from starlette.requests import HTTPConnection

_HOST = re.compile(
    r"(?:[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?"
)


def caller_origin(connection: HTTPConnection) -> str:
    """`https://tasks.example.com` for a request the frontend's proxy forwarded (its
    `X-Forwarded-Host` and `X-Forwarded-Proto` name the app's origin), else the backend's
    own (a client calling the backend directly).

    The headers are believed from anyone: they only choose where the caller's own
    attachment URLs point, and through the proxy a browser cannot set them (the proxy
    sends a fixed list of headers). A value that is not one plain host, or not http(s),
    is ignored.
    """
    host = connection.headers.get("x-forwarded-host", "")
    scheme = connection.headers.get("x-forwarded-proto", "")
    if scheme in ("http", "https") and _HOST.fullmatch(host):
        return f"{scheme}://{host}"
    return str(connection.base_url).rstrip("/")
