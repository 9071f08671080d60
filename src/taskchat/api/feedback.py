"""GET /api/feedback: the signed-in user's votes in one of their threads, so a chat UI can
show them again after a reload (ChatKit's items carry no feedback). Votes are given with
ChatKit's `items.feedback` on /chatkit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from taskchat.api.deps import CurrentIdentity, ServicesDep
from taskchat.api.errors import problem_responses
from taskchat.chat.feedback.votes import Vote, thread_feedback
from taskchat.text import check_text

router = APIRouter()

THREAD_ID_MAX = 100
"""Longer than any thread id we make (`thr_` and 24 hex digits); longer ones are refused
unread."""


class VoteList(BaseModel):
    """The caller's votes in a thread."""

    data: list[Vote]


@router.get("/api/feedback", responses=problem_responses(400, 401, 404))
async def list_feedback(
    identity: CurrentIdentity,
    services: ServicesDep,
    thread_id: Annotated[
        str, Query(min_length=1, max_length=THREAD_ID_MAX, description="the thread's id")
    ],
) -> VoteList:
    """The caller's 👍/👎 votes on the answers of one of their threads.

    Another user's thread answers 404, exactly like one that does not exist.
    """
    check_text(thread_id, "thread_id")
    votes = await thread_feedback(
        engine=services.engine, user_id=identity.user_id, thread_id=thread_id
    )
    return VoteList(data=votes)
