"""Logging set-up for the backend process: text or JSON lines, each with its request id.

What is logged is chosen so that no token, password or message text appears at INFO:
access lines carry the method, the path without its query string, the status and the
duration; the app's own lines name ids and error types, never request bodies.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

request_id_var: ContextVar[str] = ContextVar("taskchat_request_id", default="")
"""The id of the request being served, set by `RequestIdMiddleware`."""

LogFormat = Literal["auto", "json", "text"]

# Attributes every LogRecord has; anything else was passed with `extra=` and is logged.
_STANDARD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "request_id", "taskName"}
    # uvicorn's copy of its message with terminal colours.
    | {"color_message"}
)


_base_factory = logging.getLogRecordFactory()


def _record_with_request_id(*args: Any, **kwargs: Any) -> logging.LogRecord:
    """Every record, whichever handler gets it, carries the current request's id."""
    record = _base_factory(*args, **kwargs)
    record.request_id = request_id_var.get()
    return record


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", "")
        if request_id:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The human-readable form, with the request id when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(request_tag)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", "")
        record.request_tag = f" [{request_id}]" if request_id else ""
        return super().format(record)


class TracebackThrottle:
    """Decides which failures get their traceback logged: the first of each distinct error
    in a window. A distinct error is its type and the line it was raised at.

    When the database goes down, every turn fails the same way; one traceback a minute
    says all there is to say, and hundreds a second would bury everything else.
    """

    LIMIT = 1000
    """Distinct errors remembered at most (the oldest are forgotten first)."""

    def __init__(self, window_seconds: float = 60.0) -> None:
        self.window_seconds = window_seconds
        self._last: dict[tuple[str, str, int], float] = {}
        self._lock = threading.Lock()

    def first(self, error: BaseException) -> bool:
        """Whether `error`'s traceback should be logged now (and note that it is)."""
        key = (type(error).__qualname__, *raised_at(error))
        now = time.monotonic()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.window_seconds:
                return False
            self._last.pop(key, None)
            self._last[key] = now
            if len(self._last) > self.LIMIT:
                del self._last[next(iter(self._last))]
            return True


def raised_at(error: BaseException) -> tuple[str, int]:
    """The file and line `error` was raised at (what makes two errors of a type distinct)."""
    frames = traceback.extract_tb(error.__traceback__)
    return (frames[-1].filename, frames[-1].lineno or 0) if frames else ("", 0)


def _where(error: BaseException) -> str:
    filename, line = raised_at(error)
    return f"{filename}:{line}"


TRACEBACKS = TracebackThrottle()
"""The process's throttle (logging is process-wide too)."""


def log_failure(logger: logging.Logger, message: str, *args: object, error: BaseException) -> None:
    """Log a failure as one line naming the error's type; its traceback only if it is the
    first of its kind in the throttle's window."""
    logger.error(
        "%s (%s)",
        message % args if args else message,
        type(error).__name__,
        exc_info=error if TRACEBACKS.first(error) else None,
        # Where it was raised, as the throttle saw it: a library may drop the traceback
        # of an error it keeps, and the line says which of the throttled errors this was.
        extra={"error_kind": type(error).__name__, "error_at": _where(error)},
    )


class ThrottledTracebacks(logging.Filter):
    """For a library's logger that logs every exception it sees with its traceback
    (chatkit's stream loop does): the same throttle, applied to its records."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.error_at = _where(record.exc_info[1])
            if not TRACEBACKS.first(record.exc_info[1]):
                record.msg = f"{record.getMessage()} ({type(record.exc_info[1]).__name__})"
                record.args = None
                record.exc_info = None
                record.exc_text = None
        return True


THROTTLED_LOGGERS = ("chatkit",)
"""Libraries' loggers whose tracebacks are throttled."""

_HANDLER_NAME = "taskchat"


def configure_logging(
    level: str = "INFO", log_format: LogFormat = "auto", environment: str = "development"
) -> None:
    """Log to stderr: taskchat's own at `level`, libraries at WARNING.

    Done before any library does it for us: mcp's MCPServer otherwise calls
    `logging.basicConfig` at INFO on first use, and every HTTP request to the model
    provider would then be logged. Calling it again replaces our handler, so the last
    configuration wins; handlers others installed (pytest's) are left alone.
    """
    logging.setLogRecordFactory(_record_with_request_id)
    chosen = log_format
    if chosen == "auto":
        chosen = "text" if environment == "development" else "json"
    root = logging.getLogger()
    ours = [handler for handler in root.handlers if handler.get_name() == _HANDLER_NAME]
    others = [handler for handler in root.handlers if handler.get_name() != _HANDLER_NAME]
    for handler in ours:
        root.removeHandler(handler)
    if ours or not others:
        handler = logging.StreamHandler()
        handler.set_name(_HANDLER_NAME)
        handler.setFormatter(JsonFormatter() if chosen == "json" else TextFormatter())
        root.addHandler(handler)
        root.setLevel(logging.WARNING)
    logging.getLogger("taskchat").setLevel(level)
    for name in THROTTLED_LOGGERS:
        library = logging.getLogger(name)
        if not any(isinstance(f, ThrottledTracebacks) for f in library.filters):
            library.addFilter(ThrottledTracebacks())
    # uvicorn's own lines (start-up, shutdown) at INFO; its access log is replaced by ours.
    logging.getLogger("uvicorn").setLevel(logging.INFO)
    logging.getLogger("uvicorn.access").disabled = True
