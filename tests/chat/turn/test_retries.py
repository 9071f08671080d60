"""Which user message a turn answers (the newest, or the one before an answered
confirmation card), and the note a retried turn's model gets, on both model paths."""

from __future__ import annotations

from agents.models.chatcmpl_converter import Converter
from chatkit.types import Page, ThreadItem, WidgetItem
from chatkit.widgets import Card, Text

from taskchat.chat.turn.retries import answered_message, retry_note
from taskchat.tools.ledger import Recorded
from tests.support.threads import assistant_message, user_message


def card(thread_id: str) -> WidgetItem:
    return WidgetItem(
        id="cstl_card",
        thread_id=thread_id,
        created_at=user_message(thread_id, "").created_at,
        widget=Card(children=[Text(value="Delete 'Dentist'?")]),
    )


def newest_first(*items: ThreadItem) -> Page[ThreadItem]:
    return Page(data=list(reversed(items)), has_more=False)


def test_a_turn_answers_the_newest_user_message() -> None:
    first, second = user_message("thr", "one"), user_message("thr", "two")
    recent = newest_first(first, assistant_message("thr", "ok"), second)
    assert answered_message(recent) == second.id
    assert answered_message(newest_first(assistant_message("thr", "hi"))) is None


def test_a_resumed_turn_answers_the_message_before_its_card() -> None:
    asked, later = user_message("thr", "delete the dentist"), user_message("thr", "and milk?")
    widget = card("thr")
    recent = newest_first(asked, assistant_message("thr", "Sure."), widget, later)
    # The card was answered after another message was sent: its turn answers the first.
    assert answered_message(recent, before=widget.id) == asked.id
    # A card older than the items loaded: the newest message is the best guess there is.
    assert answered_message(recent, before="cstl_older") == later.id


def test_the_note_names_each_earlier_call_and_suits_both_model_paths() -> None:
    note = retry_note(
        [
            Recorded("add_task", {"title": "Buy milk"}, "Added: [ ] Buy milk id=task_1"),
            Recorded("complete_task", {"task_id": "task_0", "done": True}, "Completed: ..."),
        ]
    )
    content = str(note["content"])
    assert 'add_task {"title": "Buy milk"}: Added: [ ] Buy milk id=task_1' in content
    assert 'complete_task {"task_id": "task_0", "done": true}: Completed: ...' in content
    assert "not shown to the user" in content
    # A plain user message: the chat-completions path takes it as it is.
    [message] = Converter.items_to_messages([note])
    assert message["role"] == "user" and message["content"] == content
