// How the built-in chat UI's open thread follows the stream (lib/builtin/conversation.ts).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  GENERIC_FAILURE,
  NEW_CONVERSATION,
  applyEvent,
  opened,
  retrying,
  retryTarget,
  withEarlier,
  type Conversation,
} from "../lib/builtin/conversation";
import type { StreamEvent, ThreadItem, ThreadSummary } from "../lib/protocol";

const THREAD: ThreadSummary = {
  id: "thr_1",
  title: null,
  created_at: "2026-11-29T00:00:00Z",
  status: { type: "active" },
  items: { data: [], has_more: false },
};

function user(id: string, text: string): ThreadItem {
  return {
    type: "user_message",
    id,
    thread_id: "thr_1",
    created_at: "2026-11-29T00:00:00Z",
    content: [{ type: "input_text", text }],
    attachments: [],
    inference_options: {},
  };
}

function assistant(id: string, text = ""): ThreadItem {
  return {
    type: "assistant_message",
    id,
    thread_id: "thr_1",
    created_at: "2026-11-29T00:00:00Z",
    content: text ? [{ type: "output_text", text, annotations: [] }] : [],
  };
}

function widgetItem(id: string): ThreadItem {
  return {
    type: "widget",
    id,
    thread_id: "thr_1",
    created_at: "2026-11-29T00:00:00Z",
    widget: { type: "Card", children: [] },
  } as unknown as ThreadItem;
}

const run = (events: StreamEvent[], from: Conversation = NEW_CONVERSATION) => events.reduce(applyEvent, from);

test("text deltas build the answer as it streams; done replaces it with the final item", () => {
  const delta = (text: string): StreamEvent => ({
    type: "thread.item.updated",
    item_id: "msg_a",
    update: { type: "assistant_message.content_part.text_delta", content_index: 0, delta: text },
  });
  const streaming = run([
    { type: "thread.created", thread: THREAD },
    { type: "thread.item.done", item: user("msg_u", "hi") },
    { type: "progress_update", text: "Thinking" },
    { type: "thread.item.added", item: assistant("msg_a") },
    delta("Hel"),
    delta("lo"),
  ]);
  assert.equal(streaming.thread?.id, "thr_1");
  assert.equal(streaming.progress, null, "the answer showing ends the progress line");
  assert.deepEqual(
    streaming.items.map((item) => item.id),
    ["msg_u", "msg_a"],
  );
  const answer = streaming.items[1]!;
  assert.equal(answer.type === "assistant_message" && answer.content[0]?.text, "Hello");
  const done = applyEvent(streaming, { type: "thread.item.done", item: assistant("msg_a", "Hello there") });
  const final = done.items[1]!;
  assert.equal(final.type === "assistant_message" && final.content[0]?.text, "Hello there");
  assert.equal(done.items.length, 2);
});

test("hidden context and end-of-turn items are never shown; removed items go", () => {
  const hidden = { type: "hidden_context_item", id: "h1", thread_id: "thr_1", created_at: "x", content: "secret" };
  const state = run([
    { type: "thread.item.done", item: user("msg_u", "hi") },
    { type: "thread.item.done", item: hidden as ThreadItem },
    { type: "thread.item.done", item: { type: "end_of_turn", id: "e1", thread_id: "thr_1", created_at: "x" } },
    { type: "thread.item.added", item: assistant("msg_a", "partial") },
    { type: "thread.item.removed", item_id: "msg_a" },
  ]);
  assert.deepEqual(
    state.items.map((item) => item.id),
    ["msg_u"],
  );
});

test("errors, notices and stream options", () => {
  const state = run([
    { type: "stream_options", stream_options: { allow_cancel: false } },
    { type: "notice", level: "warning", message: "Slow today" },
    { type: "error", code: "custom", message: "The AI model failed (HTTP 400).", allow_retry: true },
  ]);
  assert.equal(state.allowCancel, false);
  assert.deepEqual(state.notice, { level: "warning", title: null, message: "Slow today" });
  assert.deepEqual(state.failure, { message: "The AI model failed (HTTP 400).", allowRetry: true });
  const silent = applyEvent(NEW_CONVERSATION, { type: "error", code: "stream.error", allow_retry: false });
  assert.deepEqual(silent.failure, { message: GENERIC_FAILURE, allowRetry: false });
});

