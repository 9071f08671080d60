"""TaskchatServer: the ChatKit server that answers with an Agents SDK agent."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from functools import partial

import anyio
import openai
from agents import AgentsException, RunConfig, Runner, RunResultStreaming
from chatkit.agents import AgentContext, stream_agent_response
from chatkit.errors import CustomStreamError
from chatkit.server import ChatKitServer, NonStreamingResult, StreamingResult
from chatkit.types import (
    ChatKitReq,
    FeedbackKind,
    NoticeEvent,
    ThreadItem,
    ThreadMetadata,
    ThreadStreamEvent,
    UserMessageItem,
    is_streaming_req,
)
from openai import AsyncOpenAI
from pydantic import TypeAdapter

from taskchat.agent.assistant import build_agent
from taskchat.agent.models import ModelNotConfiguredError, build_model
from taskchat.chat.context import RequestContext
from taskchat.chat.events import AssistantIds, PartialAnswers
from taskchat.chat.history import HistoryConverter
from taskchat.chat.ids import new_id
from taskchat.chat.progress import ToolProgress
from taskchat.chat.store import PostgresAttachmentStore, PostgresStore
from taskchat.chat.turn_store import TurnStore
from taskchat.config import Settings
from taskchat.drain import DRAIN
from taskchat.metrics import Metrics
from taskchat.tools.servers import tool_servers

logger = logging.getLogger("taskchat.chat")

RUN_STOP_SECONDS = 5.0
"""How long a finished or abandoned turn waits for the agent run to wind down."""

SHUTDOWN_NOTICE = (
    "The server is restarting, so this answer was cut short; what arrived is kept. "
    "Send your message again in a moment to continue."
)

CHATKIT_REQUEST = TypeAdapter[ChatKitReq](ChatKitReq)
"""Built once: building it costs about 18 ms of CPU, which the SDK pays per request."""


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


async def _stop_run(result: RunResultStreaming) -> None:
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


class TaskchatServer(ChatKitServer[RequestContext]):
    """Answers each user message with the task assistant over the user's own store."""

    def __init__(
        self,
        store: PostgresStore,
        settings: Settings,
        client: AsyncOpenAI | None,
        metrics: Metrics,
    ) -> None:
        super().__init__(store, PostgresAttachmentStore(store))
        self.pg_store = store
        self.settings = settings
        self.client = client
        self.metrics = metrics
        self.converter = HistoryConverter()

    async def process(
        self, request: str | bytes | bytearray, context: RequestContext
    ) -> StreamingResult | NonStreamingResult:
        """Parse and serve a ChatKit request (the SDK's own, with a cached parser)."""
        return await self.process_parsed(CHATKIT_REQUEST.validate_json(request), context)

    async def process_parsed(
        self, request: ChatKitReq, context: RequestContext
    ) -> StreamingResult | NonStreamingResult:
        """Serve an already-parsed ChatKit request.

        Mirrors `ChatKitServer.process` of openai-chatkit 1.6.5 (pinned), minus parsing.
        """
        logger.debug("chatkit request %s", request.type)
        if is_streaming_req(request):
            return StreamingResult(self._process_streaming(request, context))
        return NonStreamingResult(await self._process_non_streaming(request, context))

    async def respond(
        self,
        thread: ThreadMetadata,
        input_user_message: UserMessageItem | None,
        context: RequestContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        try:
            model = build_model(self.settings, self.client)
        except ModelNotConfiguredError as error:
            raise CustomStreamError(str(error), allow_retry=False) from None

        recent = await self.store.load_thread_items(
            thread.id, None, self.settings.history_items, "desc", context
        )
        try:
            history = await self.converter.to_agent_input(list(reversed(recent.data)))
        except Exception:
            logger.exception("could not convert the history of thread %s", thread.id)
            raise CustomStreamError(
                "This conversation's history could not be read; start a new thread.",
                allow_retry=False,
            ) from None
        agent_context = AgentContext[RequestContext](
            thread=thread, store=TurnStore(self.store, thread.id, recent), request_context=context
        )
        ids = AssistantIds(partial(new_id, "message"))
        partial_answers = PartialAnswers()
        started = time.perf_counter()
        outcome = "disconnected"  # Unless the stream gets to an end below.
        try:
            async with tool_servers(self.settings, self.pg_store.engine, context) as tools:
                for notice in tools.notices:
                    yield NoticeEvent(level="warning", message=notice)
                result = Runner.run_streamed(
                    build_agent(context, model, tools.servers),
                    history,
                    context=agent_context,
                    hooks=ToolProgress(self.metrics),
                    run_config=RunConfig(tracing_disabled=True),
                )
                DRAIN.track(result)
                first_event = True
                try:
                    async for event in stream_agent_response(agent_context, result):
                        if first_event:
                            first_event = False
                            self.metrics.model_first_event_seconds.observe(
                                time.perf_counter() - started
                            )
                        event = ids.apply(event)
                        partial_answers.observe(event)
                        yield event
                except (openai.OpenAIError, AgentsException) as error:
                    outcome = "error"
                    self.metrics.errors.labels("model").inc()
                    logger.warning(
                        "model failure in thread %s: %s", thread.id, type(error).__name__
                    )
                    await self._keep_partial(thread, partial_answers, context)
                    raise CustomStreamError(
                        describe_model_failure(error), allow_retry=True
                    ) from None
                except Exception:
                    outcome = "error"
                    self.metrics.errors.labels("turn").inc()
                    logger.exception("turn failed in thread %s", thread.id)
                    await self._keep_partial(thread, partial_answers, context)
                    raise CustomStreamError(
                        "Something went wrong while answering. Please try again.",
                        allow_retry=True,
                    ) from None
                finally:
                    cut = DRAIN.untrack(result)
                    await _stop_run(result)
                if cut:
                    # Shutting down: keep what arrived, and end the stream with a notice.
                    outcome = "cut"
                    logger.info("turn in thread %s cut short by shutdown", thread.id)
                    await self._keep_partial(thread, partial_answers, context)
                    raise CustomStreamError(SHUTDOWN_NOTICE, allow_retry=True)
                outcome = "completed"
        finally:
            self.metrics.turns.labels(outcome).inc()
            self.metrics.stream_seconds.observe(time.perf_counter() - started)

    async def _keep_partial(
        self, thread: ThreadMetadata, partial_answers: PartialAnswers, context: RequestContext
    ) -> None:
        for item in partial_answers.non_empty():
            with anyio.CancelScope(shield=True):
                await self.store.add_thread_item(thread.id, item, context=context)

    async def handle_stream_cancelled(
        self,
        thread: ThreadMetadata,
        pending_items: list[ThreadItem],
        context: RequestContext,
    ) -> None:
        # Under uvicorn, a client disconnect cancels the whole request scope, and anyio
        # cancellation would hit every await in here too: shield the writes so the
        # partial answer is kept.
        with anyio.CancelScope(shield=True):
            logger.info("stream cancelled in thread %s; keeping the partial answer", thread.id)
            await super().handle_stream_cancelled(thread, pending_items, context)

    async def add_feedback(
        self,
        thread_id: str,
        item_ids: list[str],
        feedback: FeedbackKind,
        context: RequestContext,
    ) -> None:
        # Feedback on an item the user cannot see must fail like a missing item.
        for item_id in item_ids:
            await self.store.load_item(thread_id, item_id, context)
        logger.info("feedback %s on %d item(s) in thread %s", feedback, len(item_ids), thread_id)


__all__ = ["CHATKIT_REQUEST", "TaskchatServer", "describe_model_failure"]
