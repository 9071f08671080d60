"""Turns paused for the person's confirmation: pausing one at a call that needs it, and
taking the answer that resumes it (approvals.py beside this keeps them, cards.py draws their
cards). The server runs the resumed turn itself, like any other.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from agents import Agent, RunContextWrapper, RunResultStreaming, RunState
from chatkit.actions import Action
from chatkit.agents import AgentContext
from chatkit.errors import CustomStreamError
from chatkit.server import stream_widget
from chatkit.types import (
    NoticeEvent,
    ThreadItemReplacedEvent,
    ThreadMetadata,
    ThreadStreamEvent,
    WidgetItem,
)
from chatkit.widgets import DynamicWidgetRoot
from sqlalchemy.ext.asyncio import AsyncEngine

from taskchat.chat.confirmations.approvals import Approval, Approvals
from taskchat.chat.confirmations.cards import (
    ANSWERED,
    CARD_GONE,
    DECLINED_MESSAGE,
    UNKNOWN_APPROVAL,
    Outcome,
    asks_for,
    confirmation_card,
    copy_text,
    describe_calls,
    ended_card,
    parse_answer,
)
from taskchat.chat.store.postgres import chat_id
from taskchat.context import RequestContext

TurnAgent = Agent[AgentContext[RequestContext]]


class Resume(Protocol):
    """Restores a paused run, with the person's answer applied, for the resuming turn's
    agent and context."""

    def __call__(
        self, agent: TurnAgent, *, context: AgentContext[RequestContext]
    ) -> Awaitable[RunState[Any, Any]]: ...


@dataclass(slots=True)
class Answered:
    """What a press on a confirmation card comes to."""

    events: list[ThreadStreamEvent] = field(default_factory=list)
    """The card brought up to date, and a notice if nothing is left to do."""
    resume: Resume | None = None
    """The paused run to resume, when this press was the answer that counts."""


@dataclass(frozen=True, slots=True)
class PausedTurns:
    """Pauses a turn's run at its calls that need confirmation (`pause`: the card that
    asks), and takes a card's answer, once, into what resumes it (`answer`)."""

    approvals: Approvals
    """Where a paused run is kept until answered, or until it runs out."""
    engine: AsyncEngine
    """Where the tasks a card names are looked up."""

    async def pause(
        self, run: RunResultStreaming, agent_context: AgentContext[RequestContext]
    ) -> list[ThreadStreamEvent]:
        """Keep `run`, which waits at calls that need confirmation; the card that asks."""
        thread, context = agent_context.thread, agent_context.request_context
        calls = await describe_calls(
            list(run.interruptions), engine=self.engine, user_id=context.user_id
        )
        # The context (this request's AgentContext) is not kept: a resumed run gets its own.
        state = run.to_state().to_string(context_serializer=lambda _: {})
        approval = await self.approvals.create(context.user_id, thread.id, calls, state)
        card = confirmation_card(approval.id, calls)
        return [event async for event in stream_widget(thread, card, copy_text(calls), chat_id)]

    async def answer(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: RequestContext,
    ) -> Answered:
        """Delete/Run or Keep pressed: the answer is taken at most once."""
        payload = parse_answer(action.payload)
        user_id = context.user_id
        on_card = asks_for(sender, payload.approval_id)
        approval = None
        if on_card:
            approval = await self.approvals.answer(
                user_id, thread.id, payload.approval_id, payload.approve
            )
        if approval is None:
            # Answered already (another click, another replica), expired, not theirs, or
            # not pressed on its card: nothing runs. The card is brought up to date if it
            # is still there.
            known = await self.approvals.get(user_id, thread.id, payload.approval_id)
            if known is None:
                raise CustomStreamError(UNKNOWN_APPROVAL, allow_retry=False)
            if known.status == "pending" and not on_card:
                # Its card is gone (a retry replaced that answer) or was never named.
                return Answered(events=[NoticeEvent(level="info", message=CARD_GONE)])
            outcome: Outcome = "expired" if known.status == "pending" else known.status
            return Answered(
                events=[
                    *_replaced(sender, ended_card(known.calls, outcome)),
                    NoticeEvent(level="info", message=ANSWERED[outcome]),
                ]
            )
        outcome = "approved" if payload.approve else "declined"
        return Answered(
            events=_replaced(sender, ended_card(approval.calls, outcome)),
            resume=partial(_resume, approval, payload.approve),
        )


def _replaced(sender: WidgetItem | None, widget: DynamicWidgetRoot) -> list[ThreadStreamEvent]:
    if sender is None:
        return []
    return [ThreadItemReplacedEvent(item=sender.model_copy(update={"widget": widget}))]


async def _resume(
    approval: Approval,
    approve: bool,
    agent: TurnAgent,
    *,
    context: AgentContext[RequestContext],
) -> RunState[Any, Any]:
    state = await RunState.from_string(
        agent, approval.run_state, context_override=RunContextWrapper(context)
    )
    for item in state.get_interruptions():
        if approve:
            state.approve(item)
        else:
            state.reject(item, rejection_message=DECLINED_MESSAGE)
    return state


__all__ = ["Answered", "PausedTurns", "Resume"]
