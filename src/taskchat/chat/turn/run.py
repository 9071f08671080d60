"""One answering turn: the thread's history as model input, the agent run with the turn's
tools, the answer streamed with store ids, and how the turn ended.

`Turns.run` is what `TaskchatServer.respond` and a confirmation's answer call. A failure
anywhere in it is told as one error event (chat/failures.py) and counted once; a failed, cut
or timed-out run keeps what the model had written, marked as cut off.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from functools import partial
from typing import Any, Literal

import anyio
from agents import Agent, RunConfig, Runner, RunResultStreaming, RunState, TResponseInputItem
from chatkit.agents import AgentContext, stream_agent_response
from chatkit.errors import CustomStreamError
from chatkit.types import (
    NoticeEvent,
    Page,
    ThreadItem,
    ThreadMetadata,
    ThreadStreamEvent,
    UserMessageItem,
)

from taskchat.agent.assistant import Assistant
from taskchat.agent.llm import NOT_CONFIGURED_MESSAGE
from taskchat.chat.confirmations.paused import PausedTurns, Resume
from taskchat.chat.context import ChatContext
from taskchat.chat.failures import UnreadableHistoryError, cut_short, timed_out, told
from taskchat.chat.store.attachments import PostgresAttachmentStore
from taskchat.chat.store.postgres import PostgresStore, chat_id
from taskchat.chat.titles import Titling, title_event
from taskchat.chat.turn.events import AssistantIds, PartialAnswers
from taskchat.chat.turn.history import HistoryConverter, PreloadedHistoryStore
from taskchat.chat.turn.hooks import TurnHooks
from taskchat.chat.turn.retries import turn_calls, with_earlier_calls
from taskchat.config import Settings
from taskchat.context import RequestContext
from taskchat.db.errors import is_unavailable
from taskchat.drain import Drain
from taskchat.logs import log_failure
from taskchat.metrics import Metrics
from taskchat.tasks import service
from taskchat.tasks.schemas import TaskPublic
from taskchat.tasks.service import TaskNotFoundError
from taskchat.tools.activity import TaskActivity
from taskchat.tools.ledger import TurnCalls
from taskchat.tools.servers import TurnTools

logger = logging.getLogger("taskchat.chat")

Start = Callable[[Agent[AgentContext[RequestContext]]], Awaitable[RunState[Any, Any]]]
"""A paused run restored for this turn's agent (a `Resume` with its context given)."""

RUN_STOP_SECONDS = 5.0
"""How long a finished or abandoned turn waits for the agent run to wind down."""

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


