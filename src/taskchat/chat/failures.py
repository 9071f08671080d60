"""Failures, told: the one place that decides what a failure means to the person.

Before the 200: a request that names what the caller cannot see, or that this server does
not serve, is a `ProblemError` (`problem_of`), which api/errors.py answers with its status.

After the 200, only events: whatever fails once a stream has started ends it with one error
event that says what happened and whether trying again makes sense (`failure_of`), never a
dropped connection. A failure inside a turn is counted and logged once and raised as the
SDK's `CustomStreamError`, which the SDK sends as that event (`told`; `timed_out` and
`cut_short` for a turn past its deadline or cut short by a shutdown). A failure around the
turn (storing the user's message, loading the thread, saving its title), which the SDK
would let escape the stream, is ended the same way by `guarded`, the stream's last line.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from contextlib import aclosing, contextmanager
from dataclasses import dataclass
from typing import Literal

import anyio
import openai
from agents import AgentsException
from chatkit.errors import CustomStreamError
from chatkit.store import NotFoundError
from chatkit.types import (
    ErrorEvent,
    ThreadCreatedEvent,
    ThreadItemDoneEvent,
    ThreadStreamEvent,
)

from taskchat.agent.llm import IncompleteAnswerError
from taskchat.chat.store.postgres import DATABASE_MESSAGE
from taskchat.db.errors import is_unavailable
from taskchat.errors import ProblemError, ResourceNotFoundError, TaskchatError, UnsupportedError
from taskchat.logs import log_failure
from taskchat.metrics import Metrics
from taskchat.text import shortened

logger = logging.getLogger("taskchat.chat")

Frame = Callable[[ThreadStreamEvent], bytes]
Discard = Callable[[str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Failure:
    """What a failed turn tells the person, and how it is counted."""

    kind: Literal["model", "database", "turn"]
    """`model` for a provider failure, `database` when PostgreSQL cannot be reached,
    `turn` for anything else (a request refused mid-stream, or a bug)."""

    message: str
    """The error event's text."""

    retry: bool = True
    """Whether sending the same request again may work (the event's `allow_retry`)."""


INCOMPLETE_MESSAGE = (
    "The AI model's answer broke off before it finished; what arrived is kept. Please try again."
)

SHUTDOWN_NOTICE = (
    "The server is restarting, so this answer was cut short; what arrived is kept. "
    "Send your message again in a moment to continue."
)
"""The error event of a turn cut short by a shutdown (see `taskchat.drain`)."""

UNREADABLE_HISTORY_MESSAGE = "This conversation's history could not be read; start a new thread."


class UnreadableHistoryError(TaskchatError):
    """A thread's stored items could not be made into the model's input (a bug, or items
    from an older release): only a new thread helps."""


def failure_of(error: BaseException) -> Failure:
    """The person-facing account of an exception that ended a turn."""
    if isinstance(error, openai.OpenAIError | AgentsException):
        retry = not isinstance(error, openai.AuthenticationError | openai.PermissionDeniedError)
        return Failure("model", describe_model_failure(error), retry)
    if isinstance(error, IncompleteAnswerError):
        return Failure("model", INCOMPLETE_MESSAGE)
    if is_unavailable(error):
        return Failure("database", DATABASE_MESSAGE)
    if isinstance(error, UnreadableHistoryError):
        return Failure("turn", UNREADABLE_HISTORY_MESSAGE, retry=False)
    if isinstance(error, ProblemError):
        # Refused on purpose, with a sentence for the person (an attachment that another
        # message took meanwhile): sending the same again would be refused again.
        return Failure("turn", error.detail, retry=False)
    return Failure("turn", "Something went wrong while answering. Please try again.")


def describe_model_failure(error: BaseException) -> str:
    """A message the user can read for a failed model call."""
    if isinstance(error, openai.APITimeoutError):
        return "The AI model took too long to answer. Please try again."
    if isinstance(error, openai.APIConnectionError):
        return "The AI model could not be reached. Please try again in a moment."
    if isinstance(error, openai.RateLimitError):
        return "The AI model is busy (rate limited). Please wait a moment and try again."
    if isinstance(error, openai.AuthenticationError):
        return "The server's AI model credentials were rejected; ask the operator to check them."
    if isinstance(error, openai.APIStatusError):
        return f"The AI model failed (HTTP {error.status_code}). Please try again."
    return "The AI model's answer broke off. Please try again."


