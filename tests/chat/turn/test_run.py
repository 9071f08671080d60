"""The pieces of a turn: its record, and stopping its run."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx2
import openai
from agents import Agent, RunConfig, Runner
from agents.testing import ModelStep, ScriptedModel

from taskchat.chat.turn.run import TurnRecord, stop_run
from taskchat.metrics import Metrics

NO_TRACING = RunConfig(tracing_disabled=True)
REQUEST = httpx2.Request("POST", "http://model/v1/chat/completions")


def status_error(cls: type[openai.APIStatusError], status: int) -> openai.APIStatusError:
    return cls("failed", response=httpx2.Response(status, request=REQUEST), body=None)


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def test_a_turn_with_no_ending_counts_as_disconnected() -> None:
    metrics = Metrics()
    TurnRecord(metrics).record()
    assert sample(metrics, "taskchat_chat_turns_total", outcome="disconnected") == 1
    assert sample(metrics, "taskchat_chat_stream_duration_seconds_count") == 1


def test_the_last_ending_counts_and_only_the_first_model_event_is_timed() -> None:
    metrics = Metrics()
    record = TurnRecord(metrics)
    for _ in range(3):
        record.model_answered()
    record.ended("error")
    record.ended("cut")
    record.record()
    assert sample(metrics, "taskchat_chat_turns_total", outcome="cut") == 1
    assert sample(metrics, "taskchat_chat_turns_total", outcome="error") == 0
    assert sample(metrics, "taskchat_model_first_event_seconds_count") == 1


async def test_stop_run_cancels_a_run_still_waiting_for_the_model() -> None:
    started = asyncio.Event()

    async def never(call: Any) -> Any:
        started.set()
        await asyncio.Event().wait()

    agent = Agent(name="a", model=ScriptedModel([ModelStep.respond(never)]))
    result = Runner.run_streamed(agent, "hi", run_config=NO_TRACING)
    await asyncio.wait_for(started.wait(), 10)
    await stop_run(result)
    assert result.run_loop_task is not None and result.run_loop_task.done()


async def test_stop_run_leaves_a_finished_run_alone() -> None:
    agent = Agent(name="a", model=ScriptedModel([[]]))
    result = Runner.run_streamed(agent, "hi", run_config=NO_TRACING)
    async for _ in result.stream_events():
        pass
    await stop_run(result)
    assert result.is_complete and result.run_loop_task is not None
    assert not result.run_loop_task.cancelled()
