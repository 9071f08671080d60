// A refused streaming request (429, 503, ...) reaches the ChatKit widget as one error event
// carrying the server's sentence; everything else passes through untouched.
import assert from "node:assert/strict";
import { test } from "node:test";

import { STREAMING_REQUESTS, refusalAsErrorEvent } from "../lib/shared/chatRefusal";

const turn = JSON.stringify({ type: "threads.create", params: {} });

function problem(status: number, detail: string, headers: Record<string, string> = {}): Response {
  return Response.json({ error: "rate_limited", detail }, { status, headers });
}

async function events(response: Response): Promise<unknown[]> {
  const text = await response.text();
  return text
    .split("\n\n")
    .filter((block) => block.startsWith("data: "))
    .map((block) => JSON.parse(block.slice(6)) as unknown);
}

test("a 429 on a turn becomes an error event with the server's sentence", async () => {
  const detail = "You are sending messages faster than 20 a minute; try again in 12 seconds.";
  const response = await refusalAsErrorEvent(problem(429, detail, { "retry-after": "12" }), turn);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
  assert.equal(response.headers.get("retry-after"), "12");
  assert.deepEqual(await events(response), [
    { type: "error", code: "custom", message: detail, allow_retry: true },
  ]);
});

test("a request the server refused as wrong is not offered a retry", async () => {
  const response = await refusalAsErrorEvent(problem(400, "Message too long."), turn);
  assert.deepEqual(await events(response), [
    { type: "error", code: "custom", message: "Message too long.", allow_retry: false },
  ]);
});

test("answers that are not refused turns pass through as they are", async () => {
  const ok = new Response("data: {}\n\n", { status: 200 });
  assert.equal(await refusalAsErrorEvent(ok, turn), ok);
  const expired = problem(401, "Sign in again.");
  assert.equal(await refusalAsErrorEvent(expired, turn), expired, "401 goes to sign-in");
  const list = JSON.stringify({ type: "threads.list", params: {} });
  const refusedList = problem(429, "Slow down.");
  assert.equal(await refusalAsErrorEvent(refusedList, list), refusedList, "not a stream");
  const noDetail = new Response("oops", { status: 502 });
  assert.equal(await refusalAsErrorEvent(noDetail, turn), noDetail, "nothing to show");
  assert.ok(STREAMING_REQUESTS.has("threads.add_user_message"));
});