def told(error: Exception, metrics: Metrics, thread_id: str) -> CustomStreamError:
    """Count and log a turn's failure once; the error event (as the SDK's exception) that
    tells the person."""
    failure = failure_of(error)
    metrics.errors.labels(failure.kind).inc()
    if failure.kind == "model":
        # The provider's trouble, not ours: no traceback to read.
        logger.warning("model failure in thread %s: %s", thread_id, type(error).__name__)
    else:
        log_failure(logger, "turn failed in thread %s (%s)", thread_id, failure.kind, error=error)
    return CustomStreamError(failure.message, allow_retry=failure.retry)


def timed_out(seconds: float, metrics: Metrics, thread_id: str) -> CustomStreamError:
    """Count and log once a turn that reached its deadline (MODEL_TURN_TIMEOUT_SECONDS, see
    `RunDeadline`); the error event that tells the person."""
    metrics.errors.labels("model").inc()
    logger.warning("turn in thread %s reached its deadline", thread_id)
    within = f"{seconds:g} second{'' if seconds == 1 else 's'}"
    return CustomStreamError(
        f"The AI model did not finish within {within}, so the answer was cut off; "
        "what arrived is kept. Please try again.",
        allow_retry=True,
    )


def cut_short(thread_id: str) -> CustomStreamError:
    """Log a turn cut short by a shutdown; the notice that ends its stream."""
    logger.info("turn in thread %s cut short by shutdown", thread_id)
    return CustomStreamError(SHUTDOWN_NOTICE, allow_retry=True)


@contextmanager
def told_as_problems(request_type: str) -> Iterator[None]:
    """Within: a failure `problem_of` knows is raised as that status (before anything
    streams); any other goes on as it is."""
    try:
        yield
    except Exception as error:
        problem = problem_of(error, request_type)
        if problem is None:
            raise
        raise problem from None


def problem_of(error: Exception, request_type: str) -> ProblemError | None:
    """The answer, before anything streams, to a failure serving a `request_type` request:
    a 404 for what the caller cannot see (the store's sentence names the id that was asked
    for, as the client sent it), a 400 for what this server does not serve; None for any
    other failure."""
    if isinstance(error, NotFoundError):
        return ResourceNotFoundError(shortened(str(error), 160))
    if isinstance(error, NotImplementedError):
        return UnsupportedError(f"The {request_type} request is not supported by this server.")
    return None


async def guarded(
    events: AsyncGenerator[ThreadStreamEvent, None],
    frame: Frame,
    *,
    discard_thread: Discard,
    metrics: Metrics,
) -> AsyncGenerator[bytes, None]:
    """`events` framed for the wire; a failure ends them with one error event.

    A thread this stream created but could not store a message in is discarded again, so
    a failed `threads.create` leaves no empty thread in the person's list.
    """
    empty_thread: str | None = None
    ended_with_error = False
    async with aclosing(events):
        try:
            async for event in events:
                if isinstance(event, ThreadCreatedEvent):
                    empty_thread = event.thread.id
                elif isinstance(event, ThreadItemDoneEvent):
                    empty_thread = None
                ended_with_error = isinstance(event, ErrorEvent)
                yield frame(event)
        except Exception as error:
            failure = failure_of(error)
            metrics.errors.labels(failure.kind).inc()
            log_failure(logger, "stream failed (%s)", failure.kind, error=error)
            if empty_thread is not None:
                await _discard(discard_thread, empty_thread)
            if not ended_with_error:
                # The SDK already sent one (and then failed saving the thread): one is enough.
                yield frame(
                    ErrorEvent(code="custom", message=failure.message, allow_retry=failure.retry)
                )


async def _discard(discard_thread: Discard, thread_id: str) -> None:
    # Shielded: the client may be gone already, and the thread should go all the same.
    with anyio.CancelScope(shield=True):
        try:
            await discard_thread(thread_id)
        except NotFoundError:
            pass  # never stored (a new thread is stored with its first message): none to discard
        except Exception as error:
            log_failure(logger, "could not discard the empty thread %s", thread_id, error=error)


__all__ = [
    "SHUTDOWN_NOTICE",
    "UNREADABLE_HISTORY_MESSAGE",
    "Failure",
    "UnreadableHistoryError",
    "cut_short",
    "describe_model_failure",
    "failure_of",
    "guarded",
    "problem_of",
    "timed_out",
    "told",
    "told_as_problems",
]
