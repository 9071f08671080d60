"""Running the backend under uvicorn: proxy headers, our logging, graceful shutdown.

On SIGTERM (or Ctrl-C) uvicorn stops accepting connections and waits up to
SHUTDOWN_GRACE_SECONDS for the running ones; the app hears the signal too
(`taskchat.drain`), so chat turns still going near the end of the grace period are cut
cleanly, their partial answers stored.
"""

from __future__ import annotations

import math
import socket

import uvicorn

from taskchat.config import Settings
from taskchat.logs import configure_logging


def port_in_use(host: str, port: int) -> bool:
    """Whether something already listens on host:port (checked before starting anything).

    SO_REUSEADDR, as uvicorn binds: a port with only closing connections counts as free.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
        return False


def run(
    target: str,
    settings: Settings,
    *,
    host: str,
    port: int,
    workers: int = 1,
    reload: bool = False,
    factory: bool = False,
    reads_proxy_headers: bool = True,
) -> None:
    """Serve the ASGI app at `target` ("module:attribute") until told to stop.

    `reads_proxy_headers`: the app applies the proxy headers itself (Taskchat's does, in
    api/middleware.py); otherwise uvicorn does, believing them from FORWARDED_ALLOW_IPS too.
    """
    configure_logging(settings.log_level, settings.log_format, settings.environment)
    uvicorn.run(
        target,
        factory=factory,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        # The client address (sign-in limits) comes from X-Forwarded-For only when the
        # request comes through a trusted proxy (the Next.js server, a load balancer).
        # Taskchat's app decides that itself: it needs the connection's own peer (whose
        # X-Forwarded-Host it believes too), which uvicorn's would replace first.
        proxy_headers=not reads_proxy_headers,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_seconds),
        # Our logging set-up stays in place, and our access log replaces uvicorn's (it
        # leaves out query strings and carries the request id).
        log_config=None,
        access_log=False,
    )
