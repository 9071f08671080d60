"""Logging set-up for the backend process."""

from __future__ import annotations

import logging


def configure_logging(level: str = "INFO") -> None:
    """Plain logs on stderr: taskchat's own at `level`, libraries at WARNING.

    Done before any library does it for us: mcp's MCPServer otherwise calls
    `logging.basicConfig` at INFO on first use, and every HTTP request to the model
    provider would then be logged.
    """
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.WARNING)
    logging.getLogger("taskchat").setLevel(level)
