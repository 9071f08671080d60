"""TaskchatServer: the ChatKit server that answers with an Agents SDK agent.

It dispatches what the SDK hands it: a message to answer (`respond`, a turn run by
chat/turn/run.py), a widget's button (`action`: a task's Done, or a confirmation's answer,
which resumes the paused turn), a vote on an answer (`add_feedback`), and a cut stream whose
partial answer is kept (`handle_stream_cancelled`). Requests arrive parsed and checked
(chat/request.py), with what their checks read in the `ChatContext`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import Any

import anyio
from agents import Model
from chatkit.actions import Action
from chatkit.server import NonStreamingResult, StreamingResult
from chatkit.types import (
    AssistantMessageItem,
    ChatKitReq,
    FeedbackKind,
    ThreadItem,
    ThreadMetadata,
    ThreadsCreateReq,
    ThreadsRetryAfterItemReq,
    ThreadStreamEvent,
    UserMessageItem,
    WidgetItem,
    is_streaming_req,
)

from taskchat._sdk.chatkit import (
    ClaimsAttachmentsFirst,
    StoreFirst,
    opens_before_storing,
    serve_non_streaming,
    sse_frame,
    stream_events,
)
from taskchat._sdk.seams import Seams
from taskchat.agent.assistant import Assistant
from taskchat.chat.confirmations.approvals import Approvals
from taskchat.chat.confirmations.cards import ANSWER_ACTION
from taskchat.chat.confirmations.paused import PausedTurns
from taskchat.chat.context import ChatContext, chat_context
from taskchat.chat.failures import guarded
from taskchat.chat.feedback.votes import record_feedback
from taskchat.chat.store.attachments import PostgresAttachmentStore
from taskchat.chat.store.postgres import PostgresStore
from taskchat.chat.titles import Ask, Titling
from taskchat.chat.turn.events import has_text, marked_cut_off
from taskchat.chat.turn.run import Turns
from taskchat.chat.widgets.actions import handle_action
from taskchat.config import Settings
from taskchat.context import RequestContext
from taskchat.drain import Drain
from taskchat.files.postgres import PostgresFileStorage
from taskchat.metrics import Metrics
from taskchat.tools.servers import TurnTools

logger = logging.getLogger("taskchat.chat")


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
    ) -> None:
        attachments = PostgresAttachmentStore(store, PostgresFileStorage(store.engine), settings)
        super().__init__(store, attachments)
        self.attachments = attachments
        """Attachments: created here, uploaded and previewed through api/attachments.py."""
        self.settings = settings
        self.seams = Seams.of(settings)
        """Whether this server takes the SDK seams' paths (_sdk/seams.py)."""
        self.metrics = metrics
        self.titles = Titling(store, titler)
        """Names new threads (chat/titles.py): `titler` is the title call, None a snippet."""
        self.paused = PausedTurns(
            Approvals(store.engine, timedelta(seconds=settings.approval_timeout_seconds)),
            store.engine,
        )
        """Turns waiting for the person's confirmation (chat/confirmations/)."""
        self.turns = Turns(
            store=store,
            attachments=attachments,
            assistant=Assistant(model, tools.function_tools) if model is not None else None,
            tools=tools,
            titles=self.titles,
            paused=self.paused,
            settings=settings,
            metrics=metrics,
            drain=drain,
        )
        """Runs each answering turn (chat/turn/run.py)."""

    async def process_parsed(
        self, request: ChatKitReq, context: ChatContext
    ) -> StreamingResult | NonStreamingResult:
        """Serve an already-parsed and checked ChatKit request (what `process` does after
        parsing); a stream's failures end it with an error event (chat/failures.py)."""
        logger.debug("chatkit request %s", request.type)
        if isinstance(request, ThreadsCreateReq | ThreadsRetryAfterItemReq):
            # What the turn may skip: reading back a new thread's history, or retrying
            # tool calls an earlier turn made already.
            context = replace(
                context,
                creating=isinstance(request, ThreadsCreateReq),
                retrying=isinstance(request, ThreadsRetryAfterItemReq),
            )
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

    def first_event_is_pure(self, request: ChatKitReq) -> bool:
        """Whether the stream of `request` makes its first event before it stores anything
        (a new thread's `thread.created`, on the seams' path), so that api/admitted.py may
        make it while the admission is still being answered."""
        return self.seams.on and opens_before_storing(request)

    async def claim_attachments(
        self, thread: ThreadMetadata, attachment_ids: list[str], context: RequestContext
    ) -> None:
        """A new message's attachments, claimed before it is stored (_sdk/chatkit.py)."""
        await self.store.claim_attachments(thread.id, attachment_ids, context)

    async def respond(
        self,
        thread: ThreadMetadata,
        input_user_message: UserMessageItem | None,
        context: RequestContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        """Build the turn, stream the agent's answer, and record how the turn ended."""
        turn = self.turns.run(thread, chat_context(context), title_from=input_user_message)
        async with aclosing(turn) as events:
            async for event in events:
                yield event

    async def aclose(self) -> None:
        """Let title calls still running finish (briefly) before the database closes."""
        await self.titles.aclose()

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
        """A widget button pressed: a task's Done/Undo (chat/widgets/actions.py, no model
        turn), or a confirmation's answer (which resumes the paused turn)."""
        if action.type == ANSWER_ACTION:
            # Delete/Run or Keep on a confirmation card: the paused turn resumes, once.
            answered = await self.paused.answer(thread, action, sender, context)
            for event in answered.events:
                yield event
            if answered.resume is not None:
                card = None if sender is None else sender.id
                turn = self.turns.run(thread, chat_context(context), answered.resume, card=card)
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
        """Keep the vote on the answers named (chat/feedback/votes.py), and count what changed."""
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
