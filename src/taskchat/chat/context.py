"""The context a ChatKit request is served with: who is asking, what its checks read, and
what its type lets the turn skip."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from taskchat.context import RequestContext

if TYPE_CHECKING:
    from chatkit.types import ThreadMetadata


@dataclass(frozen=True, slots=True)
class ChatContext(RequestContext):
    """A ChatKit request's context: the verified caller (`RequestContext`), what the
    request's checks already read (chat/request.py), and what its type says
    (`TaskchatServer.process_parsed`), so that neither the store nor the turn asks the
    database again."""

    thread: ThreadMetadata | None = None
    """The thread the request names, as its check read it a moment ago: the SDK's own load
    of it is answered from this (`PostgresStore.load_thread`)."""

    creating: bool = False
    """A `threads.create`: the turn's message is its new thread's only item, so the turn
    need not read the history back."""

    retrying: bool = False
    """A `threads.retry_after_item`: the turn answers a message that an earlier turn
    answered already (chat/turn/retries.py)."""


def chat_context(context: RequestContext) -> ChatContext:
    """The context the SDK hands back to the server's hooks, as `/chatkit` made it (the SDK
    types it as the server's context type, `RequestContext`)."""
    if not isinstance(context, ChatContext):
        raise TypeError("a ChatKit request is served with a ChatContext (chat/context.py)")
    return context


__all__ = ["ChatContext", "chat_context"]