class RunDeadline:
    """Stops an agent run that is still going `seconds` after it started.

    The OpenAI client's timeout bounds one request; a turn makes several (retries, and a
    round per tool call), so without this a hanging model could keep a turn open for minutes.
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


class Turns:
    """Runs the answering turns of one server: each from the thread's history (or a paused
    run resumed), with the turn's own tools, on the one assistant."""

    def __init__(
        self,
        *,
        store: PostgresStore,
        attachments: PostgresAttachmentStore,
        assistant: Assistant | None,
        tools: TurnTools,
        titles: Titling,
        paused: PausedTurns,
        settings: Settings,
        metrics: Metrics,
        drain: Drain,
    ) -> None:
        self.store = store
        self.attachments = attachments
        self.assistant = assistant
        """The agent every turn runs; None when no model is configured (each turn says so)."""
        self.tools = tools
        self.titles = titles
        self.paused = paused
        self.settings = settings
        self.metrics = metrics
        self.drain = drain

    async def run(
        self,
        thread: ThreadMetadata,
        context: ChatContext,
        resume: Resume | None = None,
        title_from: UserMessageItem | None = None,
        card: str | None = None,
    ) -> AsyncGenerator[ThreadStreamEvent, None]:
        """One model turn, from the thread's history or resuming a paused run (whose
        confirmation `card` was answered); a failure is told (an error event) and counted
        once. A new thread's first turn also names it (`title_from`, its first message)."""
        if self.assistant is None and title_from is not None:
            # No model to answer: the setup message, and the first words as the title.
            await self.titles.without_model(thread, title_from, context)
        if self.assistant is None:
            raise CustomStreamError(NOT_CONFIGURED_MESSAGE, allow_retry=False)
        assistant = self.assistant
        record = TurnRecord(self.metrics)
        titling = None
        try:
            agent_context, history, recent = await self._prepare(thread, context, title_from)
            titling = self.titles.start(thread, title_from, recent, context)
            calls = turn_calls(self.store.engine, context, thread.id, title_from, recent, card)
            if calls is not None and context.retrying and resume is None:
                history = await with_earlier_calls(history, calls)
            start = history if resume is None else partial(resume, context=agent_context)
            run = self._run(agent_context, start, assistant, record, calls)
            async with aclosing(run) as events:
                async for event in events:
                    yield event
        except CustomStreamError:
            raise
        except Exception as error:
            # Before the run or around it (loading the history, opening the tools): the
            # SDK would send a bare "stream error" and log the traceback every time.
            record.ended("error")
            raise told(error, self.metrics, thread.id) from None
        finally:
            record.record()
        # Only if the title is back already: the answer's end never waits for it.
        if (titled := title_event(titling)) is not None:
            yield titled

    async def _run(
        self,
        agent_context: AgentContext[RequestContext],
        start: list[TResponseInputItem] | Start,
        assistant: Assistant,
        record: TurnRecord,
        calls: TurnCalls | None,
    ) -> AsyncGenerator[ThreadStreamEvent, None]:
        """Run the agent from `start` (the history, or a paused run resumed) with this
        turn's tools, stream it, and pause it again where a call needs confirmation."""
        context = agent_context.request_context
        activity = TaskActivity()
        async with self.tools.open(context.user_id, activity, calls) as tools:
            for notice in tools.notices:
                yield NoticeEvent(level="warning", message=notice)
            agent = assistant.for_turn(tools.tools, tools.listed)
            hooks = TurnHooks(self.metrics, activity, calls)
            config = RunConfig(tracing_disabled=True)
            # The paused run's state carries its context (replaced by this turn's).
            state = start if isinstance(start, list) else await start(agent)
            with tools.routed():
                run = Runner.run_streamed(
                    agent,
                    state,
                    context=agent_context if isinstance(state, list) else None,
                    hooks=hooks,
                    run_config=config,
                )
            # aclosing: if this stream is closed early, the run stops here, before the tools
            # it may be calling are closed.
            async with aclosing(self._stream_run(run, agent_context, record)) as events:
                async for event in events:
                    yield event
            if run.interruptions:
                for event in await self.paused.pause(run, agent_context):
                    yield event

    async def _prepare(
        self, thread: ThreadMetadata, context: ChatContext, message: UserMessageItem | None
    ) -> tuple[AgentContext[RequestContext], list[TResponseInputItem], Page[ThreadItem]]:
        """The agent's context, the model's input, and the thread's latest items they come
        from."""
        if context.creating and message is not None:
            # A new thread holds only the message just stored: a read saved per thread.
            recent = Page[ThreadItem](data=[message], has_more=False)
        else:
            recent = await self.store.load_thread_items(
                thread.id, None, self.settings.history_items, "desc", context
            )
        converter = HistoryConverter(
            partial(self._task, context.user_id),
            files=await self.attachments.model_files(recent.data, context),
            text_chars=self.settings.attachment_text_chars,
        )
        try:
            history = await converter.to_agent_input(list(reversed(recent.data)))
        except Exception as error:
            if is_unavailable(error):
                raise  # an outage, told as one (chat/failures.py), not as a broken history
            raise UnreadableHistoryError(f"thread {thread.id}") from error
        agent_context = AgentContext[RequestContext](
            thread=thread,
            store=PreloadedHistoryStore(self.store, thread.id, recent),
            request_context=context,
        )
        return agent_context, history, recent

    async def _task(self, user_id: str, task_id: str) -> TaskPublic | None:
        try:
            return await service.get_task(
                engine=self.store.engine, user_id=user_id, task_id=task_id
            )
        except TaskNotFoundError:
            return None

    async def _stream_run(
        self,
        run: RunResultStreaming,
        agent_context: AgentContext[RequestContext],
        record: TurnRecord,
    ) -> AsyncGenerator[ThreadStreamEvent, None]:
        """The run's events, with store ids; a failed or cut run keeps its partial answer
        and ends the stream with an error event."""
        thread, context = agent_context.thread, agent_context.request_context
        ids = AssistantIds(partial(chat_id, "message"))
        partial_answers = PartialAnswers()
        self.drain.track(run)
        deadline = RunDeadline(run, self.settings.model_turn_timeout_seconds)
        try:
            async for event in stream_agent_response(agent_context, run):
                record.model_answered()
                event = ids.apply(event)
                partial_answers.observe(event)
                yield event
        except Exception as error:
            await self._keep_partial(thread, partial_answers, context)
            record.ended("error")
            raise told(error, self.metrics, thread.id) from None
        finally:
            deadline.cancel()
            cut = self.drain.untrack(run)
            await stop_run(run)
        if deadline.expired:
            record.ended("error")
            await self._keep_partial(thread, partial_answers, context)
            raise timed_out(deadline.seconds, self.metrics, thread.id)
        if cut:
            # Shutting down: keep what arrived, and end the stream with a notice.
            record.ended("cut")
            await self._keep_partial(thread, partial_answers, context)
            raise cut_short(thread.id)
        record.ended("completed")

    async def _keep_partial(
        self, thread: ThreadMetadata, partial_answers: PartialAnswers, context: RequestContext
    ) -> None:
        for item in partial_answers.cut_off():
            with anyio.CancelScope(shield=True):
                try:
                    await self.store.add_thread_item(thread.id, item, context=context)
                except Exception as error:
                    # The turn is failing already (the database may be what failed): the
                    # person still gets its error event.
                    log_failure(logger, "could not keep the partial answer", error=error)
                    return


__all__ = ["RunDeadline", "TurnRecord", "Turns", "stop_run"]
