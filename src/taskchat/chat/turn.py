"""The pieces of one answering turn: its outcome and timing, failures as messages a
person can read, and stopping the agent run when the turn ends."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Literal

import anyio
import openai
from agents import AgentsException, RunResultStreaming

from taskchat.agent.llm import IncompleteAnswerError
from taskchat.chat.store import DATABASE_MESSAGE
from taskchat.db.errors import is_unavailable
from taskchat.errors import ProblemError
from taskchat.metrics import Metrics

RUN_STOP_SECONDS = 5.0
"""How long a finished or abandoned turn waits for the agent run to wind down."""

SHUTDOWN_NOTICE = (
    "The server is restarting, so this answer was cut short; what arrived is kept. "
    "Send your message again in a moment to continue."
)
"""The error event of a turn cut short by a shutdown (see `taskchat.drain`)."""

Outcome = Literal["completed", "error", "cut", "disconnected"]


class TurnRecord:
    """Times one turn and counts its outcome once, when it ends.

    A turn that never reports an ending was abandoned: the client went away.
    """

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._started = time.perf_counter()
        self._outcome: Outcome = "disconnected"
        self._waiting_for_model = True

    def model_answered(self) -> None:
        """Note an event from the model; the first one's delay is measured."""
        if self._waiting_for_model:
            self._waiting_for_model = False
            self._metrics.model_first_event_seconds.observe(time.perf_counter() - self._started)

    def ended(self, outcome: Outcome) -> None:
        """How the turn ended (the last call wins)."""
        self._outcome = outcome

    def record(self) -> None:
        """Count the outcome and the stream's duration."""
        self._metrics.turns.labels(self._outcome).inc()
        self._metrics.stream_seconds.observe(time.perf_counter() - self._started)


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


def failure_of(error: BaseException) -> Failure:
    """The person-facing account of an exception that ended a turn."""
    if isinstance(error, openai.OpenAIError | AgentsException):
        retry = not isinstance(error, openai.AuthenticationError | openai.PermissionDeniedError)
        return Failure("model", describe_model_failure(error), retry)
    if isinstance(error, IncompleteAnswerError):
        return Failure("model", INCOMPLETE_MESSAGE)
    if is_unavailable(error):
        return Failure("database", DATABASE_MESSAGE)
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


class RunDeadline:
    """Stops an agent run that is still going `seconds` after it started.

    The OpenAI client's timeout bounds one request; a turn makes several (retries, and a
    round per tool call), so without this a hanging model kept a turn open for minutes.
    """

    def __init__(self, run: RunResultStreaming, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._run = run
        self._timer = asyncio.get_running_loop().call_later(seconds, self._expire)

    def _expire(self) -> None:
        self.expired = True
        # The run's event stream then ends; the turn sees `expired` and says why.
        self._run.cancel()

    def cancel(self) -> None:
        """The run ended first."""
        self._timer.cancel()

    @property
    def message(self) -> str:
        """The error event of a turn that reached its deadline."""
        seconds = f"{self.seconds:g} second{'' if self.seconds == 1 else 's'}"
        return (
            f"The AI model did not finish within {seconds}, so the answer was cut off; "
            "what arrived is kept. Please try again."
        )


async def stop_run(result: RunResultStreaming) -> None:
    """End the Agents SDK's background run before the turn's tools are closed.

    On a client disconnect the run task would otherwise go on (with tool calls whose
    sessions are about to close) and be dropped unfinished.
    """
    if not result.is_complete:
        result.cancel()
    task = result.run_loop_task
    if task is not None and not task.done():
        with anyio.CancelScope(shield=True), anyio.move_on_after(RUN_STOP_SECONDS):
            await asyncio.wait({task})
