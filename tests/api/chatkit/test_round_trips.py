"""How many statements a chat turn sends to the database: each is a round trip, and on a
busy server round trips are a large share of the CPU a turn costs (docs/performance.md).

Counted with asyncpg's own query logger on every pooled connection, so a transaction
(BEGIN, the scope, the statement, COMMIT: four) counts as four.
"""

from __future__ import annotations

from collections.abc import Callable

from taskchat._sdk.seams import Seams
from tests.support.apps import running_app
from tests.support.eventually import eventually, holds
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.protocol import add_message, create_thread, post, thread_id_of
from tests.support.settings import scripted_settings
from tests.support.statements import counted
from tests.support.tokens import TokenFor


async def test_a_turn_sends_one_statement_per_step(
    database_url: str, fake_model: FakeOpenAI, token_for: TokenFor, new_user: Callable[[], str]
) -> None:
    fake_model.titles.append("Dentist plans")
    fake_model.script(Reply(text=["Sure."]), Reply(text=["At nine."]))
    async with running_app(scripted_settings(database_url, fake_model)) as (app, http):
        token = token_for(new_user())
        services = app.state.services
        # Until then each token check asks the database (accounts/revocations.py).
        await eventually(holds(lambda: services.revocations.current), "the app listens")
        sent = counted(services.engine)

        _, events = await post(http, token, create_thread("Plan my dentist visit"))
        # The title is stored alongside the answer, and may land just after it.
        await eventually(
            holds(lambda: any("chat_set_title_if_unset" in each for each in sent)),
            "the title was stored",
        )
        first = list(sent)
        sent.clear()
        _, later_events = await post(http, token, add_message(thread_id_of(events), "When?"))
        later = list(sent)

    answers = [e for e in events + later_events if e["type"] == "thread.item.done"]
    assert [e["item"]["type"] for e in answers] == ["user_message", "assistant_message"] * 2
    # Ended streams are given back together, now and then, for every user at once; or
    # with their user's next admission (chat/admission.py).
    first, later = without_ends(first), without_ends(later)
    # A new thread: admission, the thread with its message (one statement), the title, the
    # answer. Its history is the message just stored, so it is not read back. On the SDK's
    # own path (SDK_SEAMS=off) the thread and its message are two statements.
    if Seams.of(services.settings).on:
        assert len(first) == 4, first
        assert first[1].startswith("WITH new_thread AS (INSERT INTO chat_threads"), first
    else:
        assert len(first) == 5, first
    # A later turn: the thread (checked before the answer starts; the SDK's load of it is
    # answered from that), admission, the message, its history, the answer.
    assert len(later) == 5, later
    assert not any(each.strip().upper() in ("BEGIN", "BEGIN;") for each in first + later)


def without_ends(sent: list[str]) -> list[str]:
    return [each for each in sent if "chat_end_turns" not in each]
