// The task list's shape (lib/shared/tasks.ts), and /api/tasks refusing a backend answer
// that does not have it.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { relayJson } from "../lib/server/backend";
import { isTaskList, type Task } from "../lib/shared/tasks";

const TASK: Task = {
  id: "tsk_1",
  title: "Water the plants",
  notes: "",
  priority: "high",
  due_date: "2030-05-01",
  done: false,
  created_at: "2030-04-01T09:00:00Z",
  updated_at: "2030-04-01T09:00:00Z",
  completed_at: null,
};

describe("isTaskList", () => {
  test("takes the backend's TaskList, empty or not, and fields it does not know", () => {
    assert.ok(isTaskList({ data: [] }));
    assert.ok(isTaskList({ data: [TASK, { ...TASK, id: "tsk_2", done: true, completed_at: TASK.updated_at }] }));
    assert.ok(isTaskList({ data: [{ ...TASK, due_date: null, tags: ["later"] }], next: null }));
  });

  test("refuses anything else", () => {
    const untitled: Record<string, unknown> = { ...TASK };
    delete untitled.title;
    for (const wrong of [
      null,
      [],
      "tasks",
      {},
      { data: null },
      { data: {} },
      { data: [null] },
      { data: [untitled] },
      { data: [{ ...TASK, priority: "urgent" }] },
      { data: [{ ...TASK, done: "no" }] },
      { data: [{ ...TASK, due_date: 20300501 }] },
      { data: [{ ...TASK, completed_at: undefined }] },
      { data: [TASK, { ...TASK, id: 2 }] },
    ]) {
      assert.equal(isTaskList(wrong), false, JSON.stringify(wrong));
    }
  });
});

// relayJson with the check /api/tasks passes it, given backend answers as values: the real
// backend always sends a task list (routes.test.ts reads one through the route), so the
// malformed ones are built here rather than served by a stand-in backend.
function backendAnswer(status: number, body: string): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "application/json", "x-request-id": "backend-1" },
  });
}

describe("/api/tasks's relay of the backend's answer", () => {
  test("a 200 that is not a task list is a 502 the panel can show", async () => {
    for (const body of ['{"data": [{"id": "tsk_1"}]}', '{"items": []}', "[]"]) {
      const response = await relayJson(backendAnswer(200, body), isTaskList);
      assert.equal(response.status, 502, body);
      assert.deepEqual(await response.json(), {
        error: "bad_gateway",
        detail: "The Taskchat service sent an unreadable answer.",
      });
    }
  });

  test("a task list passes through as it was sent, with the backend's request id", async () => {
    const body = JSON.stringify({ data: [TASK] });
    const response = await relayJson(backendAnswer(200, body), isTaskList);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("x-request-id"), "backend-1");
    assert.equal(response.headers.get("cache-control"), "no-store");
    assert.deepEqual(await response.json(), JSON.parse(body));
  });

  test("an error answer is not checked against the list's shape", async () => {
    const body = JSON.stringify({ error: "too_many_attempts", detail: "Slow down." });
    const response = await relayJson(backendAnswer(429, body), isTaskList);
    assert.equal(response.status, 429);
    assert.deepEqual(await response.json(), { error: "too_many_attempts", detail: "Slow down." });
  });
});
