// The task list's shape (lib/shared/tasks.ts), and /api/tasks refusing a backend answer
// that does not have it. The real backend always sends the right shape (routes.test.ts
// reads a real list through the route), so the malformed answers here come from a stand-in.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";

import { isTaskList, type Task } from "../lib/shared/tasks";
import { COOKIE } from "./support/session";
import { startApp } from "./support/stack";

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

// TEST DOUBLE: a stand-in for the backend's GET /api/tasks that sends whatever a test sets.
let answer: { status: number; body: string } = { status: 200, body: "{}" };
let backend: Server;
let app: { appUrl: string; stop: () => Promise<void> };

before(async () => {
  backend = createServer((request, response) => {
    response.writeHead(answer.status, { "content-type": "application/json", "x-request-id": "stand-in-1" });
    response.end(answer.body);
  });
  await new Promise<void>((resolve) => backend.listen(0, "127.0.0.1", resolve));
  const { port } = backend.address() as AddressInfo;
  app = await startApp(`http://127.0.0.1:${port}`);
});

after(async () => {
  await app?.stop();
  backend?.closeAllConnections();
  await new Promise((resolve) => backend?.close(resolve));
});

function tasks(): Promise<Response> {
  return fetch(`${app.appUrl}/api/tasks?status=all`, { headers: { cookie: `${COOKIE}=a-token` } });
}

describe("/api/tasks with a backend answer that is not a task list", () => {
  test("a 200 that is not a task list is a 502 the panel can show", async () => {
    for (const body of ['{"data": [{"id": "tsk_1"}]}', '{"items": []}', "[]"]) {
      answer = { status: 200, body };
      const response = await tasks();
      assert.equal(response.status, 502, body);
      assert.deepEqual(await response.json(), {
        error: "bad_gateway",
        detail: "The Taskchat service sent an unreadable answer.",
      });
    }
  });

  test("a task list passes through as it was sent, with the backend's request id", async () => {
    const body = JSON.stringify({ data: [TASK] });
    answer = { status: 200, body };
    const response = await tasks();
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("x-request-id"), "stand-in-1");
    assert.equal(response.headers.get("cache-control"), "no-store");
    assert.deepEqual(await response.json(), JSON.parse(body));
  });

  test("an error answer is not checked against the list's shape", async () => {
    answer = { status: 429, body: JSON.stringify({ error: "rate_limited", detail: "Slow down." }) };
    const response = await tasks();
    assert.equal(response.status, 429);
    assert.deepEqual(await response.json(), { error: "rate_limited", detail: "Slow down." });
  });
});
