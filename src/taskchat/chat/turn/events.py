"""Bookkeeping over the events of one streamed answer."""

from __future__ import annotations

from collections.abc import Callable

from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageContentPartAdded,
    AssistantMessageContentPartDone,
    AssistantMessageContentPartTextDelta,
    AssistantMessageItem,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemRemovedEvent,
    ThreadItemUpdatedEvent,
    ThreadStreamEvent,
)

CUT_OFF_NOTE = "\n\n*(This answer was cut off before it finished.)*"
"""Ends a kept partial answer: the person reading the thread later, and the model reading
it as history, both see that it is not the whole answer."""


class AssistantIds:
    """Gives assistant messages ids from the store instead of the provider's.

    Chat-completions providers give every streamed message the same placeholder id
    (`__fake_id__`), so reusing provider ids would make a second message overwrite the
    first. Each message gets a fresh store id when it is added, kept until it is done.
    """

    def __init__(self, new_id: Callable[[], str]) -> None:
        self._new_id = new_id
        self._live: dict[str, str] = {}

    def apply(self, event: ThreadStreamEvent) -> ThreadStreamEvent:
        """The event with provider ids replaced by store ids."""
        if isinstance(event, ThreadItemAddedEvent) and isinstance(event.item, AssistantMessageItem):
            ours = self._live[event.item.id] = self._new_id()
            return event.model_copy(update={"item": event.item.model_copy(update={"id": ours})})
        if isinstance(event, ThreadItemDoneEvent) and isinstance(event.item, AssistantMessageItem):
            ours = self._live.pop(event.item.id) if event.item.id in self._live else self._new_id()
            return event.model_copy(update={"item": event.item.model_copy(update={"id": ours})})
        if isinstance(event, ThreadItemUpdatedEvent) and event.item_id in self._live:
            return event.model_copy(update={"item_id": self._live[event.item_id]})
        if isinstance(event, ThreadItemRemovedEvent) and event.item_id in self._live:
            return event.model_copy(update={"item_id": self._live.pop(event.item_id)})
        return event


class PartialAnswers:
    """Tracks assistant messages that have started but not finished streaming."""

    def __init__(self) -> None:
        self._pending: dict[str, AssistantMessageItem] = {}

    def observe(self, event: ThreadStreamEvent) -> None:
        """Update the pending messages with one (already re-identified) event."""
        if isinstance(event, ThreadItemAddedEvent) and isinstance(event.item, AssistantMessageItem):
            self._pending[event.item.id] = event.item.model_copy(deep=True)
        elif isinstance(event, ThreadItemDoneEvent | ThreadItemRemovedEvent):
            item_id = event.item.id if isinstance(event, ThreadItemDoneEvent) else event.item_id
            self._pending.pop(item_id, None)
        elif isinstance(event, ThreadItemUpdatedEvent) and event.item_id in self._pending:
            item = self._pending[event.item_id]
            update = event.update
            if isinstance(
                update,
                AssistantMessageContentPartAdded
                | AssistantMessageContentPartTextDelta
                | AssistantMessageContentPartDone,
            ):
                while len(item.content) <= update.content_index:
                    item.content.append(AssistantMessageContent(text=""))
                if isinstance(update, AssistantMessageContentPartTextDelta):
                    item.content[update.content_index].text += update.delta
                else:
                    # A copy: the SDK's own pending copy holds the same part object and
                    # appends the deltas to it as well.
                    item.content[update.content_index] = update.content.model_copy(deep=True)

    def cut_off(self) -> list[AssistantMessageItem]:
        """The pending messages that hold some text, each ending with `CUT_OFF_NOTE`."""
        return [marked_cut_off(item) for item in self._pending.values() if has_text(item)]


def has_text(item: AssistantMessageItem) -> bool:
    """Whether the message holds anything but blanks."""
    return any(part.text.strip() for part in item.content)


def marked_cut_off(item: AssistantMessageItem) -> AssistantMessageItem:
    """A copy of the message whose text ends with `CUT_OFF_NOTE`."""
    last = item.content[-1]
    content = [*item.content[:-1], last.model_copy(update={"text": last.text + CUT_OFF_NOTE})]
    return item.model_copy(update={"content": content})
