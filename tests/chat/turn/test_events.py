"""Store ids for the provider's placeholder ids, and partial answers tracked as they stream."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageContentPartAdded,
    AssistantMessageContentPartDone,
    AssistantMessageContentPartTextDelta,
    AssistantMessageItem,
    ProgressUpdateEvent,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemRemovedEvent,
    ThreadItemUpdatedEvent,
    ThreadStreamEvent,
)

from taskchat.chat.turn.events import CUT_OFF_NOTE, AssistantIds, PartialAnswers

FAKE = "__fake_id__"  # what chat-completions providers give every message


def message(text: str = "", item_id: str = FAKE) -> AssistantMessageItem:
    return AssistantMessageItem(
        id=item_id,
        thread_id="thr_1",
        created_at=datetime.now(UTC),
        content=[AssistantMessageContent(text=text)] if text else [],
    )


def delta(text: str, item_id: str = FAKE, index: int = 0) -> ThreadItemUpdatedEvent:
    return ThreadItemUpdatedEvent(
        item_id=item_id,
        update=AssistantMessageContentPartTextDelta(content_index=index, delta=text),
    )


def numbered() -> AssistantIds:
    counter = itertools.count(1)
    return AssistantIds(lambda: f"msg_{next(counter)}")


def ids_in(event: ThreadStreamEvent) -> str:
    if isinstance(event, ThreadItemAddedEvent | ThreadItemDoneEvent):
        return event.item.id
    assert isinstance(event, ThreadItemUpdatedEvent | ThreadItemRemovedEvent)
    return event.item_id


def test_two_messages_with_the_same_provider_id_get_their_own_store_ids() -> None:
    ids = numbered()
    stream: list[ThreadStreamEvent] = [
        ThreadItemAddedEvent(item=message()),
        delta("one"),
        ThreadItemDoneEvent(item=message("one")),
        ThreadItemAddedEvent(item=message()),
        delta("two"),
        ThreadItemDoneEvent(item=message("two")),
    ]
    seen = [ids_in(ids.apply(event)) for event in stream]
    assert seen == ["msg_1", "msg_1", "msg_1", "msg_2", "msg_2", "msg_2"]


def test_a_message_done_without_being_added_still_gets_a_store_id() -> None:
    done = numbered().apply(ThreadItemDoneEvent(item=message("all at once")))
    assert isinstance(done, ThreadItemDoneEvent) and done.item.id == "msg_1"
    assert isinstance(done.item, AssistantMessageItem)
    assert done.item.content[0].text == "all at once"


def test_events_about_other_items_pass_untouched() -> None:
    ids = numbered()
    progress = ProgressUpdateEvent(text="Adding task…")
    assert ids.apply(progress) is progress
    unknown = delta("x", item_id="wf_1")
    assert ids.apply(unknown) is unknown
    removed = ThreadItemRemovedEvent(item_id="wf_1")
    assert ids.apply(removed) is removed


def test_a_removed_message_is_forgotten() -> None:
    ids = numbered()
    ids.apply(ThreadItemAddedEvent(item=message()))
    removed = ids.apply(ThreadItemRemovedEvent(item_id=FAKE))
    assert ids_in(removed) == "msg_1"
    # A later message with the same provider id is a new one.
    assert ids_in(ids.apply(ThreadItemAddedEvent(item=message()))) == "msg_2"


def test_partial_answers_collect_deltas_until_done() -> None:
    partial = PartialAnswers()
    partial.observe(ThreadItemAddedEvent(item=message(item_id="msg_1")))
    assert partial.cut_off() == []  # nothing to keep yet
    for text in ("Half ", "an ", "answer"):
        partial.observe(delta(text, item_id="msg_1"))
    [kept] = partial.cut_off()
    assert kept.id == "msg_1" and kept.content[0].text == "Half an answer" + CUT_OFF_NOTE
    partial.observe(ThreadItemDoneEvent(item=message("Half an answer", item_id="msg_1")))
    assert partial.cut_off() == []


def test_parts_are_copied_so_the_sdks_own_appends_do_not_double_the_text() -> None:
    partial = PartialAnswers()
    partial.observe(ThreadItemAddedEvent(item=message(item_id="msg_1")))
    part = AssistantMessageContent(text="")
    partial.observe(
        ThreadItemUpdatedEvent(
            item_id="msg_1", update=AssistantMessageContentPartAdded(content_index=0, content=part)
        )
    )
    part.text += "shared"  # what the SDK does to its own copy
    partial.observe(delta("mine", item_id="msg_1"))
    assert partial.cut_off()[0].content[0].text == "mine" + CUT_OFF_NOTE
    partial.observe(
        ThreadItemUpdatedEvent(
            item_id="msg_1",
            update=AssistantMessageContentPartDone(
                content_index=1, content=AssistantMessageContent(text="second part")
            ),
        )
    )
    assert [c.text for c in partial.cut_off()[0].content] == ["mine", "second part" + CUT_OFF_NOTE]


def test_blank_and_removed_messages_are_not_kept() -> None:
    partial = PartialAnswers()
    partial.observe(ThreadItemAddedEvent(item=message(item_id="msg_1")))
    partial.observe(delta("   ", item_id="msg_1"))
    partial.observe(ThreadItemAddedEvent(item=message(item_id="msg_2")))
    partial.observe(delta("gone soon", item_id="msg_2"))
    partial.observe(ThreadItemRemovedEvent(item_id="msg_2"))
    assert partial.cut_off() == []
