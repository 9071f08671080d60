// The tasks panel in a real browser (Debian's chromium through playwright-core) against the
// production server (`npm start`), the real backend and the scripted model: the circle beside
// a task marks it done and open again, in the backend too; and the chat's failure text says
// where the tasks are truthfully, whether the panel sits beside the chat or below it.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import type { Browser, Page } from "playwright-core";

import { launchBrowser, newContext, registerInPage, routeCdn, sendInWidget } from "./support/browser";
import { allEvents, createThread, threadIdOf, type ChatEvent } from "./support/chatkit";
import { COOKIE } from "./support/session";
import { eventually, startFrontend, startStack, type Stack } from "./support/stack";

let stack: Stack;
let browser: Browser;

before(async () => {
  stack = await startStack();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

/** Whether the signed-in page's task `title` is done, as the backend has it (through /api/tasks). */
async function doneInBackend(page: Page, title: string): Promise<boolean | undefined> {
  const cookie = (await page.context().cookies()).find((each) => each.name === COOKIE);
  assert.ok(cookie, "no session cookie");
  const response = await fetch(`${stack.appUrl}/api/tasks?status=all`, {
    headers: { cookie: `${COOKIE}=${cookie.value}` },
  });
  const { data } = (await response.json()) as { data: { title: string; done: boolean }[] };
  return data.find((task) => task.title === title)?.done;
}

describe("the tasks panel", () => {
  test("the circle marks a task done, and undoes it, in the backend too", async () => {
    const context = await newContext(browser, stack.appUrl, "stub");
    const page = await context.newPage();
    const missing: string[] = [];
    page.on("response", (response) => {
      if (response.status() === 404) missing.push(response.url());
    });
    await registerInPage(page, "Tick Tester");
    await page.locator("openai-chatkit[data-stub-ready]").waitFor();
    await stack.model.reset();
    await stack.model.script(
      { tool_calls: [{ name: "add_task", arguments: { title: "Buy milk" } }] },
      { text: ["Added Buy milk."] },
    );
    await sendInWidget(page, "Remind me to buy milk");
    const markDone = page.getByRole("button", { name: "Mark “Buy milk” done" });
    await markDone.waitFor();
    assert.equal(await doneInBackend(page, "Buy milk"), false);

    await markDone.click();
    // Folded away in the "Done" section, so out of the accessibility tree until opened.
    const doneList = page.locator('ul[aria-label="Done tasks"]');
    await doneList.locator(".task-title", { hasText: "Buy milk" }).waitFor({ state: "attached" });
    await page.getByText("0 open").waitFor();
    await eventually("the backend to have it done", async () => (await doneInBackend(page, "Buy milk")) === true);

    // Done tasks sit in the folded "Done" section; open it and undo.
    await page.getByText("Done (1)").click();
    await page.getByRole("button", { name: "Mark “Buy milk” not done" }).click();
    await page.getByRole("list", { name: "Open tasks" }).locator(".task-title", { hasText: "Buy milk" }).waitFor();
    await page.getByText("1 open").waitFor();
    await eventually("the backend to have it open", async () => (await doneInBackend(page, "Buy milk")) === false);

    // No request of the page came back 404 (the icon among them).
    assert.deepEqual(missing, []);
    await context.close();
  });

  test("a change the backend refuses is undone on the page and its reason shown", async () => {
    const context = await newContext(browser, stack.appUrl, "stub");
    const page = await context.newPage();
    await registerInPage(page, "Gone Task");
    await page.locator("openai-chatkit[data-stub-ready]").waitFor();
    await stack.model.reset();
    await stack.model.script(
      { tool_calls: [{ name: "add_task", arguments: { title: "Walk the dog" } }] },
      { text: ["Added."] },
    );
    await sendInWidget(page, "Remind me to walk the dog");
    const markDone = page.getByRole("button", { name: "Mark “Walk the dog” done" });
    await markDone.waitFor();
    const taskId = await page.locator(".task[data-task-id]").getAttribute("data-task-id");
    assert.ok(taskId);

    // The task is deleted elsewhere, by the assistant, confirmed with the card's Delete
    // (sent here through the same proxy, as another tab's chat would); this tab's panel
    // still shows it, so ticking it here is a change the backend refuses (404).
    await stack.model.reset();
    await stack.model.script(
      { tool_calls: [{ name: "delete_task", arguments: { task_id: taskId } }] },
      { text: ["Deleted."] },
    );
    const cookie = (await context.cookies()).find((each) => each.name === COOKIE);
    assert.ok(cookie, "no session cookie");
    const chat = async (body: unknown): Promise<ChatEvent[]> => {
      const response = await fetch(`${stack.appUrl}/api/chatkit`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie: `${COOKIE}=${cookie.value}`, origin: stack.appUrl },
        body: JSON.stringify(body),
      });
      return allEvents(response);
    };
    const events = await chat(createThread("Forget the dog"));
    const threadId = threadIdOf(events);
    const card = events
      .filter((event) => event.type === "thread.item.done")
      .map((event) => event.item as { id: string; widget?: { confirm?: { action: unknown } } })
      .find((item) => item.widget?.confirm);
    assert.ok(card?.widget?.confirm, `no confirmation card in ${JSON.stringify(events)}`);
    await chat({
      type: "threads.custom_action",
      params: { thread_id: threadId, item_id: card.id, action: card.widget.confirm.action },
    });
    await eventually("the task to be gone", async () => (await doneInBackend(page, "Walk the dog")) === undefined);

    await markDone.click();
    await page.getByRole("alert").filter({ hasText: "That task no longer exists; refresh the list." }).waitFor();
    // Back as it was: still listed as open, the circle ready again.
    assert.equal(await markDone.isEnabled(), true);
    await page.getByText("1 open").waitFor();
    await context.close();
  });
});

describe("the chat's failure text (CHAT_UI=chatkit: no built-in UI to fall back on)", () => {
  let frontend: { appUrl: string; stop: () => Promise<void> };
  before(async () => {
    frontend = await startFrontend(stack.backendUrl, { CHAT_UI: "chatkit" });
  });
  after(async () => {
    await frontend?.stop();
  });

  for (const [layout, width] of [["beside the chat", 1280], ["below the chat", 600]] as const) {
    test(`says where the tasks are when the panel is ${layout}`, async () => {
      const context = await browser.newContext({ baseURL: frontend.appUrl, viewport: { width, height: 900 } });
      await routeCdn(context, "blocked");
      const page = await context.newPage();
      await registerInPage(page, "Narrow Reader");
      const failure = page.getByRole("alert").filter({ hasText: "The chat could not load" });
      await failure.waitFor();
      const chat = await failure.boundingBox();
      const panel = await page.locator(".tasks-panel").boundingBox();
      assert.ok(chat && panel);
      // The layout is the one named: the panel to the right, or under the chat.
      if (width === 600) assert.ok(panel.y >= chat.y + chat.height, "the panel is not below");
      else assert.ok(panel.x >= chat.x + chat.width, "the panel is not beside");
      const text = (await failure.textContent()) ?? "";
      assert.match(text, /Your tasks are still listed on this page\./);
      assert.doesNotMatch(text, /beside|below/i);
      await context.close();
    });
  }
});
