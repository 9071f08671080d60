"""The two apps the overhead benchmark compares, as uvicorn factories.

`baseline_app`: a bare ChatKitServer over an in-memory store, no auth, the same model
client, the same tool definitions (plain function tools) and the same history converter:
the least a ChatKit server with this agent can do. `taskchat_app`: ours, from settings.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from agents import Agent, FunctionTool, OpenAIChatCompletionsModel, RunConfig, Runner
from chatkit.agents import AgentContext, stream_agent_response
from chatkit.server import ChatKitServer
from chatkit.store import NotFoundError, Store
from chatkit.types import (
    Attachment,
    Page,
    ThreadItem,
    ThreadMetadata,
    ThreadStreamEvent,
    UserMessageItem,
    is_streaming_req,
)
from fastapi import FastAPI, Request, Response
from fastapi.responses import StreamingResponse
from openai import AsyncOpenAI

from taskchat._sdk.chatkit import serve_non_streaming, sse_frame, stream_events
from taskchat.app import create_app
from taskchat.chat.request import chatkit_request
from taskchat.chat.turn.history import HistoryConverter
from taskchat.tools.tasks import TOOLS

Ctx = dict[str, Any]


class MemoryStore(Store[Ctx]):
    """Threads and items in dicts: the cheapest possible store."""

    def __init__(self) -> None:
        self.threads: dict[str, ThreadMetadata] = {}
        self.items: dict[str, list[ThreadItem]] = defaultdict(list)
        self.attachments: dict[str, Attachment] = {}

    async def load_thread(self, thread_id: str, context: Ctx) -> ThreadMetadata:
        if thread_id not in self.threads:
            raise NotFoundError(thread_id)
        return self.threads[thread_id]

    async def save_thread(self, thread: ThreadMetadata, context: Ctx) -> None:
        self.threads[thread.id] = thread

    async def load_thread_items(
        self, thread_id: str, after: str | None, limit: int, order: str, context: Ctx
    ) -> Page[ThreadItem]:
        items = list(self.items[thread_id])
        if order == "desc":
            items.reverse()
        if after:
            ids = [item.id for item in items]
            items = items[ids.index(after) + 1 :] if after in ids else []
        page = items[:limit]
        return Page(data=page, has_more=len(items) > limit, after=page[-1].id if page else None)

    async def save_attachment(self, attachment: Attachment, context: Ctx) -> None:
        self.attachments[attachment.id] = attachment

    async def load_attachment(self, attachment_id: str, context: Ctx) -> Attachment:
        return self.attachments[attachment_id]

    async def delete_attachment(self, attachment_id: str, context: Ctx) -> None:
        self.attachments.pop(attachment_id, None)

    async def load_threads(
        self, limit: int, after: str | None, order: str, context: Ctx
    ) -> Page[ThreadMetadata]:
        return Page(data=list(self.threads.values())[:limit])

    async def add_thread_item(self, thread_id: str, item: ThreadItem, context: Ctx) -> None:
        await self.save_item(thread_id, item, context)

    async def save_item(self, thread_id: str, item: ThreadItem, context: Ctx) -> None:
        items = self.items[thread_id]
        for index, existing in enumerate(items):
            if existing.id == item.id:
                items[index] = item
                return
        items.append(item)

    async def load_item(self, thread_id: str, item_id: str, context: Ctx) -> ThreadItem:
        for item in self.items[thread_id]:
            if item.id == item_id:
                return item
        raise NotFoundError(item_id)

    async def delete_thread(self, thread_id: str, context: Ctx) -> None:
        self.threads.pop(thread_id, None)
        self.items.pop(thread_id, None)

    async def delete_thread_item(self, thread_id: str, item_id: str, context: Ctx) -> None:
        self.items[thread_id] = [i for i in self.items[thread_id] if i.id != item_id]


def same_tool_definitions() -> list[FunctionTool]:
    """Taskchat's five task tools as plain function tools that do nothing.

    The model request then carries the same tool schemas as Taskchat's (the OpenAI
    client's request preparation grows with them), so the comparison measures what
    Taskchat adds around the agent, its per-turn MCP plumbing included.
    """

    async def unused(context: Any, arguments: str) -> str:
        return "unused"

    return [
        FunctionTool(
            name=tool.name,
            description=tool.description or "",
            params_json_schema=tool.parameters,
            on_invoke_tool=unused,
            strict_json_schema=False,
        )
        for tool in TOOLS
    ]


class BareServer(ChatKitServer[Ctx]):
    def __init__(self, store: MemoryStore, client: AsyncOpenAI, model: str) -> None:
        super().__init__(store)
        self.model = OpenAIChatCompletionsModel(model=model, openai_client=client)
        self.tools = same_tool_definitions()

    async def respond(
        self, thread: ThreadMetadata, input_user_message: UserMessageItem | None, context: Ctx
    ) -> AsyncIterator[ThreadStreamEvent]:
        recent = await self.store.load_thread_items(thread.id, None, 30, "desc", context)
        # Taskchat's converter: the SDK's default (`simple_to_agent_input`) renders earlier
        # answers in a shape the chat-completions path rejects, failing later turns.
        history = await HistoryConverter().to_agent_input(list(reversed(recent.data)))
        agent_context = AgentContext[Ctx](thread=thread, store=self.store, request_context=context)
        agent = Agent[AgentContext[Ctx]](
            name="Bare", instructions="Be brief.", model=self.model, tools=list(self.tools)
        )
        result = Runner.run_streamed(
            agent, history, context=agent_context, run_config=RunConfig(tracing_disabled=True)
        )
        async for event in stream_agent_response(agent_context, result):
            yield event


def baseline_app() -> FastAPI:
    client = AsyncOpenAI(api_key="bench", base_url=os.environ["MODEL_BASE_URL"], max_retries=2)
    server = BareServer(MemoryStore(), client, "scripted")
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/chatkit", response_model=None)
    async def chatkit(request: Request) -> Response:
        # The same cached request parser Taskchat uses, so the comparison measures what
        # Taskchat adds (auth, PostgreSQL, history, tools), not the SDK's parser rebuild.
        parsed = chatkit_request().validate_json(await request.body())
        if not is_streaming_req(parsed):
            answer = await serve_non_streaming(server, parsed, {})
            return Response(content=answer, media_type="application/json")
        events = stream_events(server, parsed, {})

        async def frames() -> AsyncIterator[bytes]:
            async for event in events:
                yield sse_frame(server, event)

        return StreamingResponse(frames(), media_type="text/event-stream")

    return app


def taskchat_app() -> FastAPI:
    return create_app()