test("widget updates reach a nested component by its id", () => {
  const widget = {
    type: "widget",
    id: "wid_1",
    thread_id: "thr_1",
    created_at: "x",
    widget: { type: "Card", children: [{ type: "Col", children: [{ type: "Text", id: "body", value: "D" }] }] },
  } as unknown as ThreadItem;
  const state = run([
    { type: "thread.item.added", item: widget },
    {
      type: "thread.item.updated",
      item_id: "wid_1",
      update: { type: "widget.streaming_text.value_delta", component_id: "body", delta: "entist", done: false },
    },
  ]);
  const text = (state.items[0] as unknown as { widget: { children: { children: { value: string }[] }[] } }).widget
    .children[0]!.children[0]!.value;
  assert.equal(text, "Dentist");
});

test("a thread opens on its newest page, and earlier pages go before it, without repeats", () => {
  const newest = { data: [assistant("m4", "4"), user("m3", "3")], has_more: true, after: "m3" };
  const state = opened(THREAD, newest);
  assert.deepEqual(
    state.items.map((item) => item.id),
    ["m3", "m4"],
  );
  assert.equal(state.earlier, "m3");
  const older = { data: [user("m3", "3"), assistant("m2", "2"), user("m1", "1")], has_more: false, after: "m1" };
  const full = withEarlier(state, older);
  assert.deepEqual(
    full.items.map((item) => item.id),
    ["m1", "m2", "m3", "m4"],
  );
  assert.equal(full.earlier, null);
});

test("@-mentions: the query being typed, and tags where the picked titles are", async () => {
  const { mentionAt, messageContent, withMention } = await import("../lib/builtin/mentions");
  assert.deepEqual(mentionAt("Move @den", 9), { start: 5, query: "den" });
  assert.equal(mentionAt("mail a@b", 8), null, "an address is not a mention");
  const picked = withMention("Move @den to Friday", 5, 9, "Dentist at 3");
  assert.deepEqual(picked, { text: "Move @Dentist at 3  to Friday", caret: 19 });
  const content = messageContent("Move @Dentist at 3 to Friday, not @Den", [
    { id: "task_1", title: "Dentist at 3" },
    { id: "task_2", title: "Dentist" },
  ]);
  assert.deepEqual(content, [
    { type: "input_text", text: "Move " },
    { type: "input_tag", id: "task_1", text: "Dentist at 3", data: {}, interactive: true },
    { type: "input_text", text: " to Friday, not @Den" },
  ]);
});

test("the newest answer can be had again when it answers the newest message", () => {
  const answered = opened(THREAD, {
    data: [
      assistant("msg_a2", "Added."),
      widgetItem("w_1"),
      user("msg_u2", "add milk"),
      assistant("msg_a1", "Hi"),
      user("msg_u1", "hi"),
    ],
    has_more: false,
  });
  assert.deepEqual(retryTarget(answered), { answerId: "msg_a2", messageId: "msg_u2" });
  // A message with no answer yet (or a failed one): nothing to have again, not the older answer.
  const unanswered = run([{ type: "thread.item.done", item: user("msg_u3", "and eggs") }], answered);
  assert.equal(retryTarget(unanswered), null);
  assert.equal(retryTarget(NEW_CONVERSATION), null);
});

test("a retry drops what came after the message, and the new answer streams in its place", () => {
  const before = opened(THREAD, {
    data: [
      assistant("msg_a2", "Added."),
      widgetItem("w_1"),
      user("msg_u2", "add milk"),
      assistant("msg_a1", "Hi"),
      user("msg_u1", "hi"),
    ],
    has_more: false,
  });
  const started = retrying(before, "msg_u2");
  assert.deepEqual(
    started.items.map((item) => item.id),
    ["msg_u1", "msg_a1", "msg_u2"],
  );
  const after = run([{ type: "thread.item.done", item: assistant("msg_a3", "Milk is on it.") }], started);
  assert.deepEqual(
    after.items.map((item) => item.id),
    ["msg_u1", "msg_a1", "msg_u2", "msg_a3"],
  );
  assert.deepEqual(retryTarget(after), { answerId: "msg_a3", messageId: "msg_u2" });
  // A message that is not shown (another thread's): nothing changes.
  assert.equal(retrying(before, "msg_elsewhere"), before);
});
