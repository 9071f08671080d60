"""TaskchatServer: the ChatKit server that answers with an Agents SDK agent."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import Any

import anyio
from agents import (
    Agent,
    Model,
    RunConfig,
    Runner,
    RunResultStreaming,
    RunState,
    TResponseInputItem,
)
from chatkit.actions import Action
from chatkit.agents import AgentContext, stream_agent_response
from chatkit.errors import CustomStreamError
from chatkit.server import NonStreamingResult, StreamingResult
from chatkit.types import (
    AssistantMessageItem,
    ChatKitReq,
    FeedbackKind,
    NoticeEvent,
    Page,
    ThreadItem,
    ThreadMetadata,
    ThreadsCreateReq,
    ThreadsRetryAfterItemReq,
    ThreadStreamEvent,
    UserMessageItem,
    WidgetItem,
    is_streaming_req,
)

from taskchat._sdk.chatkit_server import (
    ClaimsAttachmentsFirst,
    StoreFirst,
    opens_before_storing,
    serve_non_streaming,
    sse_frame,
    stream_events,
)
from taskchat._sdk.seams import Seams
from taskchat.agent.assistant import Assistant
from taskchat.agent.llm import NOT_CONFIGURED_MESSAGE
from taskchat.chat.approvals import Approvals
from taskchat.chat.attachments import PostgresAttachmentStore
from taskchat.chat.confirmations import ANSWER_ACTION
from taskchat.chat.events import AssistantIds, PartialAnswers, has_text, marked_cut_off
from taskchat.chat.feedback import record_feedback
from taskchat.chat.guard import guarded
from taskchat.chat.history import HistoryConverter
from taskchat.chat.paused import PausedTurns, Resume
from taskchat.chat.preloaded import PreloadedHistoryStore
from taskchat.chat.retries import turn_calls, with_earlier_calls
from taskchat.chat.store import PostgresStore, chat_id
from taskchat.chat.task_actions import handle_action
from taskchat.chat.titles import Ask, Titling, title_event
from taskchat.chat.tool_results import TurnHooks
from taskchat.chat.turn import SHUTDOWN_NOTICE, RunDeadline, TurnRecord, failure_of, stop_run
from taskchat.config import Settings
from taskchat.context import RequestContext
from taskchat.db.errors import is_unavailable
from taskchat.drain import Drain
from taskchat.files.postgres import PostgresFileStorage
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


class TaskchatServer(ClaimsAttachmentsFirst[RequestContext]):
    """Answers each user message with the task assistant over the user's own store."""

    # Narrowed from the SDK's `Store`: the preloaded history wraps this one.
    store: PostgresStore

    def __init__(
        self,
        store: PostgresStore,
        *,
        settings: Settings,
        model: Model | None,
        metrics: Metrics,
        titler: Ask | None = None,
        drain: Drain,
        tools: TurnTools,
        seams: Seams | None = None,
    ) -> None:
        attachments = PostgresAttachmentStore(store, PostgresFileStorage(store.engine), settings)
        super().__init__(store, attachments)
        self.attachments = attachments
        """Attachments: created here, uploaded and previewed through api/attachments.py."""
        self.settings = settings
        self.seams = seams or Seams()
        """Whether this server takes the SDK seams' paths (_sdk/seams.py)."""
        self.assistant = Assistant(model, tools.function_tools) if model is not None else None
        """The agent every turn runs (with its built-in tools) on the language model; None
        when no provider is configured (each turn says so)."""
        self.titles = Titling(store, titler)
        """Names new threads (chat/titles.py): `titler` is the title call, None a snippet."""
        self.metrics = metrics
        self.drain = drain
        self.tools = tools
        self.paused = PausedTurns(
            Approvals(store.engine, timedelta(seconds=settings.approval_timeout_seconds)),
            store.engine,
        )

    async def process_parsed(
        self, request: ChatKitReq, context: RequestContext
    ) -> StreamingResult | NonStreamingResult:
        """Serve an already-parsed ChatKit request (what `process` does after parsing)."""
        logger.debug("chatkit request %s", request.type)
        if isinstance(request, ThreadsRetryAfterItemReq):
            # Its turn is told what the message's earlier answer did (chat/retries.py).
            context = replace(context, retrying=True)
        elif isinstance(request, ThreadsCreateReq):
            context = replace(context, creating=True)
        if is_streaming_req(request):
            return StreamingResult(
                guarded(
                    stream_events(self, request, context, store_first=self._store_first(context)),
                    partial(sse_frame, self),
                    discard_thread=partial(self.store.delete_thread, context=context),
                    metrics=self.metrics,
                )
            )
        if not self.seams.on:
            # The SDK's own path, which parses the request again.
            return await self.process(request.model_dump_json(), context)
        return NonStreamingResult(await serve_non_streaming(self, request, context))

    def _store_first(self, context: RequestContext) -> StoreFirst | None:
        """With the seams, a new thread is stored with its first message, in one statement."""
        if not self.seams.on:
            return None
        return partial(self.store.save_new_thread, context=context)

    def opens_before_storing(self, request: ChatKitReq) -> bool:
        """Whether the stream of `request` makes its first event before it stores anything
        (a new thread's `thread.created`, on the seams' path)."""
        return self.seams.on and opens_before_storing(request)

    async def claim_attachments(
        self, thread: ThreadMetadata, attachment_ids: list[str], context: RequestContext
    ) -> None:
        """A new message's attachments, claimed before it is stored (_sdk/chatkit_server.py)."""
        await self.store.claim_attachments(thread.id, attachment_ids, context)

    async def respond(
        self,
        thread: ThreadMetadata,
        input_user_message: UserMessageItem | None,
        context: RequestContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        """Build the turn, stream the agent's answer, and record how the turn ended."""
        async with aclosing(self._turn(thread, context, title_from=input_user_message)) as events:
            async for event in events:
                yield event

    async def aclose(self) -> None:
        """Let title calls still running finish (briefly) before the database closes."""
        await self.titles.aclose()

    async def _turn(
        self,
        thread: ThreadMetadata,
        context: RequestContext,
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
        assistant = self._assistant()
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
            raise self._failed(error, record, thread) from None
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

    def _failed(
        self, error: Exception, record: TurnRecord, thread: ThreadMetadata
    ) -> CustomStreamError:
        """Count and log a failed turn once; the error event that tells the person."""
        failure = failure_of(error)
        record.ended("error")
        self.metrics.errors.labels(failure.kind).inc()
        if failure.kind == "model":
            # The provider's trouble, not ours: no traceback to read.
            logger.warning("model failure in thread %s: %s", thread.id, type(error).__name__)
        else:
            log_failure(
                logger, "turn failed in thread %s (%s)", thread.id, failure.kind, error=error
            )
        return CustomStreamError(failure.message, allow_retry=failure.retry)

    def _assistant(self) -> Assistant:
        if self.assistant is None:
            raise CustomStreamError(NOT_CONFIGURED_MESSAGE, allow_retry=False)
        return self.assistant

    async def _prepare(
        self, thread: ThreadMetadata, context: RequestContext, message: UserMessageItem | None
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
                raise  # an outage, told as one (chat/turn.py), not as a broken history
            logger.exception("could not convert the history of thread %s", thread.id)
            raise CustomStreamError(
                "This conversation's history could not be read; start a new thread.",
                allow_retry=False,
            ) from None
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
            raise self._failed(error, record, thread) from None
        finally:
            deadline.cancel()
            cut = self.drain.untrack(run)
            await stop_run(run)
        if deadline.expired:
            record.ended("error")
            self.metrics.errors.labels("model").inc()
            logger.warning("turn in thread %s reached its deadline", thread.id)
            await self._keep_partial(thread, partial_answers, context)
            raise CustomStreamError(deadline.message, allow_retry=True)
        if cut:
            # Shutting down: keep what arrived, and end the stream with a notice.
            record.ended("cut")
            logger.info("turn in thread %s cut short by shutdown", thread.id)
            await self._keep_partial(thread, partial_answers, context)
            raise CustomStreamError(SHUTDOWN_NOTICE, allow_retry=True)
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
            pending_items = [
                marked_cut_off(item)
                if isinstance(item, AssistantMessageItem) and has_text(item)
                else item
                for item in pending_items
            ]
            await super().handle_stream_cancelled(thread, pending_items, context)

    async def action(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: RequestContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        """A widget button pressed: a task's Done/Undo (chat/task_actions.py, no model
        turn), or a confirmation's answer (which resumes the paused turn)."""
        if action.type == ANSWER_ACTION:
            # Delete/Run or Keep on a confirmation card: the paused turn resumes, once.
            answered = await self.paused.answer(thread, action, sender, context)
            for event in answered.events:
                yield event
            if answered.resume is not None:
                card = None if sender is None else sender.id
                turn = self._turn(thread, context, answered.resume, card=card)
                async with aclosing(turn) as events:
                    async for event in events:
                        yield event
            return
        async for event in handle_action(
            thread=thread,
            action=action,
            sender=sender,
            context=context,
            engine=self.store.engine,
            store=self.store,
        ):
            yield event

    async def add_feedback(
        self,
        thread_id: str,
        item_ids: list[str],
        feedback: FeedbackKind,
        context: RequestContext,
    ) -> None:
        """Keep the vote on the answers named (chat/feedback.py), and count what changed."""
        changed = await record_feedback(
            engine=self.store.engine,
            user_id=context.user_id,
            thread_id=thread_id,
            item_ids=item_ids,
            kind=feedback,
        )
        if changed:
            self.metrics.feedback.labels(feedback).inc(changed)
        logger.info(
            "feedback %s: %d vote(s) new or changed in thread %s", feedback, changed, thread_id
        )


__all__ = ["TaskchatServer"]
