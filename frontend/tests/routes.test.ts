// The route handlers over real HTTP: the production server (`npm start`) in front of the real backend.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { upstreamHeaders } from "../lib/server/backend";
import { allEvents, createThread, deltaText, sseEvents, threadIdOf } from "./support/chatkit";
import {
  COOKIE,
  TEST_PASSWORD,
  expiredToken,
  refusedToken,
  register,
  uniqueEmail,
  type Session,
} from "./support/session";
import { eventually, startStack, type Stack } from "./support/stack";

let stack: Stack;

before(async () => {
  stack = await startStack();
});

after(async () => {
  await stack?.stop();
});

function chat(session: Session | null, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${stack.appUrl}/api/chatkit`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      origin: stack.appUrl,
      ...(session ? { cookie: session.cookie } : {}),
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

async function threadIds(session: Session): Promise<string[]> {
  const response = await chat(session, { type: "threads.list", params: { limit: 50, order: "desc" } });
  assert.equal(response.status, 200);
  const page = (await response.json()) as { data: { id: string }[] };
  return page.data.map((thread) => thread.id);
}

describe("accounts", () => {
  test("register sets an httpOnly, SameSite=Lax session cookie that lives as long as the token", async () => {
    const session = await register(stack.appUrl);
    const attributes = session.setCookie.split(";").map((part) => part.trim().toLowerCase());
    assert.ok(attributes.includes("httponly"));
    assert.ok(attributes.includes("samesite=lax"));
    assert.ok(attributes.includes("path=/"));
    // Plain http on loopback: a Secure cookie would never be stored by the browser.
    assert.ok(!attributes.includes("secure"));
    const claims = JSON.parse(Buffer.from(session.token.split(".")[1]!, "base64url").toString()) as {
      exp: number;
    };
    const maxAge = Number(attributes.find((part) => part.startsWith("max-age="))?.split("=")[1]);
    const lifetime = claims.exp - Date.now() / 1000;
    assert.ok(Math.abs(maxAge - lifetime) < 5, `max-age ${maxAge} vs token lifetime ${lifetime}`);
    assert.equal(session.user.name, "Ada Lovelace");
  });

  test("a taken email is a 409 and a short password a readable 400", async () => {
    const email = uniqueEmail();
    const form = (password: string): RequestInit => ({
      method: "POST",
      headers: { "content-type": "application/json", origin: stack.appUrl },
      body: JSON.stringify({ name: "B", email, password }),
    });
    assert.equal((await fetch(`${stack.appUrl}/api/auth/register`, form("long enough pw"))).status, 201);
    const taken = await fetch(`${stack.appUrl}/api/auth/register`, form("long enough pw"));
    assert.equal(taken.status, 409);
    assert.match(((await taken.json()) as { detail: string }).detail, /already exists/);
    const short = await fetch(`${stack.appUrl}/api/auth/register`, form("short"));
    assert.equal(short.status, 400);
    assert.match(((await short.json()) as { detail: string }).detail, /password.*at least 8/i);
  });

  test("a wrong password is a 401 that sets no cookie; the right one signs in", async () => {
    const session = await register(stack.appUrl);
    const login = (password: string): Promise<Response> =>
      fetch(`${stack.appUrl}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: stack.appUrl },
        body: JSON.stringify({ email: session.user.email, password }),
      });
    const wrong = await login("not the password");
    assert.equal(wrong.status, 401);
    assert.equal(((await wrong.json()) as { detail: string }).detail, "The email or password is incorrect.");
    assert.deepEqual(wrong.headers.getSetCookie(), []);
    const right = await login(TEST_PASSWORD);
    assert.equal(right.status, 200);
    assert.ok(right.headers.getSetCookie().some((cookie) => cookie.startsWith(`${COOKIE}=ey`)));
  });

  test("sign-in from another site is refused", async () => {
    const response = await fetch(`${stack.appUrl}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "https://evil.example" },
      body: JSON.stringify({ email: "a@b.co", password: TEST_PASSWORD }),
    });
    assert.equal(response.status, 403);
  });

  test("logout clears the cookie and goes to the sign-in page", async () => {
    const session = await register(stack.appUrl);
    const response = await fetch(`${stack.appUrl}/api/auth/logout`, {
      method: "POST",
      headers: { origin: stack.appUrl, cookie: session.cookie },
      redirect: "manual",
    });
    assert.equal(response.status, 303);
    assert.equal(response.headers.get("location"), "/login");
    const cleared = response.headers.getSetCookie().find((cookie) => cookie.startsWith(`${COOKIE}=`));
    assert.match(cleared ?? "", /Max-Age=0/i);
  });
});

describe("pages behind sign-in", () => {
  test("without a cookie the chat page redirects to /login", async () => {
    const response = await fetch(`${stack.appUrl}/chat`, { redirect: "manual" });
    assert.ok([303, 307].includes(response.status), String(response.status));
    assert.equal(new URL(response.headers.get("location")!, stack.appUrl).pathname, "/login");
  });

  test("an expired token redirects to /login and says why", async () => {
    const response = await fetch(`${stack.appUrl}/chat`, {
      redirect: "manual",
      headers: { cookie: `${COOKIE}=${expiredToken()}` },
    });
    const location = new URL(response.headers.get("location")!, stack.appUrl);
    assert.equal(location.pathname, "/login");
    assert.equal(location.searchParams.get("expired"), "1");
  });

  test("the sign-in page keeps a person it sends a notice to, whatever their cookie says", async () => {
    // Sent there because the backend refused the session: back to the chat on the cookie's
    // word (its expiry) would be refused again, and back, for ever.
    const session = await register(stack.appUrl);
    for (const query of ["?expired=1", "?deleted=account", "?deleted=unconfirmed"]) {
      const response = await fetch(`${stack.appUrl}/login${query}`, {
        redirect: "manual",
        headers: { cookie: session.cookie },
      });
      assert.equal(response.status, 200, query);
      assert.match(await response.text(), /Sign in/);
    }
    // Without a notice, a live session still goes straight to the chat.
    const plain = await fetch(`${stack.appUrl}/login`, { redirect: "manual", headers: { cookie: session.cookie } });
    assert.equal(new URL(plain.headers.get("location") ?? "", stack.appUrl).pathname, "/chat");
  });

  test("every route that forwards the session clears its cookie when the backend refuses it", async () => {
    const cookie = `${COOKIE}=${refusedToken()}`;
    const json = { "content-type": "application/json", origin: stack.appUrl, cookie };
    const routes: [string, RequestInit][] = [
      ["/api/chatkit", { method: "POST", headers: json, body: JSON.stringify(createThread("hello")) }],
      ["/api/tasks", { headers: { cookie } }],
      ["/api/tasks/task_000000000000000000000000", { method: "PATCH", headers: json, body: '{"done": true}' }],
      ["/api/feedback?thread_id=thr_1", { headers: { cookie } }],
      ["/api/account", { headers: { cookie } }],
      ["/api/account", { method: "DELETE", headers: json, body: JSON.stringify({ password: TEST_PASSWORD }) }],
      ["/api/account/export", { headers: { cookie } }],
      ["/api/attachments/atc_1/content", { headers: { cookie } }],
      ["/api/attachments/atc_1/upload", { method: "POST", headers: { origin: stack.appUrl, cookie }, body: new FormData() }],
    ];
    for (const [route, init] of routes) {
      const response = await fetch(`${stack.appUrl}${route}`, init);
      const what = `${init.method ?? "GET"} ${route}`;
      assert.equal(response.status, 401, what);
      assert.equal(((await response.json()) as { error: string }).error, "unauthorized", what);
      const cleared = response.headers.getSetCookie().find((value) => value.startsWith(`${COOKIE}=`));
      assert.match(cleared ?? "", /^taskchat_session=;.*Max-Age=0/i, what);
    }
  });

  test("a signed-in person gets the chat page with their name", async () => {
    const session = await register(stack.appUrl, "Grace Hopper");
    const response = await fetch(`${stack.appUrl}/chat`, { headers: { cookie: session.cookie } });
    assert.equal(response.status, 200);
    assert.match(await response.text(), /Grace Hopper/);
  });
});

describe("/api/chatkit", () => {
  test("without the cookie: 401 JSON", async () => {
    const response = await chat(null, createThread("hello"));
    assert.equal(response.status, 401);
    assert.deepEqual(await response.json(), { error: "not_signed_in", detail: "Sign in to chat." });
  });

  test("a foreign or missing Origin: 403, even with the cookie", async () => {
    const session = await register(stack.appUrl);
    const foreign = await chat(session, createThread("hello"), { origin: "https://evil.example" });
    assert.equal(foreign.status, 403);
    assert.equal(((await foreign.json()) as { error: string }).error, "foreign_origin");
    const missing = await fetch(`${stack.appUrl}/api/chatkit`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: session.cookie },
      body: JSON.stringify(createThread("hello")),
    });
    assert.equal(missing.status, 403);
  });

  test("the cookie's token is the identity: a client's Authorization and user-id headers are dropped", async () => {
    const alice = await register(stack.appUrl, "Alice");
    const mallory = await register(stack.appUrl, "Mallory");
    await stack.model.reset();
    await stack.model.script({ text: ["Hi Alice"] });
    const response = await chat(mallory, createThread("whose thread is this?"), {
      authorization: `Bearer ${alice.token}`,
      "x-user-id": alice.user.id,
    });
    assert.equal(response.status, 200);
    const thread = threadIdOf(await allEvents(response));
    assert.ok((await threadIds(mallory)).includes(thread));
    assert.ok(!(await threadIds(alice)).includes(thread));
  });

  test("only allowlisted headers and the Bearer token are sent upstream", () => {
    const browser = new Request("http://app.test/api/chatkit", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: "Bearer forged",
        "x-user-id": "usr_victim",
        cookie: `${COOKIE}=abc; other=1`,
        "x-forwarded-for": "203.0.113.7",
      },
    });
    const sent = Object.fromEntries(upstreamHeaders(browser, "the-cookie-token"));
    assert.match(sent["x-request-id"] ?? "", /^[0-9a-f-]{36}$/);
    delete sent["x-request-id"];
    // Not the browser's X-Forwarded-For either: only an address instrumentation.ts resolved
    // (tests/clientAddress.test.ts) goes upstream.
    assert.deepEqual(sent, {
      authorization: "Bearer the-cookie-token",
      "content-type": "application/json",
    });
  });

  test("the backend hears the app's origin from the Host the browser used, not from its own headers", () => {
    const browser = new Request("http://tasks.example.com/api/chatkit", {
      method: "POST",
      headers: { host: "tasks.example.com", "x-forwarded-host": "evil.example" },
    });
    const sent = Object.fromEntries(upstreamHeaders(browser, "token"));
    assert.equal(sent["x-forwarded-host"], "tasks.example.com");
    assert.equal(sent["x-forwarded-proto"], "http");
  });

  test("SSE events arrive one by one as the model writes, not all at the end", async () => {
    const session = await register(stack.appUrl);
    await stack.model.reset();
    await stack.model.script({ text: ["one ", "two ", "three ", "four"], chunk_delay: 0.4 });
    const response = await chat(session, createThread("count to four"), { "x-request-id": "edge-42" });
    assert.equal(response.status, 200);
    // The request id reaches the backend, which echoes it; the proxy hands it back.
    assert.equal(response.headers.get("x-request-id"), "edge-42");
    assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
    const arrivals: { text: string; at: number }[] = [];
    let end = 0;
    for await (const { event, at } of sseEvents(response)) {
      const text = deltaText(event);
      if (text) arrivals.push({ text, at });
      end = at;
    }
    assert.equal(arrivals.map((delta) => delta.text).join(""), "one two three four");
    // Written 0.4 s apart: buffered, they would all arrive together at the end.
    const first = arrivals[0]!.at;
    assert.ok(end - first > 800, `first delta only ${end - first} ms before the end`);
    // The typical gap, not every one: a loaded machine may deliver two chunks together.
    const gaps = arrivals.slice(1).map((delta, index) => delta.at - arrivals[index]!.at);
    const median = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!;
    assert.ok(median > 150, `gaps between deltas: ${gaps.join(", ")}`);
  });

  test("aborting the request reaches the backend, which stops the model and keeps the partial answer", async () => {
    const session = await register(stack.appUrl);
    await stack.model.reset();
    await stack.model.script({ text: ["The partial ", "answer", " never sent"], hold_after: 2 });
    const closedBefore = (await stack.model.state()).streams_closed;
    const abort = new AbortController();
    const response = await fetch(`${stack.appUrl}/api/chatkit`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: stack.appUrl, cookie: session.cookie },
      body: JSON.stringify(createThread("start something long")),
      signal: abort.signal,
    });
    let thread = "";
    let received = "";
    try {
      for await (const { event } of sseEvents(response)) {
        if (event.type === "thread.created") thread = (event.thread as { id: string }).id;
        received += deltaText(event) ?? "";
        if (received === "The partial answer") abort.abort();
      }
    } catch (error) {
      assert.equal((error as Error).name, "AbortError");
    }
    assert.ok(thread);
    // The model's stream is held open: only the backend hanging up can close it.
    await eventually(
      "the backend to close the model stream",
      async () => (await stack.model.state()).streams_closed > closedBefore,
    );
    await stack.model.release();
    await eventually("the partial answer to be stored", async () => {
      const items = await chat(session, { type: "items.list", params: { thread_id: thread, limit: 20, order: "asc" } });
      const page = (await items.json()) as { data: { type: string; content?: { text: string }[] }[] };
      const answer = page.data.find((item) => item.type === "assistant_message");
      // Kept, and marked as cut off (the backend's CUT_OFF_NOTE, chat/turn/events.py).
      const cutOff = "\n\n*(This answer was cut off before it finished.)*";
      return answer?.content?.map((part) => part.text).join("") === `The partial answer${cutOff}`;
    });
  });

  test("the backend's status and JSON errors pass through", async () => {
    const session = await register(stack.appUrl);
    const response = await chat(session, { type: "threads.get_by_id", params: { thread_id: "thr_missing" } });
    assert.equal(response.status, 404);
    const body = (await response.json()) as { detail?: string };
    assert.equal(typeof body.detail, "string");
  });
});

describe("/api/tasks and /api/health", () => {
  test("tasks need the cookie and show only the person's own tasks", async () => {
    assert.equal((await fetch(`${stack.appUrl}/api/tasks`)).status, 401);
    const session = await register(stack.appUrl);
    await stack.model.reset();
    await stack.model.script(
      { tool_calls: [{ name: "add_task", arguments: { title: "Water the plants" } }] },
      { text: ["Added."] },
    );
    await allEvents(await chat(session, createThread("remind me to water the plants")));
    const response = await fetch(`${stack.appUrl}/api/tasks?status=all`, { headers: { cookie: session.cookie } });
    assert.equal(response.status, 200);
    const { data } = (await response.json()) as { data: { title: string }[] };
    assert.deepEqual(data.map((task) => task.title), ["Water the plants"]);
    const other = await register(stack.appUrl);
    const theirs = await fetch(`${stack.appUrl}/api/tasks`, { headers: { cookie: other.cookie } });
    assert.deepEqual(((await theirs.json()) as { data: unknown[] }).data, []);
  });

  test("a bad filter is the backend's readable 400", async () => {
    const session = await register(stack.appUrl);
    const response = await fetch(`${stack.appUrl}/api/tasks?status=sometimes`, { headers: { cookie: session.cookie } });
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { detail: string }).detail, /status/);
  });

  test("health reports the backend ready", async () => {
    const response = await fetch(`${stack.appUrl}/api/health`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as { status: string; backend: { status: string } };
    assert.equal(body.status, "ok");
    assert.equal(body.backend.status, "ready");
  });
});

describe("GET /api/feedback", () => {
  const votes = (session: Session | null, query: string) =>
    fetch(`${stack.appUrl}/api/feedback${query}`, { headers: session ? { cookie: session.cookie } : {} });

  test("reads back the person's votes given through /api/chatkit, and only in their own threads", async () => {
    const session = await register(stack.appUrl);
    await stack.model.reset();
    await stack.model.script({ text: ["Noted."] });
    const events = await allEvents(await chat(session, createThread("note this")));
    const threadId = threadIdOf(events);
    const answer = events
      .filter((event) => event.type === "thread.item.done")
      .map((event) => event.item as { id: string; type: string })
      .find((item) => item.type === "assistant_message");
    assert.ok(answer, "no answer");
    const given = await chat(session, {
      type: "items.feedback",
      params: { thread_id: threadId, item_ids: [answer.id], kind: "negative" },
    });
    assert.equal(given.status, 200);
    const mine = await votes(session, `?thread_id=${threadId}`);
    assert.equal(mine.status, 200);
    assert.deepEqual(await mine.json(), { data: [{ item_id: answer.id, kind: "negative" }] });

    const other = await register(stack.appUrl);
    const theirs = await votes(other, `?thread_id=${threadId}`);
    assert.equal(theirs.status, 404);
    assert.equal(((await theirs.json()) as { error: string }).error, "not_found");
  });

  test("refuses no session, no thread id, and ids that could not be one", async () => {
    assert.equal((await votes(null, "?thread_id=thr_1")).status, 401);
    const session = await register(stack.appUrl);
    const absent = await votes(session, "");
    assert.equal(absent.status, 400);
    assert.match(((await absent.json()) as { detail: string }).detail, /thread_id/);
    for (const odd of ["..%2F..%2Fapi%2Ftasks", "thr_1%26limit%3D5", "t".repeat(101)]) {
      const response = await votes(session, `?thread_id=${odd}`);
      assert.equal(response.status, 404, odd);
      assert.equal(((await response.json()) as { error: string }).error, "not_found");
    }
  });
});

/** A task of `session`'s, added by the agent through the real chat. */
async function addTaskThroughChat(session: Session, title: string): Promise<string> {
  await stack.model.reset();
  await stack.model.script({ tool_calls: [{ name: "add_task", arguments: { title } }] }, { text: ["Added."] });
  await allEvents(await chat(session, createThread(`remind me: ${title}`)));
  const response = await fetch(`${stack.appUrl}/api/tasks?status=all`, { headers: { cookie: session.cookie } });
  const { data } = (await response.json()) as { data: { id: string; title: string }[] };
  const task = data.find((each) => each.title === title);
  assert.ok(task, `no task "${title}" in ${JSON.stringify(data)}`);
  return task.id;
}

describe("PATCH /api/tasks/<id>", () => {
  function mark(taskId: string, body: string, headers: Record<string, string>): Promise<Response> {
    return fetch(`${stack.appUrl}/api/tasks/${taskId}`, {
      method: "PATCH",
      headers: { "content-type": "application/json", origin: stack.appUrl, ...headers },
      body,
    });
  }

  async function doneOf(session: Session, taskId: string): Promise<boolean | undefined> {
    const response = await fetch(`${stack.appUrl}/api/tasks?status=all`, { headers: { cookie: session.cookie } });
    const { data } = (await response.json()) as { data: { id: string; done: boolean }[] };
    return data.find((task) => task.id === taskId)?.done;
  }

  test("marks the person's task done and open again, in the backend", async () => {
    const session = await register(stack.appUrl);
    const taskId = await addTaskThroughChat(session, "Return the library books");
    const done = await mark(taskId, '{"done": true}', { cookie: session.cookie });
    assert.equal(done.status, 200);
    assert.equal(done.headers.get("cache-control"), "no-store");
    const task = (await done.json()) as { id: string; done: boolean; completed_at: string | null };
    assert.equal(task.id, taskId);
    assert.equal(task.done, true);
    assert.equal(typeof task.completed_at, "string");
    assert.equal(await doneOf(session, taskId), true);
    const reopened = await mark(taskId, '{"done": false}', { cookie: session.cookie });
    assert.equal(reopened.status, 200);
    assert.equal(((await reopened.json()) as { done: boolean }).done, false);
    assert.equal(await doneOf(session, taskId), false);
  });

  test("refuses other sites, missing sessions, other people's tasks, odd ids and bad bodies", async () => {
    const owner = await register(stack.appUrl);
    const taskId = await addTaskThroughChat(owner, "Renew the passport");
    const stranger = await register(stack.appUrl);
    const body = '{"done": true}';

    const foreign = await mark(taskId, body, { cookie: owner.cookie, origin: "https://evil.example" });
    assert.equal(foreign.status, 403);
    assert.equal((await mark(taskId, body, {})).status, 401);

    const theirs = await mark(taskId, body, { cookie: stranger.cookie });
    const missing = await mark("task_000000000000000000000000", body, { cookie: stranger.cookie });
    assert.equal(theirs.status, 404);
    assert.deepEqual(await theirs.json(), await missing.clone().json());
    // An id that could not be one of ours never reaches the backend, and reads the same.
    for (const odd of ["..%2Fchatkit", "task_1%3Fdone%3D1", "x".repeat(101)]) {
      const answer = await mark(odd, body, { cookie: stranger.cookie });
      assert.equal(answer.status, 404, odd);
      assert.deepEqual(await answer.json(), await missing.clone().json(), odd);
    }

    const notJson = await mark(taskId, "done", { cookie: owner.cookie });
    assert.equal(notJson.status, 400);
    assert.equal(((await notJson.json()) as { error: string }).error, "invalid_json");
    const notBoolean = await mark(taskId, '{"done": "yes"}', { cookie: owner.cookie });
    assert.equal(notBoolean.status, 400);
    assert.match(((await notBoolean.json()) as { detail: string }).detail, /^done:/);
    assert.equal(await doneOf(owner, taskId), false);
  });
});

describe("/api/attachments", () => {
  /** A 1x1 PNG. */
  const PNG = Buffer.from(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC",
    "base64",
  );
  type Made = { id: string; upload_descriptor: { url: string } | null; preview_url?: string };

  async function made(session: Session, name: string, type: string, size: number): Promise<Made> {
    const response = await chat(session, { type: "attachments.create", params: { name, size, mime_type: type } });
    assert.equal(response.status, 200, await response.clone().text());
    return (await response.json()) as Made;
  }

  function form(name: string, bytes: Uint8Array<ArrayBuffer>, type: string): FormData {
    const body = new FormData();
    body.append("file", new Blob([bytes], { type }), name);
    return body;
  }

  function upload(session: Session | null, id: string, body: BodyInit, headers: Record<string, string> = {}) {
    return fetch(`${stack.appUrl}/api/attachments/${id}/upload`, {
      method: "POST",
      headers: { origin: stack.appUrl, ...(session ? { cookie: session.cookie } : {}), ...headers },
      body,
      ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
    } as RequestInit);
  }

  function content(session: Session | null, id: string): Promise<Response> {
    return fetch(`${stack.appUrl}/api/attachments/${id}/content`, {
      headers: session ? { cookie: session.cookie } : {},
    });
  }

  test("an image goes up and comes back through the proxy, at URLs on the app's own origin", async () => {
    const session = await register(stack.appUrl);
    const attachment = await made(session, "dot.png", "image/png", PNG.length);
    // The backend built them on the origin the proxy named: the browser comes back here.
    assert.equal(attachment.upload_descriptor?.url, `${stack.appUrl}/api/attachments/${attachment.id}/upload`);
    assert.equal(attachment.preview_url, `${stack.appUrl}/api/attachments/${attachment.id}/content`);
    const uploaded = await upload(session, attachment.id, form("dot.png", PNG, "image/png"));
    assert.equal(uploaded.status, 200);
    assert.equal(((await uploaded.json()) as Made).upload_descriptor, null);
    const preview = await content(session, attachment.id);
    assert.equal(preview.status, 200);
    assert.deepEqual(Buffer.from(await preview.arrayBuffer()), PNG);
    assert.equal(preview.headers.get("content-type"), "image/png");
    assert.equal(preview.headers.get("x-content-type-options"), "nosniff");
    assert.match(preview.headers.get("content-disposition") ?? "", /^inline; filename="dot\.png"/);
    assert.match(preview.headers.get("content-security-policy") ?? "", /sandbox/);
    // Someone else gets nothing of it, by any route.
    const stranger = await register(stack.appUrl);
    assert.equal((await content(stranger, attachment.id)).status, 404);
    const taken = await upload(stranger, attachment.id, form("dot.png", PNG, "image/png"));
    assert.equal(taken.status, 404);
  });

  test("the backend's refusals pass through: a spoofed type is a 400 that says what the file is", async () => {
    const session = await register(stack.appUrl);
    const attachment = await made(session, "notes.txt", "text/plain", PNG.length);
    const refused = await upload(session, attachment.id, form("notes.txt", PNG, "text/plain"));
    assert.equal(refused.status, 400);
    assert.match(((await refused.json()) as { detail: string }).detail, /its content is a PNG image/);
  });

  test("a file over ATTACHMENT_MAX_BYTES is a 413 naming the limit, declared or not", async () => {
    const session = await register(stack.appUrl);
    const limit = 5 * 1024 * 1024;
    const sentence =
      "The file is larger than the 5 MB (5,242,880 bytes) an attachment may have; attach a smaller one.";
    const attachment = await made(session, "big.txt", "text/plain", 10);
    // Declared in Content-Length: refused before anything reaches the backend.
    const declared = await upload(session, attachment.id, form("big.txt", new Uint8Array(limit + 20_000).fill(97), "text/plain"));
    assert.equal(declared.status, 413);
    assert.deepEqual(await declared.json(), { error: "file_too_large", detail: sentence });
    // Streamed without a length: cut off as it passes the limit.
    const chunk = new Uint8Array(64 * 1024).fill(97);
    const head = '--x\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n\r\n';
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(head));
      },
      pull(controller) {
        if (sent > limit + 100_000) controller.close();
        else {
          sent += chunk.length;
          controller.enqueue(chunk);
        }
      },
    });
    const streamed = await upload(session, attachment.id, stream, {
      "content-type": "multipart/form-data; boundary=x",
    });
    assert.equal(streamed.status, 413);
    assert.deepEqual(await streamed.json(), { error: "file_too_large", detail: sentence });
    // Just over, within the form's allowance: the backend's own 413, passed through.
    const over = await upload(session, attachment.id, form("big.txt", new Uint8Array(limit + 1).fill(97), "text/plain"));
    assert.equal(over.status, 413);
    assert.deepEqual(await over.json(), { error: "file_too_large", detail: sentence });
    // Nothing was stored.
    assert.equal((await content(session, attachment.id)).status, 404);
  });

  test("refuses other sites, missing sessions and ids that cannot be attachments'", async () => {
    const session = await register(stack.appUrl);
    const attachment = await made(session, "a.png", "image/png", PNG.length);
    const body = () => form("a.png", PNG, "image/png");
    assert.equal((await upload(session, attachment.id, body(), { origin: "https://evil.example" })).status, 403);
    assert.equal((await upload(null, attachment.id, body())).status, 401);
    assert.equal((await content(null, attachment.id)).status, 401);
    for (const odd of ["..%2F..%2Fchatkit", "a%3Fb", "x".repeat(101)]) {
      assert.equal((await upload(session, odd, body())).status, 404, odd);
      assert.equal((await content(session, odd)).status, 404, odd);
    }
    // Not uploaded yet: nothing to show.
    assert.equal((await content(session, attachment.id)).status, 404);
  });
});

describe("the app's icon", () => {
  test("every page's <head> links an icon that is served", async () => {
    for (const page of ["/login", "/register"]) {
      const html = await (await fetch(`${stack.appUrl}${page}`)).text();
      const head = html.slice(0, html.indexOf("</head>"));
      const link = head.match(/<link rel="icon" href="([^"]+)"[^>]*type="image\/svg\+xml"/);
      assert.ok(link, `no SVG icon link in ${page}'s head`);
      const icon = await fetch(new URL(link[1]!.replaceAll("&amp;", "&"), stack.appUrl));
      assert.equal(icon.status, 200);
      assert.equal(icon.headers.get("content-type"), "image/svg+xml");
      assert.match(await icon.text(), /^<svg /);
    }
  });
});
