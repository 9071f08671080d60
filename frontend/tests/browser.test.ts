// The app in a real browser (Debian's chromium through playwright-core) against
// its production server (`npm start`), the real backend and the scripted model. Only OpenAI's CDN is replaced:
// its URL is routed to tests/stub/chatkit.js (a labelled test double) or blocked.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import type { Browser } from "playwright-core";

import {
  SCREENSHOTS,
  launchBrowser,
  newContext as newBrowserContext,
  registerInPage,
  routeCdn,
  sendInWidget,
  widget,
  type Cdn,
} from "./support/browser";
import { COOKIE, expiredToken, register } from "./support/session";
import { eventually, startFrontend, startStack, type Stack } from "./support/stack";

let stack: Stack;
let browser: Browser;

before(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  stack = await startStack();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

const newContext = (cdn: Cdn) => newBrowserContext(browser, stack.appUrl, cdn);

describe("in the browser", () => {
  test("register, chat through the real proxy, and see the task the agent added", async () => {
    const context = await newContext("stub");
    const page = await context.newPage();

    await page.goto("/chat");
    await page.waitForURL("**/login");
    await page.getByRole("heading", { name: "Sign in to Taskchat" }).waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, "login.png") });

    await registerInPage(page, "Ada Lovelace");
    const cookies = await context.cookies();
    const session = cookies.find((cookie) => cookie.name === COOKIE);
    assert.ok(session, "no session cookie");
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, "Lax");
    assert.ok(!(await page.evaluate(() => document.cookie)).includes(COOKIE), "page script can read the token");
    await page.getByText("Ada Lovelace").waitFor();

    // The widget is wired: our start screen, prompts and composer options reached it.
    await page.locator("openai-chatkit[data-stub-ready]").waitFor();
    await widget(page).getByText("What's on your plate today?").waitFor();
    await widget(page).getByRole("button", { name: "Add a task" }).waitFor();
    await widget(page).getByRole("button", { name: "What's on my list?" }).waitFor();
    await page.getByText("No tasks yet").waitFor();
    // Attachments are on, two-phase, with the backend's limits and types.
    assert.deepEqual(JSON.parse((await widget(page).getAttribute("data-stub-upload-strategy")) ?? "null"), {
      type: "two_phase",
    });
    const attachments = JSON.parse((await widget(page).getAttribute("data-stub-attachments")) ?? "null") as {
      enabled: boolean;
      maxSize: number;
      maxCount: number;
      accept: Record<string, string[]>;
    };
    assert.equal(attachments.enabled, true);
    assert.equal(attachments.maxSize, 5 * 1024 * 1024);
    assert.equal(attachments.maxCount, 5);
    assert.deepEqual(attachments.accept["image/png"], [".png"]);
    assert.deepEqual(attachments.accept["text/markdown"], [".md", ".markdown"]);
    assert.equal(attachments.accept["image/svg+xml"], undefined);

    // Next sets the title after a client-side navigation; the page context carries it.
    await page.waitForFunction(() => document.title === "Chat · Taskchat");
    await stack.model.reset();
    await stack.model.script(
      { tool_calls: [{ name: "add_task", arguments: { title: "Buy oat milk", priority: "high" } }] },
      { text: ["I added ", "Buy oat milk", " to your list."], chunk_delay: 0.05 },
    );
    await sendInWidget(page, "Remind me to buy oat milk");
    await widget(page).locator('[data-role="assistant"]', { hasText: "I added Buy oat milk to your list." }).waitFor();
    // The panel reloads when the response ends.
    await page.locator(".tasks-panel .task-title", { hasText: "Buy oat milk" }).waitFor();
    await page.locator(".tasks-panel .badge.high").waitFor();

    // Page context went to the model as request metadata.
    const { requests } = await stack.model.state();
    const system = JSON.stringify(requests[0]?.messages?.[0]?.content ?? "");
    assert.ok(system.includes(`${stack.appUrl}/chat`), `no page URL in ${system}`);
    assert.ok(system.includes("Chat · Taskchat"), `no page title in ${system}`);
    await page.screenshot({ path: path.join(SCREENSHOTS, "chat.png") });

    // Select text on the page -> "Ask about this" -> the composer holds the quote.
    await page.locator(".tasks-panel .task-title", { hasText: "Buy oat milk" }).selectText();
    await page.getByRole("button", { name: "Ask about this" }).click();
    assert.equal(await widget(page).locator("[data-stub-composer]").inputValue(), 'About "Buy oat milk": ');

    // The thread is remembered across a reload.
    const thread = await widget(page).getAttribute("data-thread-id");
    assert.match(thread ?? "", /^thr_/);
    await page.reload();
    await widget(page).locator('[data-role="user"]', { hasText: "Remind me to buy oat milk" }).waitFor();
    assert.equal(await widget(page).getAttribute("data-thread-id"), thread);

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL("**/login");
    assert.ok(!(await context.cookies()).some((cookie) => cookie.name === COOKIE && cookie.value));
    await context.close();
  });

  test("the web component's effects reach the page: tasks.changed refreshes the panel mid-answer", async () => {
    const context = await newContext("stub");
    const page = await context.newPage();
    await registerInPage(page, "Effect Person");
    await page.locator("openai-chatkit[data-stub-ready]").waitFor();
    await stack.model.reset();
    await stack.model.script(
      { tool_calls: [{ name: "add_task", arguments: { title: "Renew passport" }, call_id: "call_add" }] },
      { text: ["Added.", " Anything else?"], hold_after: 1 },
    );
    await sendInWidget(page, "Remind me to renew my passport");
    await widget(page).locator('[data-role="assistant"]', { hasText: "Added." }).waitFor();
    // The answer is held open: only the effect (onEffect) can have refreshed the panel.
    await page.locator(".tasks-panel .task-title", { hasText: "Renew passport" }).waitFor();
    assert.equal(
      await widget(page).locator('[data-role="assistant"]', { hasText: "Anything else?" }).count(),
      0,
    );
    await stack.model.release();
    await widget(page).locator('[data-role="assistant"]', { hasText: "Anything else?" }).waitFor();
    await context.close();
  });

  test("the web component's entities: @ searches the person's tasks, a tag click shows one in the panel", async () => {
    const context = await newContext("stub");
    const page = await context.newPage();
    await registerInPage(page, "Entity Person");
    await page.locator("openai-chatkit[data-stub-ready]").waitFor();
    await stack.model.reset();
    await stack.model.script(
      { tool_calls: [{ name: "add_task", arguments: { title: "Dentist appointment" }, call_id: "a1" }] },
      { tool_calls: [{ name: "add_task", arguments: { title: "Buy bread" }, call_id: "a2" }] },
      { text: ["Added."] },
    );
    await sendInWidget(page, "Add the dentist and bread");
    await page.locator(".tasks-panel .task-title", { hasText: "Buy bread" }).waitFor();
    // What the element would call as the person types "@den" (the stub keeps the options).
    const found = await page.evaluate(async () => {
      type Options = { entities: { onTagSearch: (query: string) => Promise<{ id: string; title: string }[]> } };
      const element = document.querySelector("openai-chatkit") as unknown as { options: Options };
      return element.options.entities.onTagSearch("den");
    });
    assert.deepEqual(
      found.map((entity) => entity.title),
      ["Dentist appointment"],
    );
    assert.match(found[0]!.id, /^task_/);
    await page.evaluate(async (entity) => {
      type Options = { entities: { onClick: (entity: { id: string; title: string }) => void } };
      const element = document.querySelector("openai-chatkit") as unknown as { options: Options };
      element.options.entities.onClick(entity);
    }, found[0]!);
    await page.locator(".tasks-panel .task.task-flash .task-title", { hasText: "Dentist appointment" }).waitFor();
    await context.close();
  });

  test("the web component offers Retry on answers, and a retry through its fetch adds nothing twice", async () => {
    const context = await newContext("stub");
    const page = await context.newPage();
    await registerInPage(page, "Retry Widget Person");
    await page.locator("openai-chatkit[data-stub-ready]").waitFor();
    await stack.model.reset();
    const addMilk = { tool_calls: [{ name: "add_task", arguments: { title: "Buy milk" } }] };
    await stack.model.script(addMilk, { text: ["Added."] }, addMilk, { text: ["Added again."] });
    await sendInWidget(page, "add milk");
    await widget(page).locator('[data-role="assistant"]', { hasText: "Added." }).waitFor();
    await page.locator(".tasks-panel .task-title", { hasText: "Buy milk" }).waitFor();
    // What the element sends when its Retry is pressed, through the options our page gave it.
    const retried = await page.evaluate(async () => {
      type Options = {
        threadItemActions?: { retry?: boolean };
        api: { url: string; fetch: (url: string, init: RequestInit) => Promise<Response> };
      };
      const element = document.querySelector("openai-chatkit") as unknown as {
        options: Options;
        dataset: { threadId: string };
      };
      const { api } = element.options;
      const threadId = element.dataset.threadId;
      // (No named function in here: the test runner's transform would name it with a
      // helper the page does not have.)
      const headers = { "content-type": "application/json" };
      const list = { type: "items.list", params: { thread_id: threadId, order: "asc" } };
      const listed = await api.fetch(api.url, { method: "POST", headers, body: JSON.stringify(list) });
      const items = (await listed.json()) as { data: { id: string; type: string }[] };
      const message = items.data.find((item) => item.type === "user_message");
      const retry = { type: "threads.retry_after_item", params: { thread_id: threadId, item_id: message?.id } };
      const answer = await api.fetch(api.url, { method: "POST", headers, body: JSON.stringify(retry) });
      return { retry: element.options.threadItemActions?.retry, status: answer.status, body: await answer.text() };
    });
    assert.equal(retried.retry, true);
    assert.equal(retried.status, 200);
    assert.ok(retried.body.includes("Added again."), retried.body);
    await page.reload();
    await widget(page).locator('[data-role="assistant"]', { hasText: "Added again." }).waitFor();
    await page.locator(".tasks-panel .task-title", { hasText: "Buy milk" }).waitFor();
    assert.equal(await page.locator(".tasks-panel .task-title", { hasText: "Buy milk" }).count(), 1);
    await context.close();
  });

  test("the web component's feedback: the option turns the buttons on, and a vote is kept and changed", async () => {
    const context = await newContext("stub");
    const page = await context.newPage();
    await registerInPage(page, "Feedback Person");
    await page.locator("openai-chatkit[data-stub-ready]").waitFor();
    const options = await page.evaluate(() => {
      const element = document.querySelector("openai-chatkit") as unknown as { options: Record<string, unknown> };
      return element.options.threadItemActions;
    });
    assert.deepEqual(options, { feedback: true, retry: true });
    await stack.model.reset();
    await stack.model.script({ text: ["Tuesday is free."] });
    await sendInWidget(page, "Is Tuesday free?");
    // With its id: the text streams in before the answer's `thread.item.done` names it.
    const answer = widget(page).locator('[data-role="assistant"][data-item-id]', { hasText: "Tuesday is free." });
    await answer.waitFor();
    const itemId = await answer.getAttribute("data-item-id");
    assert.match(itemId ?? "", /^msg_/);
    const threadId = await widget(page).getAttribute("data-thread-id");
    // What the server kept, read back through the app's own route with the page's cookie.
    const kept = async () => {
      const response = await page.request.get(`/api/feedback?thread_id=${threadId}`);
      assert.equal(response.status(), 200);
      return ((await response.json()) as { data: { item_id: string; kind: string }[] }).data;
    };
    await answer.getByRole("button", { name: "Bad response" }).click();
    await answer.locator('button[aria-label="Bad response"][aria-pressed="true"]').waitFor();
    assert.deepEqual(await kept(), [{ item_id: itemId, kind: "negative" }]);
    await answer.getByRole("button", { name: "Good response" }).click();
    await answer.locator('button[aria-label="Good response"][aria-pressed="true"]').waitFor();
    assert.deepEqual(await kept(), [{ item_id: itemId, kind: "positive" }]);
    await context.close();
  });

  test("a session that ends mid-chat leads back to sign-in", async () => {
    const context = await newContext("stub");
    const session = await register(stack.appUrl, "Grace Hopper");
    await context.addCookies([{ name: COOKIE, value: session.token, url: stack.appUrl, httpOnly: true }]);
    const page = await context.newPage();
    await page.goto("/chat");
    await widget(page).locator("[data-stub-composer]").waitFor();
    // The token expires while the page is open; the backend now refuses it.
    await context.addCookies([{ name: COOKIE, value: expiredToken(), url: stack.appUrl, httpOnly: true }]);
    await sendInWidget(page, "Anything due today?");
    await page.waitForURL("**/login?expired=1");
    await page.getByText("Your session ended").waitFor();
    await context.close();
  });

  test("CHAT_UI=auto: with the CDN unreachable, the built-in UI with a note; the stub loads the web component", async () => {
    const context = await newContext("blocked");
    const page = await context.newPage();
    await registerInPage(page, "Fallback Person");
    const note = page.getByRole("status").filter({ hasText: "This is Taskchat's own chat window" });
    await note.waitFor();
    assert.match(await note.innerText(), /cdn\.platform\.openai\.com/);
    // The built-in UI works: its composer and start screen, and the tasks panel.
    await page.getByRole("combobox", { name: "Message" }).waitFor();
    await page.getByText("What's on your plate today?").waitFor();
    await page.getByText("No tasks yet").waitFor();
    assert.equal(await widget(page).count(), 0);
    await page.getByRole("button", { name: "Dismiss this note" }).click();
    assert.equal(await note.count(), 0);
    await context.close();
    // (With the stub's script served, the first test above gets the web component.)
  });

  test("CHAT_UI=chatkit: with the CDN unreachable the page says the chat could not load, and retry recovers", async () => {
    const frontend = await startFrontend(stack.backendUrl, { CHAT_UI: "chatkit" });
    try {
      const context = await newBrowserContext(browser, frontend.appUrl, "blocked");
      const page = await context.newPage();
      await registerInPage(page, "Offline Person");
      const failure = page.getByRole("alert").filter({ hasText: "The chat could not load" });
      await failure.waitFor();
      await page.getByRole("button", { name: "Try again" }).waitFor();
      // The rest of the page still works: the tasks panel loaded.
      await page.getByText("No tasks yet").waitFor();
      await page.screenshot({ path: path.join(SCREENSHOTS, "load-failure.png") });

      await context.unrouteAll();
      await routeCdn(context, "stub");
      await page.getByRole("button", { name: "Try again" }).click();
      await widget(page).locator("[data-stub-composer]").waitFor();
      await eventually("the failure state to go", async () => (await failure.count()) === 0);
      await context.close();
    } finally {
      await frontend.stop();
    }
  });
});
